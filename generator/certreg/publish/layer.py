"""Stage 5b, the site layer: the hand-written pages by a site engine, then certreg's own pages around them.

The engine (mkdocs with mkdocs-material, or Zensical, which reads the same mkdocs.yml) builds only what is
written by hand (the docs folder, site_src/) and one *shell* page per language. It builds from a copy of the
docs folder (``source``) to which certreg adds its assets, the registry's mark, the shell pages and an empty
placeholder of each data file (so that the engine checks the hand-written pages' links to them). Then
``assemble`` writes into the engine's output what certreg makes from the records: the generated part of
hand-written pages (``<div data-certreg="KIND"></div>``), the verification, list and month pages (each one
the shell filled in), the open data and feeds, each certificate's certificate.json, feed and PDFs, and one sitemap
per language. No page made from the records goes through the engine: it takes about 10 ms a page, and
Zensical runs no plugin at all.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import CertregError
from . import ENGINES
from .public import certificate_path
from .reuse import write
from .site import (
    LANGS,
    SHELL,
    TEMPLATES,
    Head,
    Shell,
    Site,
    certificate_feed_path,
    page_bytes,
    prefix,
    robots,
    shell_markdown,
    sitemap,
    strings,
)

ASSETS = TEMPLATES / "assets"  # certreg.css and certreg.js (mkdocs.yml names them), lookup.js (certreg.js fetches it)
MARKER = "data-certreg"
LONG = 2000  # pages or certificates: work long enough (about a second) to tell its progress


class EngineError(CertregError):
    """The site engine refused to build the hand-written pages (its messages are in the text)."""


@dataclass
class Assembled:
    """What ``assemble`` wrote: the URLs of the pages, hand-written and generated, per language; how many files
    it linked from the published site, and how many it made."""

    hand_written: dict[str, list[str]] = field(default_factory=dict)
    generated: dict[str, list[str]] = field(default_factory=dict)
    lastmod: dict[str, str | None] = field(default_factory=dict)  # URL -> the date it last changed, where known
    linked: int = 0
    written: int = 0


# --- the engine's source --------------------------------------------------------------------------------------


def _config(config_file: Path) -> dict:
    try:
        data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EngineError(f"{config_file}: cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise EngineError(f"{config_file}: not a mapping of settings")
    return data


def source(config_file: Path, into: Path, site: Site, *, mark: tuple[str, bytes] | None = None,
           data_paths: list[str]) -> Path:
    """Make in ``into`` (a new folder) what the engine builds from: a copy of the docs folder that
    ``config_file`` names, with certreg's assets, the mark (``(file name, bytes)``), a placeholder of each data
    file and the shell pages added, and the theme's custom folder. Returns the config the engine reads there:
    ``into/mkdocs.yml``, which inherits ``config_file`` and sets the folders (docs/, overrides/, site/) and what
    the footer of every page says (``extra.certreg_footer``: Site.footer, from registry.yml)."""
    config_file = config_file.resolve()
    settings = _config(config_file)
    here = config_file.parent
    docs = (here / settings.get("docs_dir", "docs")).resolve()
    if not docs.is_dir():
        raise EngineError(f"{config_file}: docs_dir {docs} is not a folder")
    into.mkdir()
    copy = into / "docs"
    shutil.copytree(docs, copy, symlinks=False)
    for asset in sorted(ASSETS.iterdir()):
        (copy / "assets").mkdir(exist_ok=True)
        shutil.copyfile(asset, copy / "assets" / asset.name)
    if mark is not None:
        (copy / "assets").mkdir(exist_ok=True)
        (copy / "assets" / mark[0]).write_bytes(mark[1])
    for path in data_paths:  # (the real files are written by assemble, over these)
        (copy / path).parent.mkdir(parents=True, exist_ok=True)
        (copy / path).write_bytes(b"")
    for lang in LANGS:
        shell = copy / prefix(lang) / SHELL / f"{SHELL}.md"
        if shell.exists():
            raise EngineError(f"{docs} has a page {shell.relative_to(copy)}: the name is certreg's (its shell page)")
        shell.parent.mkdir(parents=True)
        shell.write_text(shell_markdown(), encoding="utf-8")
    theme = dict(settings.get("theme") or {}) if isinstance(settings.get("theme"), dict) else None
    # (the footer is the theme's, on pages the engine renders and on the shell alike: the engine's config carries
    # it, as the engines merge an inherited config's mappings)
    child: dict = {"INHERIT": str(config_file), "docs_dir": "docs", "site_dir": "site",
                   "extra": {"certreg_footer": site.footer()}}
    if theme is not None and theme.get("custom_dir"):
        custom = (here / theme["custom_dir"]).resolve()
        inside = custom.is_relative_to(docs)
        child["theme"] = {"custom_dir": str(Path("docs") / custom.relative_to(docs)) if inside else "overrides"}
        if not inside:
            shutil.copytree(custom, into / "overrides")
    (into / "mkdocs.yml").write_text(yaml.safe_dump(child, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return into / "mkdocs.yml"


# --- the engine ----------------------------------------------------------------------------------------------


def run_engine(engine: str, config: Path, kept: Path | None = None) -> Path:
    """Build the hand-written pages of ``config`` (made by ``source``) strictly with ``engine``; returns the
    folder it wrote (``site/`` beside the config). Its warnings fail the build, as mkdocs's strict mode does.

    ``kept``, if given, is a folder of earlier outputs of the engine, each under the sha256 of everything it was
    built from (the source folder's files, the engine and the versions of what it runs): one built from the same
    is linked from there instead of building again (its files are never written to: publish.reuse.write)."""
    if engine not in ENGINES:
        raise EngineError(f"no site engine {engine!r}; the engines are {', '.join(ENGINES)}")
    out = config.parent / "site"
    key = _engine_key(engine, config.parent) if kept is not None else None
    done = kept / key if kept is not None and key is not None else None
    if done is not None and (done / ".complete").is_file():
        shutil.copytree(done, out, copy_function=os.link, ignore=shutil.ignore_patterns(".complete"))
    else:
        _mkdocs(config) if engine == "mkdocs" else _zensical(config)
        if done is not None:
            _keep(out, done)
    for lang in LANGS:
        if not (out / prefix(lang) / SHELL / SHELL / "index.html").is_file():
            raise EngineError(f"{engine} did not write the shell page {prefix(lang)}{SHELL}/{SHELL}/")
    return out


def _engine_key(engine: str, folder: Path) -> str:
    """The sha256 of what the engine builds from in ``folder`` (every file but its output), the engine, and the
    versions of Python and of the packages that shape its output."""
    import importlib.metadata

    from .reuse import digest

    versions: dict[str, str | None] = {}
    for package in ("mkdocs", "mkdocs-material", "zensical", "markdown", "pymdown-extensions", "jinja2"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] != "site")
    return digest(engine, sys.version, versions,
                  *(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() for p in files))


def _keep(out: Path, into: Path) -> None:
    """Keep a copy of the engine's output ``out`` at ``into`` (complete, or not at all)."""
    import tempfile

    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.", dir=into.parent))
    try:
        shutil.copytree(out, tmp / "site")
        (tmp / "site" / ".complete").write_bytes(b"")
        os.replace(tmp / "site", into)
    except OSError:
        pass  # (a full cache disk, or another build keeping the same: the next build runs the engine again)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mkdocs(config: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's notice about mkdocs 2, printed at each build
    handler = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        loaded = load_config(str(config), strict=True)
        # the shell pages are in no navigation, on purpose (validation: omitted_files would warn)
        shells = "\n".join(f"/{prefix(lang)}{SHELL}/" for lang in LANGS)
        own = loaded.get("not_in_nav")  # (the configuration's own, kept)
        loaded["not_in_nav"] = _pathspec("\n".join([shells, *(p.pattern for p in (own.patterns if own else []))]))
        build(loaded)
    except MkDocsException as exc:
        cause = _os_error(exc)
        if cause is not None:
            raise cause from None
        raise EngineError("\n".join([*handler.lines, f"the site was not built: {exc}"])) from None
    finally:
        logger.removeHandler(handler)


def _pathspec(text: str):
    from mkdocs.config import config_options

    return config_options.PathSpec().run_validation(text)


def _zensical(config: Path) -> None:
    """Zensical, as its command runs it (``python -m zensical build --strict``), in the source folder."""
    # Zensical reads mkdocs.yml's INHERIT, but merges lists by appending: the child sets no list
    command = [sys.executable, "-m", "zensical", "build", "--strict", "--config-file", str(config)]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(command, cwd=config.parent, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        text = (done.stdout + done.stderr).strip()
        raise EngineError(f"zensical refused to build the site (exit {done.returncode}):\n{text}")


# --- certreg's pages -----------------------------------------------------------------------------------------


def assemble(site_dir: Path, site: Site, schemas: Path | None, *, pdf_dir: Path | None, published: Path | None,
             engine_files: list[str] | None = None, base: dict | None = None,
             progress: Callable[[str], Callable[[int, int], None]] | None = None,
             stage: Callable[[str], None] | None = None) -> Assembled:
    """Write into ``site_dir`` everything made from the records; see the module. ``site_dir`` holds the engine's
    output (``engine_files``, its paths; default: every file there), and, if it was a site kept from an earlier
    build, that site, whose manifest (``base``, reuse.whole_site) lists what it holds: what the new site has not is
    removed. What
    the published site (``published``) has already, made from the same inputs, is linked from it; its PDFs as
    issued are the archive (ZCF-11.3): published again as they are, never rendered anew."""
    import re

    from .public import ISSUED, pdf_name
    from .reuse import Reuse, digest
    from .stamp import notice

    stage = stage or (lambda name: None)
    if engine_files is None:
        engine_files = files_of(site_dir)
    reuse = Reuse(published if published is not None and published.is_dir() else None, site_dir, base=base)
    done = Assembled()
    shells = {}
    for lang in LANGS:
        path = f"{prefix(lang)}{SHELL}/{SHELL}/"
        shells[lang] = Shell((site_dir / path / "index.html").read_text(encoding="utf-8"), path)
        shutil.rmtree(site_dir / prefix(lang) / SHELL)
    (site_dir / "sitemap.xml.gz").unlink(missing_ok=True)  # (mkdocs's, of the hand-written pages only)
    engine_files = [rel for rel in engine_files if not rel.startswith(SHELL_FOLDERS) and rel != "sitemap.xml.gz"]
    marker = re.compile(rf'<div {MARKER}="([^"]*)"></div>')
    for rel in sorted(engine_files):
        if rel == NOT_FOUND:  # (the theme's own, in English alone: certreg's is put in its place below)
            continue
        if rel.endswith(".html"):  # the engine's pages: the hand-written ones (and 404.html)
            page = site_dir / rel
            url = rel.removesuffix("index.html") if page.name == "index.html" else rel
            lang = "en" if url.startswith("en/") else "zh"
            if page.name == "index.html":
                done.hand_written.setdefault(lang, []).append(url)
            text = page.read_text(encoding="utf-8")
            if MARKER in text:  # (never written through a link: the page may be a kept output of the engine)
                write(page, _fill(marker, text, site, lang, url).encode())
                # (what it shows of the records changes with them; a page without is dated by no record)
                done.lastmod[url] = site.last_changes.get("all")
        reuse.note(rel)
    # what every page and file made here depends on besides its own inputs: the code and templates that make
    # them, the shells, the schemes' public text, the registry's settings, the public address and the date
    common = digest(_code_identity(), site.pub.generator, site.pub.base_url, site.pub.as_of.isoformat(),
                    site.pub.schemes, site.pub.registry,
                    {k: d.fields for k, d in sorted(site.scheme_defs.items())},
                    {lang: shells[lang].head + "\0" + shells[lang].tail for lang in LANGS})
    pages: list[tuple[str, str, Callable[[], bytes]]] = []
    for lang in LANGS:
        urls = done.generated[lang] = []
        # a certificate's pages, all made from the same inputs (Site.certificate_inputs): one key for all of them,
        # each found at its own path in the manifest (a page is made only if that one is not current)
        for c in site.pub.certificates:
            key = digest(common, lang, *site.certificate_inputs(c))
            lastmod = site.last_change(c)
            made = site.certificate_pages(c, lang, shells[lang])
            for url, make in made:
                pages.append((f"{url}index.html", key, make))
            for url, _make in made[:-1]:  # (the current version's address leads to the certificate's page, which
                urls.append(url)          # is in the sitemaps: it is not)
                done.lastmod[url] = lastmod
        for url, title, head, inputs, render in site.plans(lang):
            pages.append((f"{url}index.html", digest(common, url, title, head.description, head.feed, inputs),
                          functools.partial(page_bytes, shells[lang], url, title, head, render)))
            urls.append(url)
            done.lastmod[url] = head.lastmod
    reuse.put_all(pages, progress=progress("writing the pages") if progress and len(pages) >= LONG else None)
    # the 404 page: what an address the site does not have opens (a forged QR code, a mistyped number), served at
    # that address, so its links are absolute from the site's path
    title = " · ".join(strings()[lang]["nf_title"] for lang in LANGS)
    head = Head(strings()["zh"]["desc_not_found"])
    reuse.put(NOT_FOUND, digest(common, NOT_FOUND, head.description), lambda: shells["zh"].fill(
        NOT_FOUND, title, site.not_found_page(), head=head, absolute=site.site_path).encode())
    stage("pages")
    certs = site.pub.certificates
    rendered = _render_manifest(pdf_dir) if pdf_dir is not None else {}
    tell = progress("writing certificate.json and PDFs") if progress and len(certs) >= LONG else None
    # each certificate's certificate.json and the feed of its announcements (made from its view, for the holder in
    # the feed's title, and from each of its announcements as published), on every core; then its PDFs
    each: list[tuple[str, str, Callable[[], bytes]]] = []
    for cert in certs:
        number = cert["number"]
        each.append((f"{certificate_path(number)}certificate.json", digest(common, "certificate.json",
                                                                           site.digest_of(number)),
                     functools.partial(site.certificate_json, cert)))
        each.append((certificate_feed_path(number), digest(common, "feed.atom", site.digest_of(number),
                                                           [site.announcement_digest(a)
                                                            for a in site.announcements_of(number)]),
                     functools.partial(site.certificate_feed, cert)))
    reuse.put_all(each, progress=tell if pdf_dir is None else None)
    for i, cert in enumerate(certs, 1):
        number = cert["number"]
        folder = certificate_path(number)
        if pdf_dir is not None:
            # every version's PDF as issued (the archive's copy where the published site has one: once
            # published it never changes), and the copy offered beside the page, marked where it must be
            for v in cert["versions"]:
                issued_key = ""
                for k in [0] + [r["reissue"] for r in v.get("reissues", [])]:  # as first issued, then re-issued
                    name = pdf_name(number, v["version"], k)
                    path = f"{folder}{ISSUED}{name}"
                    kept = published / path if published is not None else None
                    if kept is not None and kept.is_file():  # (byte for byte what was published: losses() checks)
                        source = kept
                        before = reuse.old.get(path)
                        issued_key = before[0] if before and reuse.current(path, before[0]) else \
                            "archive:" + digest(kept.read_bytes())
                    else:
                        source = pdf_dir / name
                        sha = rendered.get(name) or digest(source.read_bytes())
                        issued_key = "rendered:" + sha
                    reuse.put(path, issued_key, source.read_bytes)
                note = notice(cert, v["version"])
                offered = f"{folder}{pdf_name(number, v['version'])}"
                newest = site_dir / f"{folder}{ISSUED}{name}"  # the copy offered: the newest issue
                reuse.put(offered, digest(name, issued_key, note), functools.partial(_offered, newest, note, number))
            if tell:
                tell(i, len(certs))
    stage("certificates")
    registry_wide = ""  # (the inputs of the files made from the whole registry: worked out once)
    for path, make in site.data_makers(schemas).items():
        if path.startswith("data/schemas/"):
            made_of = path  # (its bytes are the schema file's, read each time: a file a record's size at most)
        else:
            registry_wide = registry_wide or _registry_inputs(site)
            made_of = registry_wide
        reuse.put(path, digest(common, path, made_of), make)
    for path, data in site.lookup_files.items():  # (keyed by their bytes: the shards a decision leaves alone stay)
        reuse.put(path, digest("lookup", path, data), functools.partial(bytes, data))
    # One sitemap per language, of every page, generated or written, each with the date it last changed where the
    # records tell it; robots.txt names both.
    for lang in LANGS:
        path = f"{prefix(lang)}sitemap.xml"
        urls = done.hand_written.get(lang, []) + done.generated[lang]
        write(site_dir / path, sitemap(site.pub.base_url, [(url, done.lastmod.get(url)) for url in urls]))
        reuse.note(path)
    write(site_dir / "robots.txt", robots(site.pub.base_url))
    reuse.note("robots.txt")
    stage("data")
    reuse.prune()
    missing = incomplete(reuse.new, site, schemas)
    if missing:
        raise EngineError("the site lacks " + ", ".join(missing[:10])
                          + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""))
    reuse.save()
    done.linked, done.written = reuse.linked, reuse.written
    return done


NOT_FOUND = "404.html"
SHELL_FOLDERS = tuple(f"{prefix(lang)}{SHELL}/" for lang in LANGS)


def files_of(folder: Path) -> list[str]:
    """The path of every file under ``folder``, relative to it (as text, with /)."""
    out = []
    for parent, _dirs, names in os.walk(folder):
        rel = os.path.relpath(parent, folder).replace(os.sep, "/")
        out += [name if rel == "." else f"{rel}/{name}" for name in names]
    return out


def _offered(issued: Path, note: dict | None, number: str) -> bytes:
    """The copy of a PDF offered beside a certificate's page: as issued, marked by ``note`` if it must be."""
    from .stamp import stamp

    data = issued.read_bytes()
    return stamp(data, note, number) if note else data


def _code_identity() -> str:
    """The sha256 of the code and templates that make the site's pages and files."""
    from .reuse import digest

    here = Path(__file__).parent
    parts = [(p.name, p.read_bytes()) for p in sorted(here.glob("*.py"))]
    parts += [(p.relative_to(TEMPLATES).as_posix(), p.read_bytes()) for p in sorted(TEMPLATES.rglob("*"))
              if p.is_file()]
    return digest(*(name.encode() + b"\0" + data for name, data in parts))


def _render_manifest(pdf_dir: Path) -> dict[str, str]:
    """name -> sha256 of each PDF certreg render wrote into ``pdf_dir`` (its manifest)."""
    import json

    try:
        data = json.loads((pdf_dir / ".manifest.json").read_text(encoding="utf-8"))
        return {name: entry["sha256"] for name, entry in data.items() if isinstance(entry, dict)}
    except (OSError, ValueError, KeyError, AttributeError):
        return {}


def _registry_inputs(site: Site) -> str:
    """What the open data and feeds are made from, beyond ``common``: every certificate's public view, every
    announcement, every published record's hash."""
    from .reuse import digest

    certs = [site.digest_of(c["number"]) for c in site.pub.certificates]
    announcements = [site.announcement_digest(a) for a in site.pub.announcements]
    return digest(certs, announcements, site.pub.records)


def _fill(marker, text: str, site: Site, lang: str, url: str) -> str:
    """``text`` (a hand-written page at ``url``) with each marker replaced by its generated part."""
    return marker.sub(lambda m: site.fragment(m.group(1), lang, url), text)


def incomplete(files: dict, site: Site, schemas: Path | None) -> list[str]:
    """What a complete site has and the new one lacks: the home page and the 404 page, every certificate's page and
    the page of each of its versions in each language, its certificate.json and its feed, every data file and feed
    (not an empty placeholder). ``files`` is what the build put in the new site (Reuse.new: path -> (key, size, ...),
    each from a ``stat`` of the file as linked or written, and none of them removed since)."""
    missing = [page for page in ("index.html", NOT_FOUND) if page not in files]
    for cert in site.pub.certificates:
        folder = certificate_path(cert["number"])
        for lang in LANGS:
            for page in [f"{prefix(lang)}{folder}index.html"] + [f"{prefix(lang)}{folder}v{v['version']}/index.html"
                                                                   for v in cert["versions"]]:
                if page not in files:
                    missing.append(page)
        for path in (f"{folder}certificate.json", certificate_feed_path(cert["number"])):
            if path not in files:
                missing.append(path)
    for path in [*site.data_paths(schemas), *site.lookup_files]:
        if path not in files or files[path][1] == 0:
            missing.append(path)
    return missing


class _Collect(logging.Handler):
    """mkdocs's warnings and errors (which its strict mode counts), for the message of a failed build."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError (a full disk, a read-only folder...) that an error of mkdocs was raised from, if any: its
    cause, or the error it was raised while handling (unless hidden on purpose, ``from None``)."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return None
