"""Every reader shows the same certificate, and the PDF/A-2b claim holds as far as qpdf (pikepdf) can tell.

Four independent PDF readers draw every page of every sample PDF: poppler (pdftoppm), MuPDF (mutool),
Ghostscript and PDFium (pypdfium2, Chrome's reader). A PDF that one of them draws wrong is wrong on somebody's
screen or printer: a font cut whose glyph numbering disagrees with its CFF charset, for one, is drawn right by
poppler and PDFium and as other glyphs, or none, by Ghostscript (and MuPDF). The pictures are compared
with poppler's, blurred by a pixel so that anti-aliasing does not count; a page fails when more than
``LIMIT`` of its pixels differ by more than an eighth of the grey scale. Measured on the sample at 72 dpi:
correct PDFs differ by 0.1 % to 0.9 % of a page (PDFium the most); with the charset bug, MuPDF and Ghostscript
by 3.0 % to 6.3 % (the font's CFF inside OpenType), Ghostscript by 9 % to 10 % (the CFF alone).

The text that poppler, MuPDF and PDFium extract (through the fonts' ToUnicode maps) holds every public field
of the record, and the three extract the same characters from each page.

PDF/A-2b (ISO 19005-2, level B): veraPDF cannot be installed here, so the clauses that the file's objects
alone decide are checked with pikepdf (qpdf); each check names its clause.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
import uharfbuzz
from PIL import Image, ImageChops, ImageFilter

from certreg.publish import pdf as R
from certreg.rules.validate import check_registry
from conftest import REGISTRY, ROOT, SAMPLE_AS_OF

BASE_URL = R.site_url(ROOT / "mkdocs.yml")
DPI = 72
TOLERANCE = 32  # grey levels (of 255) by which a blurred pixel may differ: an eighth of the scale
LIMIT = 0.02  # the share of a page's pixels that may differ by more than that
REFERENCE = "poppler"
READERS = ("poppler", "mupdf", "ghostscript", "pdfium")
# Ghostscript's txtwrite (10.0) is left out: it reads a ToUnicode entry of two characters, the fi ligature's
# <00660069>, as the two CJK characters U+6600 U+6900
TEXT_READERS = ("poppler", "mupdf", "pdfium")
_HB_SUBSET = uharfbuzz.subset
_PDFIUM = threading.Lock()  # PDFium is not thread-safe, not even with different documents


@dataclass
class Reading:
    """What the readers make of one PDF: each page's picture (greyscale) and text, per reader."""

    folder: Path  # where the pictures are kept, to look at when a comparison fails
    pictures: dict[str, list[Image.Image]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", check=True, timeout=300).stdout


def _pages(folder: Path, prefix: str, suffix: str) -> list[Path]:
    """Files PREFIX-N.SUFFIX in page order (pdftoppm pads N with zeros, mutool and gs do not)."""
    return sorted(folder.glob(f"{prefix}-*.{suffix}"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def read(pdf: Path, folder: Path) -> Reading:
    """Every page of ``pdf`` drawn at DPI in greyscale, and its text, by each reader; files kept in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    r = Reading(folder)
    _run("pdftoppm", "-gray", "-r", str(DPI), "-png", str(pdf), str(folder / "poppler"))
    _run("mutool", "draw", "-q", "-c", "gray", "-r", str(DPI), "-o", str(folder / "mupdf-%d.png"), str(pdf))
    _run("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray", f"-r{DPI}", "-dTextAlphaBits=4",
         "-dGraphicsAlphaBits=4", f"-sOutputFile={folder / 'ghostscript-%d.png'}", str(pdf))
    for reader in ("poppler", "mupdf", "ghostscript"):
        r.pictures[reader] = []
        for png in _pages(folder, reader, "png"):
            with Image.open(png) as picture:
                r.pictures[reader].append(picture.convert("L"))
    r.texts["poppler"] = _run("pdftotext", "-enc", "UTF-8", str(pdf), "-").split("\f")[:-1]
    _run("mutool", "draw", "-q", "-F", "txt", "-o", str(folder / "mupdf-%d.txt"), str(pdf))
    r.texts["mupdf"] = [p.read_text(encoding="utf-8") for p in _pages(folder, "mupdf", "txt")]
    r.pictures["pdfium"], r.texts["pdfium"] = [], []
    with _PDFIUM:
        doc = pypdfium2.PdfDocument(pdf)
        try:
            for i in range(len(doc)):
                page = doc[i]
                bitmap = page.render(scale=DPI / 72, grayscale=True)
                picture = bitmap.to_pil().convert("L")
                textpage = page.get_textpage()
                r.texts["pdfium"].append(textpage.get_text_range())
                for obj in (textpage, bitmap, page):
                    obj.close()
                picture.save(folder / f"pdfium-{i + 1}.png")
                r.pictures["pdfium"].append(picture)
        finally:
            doc.close()
    return r


def difference(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that differ by more than TOLERANCE once both pictures are blurred by a pixel."""
    width, height = min(a.width, b.width), min(a.height, b.height)
    a, b = (p.crop((0, 0, width, height)).filter(ImageFilter.GaussianBlur(1)) for p in (a, b))
    histogram = ImageChops.difference(a, b).histogram()
    return sum(histogram[TOLERANCE + 1:]) / (width * height)


def drawn_differently(name: str, r: Reading) -> tuple[list[str], dict[tuple[int, str], float]]:
    """(problems, figures): each page whose pictures differ from the reference's by more than LIMIT, with the
    figure of every reader; and every figure, by (page, reader)."""
    problems, figures = [], {}
    count = len(r.pictures[REFERENCE])
    for reader in READERS:
        if len(r.pictures[reader]) != count:
            problems.append(f"{name}: {reader} draws {len(r.pictures[reader])} pages, {REFERENCE} {count}")
    for i in range(count):
        ref = r.pictures[REFERENCE][i]
        if sum(ref.histogram()[:128]) < 0.01 * ref.width * ref.height:
            problems.append(f"{name} page {i + 1}: {REFERENCE} draws a blank page")
        for reader in READERS[1:]:
            if i < len(r.pictures[reader]):
                other = r.pictures[reader][i]
                if abs(other.width - ref.width) > 2 or abs(other.height - ref.height) > 2:
                    problems.append(f"{name} page {i + 1}: {reader} draws {other.size} pixels, {REFERENCE} {ref.size}")
                figures[i + 1, reader] = difference(ref, other)
        page = {reader: f for (p, reader), f in figures.items() if p == i + 1}
        if any(f > LIMIT for f in page.values()):
            problems.append(f"{name} page {i + 1}: " + ", ".join(f"{reader} {f:.2%}" for reader, f in page.items())
                            + f" of the page differ from {REFERENCE}'s picture (limit {LIMIT:.0%}; in {r.folder})")
    return problems, figures


def flat(text: str) -> str:
    """Text without its spaces and line breaks: a value may wrap, and readers space CJK text differently."""
    return re.sub(r"\s+", "", text)


def public_values(h, version) -> list[tuple[str, str]]:
    """(field, text) of each line that the certificate page shows of the version's public fields."""
    shown = []
    for name, f in h.cert.scheme.fields.items():
        value = version.content.get(name)
        if value is None or not f["public"]:
            continue
        lines = R._lines(value, f["type"]) if f["type"] != "decimal" else [R._figure(value)]
        shown += [(name, line) for line in lines]
    return shown


@pytest.fixture(scope="module")
def checked():
    return check_registry(REGISTRY, SAMPLE_AS_OF)


@pytest.fixture(scope="module")
def sample_pdfs(built) -> list[Path]:
    """Every sample PDF, as the session's site build rendered them (conftest's ``built``)."""
    pdfs = sorted((built.parent / "pdfs").glob("*.pdf"))
    assert len(pdfs) >= 17
    return pdfs


@pytest.fixture(scope="module")
def readings(sample_pdfs, tmp_path_factory) -> dict[str, Reading]:
    """What the four readers make of every sample PDF; the readers run in parallel, a PDF a thread."""
    folder = tmp_path_factory.mktemp("readers")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = pool.map(lambda pdf: read(pdf, folder / pdf.stem), sample_pdfs)
        return {pdf.name: reading for pdf, reading in zip(sample_pdfs, done, strict=True)}


# --- the pictures ----------------------------------------------------------------------------


def test_every_reader_draws_the_same_certificate(readings):
    problems = []
    for name, r in readings.items():
        problems += drawn_differently(name, r)[0]
    assert not problems, "the readers draw different certificates:\n" + "\n".join(problems)


def test_every_reader_draws_the_same_marked_copy(built, tmp_path):
    """The copies the site offers of superseded versions and of certificates no longer valid carry a notice
    laid over the pages (publish/stamp.py), in a font of its own: every reader draws them alike too."""
    marked = [p for p in sorted(built.glob("certificates/*/*.pdf"))
              if p.read_bytes() != (p.parent / "issued" / p.name).read_bytes()]
    assert len(marked) >= 5
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = list(pool.map(lambda pdf: read(pdf, tmp_path / pdf.stem), marked))
    problems = [line for pdf, r in zip(marked, done, strict=True) for line in drawn_differently(pdf.name, r)[0]]
    assert not problems, "the readers draw different marked copies:\n" + "\n".join(problems)


def old_subset(face, wanted):
    """KNOWN BAD: the HarfBuzz call of pdf.font_cut before the charset fix, as it was:

        wanted.flags = hb.SubsetFlags.DESUBROUTINIZE
        files[f"font-{weight}.otf"] = bytes(hb.subset(_face(weight), wanted).blob.data)

    HarfBuzz renumbers the glyphs it keeps, but the CID-keyed CFF's charset keeps each glyph's CID in the
    whole font, while WeasyPrint writes the new glyph numbers as CIDs: readers that follow the charset draw
    other glyphs or none (Ghostscript; MuPDF too when the CFF is inside OpenType). Put in place of
    ``uharfbuzz.subset`` (rather than of font_cut, whose signature and file names change) it makes font_cut
    cut the font the old way."""
    wanted.flags = uharfbuzz.SubsetFlags.DESUBROUTINIZE
    return _HB_SUBSET(face, wanted)


def test_a_font_whose_charset_disagrees_with_its_glyph_numbers_is_caught(checked, tmp_path, monkeypatch):
    number = "CEC-ZCF-2026-0004"
    monkeypatch.setattr(uharfbuzz, "subset", old_subset)
    monkeypatch.setattr(R, "_GUIDANCE", {})  # no page laid out earlier in this process, with the right cut
    done = R.render(checked, tmp_path / "pdfs", base_url=BASE_URL, numbers=[number], jobs=1)
    assert done.failed == []
    pdf = tmp_path / "pdfs" / R.pdf_name(number, 1)
    with pikepdf.open(pdf) as bad:
        assert font_problems(bad), "old_subset no longer makes the charset bug: update it"
    problems, figures = drawn_differently(pdf.name, read(pdf, tmp_path / "read"))
    shown = ", ".join(f"page {p} {reader} {f:.2%}" for (p, reader), f in sorted(figures.items()))
    assert problems, f"the comparison passes a PDF whose fonts readers draw differently: {shown}"
    for page in (1, 2):  # (which readers follow the charset depends on how the font is embedded)
        assert any(f > LIMIT for (p, _), f in figures.items() if p == page), shown


# --- the text --------------------------------------------------------------------------------


def test_every_reader_extracts_every_public_field(readings, checked):
    missing = []
    for number, h in sorted(checked.histories.items()):
        for v in h.versions:
            name = R.pdf_name(number, v.number)
            assert name in readings, f"{name} was not rendered"
            for reader in TEXT_READERS:
                text = flat("".join(readings[name].texts[reader]))
                missing += [f"{name} {reader}: {field} {value!r}" for field, value in public_values(h, v)
                            if flat(value) not in text]
    assert not missing, "public fields missing from the extracted text:\n" + "\n".join(missing)


def test_the_readers_extract_the_same_characters(readings):
    """The same characters, each as often, from each page (the order differs: each reader has its own idea
    of reading order in a two-column table)."""
    problems = []
    for name, r in readings.items():
        for reader in TEXT_READERS:
            if len(r.texts[reader]) != len(r.texts[REFERENCE]):
                problems.append(f"{name}: {reader} reads {len(r.texts[reader])} pages, {REFERENCE} "
                                f"{len(r.texts[REFERENCE])}")
                continue
            for i, (text, ref) in enumerate(zip(r.texts[reader], r.texts[REFERENCE], strict=True), 1):
                mine, theirs = Counter(flat(text)), Counter(flat(ref))
                if mine != theirs:
                    problems.append(f"{name} page {i}: {reader} lacks {''.join(sorted((theirs - mine).elements()))!r}"
                                    f" and adds {''.join(sorted((mine - theirs).elements()))!r} ({REFERENCE}'s text)")
        assert any(flat(t) for t in r.texts[REFERENCE]), f"{name}: no text at all"
    assert not problems, "\n".join(problems)


# --- PDF/A-2b, as far as pikepdf (qpdf) can tell --------------------------------------------------------


@pytest.fixture(scope="module")
def opened(sample_pdfs):
    pdfs = {p.name: pikepdf.open(p) for p in sample_pdfs}
    yield pdfs
    for pdf in pdfs.values():
        pdf.close()


def objects(pdf: pikepdf.Pdf):
    """(key, object) of every dictionary, stream and array reachable from the trailer, each indirect one once:
    ``key`` is the one it is the value of (an array's items: the array's key)."""
    seen: set = set()
    todo: list = [("", pdf.trailer)]
    while todo:
        key, obj = todo.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        yield key, obj
        items = obj.items() if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) else ((key, v) for v in obj)
        todo += [(k, v) for k, v in items if isinstance(v, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array)]


def dictionaries(pdf: pikepdf.Pdf):
    """(key, dictionary) of every dictionary and stream reachable from the trailer."""
    return ((k, o) for k, o in objects(pdf) if isinstance(o, pikepdf.Dictionary | pikepdf.Stream))


def resources(pdf: pikepdf.Pdf):
    """(where, resources, content) of the pages and of every form XObject they draw, recursively."""
    seen: set = set()

    def forms(res, where):
        for name, x in (res.get("/XObject") or {}).items():
            if x.get("/Subtype") == "/Form" and x.objgen not in seen:
                seen.add(x.objgen)
                yield f"{where} {name}", x.get("/Resources", res), x
                yield from forms(x.get("/Resources") or {}, f"{where} {name}")

    for i, page in enumerate(pdf.pages, 1):
        res = page.obj.get("/Resources") or pikepdf.Dictionary()
        yield f"page {i}", res, page
        yield from forms(res, f"page {i}")


def test_qpdf_finds_no_problem(opened):
    """qpdf --check: the file's syntax, cross-reference table, object streams and every stream decode."""
    problems = {name: pdf.check_pdf_syntax() for name, pdf in opened.items()}
    assert not any(problems.values()), {name: found for name, found in problems.items() if found}


def test_the_file_structure(opened, sample_pdfs):
    """6.1.2 a %PDF-1.n header, then a comment of four bytes above 127; 6.1.3 an ID, no Encrypt, nothing after
    %%EOF; 6.1.7 no stream kept in an external file (F, FFilter, FDecodeParms) and no LZWDecode; 6.1.13 page
    boundaries of 3 to 14,400 units."""
    for path in sample_pdfs:
        pdf, raw = opened[path.name], path.read_bytes()
        assert re.match(rb"%PDF-1\.[0-7]\r?\n%[\x80-\xff]{4}", raw), (path.name, raw[:16])
        assert re.search(rb"%%EOF\r?\n?\Z", raw), (path.name, raw[-16:])
        assert "/ID" in pdf.trailer and "/Encrypt" not in pdf.trailer and not pdf.is_encrypted, path.name
        for _, obj in dictionaries(pdf):
            if isinstance(obj, pikepdf.Stream):
                assert not {"/F", "/FFilter", "/FDecodeParms"} & set(obj.keys()), (path.name, obj.objgen)
                assert "LZWDecode" not in str(obj.get("/Filter")), (path.name, obj.objgen)
        for i, page in enumerate(pdf.pages, 1):
            for box in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
                if box in page.obj:
                    x0, y0, x1, y1 = (float(v) for v in page.obj[box])
                    assert 3 <= abs(x1 - x0) <= 14400 and 3 <= abs(y1 - y0) <= 14400, (path.name, i, box)


# ISO 19005-2, 6.6.2.3.1, Table 1: the Info dictionary's entries and the XMP properties they must equal
INFO_XMP = {"/Title": "dc:title", "/Author": "dc:creator", "/Subject": "dc:description", "/Keywords": "pdf:Keywords",
            "/Creator": "xmp:CreatorTool", "/Producer": "pdf:Producer", "/CreationDate": "xmp:CreateDate",
            "/ModDate": "xmp:ModifyDate", "/Trapped": "pdf:Trapped"}
# the XMP schemas that need no extension schema (6.6.2.3.2: those of XMP itself, and pdfaid)
PREDEFINED = {"http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/pdf/1.3/", "http://www.aiim.org/pdfa/ns/id/",
              "http://ns.adobe.com/xap/1.0/", "http://ns.adobe.com/xap/1.0/mm/", "http://ns.adobe.com/xap/1.0/rights/",
              "http://ns.adobe.com/xap/1.0/bj/", "http://ns.adobe.com/xap/1.0/t/pg/",
              "http://ns.adobe.com/photoshop/1.0/"}


def _date(value: str) -> dt.datetime:
    """A PDF date (D:YYYYMMDDHHmmSS+HH'mm') or an XMP one (ISO 8601), as a datetime."""
    if value.startswith("D:"):
        from pikepdf.models.metadata import decode_pdf_date

        return decode_pdf_date(value)
    return dt.datetime.fromisoformat(value)


def test_the_xmp_metadata_claims_pdfa_2b_and_agrees_with_the_info_dictionary(opened):
    """6.6.2.1 XMP metadata in the catalog (Type Metadata, Subtype XML), its packet header without the bytes
    and encoding attributes; 6.6.4 pdfaid:part 2, pdfaid:conformance B; 6.6.2.3.1 every entry of the Info
    dictionary equal to its XMP property; 6.6.2.3.2 only predefined schemas (no extension schema needed)."""
    for name, pdf in opened.items():
        stream = pdf.Root.Metadata
        assert (stream.get("/Type"), stream.get("/Subtype")) == ("/Metadata", "/XML"), name
        header = re.match(rb"<\?xpacket begin=[^?]*\?>", stream.read_bytes())
        assert header and b"bytes=" not in header.group() and b"encoding=" not in header.group(), name
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B"), name
        assert meta.pdfa_status == R.PDF_VARIANT.removeprefix("pdf/a-").upper(), name
        info = pdf.docinfo
        assert {"/Title", "/Author", "/Subject", "/CreationDate"} <= set(info.keys()), name
        for key, prop in INFO_XMP.items():
            if key not in info:
                assert prop not in meta, (name, prop)
                continue
            have, want = meta.get(prop), str(info[key])
            if prop.endswith("Date"):
                assert _date(have) == _date(want), (name, key, want, have)
            elif prop == "dc:creator":
                assert list(have) == [want], (name, key, want, have)
            else:
                assert have == want, (name, key, want, have)
        namespaces = {key.partition("}")[0].lstrip("{") for key in meta}
        assert namespaces <= PREDEFINED, (name, namespaces - PREDEFINED)


def _icc_problems(profile: pikepdf.Stream, classes: tuple[str, ...]) -> list[str]:
    """An ICC profile's header: its signature, class, colour space and version (ICC.1, ISO 15076-1)."""
    icc = profile.read_bytes()
    space = icc[16:20].decode("latin-1")
    channels = {"GRAY": 1, "RGB ": 3, "CMYK": 4, "Lab ": 3}.get(space)
    problems = []
    if icc[36:40] != b"acsp":
        problems.append("not an ICC profile")
    if icc[12:16].decode("latin-1") not in classes:
        problems.append(f"class {icc[12:16]!r}")
    if channels is None or int(profile.get("/N", 0)) != channels:
        problems.append(f"colour space {space!r} with N {profile.get('/N')}")
    if icc[8] >= 5:
        problems.append(f"ICC version {icc[8]}")
    return problems


def test_the_output_intent_and_colour_spaces(opened):
    """6.2.3 a GTS_PDFA1 output intent whose DestOutputProfile is an ICC profile (output or monitor class,
    GRAY/RGB/CMYK, version 4 or older), the same for every entry; 6.2.4.2 every ICCBased colour space a valid
    profile; 6.2.4.3 no DeviceCMYK (the output intent is RGB), in a resource or as the k/K operators."""
    for name, pdf in opened.items():
        intents = list(pdf.Root.get("/OutputIntents", []))
        pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
        assert len(pdfa) == 1, (name, intents)
        profile = pdfa[0].DestOutputProfile
        assert not _icc_problems(profile, ("mntr", "prtr")), (name, _icc_problems(profile, ("mntr", "prtr")))
        assert all(i.DestOutputProfile.objgen == profile.objgen for i in intents if "/DestOutputProfile" in i), name
        assert profile.read_bytes()[16:20] == b"RGB ", name
        assert not any("/DestOutputProfileRef" in i for i in intents), name
        for key, obj in objects(pdf):
            if isinstance(obj, pikepdf.Array) and len(obj) == 2 and obj[0] == "/ICCBased":
                found = _icc_problems(obj[1], ("mntr", "prtr", "scnr", "spac"))
                assert not found, (name, key, found)
        for where, res, content in resources(pdf):
            assert "/DeviceCMYK" not in repr(res.get("/ColorSpace", {})), (name, where)
            operators = {str(op) for _, op in pikepdf.parse_content_stream(content)}
            assert not {"k", "K"} & operators, (name, where, "DeviceCMYK colours")


def _cff(data: bytes):
    """The CFF font of a FontFile3 stream: bare (CIDFontType0C, Type1C) or inside OpenType."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.ttLib import TTFont

    if data[:4] == b"OTTO":
        return TTFont(io.BytesIO(data))["CFF "].cff.topDictIndex[0]
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(data), None)
    return cff.topDictIndex[0]


def _shown_codes(content, fonts: dict, shown: dict) -> None:
    """Add to ``shown`` (font dictionary's object number → codes) the two-byte codes that the text operators of
    ``content`` show in each font of ``fonts`` (resource name → font dictionary)."""
    font = None
    for operands, operator in pikepdf.parse_content_stream(content):
        op = str(operator)
        if op == "Tf":
            font = fonts.get(str(operands[0]))
        elif op in ("Tj", "'", '"', "TJ") and font is not None:
            strings = operands[0] if op == "TJ" else [operands[-1]]
            codes = shown.setdefault(font.objgen, set())
            for s in strings:
                if isinstance(s, pikepdf.String):
                    raw = bytes(s)
                    codes.update(int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw) - 1, 2))


def font_problems(pdf: pikepdf.Pdf) -> list[str]:
    """6.2.11.2 font dictionaries as ISO 32000-1 defines them (Type Font; a CIDFontType2 with its
    CIDToGIDMap); 6.2.11.4.1 every font program embedded (FontFile, FontFile2 or FontFile3) and holding
    every glyph the text shows; 6.2.11.8 no text showing .notdef; and a ToUnicode map in every font, which
    level B does not require but text extraction (search, copy, screen readers) does."""
    problems, fonts, shown = [], {}, {}
    for where, res, content in resources(pdf):
        named = {str(n): f for n, f in (res.get("/Font") or {}).items()}
        fonts.update({f.objgen: f"{where} {n} ({f.get('/BaseFont')})" for n, f in named.items()})
        _shown_codes(content, named, shown)
    for objgen, label in fonts.items():
        font, codes = pdf.get_object(objgen), shown.get(objgen, set())
        if font.get("/Type") != "/Font":
            problems.append(f"{label}: Type {font.get('/Type')}")
        if "/ToUnicode" not in font:
            problems.append(f"{label}: no ToUnicode map")
        if font.get("/Subtype") == "/Type3":
            continue
        descendant = font.DescendantFonts[0] if font.get("/Subtype") == "/Type0" else font
        if descendant.get("/Subtype") == "/CIDFontType2" and "/CIDToGIDMap" not in descendant:
            problems.append(f"{label}: a CIDFontType2 without CIDToGIDMap")
        descriptor = descendant.get("/FontDescriptor") or pikepdf.Dictionary()
        files = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
        if not files:
            problems.append(f"{label}: not embedded")
            continue
        if files != ["/FontFile3"] or font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
            continue  # the glyphs shown are checked in the fonts WeasyPrint writes: CFF, Identity-H
        top = _cff(descriptor.FontFile3.read_bytes())
        if hasattr(top, "ROS"):  # CID-keyed: the charset names the CID of each glyph
            have = {int(g[3:]) for g in top.charset if g.startswith("cid")}
        else:  # name-keyed: a CID is a glyph number
            have = set(range(1, len(top.charset)))
        if 0 in codes:
            problems.append(f"{label}: text shows .notdef (CID 0)")
        lacking = sorted(codes - have - {0})
        if lacking:
            problems.append(f"{label}: the text shows {len(lacking)} of its {len(codes)} CIDs that the font program "
                            f"lacks, e.g. {lacking[:5]} (its charset has CIDs {sorted(have)[:3]}...)")
    return problems


def test_every_font_is_embedded_with_every_glyph_shown_and_a_tounicode_map(opened):
    found = {name: font_problems(pdf) for name, pdf in opened.items()}
    assert not any(found.values()), {name: p for name, p in found.items() if p}


ACTIONS = {"/GoTo", "/URI", "/Named"}  # of those PDF/A-2 allows (6.5.1), the ones that stay inside the file or
NAMED = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}  # name an address; no GoToR, GoToE: other files
ANNOTATIONS = {"/Text", "/Link", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
               "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/Popup", "/Widget",
               "/PrinterMark", "/TrapNet", "/Watermark", "/Redact"}  # 6.3.1, less FileAttachment (another file)


def test_no_encryption_script_action_or_external_reference(opened):
    """6.1.3 no encryption; 6.5.1 no action but GoTo, URI and the four page-turning Named actions (so no
    JavaScript, Launch, GoToR, GoToE, SubmitForm, Sound, Movie, ImportData, ResetForm, Hide, SetOCGState,
    Rendition, Trans, GoTo3DView), and no JavaScript anywhere (JS, the Names tree); 6.5.2 no additional
    actions (AA); 6.2.9 no reference, PostScript or OPI XObjects; 6.8 no embedded or external files; 6.4 no
    XFA form, no NeedAppearances, no NeedsRendering; 6.3 annotations of allowed types, printed, and with an
    appearance stream (only N) unless a Link or Popup."""
    for name, pdf in opened.items():
        assert not pdf.is_encrypted and "/Encrypt" not in pdf.trailer, name
        names = pdf.Root.get("/Names") or pikepdf.Dictionary()
        assert "/JavaScript" not in names and "/EmbeddedFiles" not in names, (name, set(names.keys()))
        form = pdf.Root.get("/AcroForm") or pikepdf.Dictionary()
        assert "/XFA" not in form and not form.get("/NeedAppearances", False), name
        assert "/NeedsRendering" not in pdf.Root, name
        for key, obj in dictionaries(pdf):
            keys = set(obj.keys())
            where = (name, key, obj.objgen if obj.is_indirect else "direct", sorted(keys))
            assert not {"/JS", "/AA", "/EF", "/OPI", "/PS", "/Ref", "/XFA"} & keys, where
            if obj.get("/Type") == "/Action" or key in ("/A", "/OpenAction", "/Next") and "/S" in keys:
                assert obj.get("/S") in ACTIONS, where
                assert obj.get("/S") != "/Named" or obj.get("/N") in NAMED, where
            assert obj.get("/Subtype") != "/PS" and obj.get("/Subtype2") != "/PS", f"{where}: a PostScript XObject"
            assert obj.get("/Type") != "/Filespec" and "/UF" not in keys, f"{where}: names another file"
        for i, page in enumerate(pdf.pages, 1):
            for annot in page.obj.get("/Annots") or []:
                where = (name, i, annot.get("/Subtype"))
                assert annot.get("/Subtype") in ANNOTATIONS, where
                if annot.get("/Subtype") != "/Popup":
                    flags = int(annot.get("/F", 0))
                    assert flags & 4 and not flags & (1 | 2 | 32 | 256), (where, flags)
                if annot.get("/Subtype") not in ("/Popup", "/Link"):
                    assert set((annot.get("/AP") or pikepdf.Dictionary()).keys()) == {"/N"}, where


BLEND_MODES = {"/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten", "/ColorDodge",
               "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion", "/Hue", "/Saturation",
               "/Color", "/Luminosity"}


def test_transparency_graphics_states_and_images(opened):
    """6.2.10 only ISO 32000-1's blend modes, soft masks of type Alpha or Luminosity, transparency groups
    in an RGB or grey colour space (the output intent's); 6.2.5 no transfer functions (TR, TR2 other than
    Default) or halftone phases (HTP), halftones of type 1 or 5 without HalftoneName; 6.2.6 only the four
    rendering intents; 6.2.8 images without Alternates, OPI or Interpolate true."""
    for name, pdf in opened.items():
        for where, res, _ in resources(pdf):
            for gs_name, gs in (res.get("/ExtGState") or {}).items():
                at = (name, where, gs_name)
                modes = gs.get("/BM")
                modes = list(modes) if isinstance(modes, pikepdf.Array) else [] if modes is None else [modes]
                assert all(str(m) in BLEND_MODES for m in modes), (at, modes)
                mask = gs.get("/SMask")
                assert mask is None or mask == "/None" or mask.get("/S") in ("/Alpha", "/Luminosity"), at
                assert "/TR" not in gs and gs.get("/TR2", "/Default") == "/Default" and "/HTP" not in gs, at
            for x_name, x in (res.get("/XObject") or {}).items():
                if x.get("/Subtype") == "/Image":
                    assert not {"/Alternates", "/OPI"} & set(x.keys()), (name, where, x_name)
                    assert not bool(x.get("/Interpolate", False)), (name, where, x_name)
        for key, obj in dictionaries(pdf):
            at = (name, key, obj.objgen if obj.is_indirect else "direct")
            if obj.get("/S") == "/Transparency" and "/CS" in obj:
                cs = obj.CS
                space = str(cs[0]) if isinstance(cs, pikepdf.Array) else str(cs)
                assert space in ("/DeviceRGB", "/DeviceGray", "/ICCBased", "/CalRGB", "/CalGray"), (at, space)
                if space == "/ICCBased":
                    assert cs[1].read_bytes()[16:20] in (b"RGB ", b"GRAY"), at
            if "/HalftoneType" in obj:
                assert int(obj.HalftoneType) in (1, 5) and "/HalftoneName" not in obj, at
            for intent_key in ("/Intent", "/RI"):
                if intent_key in obj and not isinstance(obj[intent_key], pikepdf.Array):
                    assert obj[intent_key] in ("/RelativeColorimetric", "/AbsoluteColorimetric", "/Perceptual",
                                               "/Saturation"), (at, obj[intent_key])
