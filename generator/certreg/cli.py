"""The ``certreg`` command: a thin face over the library (parse options, call one function, exit)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from . import __version__
from .problems import FORMATTERS, Report


def _as_of(ctx, param, value):
    if value is None:
        from .dates import today

        return today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD") from None


registry_option = click.option("--registry", "registry", default="registry", show_default=True,
                               type=click.Path(exists=True, file_okay=False, path_type=Path),
                               help="The registry folder.")
as_of_option = click.option("--as-of", "as_of", callback=_as_of, metavar="DATE",
                            help="Judge time limits and statuses on this date (YYYY-MM-DD). Default: today in China.")


class _Group(click.Group):
    """Turns the library's UsageError into click's (message and exit code 2, no traceback)."""

    def invoke(self, ctx):
        from .errors import UsageError

        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None  # (the group's usage line would mislead)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="certreg")
def main():
    """CEC's public certificate registry: validate records, tell statuses, publish."""


@main.command()
@registry_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATTERS)), default="text", show_default=True,
              help="text: PATH:LINE:COLUMN: level RULE message; json: a list of objects; "
                   "github: GitHub Actions annotations.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
def validate(registry, as_of, fmt, strict):
    """Check every record against the schema and the certification rules.

    Every problem is listed, one per line. Exit code 0: no error; 1: errors (or warnings, with
    --strict); 2: usage error.
    """
    from .validate import check_registry

    checked = check_registry(registry, as_of, keep=False)
    report = checked.report
    reg = checked.registry
    out = FORMATTERS[fmt](report.problems)
    if out:
        click.echo(out)
    n_err, n_warn = report.count("error"), report.count("warning")
    if fmt == "text":
        invalid = f" ({len(reg.broken)} more with invalid records)" if reg.broken else ""
        click.echo(f"{checked.count} certificates checked{invalid} as of {as_of}: "
                   f"{n_err} error(s), {n_warn} warning(s)", err=True)
    sys.exit(1 if n_err or (strict and n_warn) else 0)


@main.command()
@click.argument("number", required=False)
@registry_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(number, registry, as_of, fmt):
    """Tell the status of certificate NUMBER (or of every certificate) on the as-of date.

    Statuses: valid, suspended, revoked, cancelled, expired. Exit code 1 when the
    registry has errors (they are listed on standard error; the statuses shown
    then leave out the certificates whose records are invalid).
    """
    from .statustable import status_rows, status_text
    from .validate import check_registry

    checked = check_registry(registry, as_of)
    rows = status_rows(checked, number)  # raises UsageError for an unknown number
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(status_text(rows, detail=number is not None))
    if not checked.report.ok:
        click.echo(FORMATTERS["text"](p for p in checked.report.problems if p.level == "error"), err=True)
        click.echo(f"the registry has {checked.report.count('error')} error(s); `certreg validate` lists them",
                   err=True)
        sys.exit(1)


@main.command()
@registry_option
@click.option("--check", is_flag=True, help="Only check that the published schemas are up to date.")
def schemas(registry, check):
    """Write the JSON Schemas of the record types into REGISTRY/schemas/ (for editors)."""
    from .load import load_schemes
    from .schemasync import stale_schemas, write_schemas

    problems: list = []
    schemes = load_schemes(registry, problems)
    if problems:
        click.echo(FORMATTERS["text"](Report(problems).resolve().problems), err=True)
        sys.exit(1)
    if check:
        stale = stale_schemas(registry, schemes)
        for path, message in stale:
            click.echo(f"{path}: {message}", err=True)
        sys.exit(1 if stale else 0)
    for path in write_schemas(registry, schemes):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("numbers", nargs=-1)
@registry_option
@as_of_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="certs", show_default=True,
              help="Where the PDFs go (one per certificate version, NUMBER-vVERSION.pdf).")
@click.option("--site", "mkdocs_yml", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="mkdocs.yml", show_default=True, help="The site configuration whose site_url the QR codes use.")
def render(numbers, registry, as_of, out, mkdocs_yml):
    """Render the PDF certificate of every version of the certificates NUMBERS (default: all).

    The registry is validated first and nothing is rendered if it has errors. A PDF whose inputs
    (record, templates, font, program) have not changed is not rendered again.
    """
    from .render import RenderError, site_url
    from .render import render as render_pdfs
    from .validate import check_registry

    checked = check_registry(registry, as_of)
    if not checked.report.ok:
        click.echo(FORMATTERS["text"](p for p in checked.report.problems if p.level == "error"), err=True)
        click.echo(f"not rendered: the registry has {checked.report.count('error')} error(s)", err=True)
        sys.exit(1)
    unknown = [n for n in numbers if n not in checked.histories]
    if unknown:
        raise click.UsageError("no such certificate: " + ", ".join(unknown))
    try:
        done = render_pdfs(checked, out, base_url=site_url(mkdocs_yml), numbers=list(numbers) or None)
    except RenderError as exc:
        raise click.ClickException(str(exc)) from None
    for message in done.failed:
        click.echo(f"error: {message}", err=True)
    click.echo(f"{len(done.written)} PDF(s) written, {len(done.current)} already current, "
               f"{len(done.failed)} failed, in {out}", err=True)
    sys.exit(1 if done.failed else 0)



@main.command()
@as_of_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="site", show_default=True,
              help="Where the site goes; it replaces the folder only once the build is complete.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="mkdocs.yml", show_default=True, help="The site's configuration (its registry, its site_url).")
@click.option("--registry", "registry", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The registry folder, instead of the one mkdocs.yml names.")
@click.option("--no-pdfs", is_flag=True, help="Publish no PDFs (and do not render them).")
def build(as_of, out, config_file, registry, no_pdfs):
    """Validate the registry, render the PDFs and build the public site.

    The pages made from the records (verification pages, lists, announcements, feeds, open data) are
    added by the certreg plugin of mkdocs.yml, so that `mkdocs build` and `mkdocs serve` make the same site.
    """
    from .build import BuildError, build_site
    from .problems import FORMATTERS

    try:
        notices = build_site(config_file, out, as_of, pdfs=not no_pdfs, registry=registry)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    if notices:
        click.echo(FORMATTERS["text"](notices), err=True)
        overdue = sum(p.overdue for p in notices)
        click.echo(f"published with {overdue} overdue action(s) and {len(notices) - overdue} warning(s)", err=True)
    click.echo(f"site built in {out} as of {as_of}", err=True)
