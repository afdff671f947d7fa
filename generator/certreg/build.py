"""Stage 5, build: the public site (pages, PDFs, feeds, open data) into a folder, in one go.

mkdocs builds it from mkdocs.yml with the certreg plugin; the build goes to a new folder that replaces
the published one only when it is complete, so a failed build leaves what was published untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from .errors import CertregError


class BuildError(CertregError):
    """Raised by ``build_site``: mkdocs or the certreg plugin refused to build (the reasons are logged)."""


def build_site(config_file: Path, out: Path, as_of: dt.date, *, pdfs: bool = True,
               pdf_dir: Path | None = None) -> None:
    """Build the site of ``config_file`` (mkdocs.yml) into ``out`` as of ``as_of``, strictly.

    The PDFs are rendered into the plugin's folder (``pdfs:``, default certs/), or ``pdf_dir``; none
    with ``pdfs=False``.
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
        if not pdfs:
            plugin.config.pdfs = ""
        elif pdf_dir is not None:
            plugin.config.pdfs = str(pdf_dir.resolve())
        build(config)
    except MkDocsException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError("\n".join([*handler.lines, f"the site was not built: {exc}"])) from None
    finally:
        logger.removeHandler(handler)
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


class _Collect(logging.Handler):
    """mkdocs's warnings and errors (which its strict mode counts), for the message of a failed build."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")
