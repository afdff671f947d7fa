"""Stage 3, preflight: what the build would refuse to publish, found from the records alone, before any PDF.

``certreg validate`` runs it (and ``certreg new`` and ``decide``, on the registry with the new record), so that a
registry it accepts is one that ``certreg build`` publishes: one gate. It renders no certificate; it runs the checks
the render runs (publish/pdf.py calls ``read_artwork`` and the same glyph check), on every text that is published:

- every character of every public text has a glyph in the certificate's font (Noto Serif CJK SC): the content of
  every version (the certificate's and each change's public fields), the public reasons of the decisions, the
  registry's names, approval number and signatory, the schemes' labels, units and basis, the text of the artwork.
  Rule REG-PUBLIC: it is the rule of what the public outputs show of a record (the site, the open data and the
  PDF show the same public fields), and a text that cannot be printed cannot be published as it was recorded.
  Emoji, a rare CJK character beyond the font's (CJK Extension B has thousands), a letter of a script the font
  does not cover: each is an error at the file and line of its field, naming the character as U+XXXX.
- no printed text is wider than its field allows: a field of at most N characters is laid out for N characters
  as wide as a Chinese character; a few characters are wider (⸻ U+2E3B is two and a half): such a text counts
  its width (REG-SCHEMA, like the length itself).
- the mark and seal artwork (registry.yml ``mark:``, ``seal:``) are self-contained SVG images: well-formed XML whose
  root is <svg>, with no DOCTYPE (a DTD can define entities that expand without end, "billion laughs", or read
  other files), no processing instruction (an external stylesheet), no script or event handler, and no
  reference to anything outside the file (href or xlink:href other than "#id" or a data: image, CSS url() or
  @import, @font-face), and one that WeasyPrint draws as the certificates draw it (``check_drawing``: its SVG
  drawer refuses values such as a transform "rotate(abc)" that only drawing finds; remembered once drawn).
  REG-LAYOUT, at the ``mark:`` or ``seal:`` line: the file cannot be used where it is named.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from urllib.parse import unquote_to_bytes

from ..errors import CertregError
from ..problems import Problem

GLYPH_RULE = "REG-PUBLIC"
WIDTH_RULE = "REG-SCHEMA"
ARTWORK_RULE = "REG-LAYOUT"
SETTINGS_FILE = "registry.yml"
ARTWORK = ("mark", "seal")
SVG = "{http://www.w3.org/2000/svg}"
HREFS = ("href", "{http://www.w3.org/1999/xlink}href")
RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_NESTING = 3  # an SVG image inside an SVG image inside...


class ArtworkError(CertregError):
    """An artwork file that cannot be used: not an SVG, or one that is not self-contained or not safe to read."""


# --- the artwork -------------------------------------------------------------------------------------------


def read_artwork(path: Path) -> tuple[bytes, str]:
    """The bytes of the artwork at ``path`` and the text it shows, or ArtworkError saying what is wrong.

    The file is read as a regular file of at most MAX_ARTWORK_BYTES (records/safefile.py: never through a link).
    """
    from ..records import safefile

    try:
        data = safefile.read_regular(path, safefile.MAX_ARTWORK_BYTES)
    except (safefile.NotSafe, safefile.TooBig, OSError) as exc:
        raise ArtworkError(f"cannot be read: {exc}") from None
    return data, svg_check(data)


def svg_check(data: bytes, depth: int = 0) -> str:
    """The text the SVG image ``data`` shows, or ArtworkError: ``data`` must be a self-contained SVG image."""
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as DET
    from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

    target = _Tree(ET.TreeBuilder())
    try:
        parser = DET.XMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        parser.feed(data)
        root = parser.close()
    except DTDForbidden:
        raise ArtworkError("has a DOCTYPE (a DTD): an SVG image needs none, and a DTD can define entities that "
                           "expand without end or read other files; delete it") from None
    except EntitiesForbidden as exc:
        raise ArtworkError(f"defines the entity {exc.name!r}: entities can expand without end or read other "
                           "files; write the text itself") from None
    except ExternalReferenceForbidden:
        raise ArtworkError("refers to an external entity (another file): an SVG image here is self-contained") from None
    except ET.ParseError as exc:
        raise ArtworkError(f"is not well-formed XML, so not an SVG image ({exc})") from None
    except (ValueError, UnicodeError, LookupError) as exc:  # an unknown or wrong encoding
        raise ArtworkError(f"cannot be read as XML ({exc})") from None
    if root.tag != SVG + "svg":
        raise ArtworkError(f"is not an SVG image: its root element is <{_name(root.tag)}>, not <svg> in the SVG "
                           "namespace (xmlns=\"http://www.w3.org/2000/svg\")")
    if target.instructions:
        raise ArtworkError(f"has the processing instruction <?{target.instructions[0]} ...?> (an external "
                           "stylesheet, say): an SVG image here is self-contained; delete it")
    for element in root.iter():
        tag = _name(element.tag)
        if tag in ("script", "foreignObject"):
            raise ArtworkError(f"has a <{tag}> element: artwork is drawn, never run; delete it")
        for attribute, value in element.attrib.items():
            name = _name(attribute)
            if name.lower().startswith("on"):
                raise ArtworkError(f"has an event handler ({name}= on <{tag}>): artwork is drawn, never run")
            if attribute in HREFS:
                _reference(value, f"{name}= on <{tag}>", depth)
            elif "url(" in value.lower() or "\\" in value:
                _css(value, f"{name}= on <{tag}>", depth, declarations=name == "style")
        if tag == "style":
            _css("".join(element.itertext()), "<style>", depth, sheet=True)
    return "".join(root.itertext())


DRAWN_VERSION = "1"  # (of this check: a change of it draws every artwork again)


def check_drawing(data: bytes, text: str) -> None:
    """ArtworkError if WeasyPrint cannot draw the artwork ``data`` as the certificates draw it (publish/pdf.py
    draw_artwork): its SVG drawer refuses many a malformed value that only drawing finds.

    Exact, but it takes WeasyPrint, a second to load: an artwork drawn once is remembered, by the hash of its
    bytes and the versions of what draws it, in the user's cache folder ($XDG_CACHE_HOME/certreg, or
    ~/.cache/certreg), so that validate draws it again only when it changes (or on a machine that never has).
    """
    import hashlib
    import importlib.util
    import os

    from .pdf import font_identity

    # what draws it: this check, the font, and the installed WeasyPrint, tinycss2 and Pillow (each known by its
    # files' size and time: a new version is new files; importlib.metadata would take longer than the rest)
    versions = [DRAWN_VERSION, font_identity()]
    for name in ("weasyprint", "tinycss2", "PIL"):
        spec = importlib.util.find_spec(name)
        st = os.stat(spec.origin) if spec and spec.origin else None
        versions.append(f"{name}:{spec.origin if spec else ''}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}")
    key = hashlib.sha256("\0".join(versions).encode() + b"\0" + data).hexdigest()
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "certreg" / "artwork-drawn"
    if (folder / key).is_file():
        return
    from .pdf import RenderError, draw_artwork

    try:
        draw_artwork(data, text)
    except RenderError as exc:
        raise ArtworkError(f"cannot be drawn as the certificates draw it (WeasyPrint: {exc}); correct the value it "
                           "names (an SVG editor writes valid ones)") from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).touch()
    except OSError:
        pass  # (not remembered: drawn again next time)


class _Tree:
    """The parser's target: ElementTree's builder, keeping the processing instructions it would drop."""

    def __init__(self, builder):
        self.builder = builder
        self.instructions: list[str] = []

    def start(self, tag, attrs):
        return self.builder.start(tag, attrs)

    def end(self, tag):
        return self.builder.end(tag)

    def data(self, data):
        self.builder.data(data)

    def pi(self, target, text):
        self.instructions.append(target)

    def close(self):
        return self.builder.close()


def _name(tag: str) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else str(tag)


def _reference(url: str, where: str, depth: int) -> None:
    """``url`` names a part of the same image ("#id") or holds its data (a data: image); anything else refers
    outside the file (http:, file:, another file's name: WeasyPrint would fetch it, and the build refuse)."""
    url = url.strip()
    if url.startswith("#") and len(url) > 1:
        return
    if url[:5].lower() != "data:":
        raise ArtworkError(f"refers to {url[:80]!r} ({where}): artwork is self-contained; it may refer only to its "
                           "own parts (\"#id\") or hold an image as a data: URL")
    head, comma, payload = url[5:].partition(",")
    kind = head.split(";")[0].strip().lower() or "text/plain"
    try:
        raw = base64.b64decode(payload, validate=True) if head.lower().endswith(";base64") and comma \
            else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise ArtworkError(f"holds a data: URL that cannot be decoded ({where})") from None
    if kind == "image/svg+xml":
        if depth >= MAX_NESTING:
            raise ArtworkError(f"nests SVG images more than {MAX_NESTING} deep ({where})")
        try:
            svg_check(raw, depth + 1)
        except ArtworkError as exc:
            raise ArtworkError(f"holds an SVG image ({where}) that {exc}") from None
        return
    if kind not in RASTER:
        raise ArtworkError(f"holds data of the type {kind!r} ({where}): only images ({', '.join(RASTER)}, or SVG) "
                           "can be drawn")
    import io

    from PIL import Image, UnidentifiedImageError

    try:  # what WeasyPrint does with it (images.py RasterImage): a mode it can draw, re-encoded whole
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()  # (a PNG's checksums...)
        with Image.open(io.BytesIO(raw)) as opened:
            image = opened.convert("RGBA") if "transparency" in opened.info else \
                opened.convert("RGB") if opened.mode in ("1", "P", "I") else opened
            if image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
                raise ValueError(f"its colours are {image.mode}, which a PDF cannot hold")
            for part in ([image.getchannel("A"), image.convert(image.mode[:-1])] if image.mode in ("RGBA", "LA")
                         else [image]):
                part.save(io.BytesIO(), format="PNG")
    except Exception as exc:  # (Pillow raises many kinds for a broken file)
        why = "not an image of a known format" if isinstance(exc, UnidentifiedImageError) else str(exc)
        raise ArtworkError(f"holds an image that cannot be drawn ({where}: {why})") from None


def _css(text: str, where: str, depth: int, *, sheet: bool = False, declarations: bool = False) -> None:
    """CSS (a <style> sheet, a style= attribute, an attribute's value) refers to nothing outside the file: url()
    only to "#id" or a data: image, no @import and no @font-face (the artwork's text is set in the certificate's
    font, which the glyph check covers). Read with tinycss2, as WeasyPrint reads it (escapes and all)."""
    import tinycss2

    if sheet:
        nodes = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    elif declarations:
        nodes = tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True)
    else:
        nodes = tinycss2.parse_component_value_list(text, skip_comments=True)
    stack = list(nodes)
    while stack:
        node = stack.pop()
        kind = getattr(node, "type", None)
        if kind == "at-rule":
            if node.lower_at_keyword in ("import", "font-face", "namespace"):
                raise ArtworkError(f"has the CSS rule @{node.at_keyword} ({where}): artwork is self-contained and "
                                   "its text is set in the certificate's font; delete it")
        elif kind == "url":
            _reference(node.value, f"url() in {where}", depth)
        elif kind == "function" and node.lower_name in ("url", "src"):
            strings = [t.value for t in node.arguments if getattr(t, "type", None) == "string"]
            _reference(strings[0] if strings else "", f"url() in {where}", depth)
        for part in ("prelude", "content", "value", "arguments"):
            children = getattr(node, part, None)
            if isinstance(children, list):
                stack.extend(children)


# --- the texts -------------------------------------------------------------------------------------------------


def _dotted(key: tuple) -> str:
    return ".".join(map(str, key))


def _texts(value, key: tuple):
    """(key, text) of every text inside ``value`` (nested mappings and lists)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, key + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _texts(v, key + (i,))


def _limits(spec, key: tuple):
    """(key, max_length) of every text field inside ``spec`` (a Map of Fields, or one Text)."""
    fields = getattr(spec, "fields", None)
    if isinstance(fields, dict):
        for name, f in fields.items():
            yield from _limits(f.spec, key + (name,))
    elif hasattr(spec, "max_length"):
        yield key, spec.max_length


def published_texts(checked):
    """(path, key, text, max_length or None) of every text the public outputs show: the registry's (``registry_texts``),
    and of every certificate whose records are valid, its own (``certificate_texts``)."""
    yield from registry_texts(checked.registry)
    per_scheme: dict = {}
    for h in checked.histories.values():
        yield from certificate_texts(h, per_scheme)


def registry_texts(reg):
    """(path, key, text, max_length or None) of the registry's settings and the schemes' printed words.
    ``max_length`` is that of a text printed on the certificate (its width is checked), else None."""
    from ..records.specs import REGISTRY_SPEC

    settings_path = reg.root / SETTINGS_FILE
    limits = dict(_limits(REGISTRY_SPEC, ()))
    for key in ("name", "publisher", "approval_number", "signatory"):
        for k, text in _texts(reg.settings.get(key), (key,)):
            yield settings_path, k, text, (limits.get(k) if key != "name" else None)  # (the name: the site's)
    for scheme in reg.schemes.values():
        for name, f in scheme.fields.items():
            if f.get("public"):
                for k, text in _texts({"label": f.get("label"), "unit": f.get("unit")}, ("fields", name)):
                    yield scheme.path, k, text, None
        for key in ("name", "basis"):
            for k, text in _texts(scheme.data.get(key), (key,)):
                if k[-1] != "rule":
                    yield scheme.path, k, text, None


def certificate_texts(h, per_scheme: dict):
    """(path, key, text, max_length or None) of one certificate (its History ``h``): each version's public content
    (the certificate's, and each change's changes), the public reasons (and late reasons, where published).
    ``per_scheme``: a dict the caller keeps for the calls of one registry (each scheme's public fields and limits)."""
    cert = h.cert
    scheme = cert.scheme
    if scheme.key not in per_scheme:
        per_scheme[scheme.key] = ({name for name, f in scheme.fields.items() if f.get("public")},
                                  dict(_limits(scheme.content, ())))
    public, content_limits = per_scheme[scheme.key]
    for name in public & set(cert.content):
        for k, text in _texts(cert.content[name], (name,)):
            yield cert.path, ("content",) + k, text, content_limits.get(k)
    for d in cert.decisions:
        for name in public & set(d.data.get("changes") or {}):
            for k, text in _texts(d.data["changes"][name], (name,)):
                yield d.path, ("changes",) + k, text, content_limits.get(k)
        published = ("reason", "late_reason") if scheme.data.get("late_reason_public") else ("reason",)
        for field in published:
            for k, text in _texts(d.data.get(field), (field,)):
                yield d.path, k, text, None


# --- the preflight ---------------------------------------------------------------------------------------------


def preflight(checked) -> list[Problem]:
    """Every problem the build would refuse the registry ``checked`` (a rules.validate.Checked with its
    histories) for, that the records' own checks do not find: errors at the file and key of the text or artwork."""
    from .pdf import RenderError, font_codepoints, missing_glyphs

    reg = checked.registry
    settings_path = reg.root / SETTINGS_FILE
    try:
        have = font_codepoints()
    except RenderError as exc:  # (no fontconfig, or not the font: the build could not run here either)
        return [Problem(settings_path if settings_path.is_file() else reg.root, "error", GLYPH_RULE,
                        f"cannot check that the public texts can be printed: {exc}")]
    problems: list[Problem] = []
    texts = list(registry_texts(reg))
    reported = {(p.path, p.key) for p in checked.report.problems}
    for key in ARTWORK:
        if key not in reg.settings or (settings_path, (key,)) in reported:
            continue  # (no settings, or the file is missing, a link or too big: the load has said so)
        try:
            data, shown = read_artwork(reg.root / reg.settings[key])
            if not missing_glyphs([(key, shown)]):  # (else that is the problem, said below; it is not drawn)
                check_drawing(data, shown)
        except ArtworkError as exc:
            problems.append(Problem(settings_path, "error", ARTWORK_RULE, f"the {key} artwork {reg.settings[key]} "
                                                                          f"{exc}", key=(key,)))
            continue
        texts.append((settings_path, (key,), shown, None))
    problems += text_problems(texts, have, reg.settings)
    for found in _certificate_problems(checked, have).values():
        problems += found
    return problems


def text_problems(texts: list, have, settings: dict) -> list[Problem]:
    """The problems of ``texts`` ((path, key, text, max_length or None)): a character the certificate's font lacks
    (``have``: the characters it has), a text printed on the certificate that is too wide. (Each text's problems
    are its own: a certificate's texts are checked apart from the others', and give the same problems.)"""
    from .pdf import FONT_FAMILY, SUBSCRIPT_DIGITS, SUBSCRIPTS, char_width, code_points, missing_glyphs

    problems: list[Problem] = []
    # (the distinct characters first, in C: a registry of thousands of records uses a few thousand characters)
    chars: set = set()
    for _path, _key, text, _limit in texts:
        chars.update(text)
    chars -= set("\n\r\t")
    lacking = {ch for ch in chars if ord(ch) not in have and ch not in SUBSCRIPT_DIGITS}
    missing = missing_glyphs(((path, key), text) for path, key, text, _limit in texts
                             if not lacking.isdisjoint(text)) if lacking else {}
    for (path, key), chars in missing.items():
        what = f"the {key[0]} artwork {settings[key[0]]} shows" if key[0] in ARTWORK and len(key) == 1 \
            else f"{_dotted(key)} has"
        problems.append(Problem(path, "error", GLYPH_RULE,
                                f"{what} {code_points(chars)}, which the certificate's font "
                                f"({FONT_FAMILY}) cannot print (public texts are printed in it: no certificate could "
                                "be made): replace it or leave it out",
                                key=key))
    wide = {ch for ch in chars - lacking if char_width(ch) > 1}  # (a text of none is no wider than it is long)
    widest = max(map(char_width, wide), default=1)
    for path, key, text, limit in texts:
        if limit is None or len(text) * widest <= limit or (path, key) in missing or wide.isdisjoint(text):
            continue
        width = sum(char_width(ch) for ch in text.translate(SUBSCRIPTS) if ch not in "\n\r\t")
        if width > limit + 1e-6:
            named = sorted(wide.intersection(text))[:5]
            problems.append(Problem(path, "error", WIDTH_RULE,
                                    f"{_dotted(key)} is as wide as {width:.0f} Chinese characters on the certificate "
                                    f"(wider characters count more: {code_points(named)}); at most "
                                    f"{limit} fit: shorten it", key=key))
    return problems


def _certificate_problems(checked, have) -> dict[str, list[Problem]]:
    """Each certificate's problems (``text_problems`` of ``certificate_texts``). Where the check used the cache
    (``checked.cache``), they are kept there too, by the certificate folder's key, under a context of the font's
    files, the text shaper and the code: a folder that has not changed gives its problems without its texts being
    read again."""
    per_scheme: dict = {}

    def made(h) -> list[Problem]:
        return text_problems(list(certificate_texts(h, per_scheme)), have, checked.registry.settings)

    cache = checked.cache
    if cache is None:
        return {n: made(h) for n, h in checked.histories.items()}
    from .layer import _code_identity

    kept = cache.sibling(("preflight", _font_identity(), _code_identity()))
    root = Path(kept.given) / "certificates"
    keys = kept.keys([root / n for n in checked.histories])
    found = kept.get([k for k in keys.values() if k is not None])
    out, new = {}, {}
    for n in checked.histories:  # (a history is read only where its problems are found: cache.Deferreds)
        key = keys[root / n]
        got = found.get(key) if key is not None else None
        if not isinstance(got, list):
            got = made(checked.histories[n])
            if key is not None:
                new[key] = got
        out[n] = got
    kept.put(new)
    return out


def _font_identity() -> list:
    """What the font checks depend on: the font's files as they are (path, index, size, time) and the shaper."""
    import importlib.metadata
    import os

    from .pdf import font_files

    files = []
    for path, index in sorted(font_files().values()):
        st = os.stat(path)
        files.append((path, index, st.st_size, st.st_mtime_ns))
    return [files, importlib.metadata.version("uharfbuzz")]


def with_preflight(checked):
    """``checked`` with the preflight's problems added to its report (resolved: lines found, sorted)."""
    checked.report.extend(preflight(checked))
    checked.report.resolve()
    return checked
