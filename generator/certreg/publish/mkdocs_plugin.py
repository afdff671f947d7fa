"""The mkdocs plugin ``certreg``: joins the pages made from the records to the hand-written site.

Plain ``mkdocs build`` and ``mkdocs serve`` use it from mkdocs.yml; ``certreg build`` too. It checks
the registry (a registry with errors is not published, except for actions that time alone has made
due: those are listed and the rest is published), renders the PDFs (unless ``pdfs`` is empty), and adds
the verification pages, lists, announcements, feeds and open data (``site``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import shutil
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel

from ..errors import CertregError
from ..problems import FORMATTERS
from .public import certificate_path, publish
from .site import LANGS, SHELL, TEMPLATES, Shell, Site, prefix, shell_markdown, sitemap, write_pages
from .stamp import publish_copies

ASSETS = TEMPLATES / "assets"
MARKER = re.compile(r'<div data-certreg="([^"]*)"></div>')
log = logging.getLogger("mkdocs.plugins.certreg")


class CertregConfig(Config):
    registry = c.Type(str, default="registry")
    pdfs = c.Type(str, default="certs")  # where certreg render writes the PDFs; "" publishes none
    as_of = c.Optional(c.Type(str))  # YYYY-MM-DD; default: today in China
    published = c.Type(str, default="")  # the published site, whose PDFs as issued are the archive (ZCF-11.3)


def _plugin_errors(hook):
    """certreg's own errors in a hook become mkdocs's PluginError: a message, not a traceback."""

    @functools.wraps(hook)
    def wrapped(self, *args, **kwargs):
        try:
            return hook(self, *args, **kwargs)
        except CertregError as exc:
            raise PluginError(f"certreg: {exc}") from None

    return wrapped


class CertregPlugin(BasePlugin[CertregConfig]):
    supports_multiple_instances = False
    progress = None  # told (done, total) as the PDFs are rendered (certreg build sets it)

    def _path(self, config, value: str) -> Path:
        return (Path(config.config_file_path).parent / value).resolve()

    @_plugin_errors
    def on_config(self, config):
        from ..rules.dates import today
        from ..rules.validate import check_registry
        from .pdf import render, site_url
        from .preflight import with_preflight

        try:
            as_of = dt.date.fromisoformat(self.config.as_of) if self.config.as_of else today()
        except ValueError:
            raise PluginError(f"certreg: as_of {self.config.as_of!r} is not a date written YYYY-MM-DD") from None
        # The public address as mkdocs.yml gives it: mkdocs serve replaces config.site_url with its own.
        # (Read from the file itself: an INHERIT or !ENV site_url is not followed.)
        base_url = site_url(Path(config.config_file_path))
        self.registry = self._path(config, self.config.registry)
        # what certreg validate refuses, with the same messages: the records, the rules, and the preflight (a
        # character the font lacks, unusable artwork), before anything is rendered
        checked = with_preflight(check_registry(self.registry, as_of))
        errors = [p for p in checked.report.problems if p.level == "error"]
        blocking = [p for p in errors if not p.overdue]
        if blocking:
            raise PluginError(f"certreg: the registry has {len(blocking)} error(s); nothing was published:\n"
                              + FORMATTERS["text"](blocking))
        # Actions now due (ZCF-12.1.2, ZWL-7.4, ZWL-6.1, ZWL-6.3) hold nothing back: the pages say what is due.
        # They and the warnings are told (certreg build prints them; mkdocs shows them with --verbose).
        self.notices = [p for p in checked.report.problems if p.overdue or p.level == "warning"]
        for p in self.notices:
            log.info("published with: %s", FORMATTERS["text"]([p]))
        self.pdf_dir = self._path(config, self.config.pdfs) if self.config.pdfs else None
        if self.pdf_dir is not None:
            # the PDFs as issued that the published site has are the archive: published again, never rendered
            archived = frozenset(p.name for p in Path(self.config.published).glob("certificates/*/issued/*.pdf")) \
                if self.config.published else frozenset()
            done = render(checked, self.pdf_dir, base_url=base_url, progress=self.progress, archived=archived)
            if done.failed:
                raise PluginError("certreg: PDFs failed:\n" + "\n".join(done.failed))
        pub = publish(checked, base_url, pdfs=self.pdf_dir is not None)
        self.site = Site(pub, schemes=checked.registry.schemes)
        self.mark = checked.registry.settings.get("mark")
        self.schemas = self.registry / "schemas"
        config.extra_css.append("assets/certreg.css")
        config.extra_javascript.append("assets/certreg.js")
        return config

    @_plugin_errors
    def on_files(self, files: Files, config) -> Files:
        def add(path: str, **source):
            files.append(File.generated(config, path, inclusion=InclusionLevel.NOT_IN_NAV, **source))

        for asset in sorted(ASSETS.iterdir()):
            add(f"assets/{asset.name}", abs_src_path=str(asset))
        if self.mark:  # its bytes, read as a regular file inside the registry (never through a link: REG-LAYOUT)
            from ..records.safefile import MAX_ARTWORK_BYTES, read_regular

            mark = self.registry / self.mark
            add(f"assets/{mark.name}", content=read_regular(mark, MAX_ARTWORK_BYTES))
        for path, content in self.site.data_files(self.schemas).items():
            add(path, content=content)
        for lang in LANGS:
            add(f"{prefix(lang)}{SHELL}/{SHELL}.md", content=shell_markdown())
        return files

    def on_nav(self, nav, config, files):
        self.pages = []
        return nav

    @_plugin_errors
    def on_page_content(self, html: str, page, config, files):
        self.pages.append(page)
        lang = "en" if page.url.startswith("en/") else "zh"
        return MARKER.sub(lambda m: self.site.fragment(m.group(1), lang, page.url), html)

    @_plugin_errors
    def on_post_build(self, config):
        site_dir = Path(config.site_dir)
        written = {}
        for lang in LANGS:
            path = f"{prefix(lang)}{SHELL}/{SHELL}/"
            shell = Shell((site_dir / path / "index.html").read_text(encoding="utf-8"), path)
            shutil.rmtree(site_dir / prefix(lang) / SHELL)
            written[lang] = write_pages(site_dir, shell, self.site.pages(lang))
        for cert in self.site.pub.certificates:
            folder = site_dir / certificate_path(cert["number"])
            (folder / "certificate.json").write_bytes(self.site.certificate_json(cert))
            if self.pdf_dir is not None:  # copies, never links: the site must not change when certs/ does
                archive = Path(self.config.published) / certificate_path(cert["number"]) if self.config.published \
                    else None
                publish_copies(cert, folder, self.pdf_dir, archive)
        # One sitemap per language (Material's language switch reads them), of every page, generated or written.
        written_pages = [p.url for p in self.pages]
        for lang in LANGS:
            urls = [u for u in written_pages if (lang == "en") == u.startswith("en/") and SHELL not in u]
            (site_dir / prefix(lang) / "sitemap.xml").write_bytes(sitemap(self.site.pub.base_url, urls + written[lang]))
        (site_dir / "sitemap.xml.gz").unlink(missing_ok=True)  # (mkdocs's, of the hand-written pages only)

    def on_serve(self, server, config, builder):
        server.watch(str(self.registry))
        server.watch(str(TEMPLATES))
        return server
