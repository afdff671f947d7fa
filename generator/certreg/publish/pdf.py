"""Stage 4a, render: one PDF certificate per certificate version (Jinja2 → HTML → WeasyPrint → PDF).

A certificate's PDF shows public fields only (REG-PUBLIC), Chinese first with English labels, a
QR code (segno, vector) naming its verification URL, and a second page of usage guidance. Every
character is checked against the font before rendering (no silent tofu), anything WeasyPrint
logs fails the render, and the only resources it may load are this package's template assets,
the registry's mark artwork and ``data:`` URLs. The same records give byte-identical PDFs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import mimetypes
import multiprocessing
import os
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import yaml
from markupsafe import Markup, escape

from .. import __version__
from ..errors import CertregError
from ..records.model import Certificate
from ..status import History, Version
from .public import pdf_name

if TYPE_CHECKING:
    import jinja2

# (jinja2, segno and importlib.metadata are imported where they are used: certreg validate imports this module
# for its glyph check, and they would double the time it takes to start)

TEMPLATES = Path(__file__).parent.parent / "templates" / "certificate"
FONT_FAMILY = "Noto Serif CJK SC"
# The families the pages name, each a cut of the font. "shared": one cut per scheme (the guidance page, the
# mark's text, the templates' and the scheme's fixed words, ASCII), named by both pages, so a PDF embeds it
# once: WeasyPrint merges a PDF's fonts by family and weight (pdf/stream.py add_font), which is right
# only because both pages serve the very same bytes under that name. "extra": the certificate page's
# fallback (see _font_faces), cut per certificate to the record's characters that the shared cut lacks. The
# mark artwork's text names the shared family (CertSerif).
# "notice": the font of a notice laid over a copy's pages (publish/stamp.py), under a name of its own so that a
# marked copy never holds two font programs under one name.
FONT_ALIAS = {"shared": "CertSerif", "extra": "CertSerifExtra", "notice": "CertSerifNotice"}
PAGE_FONTS = {"certificate": ("shared", "extra"), "guidance": ("shared",), "notice": ("notice",)}
PDF_VARIANT = "pdf/a-2b"  # archival: ZCF-11.3 keeps electronic records ten years
QR_MODULE_MM = Decimal("0.6")  # at least 0.5 mm a module on paper
SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"  # the CJK font has no glyph for them: they are set as <sub> digits
LIST_MARKERS = "0123456789."  # the numbers of <ol> items, which are not in the page's text
SUBSCRIPTS = str.maketrans(SUBSCRIPT_DIGITS, "0123456789")
TITLES = {
    "zero-carbon-factory": {"zh": "零碳工厂认证证书", "en": "Zero-Carbon Factory Certificate"},
    "zero-waste-low-carbon-water": {"zh": "无废低碳产品认证证书", "en": "Zero-Waste Low-Carbon Product Certificate"},
}
STATEMENTS = {
    "zero-carbon-factory": {
        "zh": "经审核，该工厂在上述报告期内核算边界内的温室气体排放已全部抵消，符合零碳工厂认证要求。"
              "本证书仅对上述报告期有效。",
        "en": "The audit found the factory's GHG emissions inside the boundary fully offset for the reporting "
              "period above, meeting the zero-carbon factory requirements. This certificate is valid for that "
              "reporting period only.",
    },
    "zero-waste-low-carbon-water": {
        "zh": "经检查，上述产品符合无废低碳产品（回用水）认证要求，准许使用认证标志。",
        "en": "The inspection found the product above to meet the zero-waste low-carbon product (reused water) "
              "requirements; the certification mark may be used.",
    },
}


class RenderError(CertregError):
    """Raised by ``render``: a certificate cannot be rendered faithfully (missing glyph, a log line, an asset)."""


# --- configuration: the public base URL and the font ---------------------------------------


def site_url(mkdocs_yml: Path) -> str:
    """``site_url`` from mkdocs.yml: the one source of the public address."""
    try:
        root = yaml.compose(mkdocs_yml.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise RenderError(f"{mkdocs_yml}: cannot read site_url ({exc})") from None
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "site_url" and isinstance(value, yaml.ScalarNode):
            url = value.value
            if urlsplit(url).scheme == "https" and url.endswith("/"):
                return url
            raise RenderError(f"{mkdocs_yml}: site_url must be an https:// address ending in /, not {url!r}")
    raise RenderError(f"{mkdocs_yml}: no site_url; the verification URLs are made from it")


def verification_url(base: str, number: str, version: int) -> str:
    """Where the QR code of ``number``'s version ``version`` leads: that version's address, which, once the
    version is superseded, is its own page saying so without any script, and until then leads to the
    certificate's page (publish/site.py ``Site.certificate_pages``, ``Site.current_page``). Papers printed
    before it named ``certificates/NUMBER/?v=VERSION``: that is the certificate's page, whose script reads the
    version."""
    return f"{base}certificates/{number}/v{version}/"


@cache
def font_files() -> dict[int, tuple[str, int]]:
    """weight -> (file, index in the collection) that fontconfig gives for the certificate's family.

    An error if fontconfig would substitute another family: that is how tofu or a wrong font would creep in.
    """
    found = {}
    try:  # (both at once: certreg validate waits for them)
        asked = {weight: subprocess.Popen(["fc-match", "-f", "%{family}\t%{file}\t%{index}", FONT_FAMILY + style],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for weight, style in ((400, ""), (700, ":bold"))}
    except OSError as exc:
        raise RenderError(f"fontconfig (fc-match) is not available: {exc}") from None
    for weight, process in asked.items():
        out, err = process.communicate()
        if process.returncode:
            raise RenderError(f"fontconfig (fc-match) failed: {err.strip()}")
        family, path, index = out.split("\t")
        if FONT_FAMILY not in family.split(","):
            raise RenderError(f"the font {FONT_FAMILY} is not installed (fontconfig offers {family!r} instead); "
                              "install Debian's fonts-noto-cjk")
        found[weight] = (path, int(index))
    return found


@cache
def _face(weight: int):
    import uharfbuzz as hb

    path, index = font_files()[weight]
    return hb.Face(hb.Blob.from_file_path(path), index)


@cache
def font_codepoints() -> frozenset:
    """Every character that both weights of the certificate's font have a glyph for."""
    both = _face(400).unicodes  # (a new HarfBuzz set each time: intersected in place, in C)
    both.intersection_update(_face(700).unicodes)
    return frozenset(both)


@cache
def _hb_font(weight: int):
    import uharfbuzz as hb

    return hb.Font(_face(weight))


@lru_cache(maxsize=65536)
def char_width(ch: str) -> float:
    """How wide ``ch`` is set in the certificate's font, in em (a Chinese character is 1), in the wider of its
    two weights; 0 for a character the font lacks (the glyph check reports those)."""
    widths = [0.0]
    for weight in (400, 700):
        font = _hb_font(weight)
        glyph = font.get_nominal_glyph(ord(ch))
        if glyph is not None:
            widths.append(font.get_glyph_h_advance(glyph) / _face(weight).upem)
    return max(widths)


def font_identity() -> str:
    """What identifies the font files, for knowing when a PDF must be rendered again."""
    return json.dumps([(path, index, os.path.getsize(path)) for path, index in font_files().values()])


def font_cut(chars: str, name: str = "shared") -> dict[str, bytes]:
    """The certificate's font cut down to ``chars``, per weight (HarfBuzz, a few milliseconds): file name → bytes.

    WeasyPrint keeps a font's glyph numbering when it subsets, which for a CJK font of 65,000 glyphs
    costs 150 KB a weight in every PDF; a font of only the glyphs used costs a tenth of that.
    CFF_IDENTITY_CHARSET (HarfBuzz 14.3): the cut renumbers the glyphs, and WeasyPrint writes glyph
    numbers as CIDs (Identity-H), so the CID-keyed CFF's charset must say CID n is glyph n; by default
    it keeps the whole font's CIDs, and readers that follow it (MuPDF, Ghostscript, Acrobat) drew other
    glyphs or none. DESUBROUTINIZE and NO_HINTING: WeasyPrint subsets each embedded font again, without
    subroutines or hints, so the PDF's bytes are the same with or without them in the cut; without, its
    subsetting has less to do (5 % of a PDF's time).
    """
    import uharfbuzz as hb

    files = {}
    for weight in (400, 700):
        wanted = hb.SubsetInput()
        # always the space: Pango sets a space in the font of the text around it, assuming every font has one
        for ch in sorted(set(chars) | {" "}):
            wanted.unicode_set.add(ord(ch))
        wanted.flags = hb.SubsetFlags.CFF_IDENTITY_CHARSET | hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING
        files[f"{name}-{weight}.otf"] = bytes(hb.subset(_face(weight), wanted).blob.data)
    return files


def _font_faces(part: str) -> str:
    """The @font-face rules of the page ``part``: its families (PAGE_FONTS), served as NAME-WEIGHT.otf.

    The text names the first family only: a character it lacks falls back (fontconfig) to the others, the only
    fonts the page knows. The same fallback through a CSS list of families makes Pango lay a page out 15 %
    slower (measured).
    """
    names = PAGE_FONTS[part]
    faces = [f'@font-face {{ font-family: "{FONT_ALIAS[name]}"; font-weight: {w}; src: url({name}-{w}.otf); }}'
             for name in names for w in (400, 700)]
    return "\n".join(faces + [f'html {{ font-family: "{FONT_ALIAS[names[0]]}"; }}'])


# --- the context of one certificate version ------------------------------------------------


def _lines(value, ftype: str) -> list[str]:
    if ftype == "party":
        return [value["name"], value["address"]]
    if ftype == "period":
        return [f"{date_zh(value['start'].isoformat())}至{date_zh(value['end'].isoformat())}"]
    if isinstance(value, Decimal):
        return [_figure(value)]
    return str(value).splitlines() or [""]


def _figure(value: Decimal) -> str:
    """A figure as people read it: thousands separated, no exponent, the decimals recorded."""
    return f"{value:,f}"


def context(cert: Certificate, h: History, version: Version, *, settings: dict, base_url: str,
            mark: str | None, seal: str, seal_text: str = "") -> dict:
    """Everything the template shows of one version: public fields only (REG-PUBLIC), plain data."""
    scheme = cert.scheme
    fields, figures = [], []
    for name, f in scheme.fields.items():
        if not f["public"] or name not in version.content:
            continue
        value = version.content[name]
        if f["type"] == "decimal":
            figures.append({"name": name, "label": f["label"], "value": _figure(value), "unit": f.get("unit", "")})
        else:
            fields.append({"name": name, "label": f["label"], "lines": _lines(value, f["type"])})
    url = verification_url(base_url, cert.number, version.number)
    guidance = dict(_guidance()[scheme.key])
    guidance["mark"] = mark if scheme_has_mark(scheme.key) else None
    return {
        "program_version": __version__,
        "scheme_key": scheme.key,
        "sample": settings["sample"],
        "issuer": settings["publisher"],
        "approval_number": settings["approval_number"],
        "signatory": settings["signatory"],
        "seal": {"src": seal, "text": seal_text},
        "title": TITLES[scheme.key],
        "statement": STATEMENTS[scheme.key],
        "number": cert.number,
        "version": {"number": version.number, "date": version.date.isoformat()},
        "issued": (h.issued or cert.valid_from).isoformat(),
        "valid_from": cert.valid_from.isoformat(),
        "valid_until": cert.valid_until.isoformat(),
        "fields": fields,
        "figures": figures,
        "basis": {"zh": scheme.basis["zh"], "en": scheme.basis["en"]},
        "verify": {"url": url, "domain": urlsplit(url).netloc, "site": base_url},
        "guidance": guidance,
    }


def scheme_has_mark(scheme: str) -> bool:
    """Whether the scheme's certificates carry the certification mark (its guidance describes one)."""
    return "mark_caption" in _guidance()[scheme]


@lru_cache(maxsize=1)
def _guidance() -> dict:
    return yaml.safe_load((TEMPLATES / "guidance.yml").read_text(encoding="utf-8"))


def _qr(url: str) -> dict:
    """The QR code as a vector image: error correction M or better, a 4-module quiet zone, 0.6 mm modules."""
    import segno

    code = segno.make(url, error="m", micro=False)
    size = int(code.symbol_size(scale=1, border=4)[0])
    return {"src": code.svg_data_uri(scale=1, border=4), "mm": str(size * QR_MODULE_MM), "modules": size,
            "error": code.error, "version": code.version}


# --- HTML ------------------------------------------------------------------------------------


def _chem(text) -> Markup:
    """Escaped text in which subscript digits (CO₂) are set as <sub> (the CJK font has no ₂ glyph)."""
    out = str(escape(text))
    for digit, sub in enumerate(SUBSCRIPT_DIGITS):
        out = out.replace(sub, f"<sub>{digit}</sub>")
    return Markup(out)  # noqa: S704 - built from escaped text


MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # by number; not the locale's: the same PDF and site on every machine


def date_zh(iso: str) -> str:
    """A date as Chinese official documents write it: 2025年1月7日."""
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def date_en(iso: str) -> str:
    """A date as English text writes it, with the month in words: 7 January 2025."""
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {MONTHS[d.month]} {d.year}"


def _label(text) -> Markup:
    """A Chinese field label whose closing parenthesis stays on one line: "报告期（报告年度）" wraps before
    "（报告年度）" if it must, never as "报/告年度"."""
    text = text.unescape() if isinstance(text, Markup) else str(text)  # (escaped once, below)
    head, paren, tail = text.rpartition("（")
    if not paren or not tail.endswith("）"):
        return Markup(escape(text))  # noqa: S704 - escaped
    return Markup(f'{escape(head)}<span class="nowrap">（{escape(tail)}</span>')  # noqa: S704 - escaped


def _keep_tail(text, chars: int = 4) -> Markup:
    """``chem`` of a text whose last few characters cannot be broken apart, so that a paragraph never ends
    on a lone "效。"."""
    text = text.unescape() if isinstance(text, Markup) else str(text)  # (escaped once, by _chem)
    return Markup(f'{_chem(text[:-chars])}<span class="nowrap">{_chem(text[-chars:])}</span>')  # noqa: S704


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["chem"] = _chem
    env.filters["date_zh"] = date_zh
    env.filters["date_en"] = date_en
    env.filters["label"] = _label
    env.filters["keep_tail"] = _keep_tail
    return env


def guidance_context(ctx: dict) -> dict:
    """What the usage-guidance page shows: the same for every certificate of a scheme, so laid out once."""
    return {"sample": ctx["sample"], "title": ctx["title"], "guidance": ctx["guidance"],
            "verify": {"domain": ctx["verify"]["domain"]}}


def render_html(ctx: dict, part: str = "certificate", fit: str = "") -> str:
    """The HTML of the certificate page (QR code included) or of its usage-guidance page.

    Its font is served beside it (``font_cut`` of its text). ``fit``: the certificate page's step of FIT_STEPS.
    """
    if part == "certificate":
        page = dict(ctx, qr=_qr(ctx["verify"]["url"]), fit=fit)
    elif part == "guidance":
        page = guidance_context(ctx)
    else:
        raise ValueError(f"no page {part!r}: the pages are {sorted(PAGE_FONTS)}")
    return _environment().get_template(f"{part}.html.j2").render(
        **page, fonts=Markup(_font_faces(part)))  # noqa: S704 - our own CSS


class _TextOf(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("head", "style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("head", "style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a page shows (what its font must cover)."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def svg_text(path: Path) -> str:
    """The text an SVG image (the mark, the seal) shows, once it is found to be a safe, self-contained SVG by the
    check certreg validate runs (publish/preflight.py: no DTD or entity, no reference outside the file); else
    RenderError: what the build draws is what validate accepted."""
    from .preflight import ArtworkError, read_artwork

    try:
        return read_artwork(path)[1]
    except ArtworkError as exc:
        raise RenderError(f"the artwork {path.name} {exc}") from None


def _shown_texts(ctx: dict):
    """(field, text) of everything the PDF shows in its font, for the glyph check."""
    for f in ctx["fields"]:
        for line in f["lines"]:
            yield f["name"], line
        yield f"{f['name']} (label)", f["label"]["zh"] + f["label"]["en"]
    for k in ctx["figures"]:
        yield k["name"], k["value"] + k["unit"] + k["label"]["zh"] + k["label"]["en"]
    for key in ("number", "issued", "valid_from", "valid_until"):
        yield key, ctx[key]
    for key in ("issuer", "title", "statement", "basis"):
        yield key, ctx[key]["zh"] + ctx[key]["en"]
    yield "verify", ctx["verify"]["url"]
    yield "approval_number", ctx["approval_number"]
    yield "signatory", json.dumps(ctx["signatory"], ensure_ascii=False)
    yield "seal", ctx["seal"]["text"]
    g = ctx["guidance"]
    yield "guidance", json.dumps(g, ensure_ascii=False)


def check_glyphs(number: str, ctx: dict, template_text: str) -> None:
    """Every character shown has a glyph in the certificate's font, or RenderError naming what is missing.

    ``template_text`` is the text the template and images (the mark) add to the record's.
    """
    check_texts(number, list(_shown_texts(ctx)) + [("template", template_text)])


def check_texts(number: str, texts) -> None:
    """Every character of the (name, text) pairs ``texts`` has a glyph in the certificate's font, or
    RenderError naming, by name, each character missing."""
    missing = missing_glyphs(texts)
    if missing:
        where = "; ".join(f"{name}: {code_points(chars)}" for name, chars in sorted(missing.items()))
        raise RenderError(f"{number}: the font {FONT_FAMILY} has no glyph for {where}")


def missing_glyphs(texts) -> dict:
    """name → the characters of its text that the certificate's font has no glyph for, of the (name, text)
    pairs ``texts`` (only names with some). The one glyph check: the render's and the preflight's
    (publish/preflight.py, which ``certreg validate`` runs)."""
    have = font_codepoints()
    missing: dict = {}
    for name, text in texts:
        for ch in text.translate(SUBSCRIPTS):
            if ch not in "\n\r\t" and ord(ch) not in have:
                missing.setdefault(name, set()).add(ch)
    return missing


def code_points(chars) -> str:
    """Characters as a person can find them again: "😀 (U+1F600) U+2060" (one that cannot be seen, or that would
    turn the message around, such as U+202E, by its code point alone)."""
    import unicodedata

    return " ".join(f"{c} (U+{ord(c):04X})" if not unicodedata.category(c).startswith(("C", "Z", "M"))
                    else f"U+{ord(c):04X}" for c in sorted(chars))


# --- PDF -------------------------------------------------------------------------------------


def _fetcher(allowed: list[Path], served: dict[str, bytes]):
    """A URL fetcher that loads the template's own assets, the registry's mark artwork, data: URLs and the
    files in ``served`` (name → bytes, as if in the template folder); nothing else, ever (no network,
    no file outside those folders)."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    roots = [p.resolve() for p in allowed]

    class Fetcher(URLFetcher):
        fetched: list[str] = []

        def fetch(self, url, headers=None):
            self.fetched.append(url)
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if path.parent == TEMPLATES.resolve() and path.name in served:
                    return URLFetcherResponse(url, body=served[path.name], headers={"Content-Type": "font/otf"})
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": kind})
            raise FatalURLFetchingError(f"refused to load {url}: a certificate loads only its own assets")

    return Fetcher(allowed_protocols=("data", "file"), fail_on_errors=True)


class _Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _fail_on_logs(number: str):
    """Anything WeasyPrint logs at warning or above fails the render (its logger is silent otherwise)."""
    handler = _Captured()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.lines:
        raise RenderError(f"{number}: WeasyPrint reported: " + " | ".join(handler.lines))


@cache
def _font_configuration_class():
    """WeasyPrint's FontConfiguration, but knowing no font but those the page's @font-face rules bring.

    WeasyPrint's own starts from every font installed (fontconfig's whole configuration, 50 ms a page);
    this one starts empty, which is faster and means no installed font can ever stand in for a glyph.
    """
    import cffi
    from weasyprint.text import ffi as wp
    from weasyprint.text.fonts import FontConfiguration

    own = cffi.FFI()
    own.cdef("void *FcConfigCreate (void);")
    fontconfig = own.dlopen("libfontconfig.so.1")

    class PageFonts(FontConfiguration):
        def __init__(self):
            self._folder = None
            self._config = wp.ffi.cast("FcConfig *", int(own.cast("uintptr_t", fontconfig.FcConfigCreate())))
            self.font_map = wp.ffi.gc(wp.pangoft2.pango_ft2_font_map_new(), wp.gobject.g_object_unref)
            wp.pangoft2.pango_fc_font_map_set_config(wp.ffi.cast("PangoFcFontMap *", self.font_map), self._config)
            wp.fontconfig.FcConfigDestroy(self._config)  # the font map keeps its own reference
            self.strut_layouts = {}
            self.font_features = {}

    return PageFonts


@cache
def _stylesheet():
    """certificate.css, parsed once a process (it has no @font-face: the fonts come with each page)."""
    import weasyprint

    return weasyprint.CSS(filename=str(TEMPLATES / "certificate.css"),
                          url_fetcher=_fetcher([TEMPLATES], {}))


def _layout(number: str, html: str, *, mark_dir: Path | None, extra_text: str = "",
            cuts: dict[str, bytes] | None = None, one_page: bool = True):
    """One page laid out by WeasyPrint in the font cuts ``cuts`` (file name → bytes; by default the
    page's text cut as its shared family, and an empty extra one); anything it logs is an error, and so is
    a second page (unless ``one_page`` is false: the caller judges the fit)."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    if cuts is None:
        cuts = {**font_cut(visible_text(html) + extra_text + LIST_MARKERS), **font_cut("", "extra")}
    fonts = _font_configuration_class()()  # one per page: the cuts it serves are all the fonts it knows
    fetcher = _fetcher([TEMPLATES] + ([mark_dir] if mark_dir else []), cuts)
    with _fail_on_logs(number):
        try:
            doc = weasyprint.HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher)
            rendered = doc.render(font_config=fonts, stylesheets=[_stylesheet()])
        except (Exception, FatalURLFetchingError) as exc:  # WeasyPrint's errors; its refused fetch is a
            raise RenderError(f"{number}: {exc}") from exc  # BaseException, meant to stop the render
    if one_page and len(rendered.pages) != 1:
        raise RenderError(f"{number}: a page of the certificate takes {len(rendered.pages)} pages: its text does "
                          "not fit (a very long field?)")
    return rendered


# The steps by which a certificate page whose text does not fit is set smaller (the page's classes; see
# certificate.css): the first that fits is used, so a certificate that fits as it is looks as it always did.
# The last sets the record's text at 7 pt, the smallest size read with ease, and fits every record that
# certreg validate accepts (the fields' lengths in records/specs.py; tests/test_preflight.py renders the longest).
FIT_STEPS = ("", "fit-1", "fit-2 compact", "fit-3 compact")
_MM = 96 / 25.4  # CSS pixels a millimetre
_SLACK = 0.25 * _MM  # what rounding may give
_EDGE = 5 * _MM  # the least paper left below the frame (printers leave about 4 mm unprinted)


def does_not_fit(rendered) -> str | None:
    """What does not fit on the laid-out certificate page ``rendered``, in words, or None when all of it fits:
    one page; the frame on the paper (a frame longer than the page makes no second page: its bottom, with the
    footer, QR code, signature and seal, runs off the paper); no text running out of its box at the side (a
    line that cannot break, a figure too wide); and the footer clear of the text above it."""
    from weasyprint.formatting_structure import boxes

    if len(rendered.pages) != 1:
        return f"it takes {len(rendered.pages)} pages"

    def walk(box):
        yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    frame = footer = None
    for box in walk(rendered.pages[0]._page_box):
        if isinstance(box, boxes.BlockContainerBox) and not isinstance(box, boxes.PageBox):
            left, right = box.content_box_x(), box.content_box_x() + box.width
            for line in box.children:
                if not isinstance(line, boxes.LineBox):
                    continue
                for leaf in walk(line):
                    if isinstance(leaf, boxes.TextBox) and (leaf.position_x < left - _SLACK
                                                            or leaf.position_x + leaf.margin_width() > right + _SLACK):
                        return f"the text {leaf.text[:40]!r} is wider than its place"
        element = getattr(box, "element", None)
        if element is None:
            continue
        if footer is None and box.element_tag == "footer":
            footer = box
        elif frame is None and "frame" in element.get("class", "").split():
            frame = box
    if frame is not None and footer is not None:
        over = frame.position_y + frame.margin_height() - frame.margin_bottom - (rendered.pages[0].height - _EDGE)
        if over > _SLACK:
            return f"the frame runs {over / _MM:.1f} mm too far down the page"
        text_bottom = max((child.position_y + child.margin_height() - child.margin_bottom
                           for child in frame.children if child is not footer and not child.is_absolutely_positioned()),
                          default=0)
        if text_bottom > footer.position_y + _SLACK:
            return f"the text runs {(text_bottom - footer.position_y) / _MM:.1f} mm into the footer"
    return None


# the guidance page is the same for every certificate of a scheme: laid out once a process, with the
# scheme's shared font cut, which the certificate pages use too: (HTML, texts) → (shared cut, layout)
_GUIDANCE: dict = {}
_ASCII = "".join(map(chr, range(0x20, 0x7F)))  # numbers, dates, addresses and English text: in the shared cut


def shared_chars(guidance_html: str, extra_text: str, fixed_text: str) -> str:
    """What the shared cut covers: the guidance page's text, the text of its images (the mark), the
    templates' own words, ``fixed_text`` (the scheme's and registry's words on the certificate page)
    and ASCII. Whatever else a certificate page shows goes into its extra cut."""
    text = visible_text(guidance_html) + extra_text + LIST_MARKERS + _visible_template_text() + fixed_text + _ASCII
    return "".join(sorted(set(text) - set("\n\r\t")))


def render_pdf(number: str, ctx: dict, *, mark_dir: Path | None, identifier: bytes, extra_text: str = "",
               fixed_text: str = "") -> bytes:
    """The PDF of one certificate version: its certificate page, then its scheme's guidance page.

    Both pages name the scheme's shared cut of the font, the certificate page its own extra cut of the
    characters the shared one lacks: a glyph both pages show is embedded once.
    """
    guidance_html = render_html(ctx, "guidance")
    key = (guidance_html, extra_text, fixed_text)
    if key not in _GUIDANCE:
        chars = shared_chars(guidance_html, extra_text, fixed_text)
        shared = font_cut(chars)
        _GUIDANCE[key] = (chars, shared, _layout(number, guidance_html, mark_dir=mark_dir, cuts=shared))
    chars, shared, guidance = _GUIDANCE[key]
    html = render_html(ctx)
    shown = visible_text(html) + ctx["seal"]["text"]  # (the seal artwork's text is drawn in the page's fonts)
    extra = font_cut("".join(sorted(set(shown) - set(chars) - set("\n\r\t"))), "extra")
    for step in FIT_STEPS:  # (each step's HTML shows the same text: only the page's class differs)
        page = _layout(number, render_html(ctx, fit=step) if step else html, mark_dir=mark_dir,
                       cuts={**shared, **extra}, one_page=False)
        trouble = does_not_fit(page)
        if trouble is None:
            break
    else:
        raise RenderError(f"{number}: the certificate's text does not fit on its page, even at the smallest size "
                          f"({trouble}); certreg validate should have refused the record: please report it")
    both = page.copy(page.pages + guidance.pages)
    with _fail_on_logs(number):
        return both.write_pdf(pdf_variant=PDF_VARIANT, pdf_identifier=identifier, finisher=_bare_cff)


def _bare_cff(document, pdf) -> None:
    """WeasyPrint's finisher: every font it embeds as an OpenType file (FontFile3 /OpenType) is embedded
    as that file's CFF table alone (FontFile3 /CIDFontType0C, ISO 32000-1 9.9), which is all a reader
    draws a CID-keyed font from; the other tables (cmap, hmtx, name, OS/2...) cost 1.5 KB a font."""
    import struct

    for obj in pdf.objects:
        extra = getattr(obj, "extra", None)
        if not isinstance(extra, dict) or extra.get("Subtype") != "/OpenType":
            continue
        otf = b"".join(obj.stream)
        count = struct.unpack_from(">H", otf, 4)[0]
        tables = {otf[12 + 16 * i:16 + 16 * i]: struct.unpack_from(">LL", otf, 20 + 16 * i) for i in range(count)}
        if otf[:4] != b"OTTO" or b"CFF " not in tables:
            raise RenderError("WeasyPrint embedded a font that is not CFF-based OpenType: cannot embed its CFF")
        offset, length = tables[b"CFF "]
        obj.stream = [otf[offset:offset + length]]
        extra["Subtype"] = "/CIDFontType0C"


_OVERLAYS: dict = {}  # notices laid over copies (publish/stamp.py): each made once a process


def draw_artwork(data: bytes, text: str) -> None:
    """Draw the SVG artwork ``data`` (showing ``text``) as a certificate draws it, in a page of its own thrown away:
    RenderError with what WeasyPrint said if it cannot (its SVG drawer refuses many a malformed value, a
    transform "rotate(abc)", an opacity "x", a <use> that uses itself, that nothing short of drawing finds)."""
    import base64

    url = "data:image/svg+xml;base64," + base64.b64encode(data).decode()
    html = (f'<html><head><style>{_font_faces("guidance")}</style></head><body>'
            f'<img src="{url}" style="width: 30mm; height: 30mm"></body></html>')
    why = _Why()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(why)
    level = logger.level
    logger.setLevel(logging.DEBUG)  # (the reason comes as a debug line, after the error)
    try:
        with _fail_on_logs("the artwork"):
            _layout("the artwork", html, mark_dir=None, cuts={**font_cut(text + _ASCII), **font_cut("", "extra")}
                    ).write_pdf()
    except RenderError as exc:
        said = str(exc).replace(url, "").removeprefix("the artwork: WeasyPrint reported: ").strip()
        raise RenderError(f"{said}: {why.reason}" if why.reason else said) from None
    finally:
        logger.setLevel(level)
        logger.removeHandler(why)


class _Why(logging.Handler):
    """The exception behind WeasyPrint's "Failed to render SVG image" (logged with it at debug level)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.reason = ""

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None and not self.reason:
            self.reason = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"


def render_overlay(number: str, part: str, page: dict) -> bytes:
    """A one-page PDF of the template ``part`` (a notice to lay over another PDF's pages), in the
    certificate's font cut to its text; anything missing from the font or logged is a RenderError."""
    html = _environment().get_template(f"{part}.html.j2").render(
        **page, fonts=Markup(_font_faces("notice")))  # noqa: S704 - our own CSS
    if html not in _OVERLAYS:
        text = visible_text(html)
        check_texts(number, [(part, text)])
        with _fail_on_logs(number):
            _OVERLAYS[html] = _layout(number, html, mark_dir=None, cuts=font_cut(text, "notice")).write_pdf(
                finisher=_bare_cff)
    return _OVERLAYS[html]


# --- many certificates -----------------------------------------------------------------------


@dataclass
class Job:
    """One PDF to make: its file, the HTML it comes from and the key of all its inputs."""

    number: str
    name: str
    context: dict
    key: str
    extra_text: str = ""  # text of images (the mark) that the font must also cover
    fixed_text: str = ""  # the scheme's and registry's words on the certificate page (for the shared cut)


@dataclass
class Rendered:
    """What ``render`` did: files written, files already current, and every failure."""

    written: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@cache
def code_identity() -> str:
    """The sha256 of this module's source, which lays out and writes every PDF: a change of the code that shapes
    the bytes renders every PDF again, as a new template or library does (its version alone would not change)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _template_identity() -> str:
    h = hashlib.sha256()
    for path in sorted(TEMPLATES.iterdir()):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _mark_path(reg) -> Path | None:
    """The mark artwork the registry names (registry.yml: mark), if any."""
    mark = reg.settings.get("mark")
    return (reg.root / mark).resolve() if mark else None


def _data_url(path: Path) -> str:
    """An artwork as a data: URL: its bytes, not the folder the registry sits in, shape the PDF and its key
    (a file:// URL made the PDFs, their /ID, differ between two checkouts of one registry)."""
    import base64

    from ..records.safefile import MAX_ARTWORK_BYTES, read_regular  # (a regular file, no link, no FIFO: REG-LAYOUT)

    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64," + base64.b64encode(read_regular(path, MAX_ARTWORK_BYTES)).decode()


def _fixed_text(scheme, ctx: dict) -> str:
    """The words of the certificate page that are the scheme's or the registry's, not the record's (the labels
    and units of every public field, whichever a record fills; the title, issuer...): for the shared cut."""
    words = [[f["label"], f.get("unit", "")] for f in scheme.fields.values() if f["public"]]
    return json.dumps(words + [ctx.get(key) for key in ("issuer", "title", "statement", "basis", "approval_number",
                                                        "signatory")], ensure_ascii=False)


# The distributions whose code shapes a PDF's bytes (the PDF writer, the font cutters, the QR code, the
# images, the HTML and CSS parsers, the template engine): a new version of any renders every PDF again.
SHAPING = ("weasyprint", "pydyf", "fonttools", "uharfbuzz", "segno", "pillow", "tinycss2", "cssselect2", "tinyhtml5",
           "jinja2", "markupsafe")


def library_versions() -> dict[str, str]:
    """The versions of certreg, of the SHAPING distributions (importlib.metadata) and of the C libraries
    WeasyPrint lays out and subsets with (Debian's HarfBuzz and Pango, which pip does not pin)."""
    from importlib import metadata

    versions = {"certreg": __version__} | {name: metadata.version(name) for name in SHAPING}
    return versions | _native_versions()


@cache
def _native_versions() -> dict[str, str]:
    import cffi

    own = cffi.FFI()
    own.cdef("const char *hb_version_string (void); const char *pango_version_string (void);")
    return {"libharfbuzz": own.string(own.dlopen("libharfbuzz.so.0").hb_version_string()).decode(),
            "libpango": own.string(own.dlopen("libpango-1.0.so.0").pango_version_string()).decode()}


def seal_artwork(reg) -> tuple[str, str]:
    """The seal artwork that registry.yml names, as a data: URL (its bytes, not its path, shape the PDF),
    and the text it shows (for the glyph check)."""
    path = reg.root / reg.settings["seal"]
    return _data_url(path), svg_text(path)


def jobs_for(checked, numbers: list[str] | None, base_url: str) -> list[Job]:
    """A Job per version of each certificate (all, or ``numbers``), keyed by everything that shapes its PDF.

    Cheap (no HTML, no QR code): an incremental render only pays for the PDFs that changed.
    """
    reg = checked.registry
    mark_path = _mark_path(reg)
    mark = _data_url(mark_path) if mark_path else None  # in the context, hence the key: its bytes
    mark_text = svg_text(mark_path) if mark_path else ""
    fixed = json.dumps([_template_identity(), code_identity(), font_identity(), PDF_VARIANT, library_versions()],
                       sort_keys=True)
    seal, seal_text = seal_artwork(reg)
    jobs = []
    for number in numbers or sorted(checked.histories):
        h = checked.histories[number]
        for version in h.versions:
            ctx = context(h.cert, h, version, settings=reg.settings, base_url=base_url, mark=mark, seal=seal,
                          seal_text=seal_text)
            words = _fixed_text(h.cert.scheme, ctx)  # shapes the shared cut, hence the glyph numbers
            key = hashlib.sha256((fixed + words + json.dumps(ctx, ensure_ascii=False, sort_keys=True)).encode()
                                 ).hexdigest()
            extra = mark_text if ctx["guidance"]["mark"] else ""
            jobs.append(Job(number, pdf_name(number, version.number), ctx, key, extra, words))
            # a recorded re-issue (REG-APPEND) issues the version's PDF anew, from today's inputs, under a name
            # of its own: the PDFs issued before keep theirs
            for k, _ in enumerate(h.reissues.get(version.number, []), 1):
                jobs.append(Job(number, pdf_name(number, version.number, k), ctx, key, extra, words))
    return jobs


@lru_cache(maxsize=1)
def _visible_template_text() -> str:
    """The template's own words (tags and Jinja code removed), for the glyph check."""
    import re

    template = "".join(p.read_text(encoding="utf-8") for p in sorted(TEMPLATES.glob("*.html.j2")))
    text = re.sub(r"\{[{%#].*?[}%#]\}", "", template, flags=re.S)
    text = re.sub(r"<head>.*?</head>", "", text, flags=re.S)
    return re.sub(r"<[^>]+>", "", text)


_WORK: dict = {}


def _render_one(job: Job) -> tuple[str, str | None, str]:
    """(file name, error or None, sha256 of the PDF written).

    Any error is this PDF's failure, told with its certificate's number: WeasyPrint's refused fetch (a
    BaseException, meant to stop a render), a full disk, a bug. In a worker process, anything that escaped
    would end the worker with its job never answered. Only in the parent process (one job, or jobs=1) do an
    interrupt and an exit stop the render, as the user meant them to (workers ignore Ctrl-C: see ``_in_worker``).
    """
    out, mark_dir = _WORK["out"], _WORK["mark_dir"]
    try:
        check_glyphs(job.number, job.context, _visible_template_text() + job.extra_text)
        pdf = render_pdf(job.number, job.context, mark_dir=mark_dir, identifier=job.key[:32].encode(),
                         extra_text=job.extra_text, fixed_text=job.fixed_text)
        tmp = out / f".{job.name}.{os.getpid()}.tmp"  # (its own name: another render may write this PDF too)
        tmp.write_bytes(pdf)
        os.replace(tmp, out / job.name)
    except RenderError as exc:
        return job.name, str(exc), ""
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)) and not _WORK.get("worker"):
            raise
        return job.name, f"{job.number}: {job.name} failed: {type(exc).__name__}: {exc}", ""
    return job.name, None, hashlib.sha256(pdf).hexdigest()


def _in_worker() -> None:
    """A render worker process: Ctrl-C is the parent's to handle (it stops the pool); errors are reported."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORK["worker"] = True


def _is_current(path: Path, entry, key: str) -> bool:
    """Whether ``path`` is the PDF that the manifest's ``entry`` says was written from the inputs ``key``:
    same inputs, and still the very bytes written then (a file changed or cut short since is never trusted)."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        return False
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == entry.get("sha256")
    except OSError:
        return False


def render(checked, out: Path, *, base_url: str, numbers: list[str] | None = None,
           jobs: int | None = None, progress=None, archived: frozenset[str] = frozenset()) -> Rendered:
    """Write the PDF of every version of the certificates (all, or ``numbers``) into ``out``.

    A PDF whose inputs (record, templates, font, program and the libraries that shape it) have not changed
    since it was written, and whose bytes have not either, is left alone: the manifest ``out/.manifest.json``
    keeps the key of each file's inputs and the sha256 of the file written. ``progress``, if given, is
    told (done, total) as the PDFs to write are made. The PDFs named in ``archived`` are published already
    (the site's archive) and are not rendered at all: they count as current.
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / ".manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    todo = jobs_for(checked, numbers, base_url)
    result = Rendered()
    pending = []
    for job in todo:
        if job.name in archived or _is_current(out / job.name, manifest.get(job.name), job.key):
            result.current.append(job.name)
        else:
            pending.append(job)
    reg = checked.registry
    mark_path = _mark_path(reg)
    _WORK.update(out=out, mark_dir=mark_path.parent if mark_path else None)
    jobs = jobs or os.cpu_count() or 1
    keys = {job.name: job.key for job in pending}
    done = []
    tell = progress if progress and pending else (lambda done, total: None)
    tell(0, len(pending))
    if jobs == 1 or len(pending) < 2:
        for job in pending:
            done.append(_render_one(job))
            tell(len(done), len(pending))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        # (not multiprocessing's Pool: it waits for ever for the job of a worker that died, killed or crashed;
        # this pool says so, and each job then fails with that message)
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_in_worker)
        try:
            futures = {pool.submit(_render_one, job): job for job in pending}
            for future in as_completed(futures):
                try:
                    one = future.result()
                except BrokenProcessPool as exc:
                    job = futures[future]
                    one = (job.name, f"{job.number}: {job.name} failed: the process rendering it ended abruptly "
                                     f"({exc})", "")
                done.append(one)
                tell(len(done), len(pending))
        finally:  # (interrupted: the PDFs not begun are not rendered)
            pool.shutdown(wait=True, cancel_futures=True)
    done.sort(key=lambda one: one[0])  # (the order they finished in is the machine's, not the registry's)
    for name, error, digest in done:
        if error:
            result.failed.append(error)
            manifest.pop(name, None)
        else:
            result.written.append(name)
            manifest[name] = {"key": keys[name], "sha256": digest}
    tmp = manifest_path.with_name(f".manifest.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, manifest_path)
    return result

