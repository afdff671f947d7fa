"""Stage 5, build: the public site (pages, PDFs, feeds, open data) into a folder, in one go.

mkdocs builds it from mkdocs.yml with the certreg plugin, into a new folder. That folder replaces the
published one only when it is complete and loses nothing the published one had (REG-APPEND: every
certificate is still there, every announcement keeps its number); otherwise what was published stays.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import logging
import os
import shutil
from pathlib import Path

from ..errors import CertregError


class BuildError(CertregError):
    """Raised by ``build_site``: mkdocs or the certreg plugin refused to build, or the build would lose
    something published (the reasons are in the message)."""


def build_site(config_file: Path, out: Path, as_of: dt.date, *, pdfs: bool = True, pdf_dir: Path | None = None,
               registry: Path | None = None, progress=None) -> list:
    """Build the site of ``config_file`` (mkdocs.yml) into ``out`` as of ``as_of``, strictly.

    The registry is the plugin's (``registry:``), or ``registry``. The PDFs are rendered into the plugin's
    folder (``pdfs:``, default certs/), or ``pdf_dir``; none with ``pdfs=False``. Returns what was published
    anyway: the registry's warnings and its overdue actions (errors with ``overdue`` set).
    """
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's notice about mkdocs 2, printed at each build
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    out = out.resolve()
    staging = out.with_name(f".{out.name}.building")
    shutil.rmtree(staging, ignore_errors=True)
    handler = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        config = load_config(str(config_file), site_dir=str(staging), strict=True)
        plugin = config.plugins.get("certreg")
        if plugin is None:
            raise BuildError(f"{config_file} does not use the certreg plugin (plugins: - certreg)")
        plugin.config.as_of = as_of.isoformat()
        if registry is not None:
            plugin.config.registry = str(registry.resolve())
        plugin.config.published = str(out)
        plugin.progress = progress  # (done, total) of the PDFs rendered, for a long build
        if not pdfs:
            plugin.config.pdfs = ""
        elif pdf_dir is not None:
            plugin.config.pdfs = str(pdf_dir.resolve())
        build(config)
        lost = losses(out, staging)
        if lost:
            raise BuildError("\n".join(lost + ["the site was not published: a correction is a new record, and "
                                               "nothing published is removed or renumbered"]))
    except MkDocsException as exc:
        raise BuildError("\n".join([*handler.lines, f"the site was not built: {exc}"])) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        logger.removeHandler(handler)
        if staging.exists() and not (staging / "index.html").exists():
            shutil.rmtree(staging, ignore_errors=True)
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return plugin.notices


def losses(published: Path, new: Path) -> list[str]:
    """REG-APPEND: what the site in ``new`` would lose of the site in ``published`` (certificates that are
    gone, announcements whose number now names another decision)."""
    lost = []
    old_certs = _read(published / "data" / "certificates.json", "certificates")
    new_certs = {c["number"] for c in _read(new / "data" / "certificates.json", "certificates")}
    for c in old_certs:
        if c["number"] not in new_certs:
            lost.append(f"error REG-APPEND certificate {c['number']} is published but would disappear (its records "
                        "were removed, or the site is built as of a date before its issue)")
    for kept in sorted(published.glob("certificates/*/issued/*.pdf")):  # the archive (ZCF-11.3), byte for byte
        again = new / kept.relative_to(published)
        if not again.is_file() or not filecmp.cmp(kept, again, shallow=False):
            lost.append(f"error REG-APPEND the PDF as issued {kept.relative_to(published)} is published and would "
                        f"{'disappear' if not again.is_file() else 'change'} (ZCF-11.3: it is the record; a build "
                        "without PDFs cannot replace a site that publishes them)")
    new_anns = {a["number"]: a for a in _read(new / "data" / "announcements.json", "announcements")}
    for a in _read(published / "data" / "announcements.json", "announcements"):
        b = new_anns.get(a["number"])
        if b is None or (b["certificate"], b["record"]) != (a["certificate"], a["record"]):
            now = f"now names {b['certificate']} {b['record']}" if b else "would disappear"
            lost.append(f"error REG-APPEND announcement {a['number']} ({a['certificate']} {a['record']}) is published "
                        f"and {now}: a decision recorded late for a day that already has published announcements "
                        "would change their ranks that day")
    return lost


def _read(path: Path, key: str) -> list:
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))[key]
    except (ValueError, KeyError) as exc:
        raise BuildError(f"{path}: the published open data cannot be read ({exc}); REG-APPEND cannot be "
                         "checked") from None


class _Collect(logging.Handler):
    """mkdocs's warnings and errors (which its strict mode counts), for the message of a failed build."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")
