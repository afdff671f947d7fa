"""The mkdocs plugin ``certreg``: joins the pages made from the records to the hand-written site.

Plain ``mkdocs build`` and ``mkdocs serve`` use it from mkdocs.yml; ``certreg build`` too. It checks
the registry (a registry with errors is not published), renders the PDFs (unless ``pdfs`` is empty),
and adds the verification pages, lists, announcements, feeds and open data (``site``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import shutil
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel

from .problems import FORMATTERS
from .public import certificate_path, publish
from .site import LANGS, SHELL, TEMPLATES, Shell, Site, prefix, shell_markdown, write_pages

ASSETS = TEMPLATES / "assets"
MARKER = '<div data-certreg="{}"></div>'


class CertregConfig(Config):
    registry = c.Type(str, default="registry")
    pdfs = c.Type(str, default="certs")  # where certreg render writes the PDFs; "" publishes none
    as_of = c.Optional(c.Type(str))  # YYYY-MM-DD; default: today


class CertregPlugin(BasePlugin[CertregConfig]):
    supports_multiple_instances = False

    def _path(self, config, value: str) -> Path:
        return (Path(config.config_file_path).parent / value).resolve()

    def on_config(self, config):
        from .render import RenderError, render, site_url
        from .validate import check_registry

        try:
            as_of = dt.date.fromisoformat(self.config.as_of) if self.config.as_of else dt.date.today()
        except ValueError:
            raise PluginError(f"certreg: as_of {self.config.as_of!r} is not a date written YYYY-MM-DD") from None
        try:
            # the public address as mkdocs.yml gives it (mkdocs serve replaces config.site_url with its own)
            base_url = site_url(Path(config.config_file_path))
        except RenderError as exc:
            raise PluginError(f"certreg: {exc}") from None
        self.registry = self._path(config, self.config.registry)
        checked = check_registry(self.registry, as_of)
        if not checked.report.ok:
            errors = [p for p in checked.report.problems if p.level == "error"]
            raise PluginError(f"certreg: the registry has {len(errors)} error(s); nothing was published:\n"
                              + FORMATTERS["text"](errors))
        pdfs = {}
        self.pdf_dir = self._path(config, self.config.pdfs) if self.config.pdfs else None
        if self.pdf_dir is not None:
            try:
                done = render(checked, self.pdf_dir, base_url=base_url)
            except RenderError as exc:
                raise PluginError(f"certreg: {exc}") from None
            if done.failed:
                raise PluginError("certreg: PDFs failed:\n" + "\n".join(done.failed))
        pub = publish(checked, base_url, pdfs=self.pdf_dir is not None)
        if self.pdf_dir is not None:
            pdfs = {v["number"]: f"{v['number']}-v{v['version']}.pdf" for v in pub.certificates}
        self.site = Site(pub, schemes=checked.registry.schemes, pdfs=pdfs)
        self.mark = checked.registry.settings.get("mark")
        self.schemas = self.registry / "schemas"
        config.extra_css.append("assets/certreg.css")
        config.extra_javascript.append("assets/certreg.js")
        return config

    def on_files(self, files: Files, config) -> Files:
        def add(path: str, **source):
            files.append(File.generated(config, path, inclusion=InclusionLevel.NOT_IN_NAV, **source))

        for asset in sorted(ASSETS.iterdir()):
            add(f"assets/{asset.name}", abs_src_path=str(asset))
        if self.mark:
            mark = (self.registry / self.mark).resolve()
            add(f"assets/{mark.name}", abs_src_path=str(mark))
        for path, content in self.site.data_files(self.schemas).items():
            add(path, content=content)
        for lang in LANGS:
            add(f"{prefix(lang)}{SHELL}/{SHELL}.md", content=shell_markdown())
        return files

    def on_page_content(self, html: str, page, config, files):
        lang = "en" if page.url.startswith("en/") else "zh"
        for kind in ("home", "certificates", "announcements"):
            marker = MARKER.format(kind)
            if marker in html:
                html = html.replace(marker, self.site.fragment(kind, lang, page.url))
        return html

    def on_post_build(self, config):
        site_dir = Path(config.site_dir)
        for lang in LANGS:
            path = f"{prefix(lang)}{SHELL}/{SHELL}/"
            shell = Shell((site_dir / path / "index.html").read_text(encoding="utf-8"), path)
            shutil.rmtree(site_dir / prefix(lang) / SHELL)
            write_pages(site_dir, shell, self.site.pages(lang))
        for cert in self.site.pub.certificates:
            folder = site_dir / certificate_path(cert["number"])
            (folder / "certificate.json").write_bytes(self.site.certificate_json(cert))
            pdf = self.site.pdfs.get(cert["number"])
            if pdf and self.pdf_dir is not None:
                _link_or_copy(self.pdf_dir / pdf, folder / pdf)
        _drop_shell_from_sitemap(site_dir)

    def on_serve(self, server, config, builder):
        server.watch(str(self.registry))
        server.watch(str(TEMPLATES))
        return server


def _drop_shell_from_sitemap(site_dir: Path) -> None:
    """The shell pages are not pages of the site: out of sitemap.xml (and its gzip copy)."""
    sitemap = site_dir / "sitemap.xml"
    if not sitemap.exists():
        return
    text = re.sub(rf"\s*<url>(?:(?!</url>).)*?{SHELL}.*?</url>", "", sitemap.read_text(encoding="utf-8"), flags=re.S)
    sitemap.write_text(text, encoding="utf-8")
    with open(site_dir / "sitemap.xml.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))


def _link_or_copy(source: Path, dest: Path) -> None:
    """A hard link where the file system allows it (PDFs add up), else a copy."""
    dest.unlink(missing_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
