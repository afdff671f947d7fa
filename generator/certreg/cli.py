"""The ``certreg`` command: a thin face over the library (parse options, call one function, exit)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from . import __version__
from .problems import FORMATTERS, Report
from .publish import ENGINES


def _day(ctx, param, value):
    """A date option written YYYY-MM-DD, or None."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD") from None


def _as_of(ctx, param, value):
    if value is None:
        from .rules.dates import today

        return today()
    return _day(ctx, param, value)


registry_option = click.option("--registry", "registry", default="registry", show_default=True,
                               type=click.Path(exists=True, file_okay=False, path_type=Path),
                               help="The registry folder.")
as_of_option = click.option("--as-of", "as_of", callback=_as_of, metavar="DATE",
                            help="Judge time limits and statuses on this date (YYYY-MM-DD). Default: today in China.")


class _Group(click.Group):
    """Turns the library's UsageError into click's (message and exit code 2, no traceback)."""

    def invoke(self, ctx):
        from .errors import CertregError, UsageError

        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None  # (the group's usage line would mislead)
        except CertregError as exc:  # (what no command turns into its own message: one line, exit 1)
            raise click.ClickException(str(exc)) from None


def run() -> None:
    """The ``certreg`` command (``main``), which ends its process as soon as it is done: its output flushed, its files
    closed, and the objects it made left to the system to take back with the process, not freed one by one (a build
    after one decision at 10,000 certificates spent 0.3 s of its 3.5 freeing what it loaded; at 100,000, ten times
    that)."""
    import os

    try:
        main()  # (standalone: it always ends in SystemExit)
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - click's standalone mode exits
        code = 0
    if code is not None and not isinstance(code, int):  # (what sys.exit does with a message)
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # (a reader that stopped reading, a pipe closed: head, a pager quit)
            code = code or 1
    os._exit(code or 0)


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
@click.option("--base", "base", metavar="REF",
              help="Also check REG-APPEND against this git ref (the published registry, e.g. origin/main): no "
                   "record of it deleted or altered, no history rewritten, no certificate number reused.")
@click.option("--publishable", is_flag=True,
              help="Fail only on errors that hold back publication: overdue actions (a suspension past its limit, "
                   "a surveillance not recorded in time) are listed but do not fail, as the site build publishes "
                   "despite them; with --base, only those the published registry had already.")
def validate(registry, as_of, fmt, strict, base, publishable):
    """Check every record against the schema and the certification rules.

    Every problem is listed, one per line. Exit code 0: no error; 1: errors (or warnings, with
    --strict); 2: usage error.
    """
    from .publish.preflight import with_preflight
    from .rules.validate import check_registry

    # the records and the rules, then what the build would refuse (publish/preflight.py: a character the
    # certificate's font lacks, unusable artwork): one gate (the preflight and --base read the histories)
    checked = with_preflight(check_registry(registry, as_of, cache=True))
    report = checked.report
    excused: set = set()
    if base:
        from .staff.gitbase import append_only

        against = append_only(registry, base, as_of, checked)
        report.problems = [p for p in report.problems if against.keeps(p)]
        report.extend(against.problems)
        report.resolve()
        excused = against.overdue_before
    reg = checked.registry
    out = FORMATTERS[fmt](report.problems)
    if out:
        click.echo(out)
    n_err, n_warn = report.count("error"), report.count("warning")
    root = registry.resolve()

    def holds_back(p) -> bool:  # an error, except an overdue action (one the published registry had, with --base)
        if not p.overdue:
            return True
        return bool(base) and (p.path.resolve().relative_to(root).as_posix(), p.rule) not in excused

    blocking = sum(1 for p in report.problems if p.level == "error" and holds_back(p))
    if fmt == "text":
        invalid = f" ({len(reg.broken)} more with invalid records)" if reg.broken else ""
        click.echo(f"{checked.count} certificates checked{invalid} as of {as_of}: "
                   f"{n_err} error(s), {n_warn} warning(s)", err=True)
    sys.exit(1 if (blocking if publishable else n_err) or (strict and n_warn) else 0)


@main.command()
@click.argument("number", required=False)
@registry_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(number, registry, as_of, fmt):
    """Tell the status of certificate NUMBER (or of every certificate) on the as-of date.

    Statuses: valid, suspended, revoked, cancelled, expired. Actions now due (a surveillance, a
    suspension past its limit, a nonconformity closure) are listed on standard error as notices: they
    change no status. Exit code 1 when the registry has other errors (they are listed on standard error;
    the statuses shown then leave out the certificates whose records are invalid).
    """
    from .publish.statustable import status_rows, status_text
    from .rules.validate import check_registry

    checked = check_registry(registry, as_of, cache=True)
    rows = status_rows(checked, number)  # raises UsageError for an unknown number
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(status_text(rows, detail=number is not None))
    _tell_overdue(checked, number)
    blocking = _blocking(checked)
    if blocking:
        click.echo(FORMATTERS["text"](blocking), err=True)
        click.echo(f"the registry has {len(blocking)} error(s); `certreg validate` lists them", err=True)
        sys.exit(1)


def _blocking(checked) -> list:
    """The errors that hold back what a command makes: all but the actions that time alone made due."""
    return [p for p in checked.report.problems if p.level == "error" and not p.overdue]


def _tell_overdue(checked, number=None) -> None:
    """Actions now due, as notices on standard error (of one certificate's records, with ``number``)."""
    due = [p for p in checked.report.problems if p.overdue
           and (number is None or number in p.path.parts)]
    if due:
        click.echo("\n".join("notice: " + line for line in FORMATTERS["text"](due).splitlines()), err=True)
        click.echo(f"{len(due)} action(s) due: record them (certreg decide)", err=True)


@main.command()
@registry_option
@click.option("--check", is_flag=True, help="Only check that the published schemas are up to date.")
def schemas(registry, check):
    """Write the JSON Schemas of the record types into REGISTRY/schemas/ (for editors)."""
    from .records.load import load_schemes
    from .records.schemasync import stale_schemas, write_schemas

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


def _shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    k, sep, n = value.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise click.BadParameter(f"{value!r}: give K/N, K from 1 to N (e.g. 2/8)")
    return int(k), int(n)


def progress(label: str):
    """How long work tells its progress (a callable taking done and total): a bar on a terminal; in a log
    (CI), a line at each tenth of the work."""
    if sys.stderr.isatty():
        bar = None

        def draw(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.update(done - bar.pos)
            if done >= total:
                bar.render_finish()

        return draw
    told = [-1]

    def log(done: int, total: int) -> None:
        tenth = 10 * done // total if total else 10
        if tenth > told[0]:
            told[0] = tenth
            click.echo(f"{label}: {done}/{total}", err=True)

    return log


@main.command()
@click.argument("numbers", nargs=-1)
@registry_option
@as_of_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="certs", show_default=True,
              help="Where the PDFs go (one per certificate version, NUMBER-vVERSION.pdf).")
@click.option("--site", "mkdocs_yml", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="mkdocs.yml", show_default=True, help="The site configuration whose site_url the QR codes use.")
@click.option("--shard", callback=lambda ctx, param, value: _shard(value), metavar="K/N",
              help="Render only the K-th of N shards (K from 1 to N): N runs, on as many machines, render "
                   "everything between them; join their folders with --merge.")
@click.option("--merge", "merge_from", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Join the folders of a sharded render into --out instead of rendering (give it once per "
                   "shard); then check that every PDF is there and current.")
@click.option("--published", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="SITE",
              help="The published site, or the part of it at hand (its open data, data/certificates.json): the "
                   "PDFs as issued that it has or lists are the archive, published again as they are, so they "
                   "are neither rendered nor required by --merge.")
@click.option("--dry-run", is_flag=True,
              help="Render nothing: print the name of each PDF that would be rendered, one a line.")
def render(numbers, registry, as_of, out, mkdocs_yml, shard, merge_from, published, dry_run):
    """Render the PDF certificate of every version of the certificates NUMBERS (default: all).

    The registry is validated first and nothing is rendered if it has errors (actions now due are told,
    and hold nothing back). A PDF whose inputs
    (record, templates, font, program) have not changed is not rendered again, nor one that the published site
    (--published) has as issued.
    """
    from .publish.pdf import RenderError, site_url
    from .publish.pdf import render as render_pdfs
    from .rules.validate import check_registry

    checked = check_registry(registry, as_of, cache=True)
    blocking = _blocking(checked)  # (an action due elsewhere changes no certificate: it holds nothing back)
    if blocking:
        click.echo(FORMATTERS["text"](blocking), err=True)
        click.echo(f"not rendered: the registry has {len(blocking)} error(s)", err=True)
        sys.exit(1)
    _tell_overdue(checked)
    unknown = [n for n in numbers if n not in checked.histories]
    if unknown:
        raise click.UsageError("no such certificate: " + ", ".join(unknown))
    archived: frozenset[str] = frozenset()
    if published is not None:
        from .publish.shards import published_pdfs

        try:
            archived = published_pdfs(published)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    if merge_from:
        from .publish.pdf import jobs_for
        from .publish.shards import merge, up_to_date

        if dry_run:
            raise click.UsageError("--dry-run renders nothing and --merge renders nothing: give one of them")
        clashes = merge(list(merge_from), out)
        if clashes:
            raise click.ClickException("the shards disagree (different bytes under one name): " + ", ".join(clashes))
        missing = up_to_date(jobs_for(checked, list(numbers) or None, site_url(mkdocs_yml)), out, archived)
        if missing:
            raise click.ClickException(f"{len(missing)} PDF(s) missing or out of date after the merge (a shard "
                                       "did not run, or ran on other records): " + ", ".join(missing[:10]))
        click.echo(f"{len(merge_from)} shard(s) merged into {out}: every PDF is there and current", err=True)
        return
    chosen = list(numbers) or None
    if shard is not None:
        from .publish.shards import shard_numbers

        chosen = shard_numbers(chosen or sorted(checked.histories), shard)
        if not chosen:
            click.echo(f"shard {shard[0]}/{shard[1]} has no certificate to render", err=True)
            return
    if dry_run:
        from .publish.pdf import jobs_for
        from .publish.shards import up_to_date

        todo = up_to_date(jobs_for(checked, chosen, site_url(mkdocs_yml)), out, archived)
        for name in todo:
            click.echo(name)
        click.echo(f"{len(todo)} PDF(s) to render into {out}", err=True)
        return
    try:
        done = render_pdfs(checked, out, base_url=site_url(mkdocs_yml), numbers=chosen,
                           progress=progress("rendering PDFs"), archived=archived)
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
              help="Where the site goes; it replaces the folder only once the build is complete. Not a mount "
                   "point (it cannot be renamed): build into a folder inside it, e.g. --out site/www.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="mkdocs.yml", show_default=True,
              help="The site's configuration (its site_url, its hand-written pages); the registry and the PDFs "
                   "are registry/ and certs/ beside it.")
@click.option("--registry", "registry", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The registry folder, instead of registry/ beside the configuration.")
@click.option("--no-pdfs", is_flag=True, help="Publish no PDFs (and do not render them).")
@click.option("--engine", type=click.Choice(ENGINES), default="mkdocs", show_default=True,
              help="What builds the hand-written pages and the page shell: mkdocs (mkdocs-material) or Zensical, "
                   "its successor, from the same configuration.")
@click.option("--wait", type=click.FloatRange(min=0), default=600, show_default=True, metavar="SECONDS",
              help="How long to wait for another build into the same folder (or rendering the same PDFs) to end; "
                   "then give up, changing nothing.")
@click.option("--timings", is_flag=True, help="Print how long each stage took.")
def build(as_of, out, config_file, registry, no_pdfs, engine, wait, timings):
    """Validate the registry, render the PDFs and build the public site.

    The site engine (--engine) builds the hand-written pages of mkdocs.yml; certreg writes the pages made
    from the records (verification pages, lists, announcements), the feeds and the open data around them.

    The new site is built beside OUT (.OUT.building, from the site the last build replaced, kept as .OUT.spare)
    and exchanged with it in one step only once complete and losing nothing published; one build at a time (a
    lock, .OUT.lock): a second one waits. A site folder that is a mount point is refused: build into a folder
    inside it (--out site/www) and serve that one.
    """
    import time

    from .problems import FORMATTERS
    from .publish.build import BuildError, build_site

    stages: list[tuple[str, float]] = []
    files: list = []
    started = time.perf_counter()
    try:
        notices = build_site(config_file, out, as_of, pdfs=not no_pdfs, registry=registry, progress=progress,
                             wait=wait, say=lambda line: click.echo(line, err=True), engine=engine,
                             timings=lambda stage, seconds: stages.append((stage, seconds)),
                             report=lambda done: files.append(done))
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    if notices:
        click.echo(FORMATTERS["text"](notices), err=True)
        overdue = sum(p.overdue for p in notices)
        click.echo(f"published with {overdue} overdue action(s) and {len(notices) - overdue} warning(s)", err=True)
    if timings:
        for stage, seconds in stages:
            click.echo(f"{stage:>12} {seconds:8.2f} s", err=True)
        click.echo(f"{'total':>12} {time.perf_counter() - started:8.2f} s", err=True)
        for done in files:
            click.echo(f"{done.written} file(s) made, {done.linked} unchanged ones linked from the published site",
                       err=True)
    click.echo(f"site built in {out} as of {as_of}", err=True)


@main.command()
@click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path), default="site", show_default=True,
              help="The built site to publish (certreg build --out).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="mkdocs.yml", show_default=True,
              help="The site's configuration (its site_url); the publication target is publication.yml beside it.")
@click.option("--dry-run", is_flag=True, help="Compare with the store and list what would be uploaded; upload nothing.")
@click.option("--check", is_flag=True,
              help="Only check publication.yml (against site_url too) and print its kind: github-pages or s3.")
def upload(site, config_file, dry_run, check):
    """Publish the built site to the object store that publication.yml names (kind: s3): only the files it
    lacks or holds otherwise are uploaded, pages that list others last, the home page last of all.

    Nothing is removed from the store (REG-APPEND): an object the site no longer has is listed, and kept. The keys
    come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Exit 1 on a failure: what was uploaded
    stays, and running again uploads the rest.
    """
    from .publish.target import TargetError, load_target
    from .publish.upload import UploadError, upload_site

    try:
        target = load_target(config_file)
        if check:
            click.echo(target.kind)
            return
        done = upload_site(site, target, dry_run=dry_run, progress=progress("uploading"))
    except (TargetError, UploadError) as exc:
        raise click.ClickException(str(exc)) from None
    if dry_run:
        for rel, why in done.uploaded:
            click.echo(f"would upload {rel} ({why})")
    verb = "would upload" if dry_run else "uploaded"
    click.echo(f"{verb} {len(done.uploaded)} file(s) ({done.bytes:,} bytes), {done.unchanged} unchanged, in "
               f"{done.seconds:.1f} s: {target.where()}")
    if done.only_in_store:
        click.echo(f"{len(done.only_in_store)} object(s) in the store that the site does not have, kept (nothing "
                   "published is removed, REG-APPEND):")
        for key in done.only_in_store:
            click.echo(f"  {key}")


# --- writing records ---------------------------------------------------------------------------


def _sets(pairs, given: dict | None = None) -> dict:
    """FIELD=VALUE pairs as nested values; a field given twice, or also by its own option (``given``: field ->
    how it is given), is an error."""
    from .staff.write import set_dotted

    given = given or {}
    values: dict = {}
    seen: set = set()
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not FIELD=VALUE", param_hint="--set")
        top = name.split(".")[0]
        if top in given:
            raise click.BadParameter(f"{top} is given with {given[top]}, not --set", param_hint="--set")
        if name in seen:
            raise click.BadParameter(f"{name} is given twice", param_hint="--set")
        seen.add(name)
        set_dotted(values, name, value)
    return values


def _checked(spec, dotted: str):
    """A prompt's check: the answer typed by its field, or the question again (nothing is lost)."""
    from .errors import UsageError
    from .staff.write import typed

    def proc(text: str):
        try:
            typed(spec, text.strip(), dotted)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        return text.strip()

    return proc


def _ask(dotted: str, spec, what: str):
    """A prompt for one missing field, typed by its declaration; a wrong answer is asked again."""
    from .errors import UsageError
    from .records.schema import Bool, Choice, Date, List, Map
    from .staff.write import member

    if isinstance(spec, List) and isinstance(spec.item, Map):
        found: list[dict] = []
        while True:
            text = click.prompt(f"{dotted}: {what}, one NAME:ROLE[:QUALIFICATION,...] at a time "
                                f"(empty when done)", default="", show_default=False)
            if not text:
                if found:
                    return found
                continue
            try:
                found.append(member(text))
            except UsageError as exc:
                click.echo(f"Error: {exc}", err=True)
    if isinstance(spec, Choice):
        return click.prompt(f"{dotted} ({what})", type=click.Choice(spec.choices))
    if isinstance(spec, Bool):
        return click.prompt(f"{dotted} ({what})", type=click.Choice(["true", "false"]))
    if isinstance(spec, Date):
        return click.prompt(f"{dotted} ({what}, YYYY-MM-DD)", value_proc=_checked(spec, dotted))
    return click.prompt(f"{dotted} ({what})", value_proc=_checked(spec, dotted))


def _fill(spec, values: dict) -> dict:
    from .staff.write import missing, set_dotted

    for dotted, fspec, what in missing(spec, values):
        set_dotted(values, dotted, _ask(dotted, fspec, what))
        if dotted == "reason.zh":  # asked for the public reason: its English too (optional; the site shows both)
            english = click.prompt("reason.en (the public reason in English; empty if none)", default="",
                                   show_default=False)
            if english:
                set_dotted(values, "reason.en", english)
    return values


def _write(registry, path, text, as_of, expected=None, late=None, known=None):
    from .problems import format_text
    from .staff.write import RecordRefused, write

    try:
        done = write(registry, path, text, as_of, expected, late, known)
    except RecordRefused as exc:
        click.echo(format_text(exc.problems), err=True)
        click.echo(f"{exc}; the lines above are those of the record as it would have been:", err=True)
        for n, line in enumerate(text.splitlines(), 1):
            click.echo(f"{n:4} | {line}", err=True)
        sys.exit(1)
    if done.warnings:
        click.echo(format_text(done.warnings), err=True)
    click.echo(f"wrote {done.path}")


set_option = click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
                          help="A field's value (dotted for nested fields: manufacturer.name=...); repeat it. "
                               "Every required field not given is asked for.")


@main.command()
@click.argument("number")
@registry_option
@click.option("--scheme", "scheme", prompt=True, help="The scheme's key (registry/schemes/KEY.yml).")
@click.option("--valid-from", "valid_from", prompt="valid_from (the issue date, YYYY-MM-DD)", callback=_day)
@click.option("--valid-until", "valid_until", callback=_day,
              help="The last day of validity (default: the scheme's term, ZWL-7.2; required for ZCF-11.2).")
@click.option("--follows", help="The certificate this one renews or succeeds (its next reporting year).")
@set_option
@as_of_option
def new(number, registry, scheme, valid_from, valid_until, follows, sets, as_of):
    """Write the record of a new certificate NUMBER (registry/certificates/NUMBER/certificate.yml).

    It is checked with the whole registry first: if it brings an error, nothing is written. It is issued
    by a decision: `certreg decide issue NUMBER`.
    """
    from .staff.write import awaiting_issue, certificate_record, spec_of_certificate

    content = _fill(spec_of_certificate(registry, scheme, number, valid_until), _sets(sets))
    path, text = certificate_record(registry, number, scheme, valid_from, valid_until, content, follows)
    _write(registry, path, text, max(as_of, valid_from), awaiting_issue(path.resolve()))
    click.echo(f"next: certreg decide issue {number} --date {valid_from} ...", err=True)


@main.command()
@click.argument("action", type=click.Choice(["issue", "change", "suspend", "restore", "revoke", "cancel",
                                             "surveillance", "reissue"]))
@click.argument("number")
@registry_option
@click.option("--date", "date", prompt="date (the day it takes effect, YYYY-MM-DD)", callback=_day)
@click.option("--ground", help="The ground in the rules (suspend, revoke, cancel): its code in the scheme.")
@click.option("--reason-zh", help="The public reason, in Chinese (announced).")
@click.option("--reason-en", help="The public reason, in English.")
@click.option("--member", "members", multiple=True, metavar="NAME:ROLE[:QUALIFICATION,...]",
              help="A member of the audit or inspection team (issue); repeat it.")
@click.option("--late-reason-zh", help="Why CEC acted after the deadline, in Chinese (a late decision needs it).")
@click.option("--late-reason-en", help="The same in English.")
@set_option
@as_of_option
def decide(action, number, registry, date, ground, reason_zh, reason_en, members, late_reason_zh, late_reason_en,
           sets, as_of):
    """Write a decision about certificate NUMBER (decisions/DATE-ACTION.yml).

    A decision the rules forbid is refused with the rule and the reason, and nothing is written. A
    decision taken after its deadline is written as it happened, with the deadline it missed (late:) and
    why (late_reason:, asked for if not given): a warning about CEC's timeliness, never a refusal. An
    announced decision gets the next announcement number free on its date (announcement: YYYYMMDD-N).
    """
    from .rules import validate
    from .staff.write import decision_record, member, scheme_prerequisites, spec_of_decision

    given = {"certificate": "the NUMBER argument", "action": "the ACTION argument", "date": "--date"}
    given |= {name: how for name, how, value in (("ground", "--ground", ground),
                                                 ("reason", "--reason-zh and --reason-en", reason_zh or reason_en),
                                                 ("team", "--member", members)) if value}
    values = _sets(sets, given)
    if ground:
        values["ground"] = ground
    for lang, text in (("zh", reason_zh), ("en", reason_en)):
        if text:
            values.setdefault("reason", {})[lang] = text
    if members:
        values["team"] = [member(m) for m in members]
    items = scheme_prerequisites(registry, number) if action == "issue" else {}
    if items and "prerequisites_checked" not in values:  # ZCF-5.2.1: each prerequisite checked, one by one
        values["prerequisites_checked"] = [code for code, label in items.items()
                                           if click.confirm(f"ZCF-5.2.1 checked: {label['zh']} ({label['en']})?")]
    values |= {"certificate": number, "action": action, "date": date.isoformat()}
    fields = _fill(spec_of_decision(registry, number, action), values)
    for given in ("certificate", "action", "date"):
        fields.pop(given)
    # (every certificate's Facts: for the next announcement number, and to judge the decision against)
    registry = registry.resolve()
    known = validate.known(registry, max(as_of, date))
    path, text = decision_record(registry, number, action, date, fields, known)

    def late(missed: dict):  # recorded as it happened: the deadlines missed, and why
        for rule, day in missed.items():
            click.echo(f"{rule}: this decision comes after its deadline, {day}; it is recorded as late", err=True)
        reason = {"zh": late_reason_zh or click.prompt("late_reason.zh (why CEC acted late, in Chinese)"),
                  "en": late_reason_en or click.prompt("late_reason.en (the same in English)")}
        return decision_record(registry, number, action, date,
                               {**fields, "late": dict(missed),
                                "late_reason": reason}, known)[1]

    _write(registry, path, text, max(as_of, date), late=late, known=known)


@main.command()
@registry_option
@click.option("--base", "base", required=True, metavar="REF", help="The git ref to compare with (e.g. origin/main).")
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
@click.option("--site", "mkdocs_yml", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="mkdocs.yml", show_default=True, help="The site configuration (its site_url).")
def diff(registry, base, as_of, fmt, mkdocs_yml):
    """What the working tree changes in public against the git ref REF: new certificates, status changes,
    new announcements, changed public fields (Markdown: for a pull-request comment)."""
    from .publish.pdf import RenderError, site_url
    from .staff.diff import lines, public_diff

    try:
        url = site_url(mkdocs_yml)
    except RenderError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("\n".join(lines(public_diff(registry, base, as_of, url), markdown=fmt == "markdown")))
