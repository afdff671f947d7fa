"""PDF certificates, checked as a person would: the QR code decoded from the printed page, the text read
back from the PDF, the same bytes every time, hostile text shown as text, and no silent tofu."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from certreg.publish import pdf as R
from certreg.records.model import texts
from certreg.rules.validate import check_registry
from certreg.status import summary
from conftest import REGISTRY, ROOT, SAMPLE_AS_OF

BASE_URL = R.site_url(ROOT / "mkdocs.yml")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample registry, checked, and every version of every certificate rendered once."""
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    out = tmp_path_factory.mktemp("certs")
    done = R.render(checked, out, base_url=BASE_URL)
    assert done.failed == []
    return checked, out, done


def versions(checked):
    return [(n, v) for n, h in sorted(checked.histories.items()) for v in h.versions]


def flat(text: str) -> str:
    """Text without its line breaks and spaces: a value may wrap across lines on the page."""
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def qr_codes(path: Path, dpi: int, tmp: Path):
    """The QR codes on page 1 of ``path`` printed at ``dpi``, in grey (as a phone's decoder sees them). The page is
    written as PGM: pdftoppm's PNG encoder took 0.63 of its 0.78 s a page at 150 dpi."""
    stem = tmp / f"{path.stem}-{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", str(path), str(stem)], check=True)
    with Image.open(next(tmp.glob(f"{stem.name}*.pgm"))) as image:
        return zxingcpp.read_barcodes(image)


def test_one_pdf_per_version(sample):
    checked, out, done = sample
    names = sorted(p.name for p in out.glob("*.pdf"))
    assert names == sorted(R.pdf_name(n, v.number) for n, v in versions(checked))
    assert len(names) >= 17  # 16 certificates, one of them changed twice or more


def test_qr_code_decodes_to_the_verification_url(sample, tmp_path):
    """Every version's QR code, printed at 150 dpi (3.5 pixels a 0.6 mm module), decodes to its page. Measured
    on the 18 sample PDFs: 300 dpi proves nothing more (every code decodes at 300, 150, 100 and 72 dpi) and took
    44 to 57 s as PNG in colour, 14 to 16 s as PGM in grey; 150 dpi took 15 s as PNG in colour, 4 to 5.4 s as
    PGM in grey (two cores shared)."""
    checked, out, _ = sample
    dpi = 150
    for number, v in versions(checked):
        codes = qr_codes(out / R.pdf_name(number, v.number), dpi, tmp_path)
        assert [c.text for c in codes] == [f"{BASE_URL}certificates/{number}/v{v.number}/"], (number, dpi)
        assert codes[0].format == zxingcpp.BarcodeFormat.QRCode
        assert codes[0].ec_level in ("M", "Q", "H")


def test_qr_code_is_printable(sample):
    checked, _, _ = sample
    h = checked.histories["CEC-ZWL-2025-0003"]
    url = R.context(h.cert, h, h.versions[-1], settings=checked.registry.settings, base_url=BASE_URL,
                    mark=None, seal="data:,")["verify"]["url"]
    qr = R._qr(url)
    # a quiet zone of 4 modules on each side, and modules of at least 0.5 mm on paper
    assert float(qr["mm"]) / qr["modules"] >= 0.5
    assert qr["modules"] == 4 * qr["version"] + 17 + 8


def test_the_pdf_shows_every_public_field_and_no_private_one(sample):
    checked, out, _ = sample
    for number, v in versions(checked):
        h = checked.histories[number]
        text = flat(pdf_text(out / R.pdf_name(number, v.number)))
        scheme = h.cert.scheme
        for name, f in scheme.fields.items():
            value = v.content.get(name)
            if value is None:
                continue
            shown = R._lines(value, f["type"]) if f["type"] != "decimal" else [R._figure(value)]
            wanted = [flat(s) for s in shown]
            if f["public"]:
                assert all(t in text for t in wanted), (number, v.number, name, wanted)
            else:
                for secret in texts(value):
                    if len(secret) >= 3 and not secret.replace(".", "").isdigit():
                        assert flat(secret) not in text, (number, name, secret)
        row = summary(h, v.date)
        assert flat(number) in text and R.date_zh(row["valid_until"]) in text
        if v.number > 1:
            assert R.date_zh(v.date.isoformat()) in text  # the change date (ZWL-7.3)
        if scheme.key == "zero-carbon-factory":
            assert "本证书仅对上述报告期有效" in text  # ZCF-11.2


def test_the_guidance_page_is_laid_out_once_per_scheme(builder, tmp_path, monkeypatch):
    """Its HTML names no certificate, so one layout serves every certificate of a scheme."""
    builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    builder.zwl("CEC-ZWL-2024-0003", raw_material_source="第三来源")
    monkeypatch.setattr(R, "_GUIDANCE", {})
    done = R.render(check_registry(builder.root, dt.date(2025, 6, 30)), tmp_path, base_url=BASE_URL, jobs=1)
    assert len(done.written) == 3 and len(R._GUIDANCE) == 1
    second_pages = {PdfReader(tmp_path / name).pages[1].extract_text() for name in done.written}
    assert len(second_pages) == 1 and "ZWL-A2.11" in second_pages.pop()


def test_hard_names_come_out_exactly(sample):
    checked, out, _ = sample
    everything = "".join(pdf_text(p) for p in out.glob("*.pdf"))
    for hard in ("𠮷", "䶮", "&", "<", '"'):
        assert hard in everything, hard


def test_metadata_and_archival_format(sample):
    _, out, _ = sample
    reader = PdfReader(out / "CEC-ZWL-2025-0003-v2.pdf")
    meta = reader.metadata
    assert meta.title.startswith("无废低碳产品认证证书 CEC-ZWL-2025-0003")
    assert "CEC" in meta.author and meta.subject.endswith("version 2")
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="2" pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert len(reader.pages) == 2


def test_product_pdf_has_mark_guidance(sample):
    _, out, _ = sample
    guidance = flat(PdfReader(out / "CEC-ZWL-2025-0003-v2.pdf").pages[1].extract_text())
    for words in ("优先加施在获证产品本体的显著位置", "最小外包装", "随附文件", "不允许使用变形标志", "未获认证的产品",
                  "已暂停、撤销、注销的证书所列产品", "ZWL-8.2", "ZWL-A2.11", "SAMPLEMARK"):
        assert flat(words) in guidance, words
    factory = flat(PdfReader(out / "CEC-ZCF-2026-0004-v1.pdf").pages[1].extract_text())
    for words in ("仅对证书所载报告期有效", "不得以任何方式使用认证证书", "ZCF-11.2", "ZCF-12.1.2"):
        assert flat(words) in factory, words


def test_unchanged_certificates_are_not_rendered_again(builder, tmp_path):
    a = builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    day = dt.date(2025, 6, 30)
    first = R.render(check_registry(builder.root, day), tmp_path, base_url=BASE_URL)
    assert (len(first.written), first.current, first.failed) == (2, [], [])
    again = R.render(check_registry(builder.root, day), tmp_path, base_url=BASE_URL)
    assert (again.written, len(again.current)) == ([], 2)
    builder.decide(a, "change", "2025-05-06", changes={"specification": "初始温度 ≥ 65 ℃"})
    after = R.render(check_registry(builder.root, day), tmp_path, base_url=BASE_URL)
    assert after.written == ["CEC-ZWL-2024-0001-v2.pdf"] and len(after.current) == 2
    manifest = json.loads((tmp_path / ".manifest.json").read_text())
    assert sorted(manifest) == ["CEC-ZWL-2024-0001-v1.pdf", "CEC-ZWL-2024-0001-v2.pdf", "CEC-ZWL-2024-0002-v1.pdf"]


HOSTILE = {
    "product_name": '<img src="http://127.0.0.1:9/track.png"> & <b>粗体</b>',
    "specification": "</style><script>alert(1)</script>{{ 7 * 7 }}{% raw %}",
    "certification_unit": "url(file:///etc/passwd) @import 'http://127.0.0.1:9/x.css';",
    "functional_unit": "file:///etc/shadow \" ' <!-- -->",
}


def test_hostile_text_is_shown_as_text_and_fetches_nothing(builder, tmp_path, monkeypatch):
    n = builder.zwl(**HOSTILE)
    fetched = []
    original = R._fetcher

    def spying(allowed, served):
        fetcher = original(allowed, served)
        real = fetcher.fetch

        def fetch(url, headers=None):
            fetched.append(url)
            return real(url, headers)

        fetcher.fetch = fetch
        return fetcher

    monkeypatch.setattr(R, "_fetcher", spying)
    checked = check_registry(builder.root, dt.date(2025, 6, 30))
    assert checked.report.ok, checked.report.problems
    done = R.render(checked, tmp_path, base_url=BASE_URL, jobs=1)
    assert done.failed == []
    text = flat(pdf_text(tmp_path / R.pdf_name(n, 1)))
    for value in HOSTILE.values():
        assert flat(value) in text, value
    assert "49" not in text.split("{{7*7}}")[0][-2:]  # the template syntax was not evaluated
    allowed = (R.TEMPLATES.resolve().as_uri(), (builder.root / "marks").resolve().as_uri(), "data:")
    assert fetched and all(url.startswith(allowed) for url in fetched), fetched


def test_a_character_without_glyph_fails_naming_certificate_and_field(builder, tmp_path):
    have = R.font_codepoints()
    missing = next(chr(c) for c in (0x30000, 0x2A6DF, 0xE000, 0x1F600) if c not in have)
    n = builder.zwl(product_name=f"回用水{missing}")
    done = R.render(check_registry(builder.root, dt.date(2025, 6, 30)), tmp_path, base_url=BASE_URL)
    assert done.written == [] and len(done.failed) == 1
    assert n in done.failed[0] and "product_name" in done.failed[0] and f"U+{ord(missing):04X}" in done.failed[0]


def test_anything_weasyprint_logs_fails_the_render(monkeypatch):
    import logging

    with pytest.raises(R.RenderError, match="WeasyPrint reported: something odd"):
        with R._fail_on_logs("CEC-X"):
            logging.getLogger("weasyprint").warning("something odd")


def test_a_fetch_outside_the_assets_is_refused():
    from weasyprint.urls import FatalURLFetchingError

    fetcher = R._fetcher([R.TEMPLATES], {})
    for url in ("http://127.0.0.1:9/x.png", "file:///etc/passwd", (R.TEMPLATES / ".." / "render.py").as_uri()):
        with pytest.raises((FatalURLFetchingError, ValueError)):
            fetcher.fetch(url)
    assert fetcher.fetch((R.TEMPLATES / "certificate.css").as_uri()).status == 200


def test_site_url_has_one_source():
    assert BASE_URL.startswith("https://") and BASE_URL.endswith("/")
    assert BASE_URL in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


# --- the embedded fonts, the bytes from any folder, the render cache ---------------------------------


def cids_shown(pdf, pages=None) -> dict:
    """{(object number, generation) of a font: the CIDs its text shows} over ``pages`` (default all) of the
    pikepdf PDF ``pdf`` and the forms they draw. The fonts are Identity-H: two bytes a CID."""
    import pikepdf

    shown: dict = {}
    seen: set = set()

    def walk(content, resources):
        fonts = resources.get("/Font", {}) if resources is not None else {}
        font = None
        for operands, operator in pikepdf.parse_content_stream(content):
            if str(operator) == "Tf":
                font = fonts[operands[0]].objgen
            elif str(operator) in ("Tj", "'", '"', "TJ"):
                for s in operands[0] if str(operator) == "TJ" else operands[-1:]:
                    if isinstance(s, pikepdf.String):
                        raw = bytes(s)
                        shown.setdefault(font, set()).update(
                            int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2))
            elif str(operator) == "Do":
                xobject = resources["/XObject"][operands[0]]
                if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                    seen.add(xobject.objgen)
                    walk(xobject, xobject.get("/Resources", resources))

    for page in pdf.pages if pages is None else pages:
        walk(page, page.obj.get("/Resources"))
    return shown


def font_program_cff(program: bytes):
    """The CFF of an embedded font program: a bare CFF (FontFile3 /CIDFontType0C) or an OpenType file's."""
    import io

    from fontTools.cffLib import CFFFontSet
    from fontTools.ttLib import TTFont

    if program[:4] == b"OTTO":
        return TTFont(io.BytesIO(program))["CFF "].cff
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(program), None)
    return cff


def test_every_cid_shown_is_that_glyph_of_the_embedded_font(sample):
    """WeasyPrint writes glyph numbers as CIDs, and readers that follow the CFF's charset (MuPDF, Ghostscript,
    Acrobat) draw the glyph the charset gives that CID: in every embedded CID-keyed font, each CID shown must
    be there, and be the glyph of that number."""
    import pikepdf

    _, out, _ = sample
    for path in sorted(out.glob("*.pdf")):
        with pikepdf.open(path) as pdf:
            shown = cids_shown(pdf)
            assert shown, path.name
            for objgen, cids in shown.items():
                font = pdf.get_object(objgen)
                assert font.Encoding == "/Identity-H"
                program = font.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()
                top = font_program_cff(program).topDictIndex[0]
                assert hasattr(top, "ROS"), (path.name, str(font.BaseFont))  # CID-keyed
                glyph_of = {0 if name == ".notdef" else int(name[3:]): gid for gid, name in enumerate(top.charset)}
                wrong = sorted(cid for cid in cids if glyph_of.get(cid) != cid)
                assert wrong == [], (path.name, str(font.BaseFont), f"{len(wrong)} of {len(cids)} CIDs", wrong[:10])


def test_both_pages_share_the_font(sample):
    """The guidance page shows its text in the fonts of the certificate page (the scheme's shared cut): a
    glyph both pages show is embedded once, and each family and weight is one font."""
    import pikepdf

    _, out, _ = sample
    for path in sorted(out.glob("*.pdf")):
        with pikepdf.open(path) as pdf:
            first, second = (set(cids_shown(pdf, [page])) for page in pdf.pages)
            assert second <= first, path.name
            names = [str(pdf.get_object(objgen).BaseFont).split("+")[-1] for objgen in first | second]
            assert len(names) == len(set(names)), (path.name, names)


def test_pdf_sizes_stay_in_budget(sample):
    """The sample PDFs: median at most 100,000 bytes, largest at most 110,000 (ten years of certificates are
    archived, ZCF-11.3)."""
    import statistics

    _, out, _ = sample
    sizes = {p.name: p.stat().st_size for p in out.glob("*.pdf")}
    assert statistics.median(sizes.values()) <= 100_000 and max(sizes.values()) <= 110_000, sizes


def _checkout(folder: Path) -> Path:
    """What a checkout of this working tree in ``folder`` holds for rendering: the code, the registry, mkdocs.yml."""
    import shutil

    for part in ("generator", "registry"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    return folder


# --- the reference PDFs: the bytes the pinned inputs give ---------------------------------------------

PDF_REFERENCE = Path(__file__).resolve().parent / "reference" / "pdfs.json"
REFRESH_PDFS = ".venv/bin/python -m pytest -q tests/test_render.py -k reference_pdfs --refresh-goldens"
REFERENCE_NUMBERS = ["CEC-ZWL-2025-0003", "CEC-ZCF-2026-0004"]  # one with the mark, changed once; a factory's


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render_inputs() -> dict:
    """The inputs of every render key that are not the certificate's own (R.jobs_for), each recorded apart so
    that a changed key can be explained: the template files, the font files, the PDF variant, certreg's version
    and the versions of the libraries that shape the bytes."""
    libraries = R.library_versions()
    return {"templates": {p.name: _sha256(p.read_bytes()) for p in sorted(R.TEMPLATES.iterdir())},
            "code": R.code_identity(), "font": json.loads(R.font_identity()), "pdf_variant": R.PDF_VARIANT,
            "certreg": libraries.pop("certreg"), "libraries": libraries}


def described(checked, hashes: dict[str, str]) -> dict:
    """What the reference records of the PDFs of REFERENCE_NUMBERS: the inputs shared by all (render_inputs)
    and, for each PDF, its render key, the sha256 of its own inputs (its record, the registry's settings, the
    mark and seal artwork, the site's URL, the version shown) and the sha256 of its bytes (``hashes``)."""
    pdfs = {}
    for job in R.jobs_for(checked, REFERENCE_NUMBERS, BASE_URL):
        own = json.dumps([job.fixed_text, job.context], ensure_ascii=False, sort_keys=True)
        pdfs[job.name] = {"key": job.key, "own_inputs": _sha256(own.encode()), "sha256": hashes.get(job.name)}
    return {"as_of": SAMPLE_AS_OF.isoformat(), "inputs": render_inputs(), "pdfs": pdfs}


def changed_inputs(was: dict, now: dict) -> list[str]:
    """What differs between two ``render_inputs``, in words."""
    changes = []
    for name in sorted(set(was["templates"]) | set(now["templates"])):
        if was["templates"].get(name) != now["templates"].get(name):
            how = "new" if name not in was["templates"] else "gone" if name not in now["templates"] else "changed"
            changes.append(f"the template file {name} ({how})")
    if was.get("code") != now["code"]:
        changes.append(f"certreg's PDF code (publish/pdf.py): sha256 {was.get('code')} → {now['code']}")
    if was["font"] != now["font"]:
        changes.append(f"the font (file, index, size): {was['font']} → {now['font']}")
    if was["pdf_variant"] != now["pdf_variant"]:
        changes.append(f"the PDF variant: {was['pdf_variant']} → {now['pdf_variant']}")
    if was["certreg"] != now["certreg"]:
        changes.append(f"certreg's version: {was['certreg']} → {now['certreg']}")
    for name in sorted(set(was["libraries"]) | set(now["libraries"])):
        old, new = was["libraries"].get(name, "none"), now["libraries"].get(name, "none")
        if old != new:
            changes.append(f"the library {name}: {old} → {new}")
    return changes


def compare_with_reference(got: dict, want: dict, folder: Path) -> None:
    """An AssertionError unless the PDFs that ``got`` describes (``described``; rendered into ``folder``) are
    those of the reference ``want``: the same key and the same bytes. The same key with other bytes is a
    failure of reproducibility; another key, inputs that changed, named as far as the reference tells them."""
    unreproduced, changed = [], []
    for name in sorted(set(want["pdfs"]) | set(got["pdfs"])):
        was, now = want["pdfs"].get(name), got["pdfs"].get(name)
        if was is None or now is None:
            changed.append(f"{name}: {'not in the reference' if was is None else 'no longer rendered'}")
        elif now["key"] == was["key"] and now["sha256"] != was["sha256"]:
            unreproduced.append(f"{name}: sha256 {now['sha256']}, the reference's {was['sha256']} (key {was['key']})")
        elif now["key"] != was["key"]:
            changed.append(f"{name}: another render key"
                           + (", and its own inputs changed (record, registry settings, mark or seal, site URL, "
                              "version shown)" if now["own_inputs"] != was["own_inputs"] else "")
                           + (" (its bytes are the same)" if now["sha256"] == was["sha256"] else ""))
    assert not unreproduced, (
        f"NOT REPRODUCIBLE: rendered from the very inputs of {PDF_REFERENCE.name} (the same render key), these PDFs "
        "have other bytes:\n  " + "\n  ".join(unreproduced) + "\nThe same inputs must give the same bytes: "
        "something outside the key (generator/certreg/publish/pdf.py, jobs_for) shapes the PDF: code outside pdf.py, "
        "or something of the machine. Put it in the key (the PDFs rendered before would otherwise stay as "
        f"current); do not refresh the reference to hide it. The PDFs are in {folder}")
    parts = changed_inputs(want["inputs"], got["inputs"])
    if changed or parts or got["as_of"] != want["as_of"]:
        raise AssertionError(
            f"the inputs of the reference PDFs changed since {PDF_REFERENCE.name} was written:\n  "
            + "\n  ".join(parts + changed) + "\n" + ("" if parts else "(no input the reference records: "
                                                      "see what jobs_for puts in the key)\n")
            + f"Review the PDFs rendered now, in {folder} (draw them: pdftoppm -r 100 -png FILE.pdf PREFIX, and look"
            f" at the pages), then refresh the reference with `{REFRESH_PDFS}`")


def test_fresh_renders_in_two_checkout_folders_give_the_reference_pdfs(tmp_path, refresh_goldens):
    """The PDFs of REFERENCE_NUMBERS, rendered by a fresh process (its own hash seed) in each of two checkout
    folders: byte-identical (nothing of the folder a registry is checked out in, as the mark's path was, enters
    a PDF or its key), and those of the reference tests/reference/pdfs.json, which pins their inputs (render
    key) and their bytes (sha256). The same key with other bytes fails as a failure of reproducibility; another
    key fails naming the inputs that changed (a template, the font, a library's or certreg's version, a record),
    to be reviewed and then refreshed with --refresh-goldens, which rewrites the reference instead."""
    outs = []
    for name in ("a", "another-checkout"):
        root = _checkout(tmp_path / name)
        code = (
            "import sys, datetime as dt; from pathlib import Path; import certreg; "
            "from certreg.rules.validate import check_registry; from certreg.publish import pdf as R; "
            f"assert certreg.__file__.startswith({str(root)!r}), certreg.__file__; "
            f"c = check_registry(Path({str(root / 'registry')!r}), "
            f"dt.date.fromisoformat({SAMPLE_AS_OF.isoformat()!r})); "
            f"d = R.render(c, Path({str(root / 'certs')!r}), base_url=R.site_url(Path({str(root / 'mkdocs.yml')!r})), "
            f"numbers={REFERENCE_NUMBERS!r}, jobs=1); sys.exit(1 if d.failed else 0)")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=root,
                       env={"PYTHONPATH": str(root / "generator"), "PYTHONHASHSEED": "random", "PATH": "/usr/bin"})
        outs.append(root / "certs")
    names = sorted(p.name for p in outs[0].glob("*.pdf"))
    assert names == ["CEC-ZCF-2026-0004-v1.pdf", "CEC-ZWL-2025-0003-v1.pdf", "CEC-ZWL-2025-0003-v2.pdf"]
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert (outs[0] / ".manifest.json").read_bytes() == (outs[1] / ".manifest.json").read_bytes()

    manifest = json.loads((outs[0] / ".manifest.json").read_text(encoding="utf-8"))
    assert {name: _sha256((outs[0] / name).read_bytes()) for name in names} == {
        name: entry["sha256"] for name, entry in manifest.items()}
    got = described(check_registry(REGISTRY, SAMPLE_AS_OF), {n: e["sha256"] for n, e in manifest.items()})
    # (the keys of this process, for this tree, are the fresh processes' for their copies)
    assert {n: p["key"] for n, p in got["pdfs"].items()} == {n: e["key"] for n, e in manifest.items()}
    if refresh_goldens:
        about = ("The PDFs of tests/test_render.py's REFERENCE_NUMBERS, rendered from the sample registry: the inputs "
                 "pinned (each render key, and its parts that are not the certificate's own) and the sha256 of the "
                 "bytes they gave. Written by `" + REFRESH_PDFS + "` once the PDFs were looked at.")
        PDF_REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        PDF_REFERENCE.write_text(json.dumps({"about": about, **got}, ensure_ascii=False, indent=1) + "\n",
                                 encoding="utf-8")
    else:
        assert PDF_REFERENCE.exists(), f"no reference {PDF_REFERENCE}: make it with `{REFRESH_PDFS}`"
        compare_with_reference(got, json.loads(PDF_REFERENCE.read_text(encoding="utf-8")), outs[0])


def test_the_reference_pdfs_check_fails_on_a_changed_byte_naming_what_changed(sample, tmp_path, monkeypatch):
    """The comparison with the reference, on PDFs rendered here (the sample's) taken as their own reference: it
    passes as they are; one byte of a PDF changed (same inputs) fails as not reproducible; a byte of a template
    changed, a library's version, certreg's version or the font, fails naming it (and the refresh)."""
    import importlib.metadata
    import shutil

    checked, out, _ = sample
    hashes = {n: e["sha256"] for n, e in json.loads((out / ".manifest.json").read_text(encoding="utf-8")).items()}
    reference = described(checked, hashes)
    assert sorted(reference["pdfs"]) == ["CEC-ZCF-2026-0004-v1.pdf", "CEC-ZWL-2025-0003-v1.pdf",
                                         "CEC-ZWL-2025-0003-v2.pdf"]
    compare_with_reference(described(checked, hashes), reference, out)

    name = "CEC-ZWL-2025-0003-v2.pdf"
    flipped = bytearray((out / name).read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    with pytest.raises(AssertionError, match=f"NOT REPRODUCIBLE(.|\n)*{name}: sha256 {_sha256(flipped)}"):
        compare_with_reference(described(checked, {**hashes, name: _sha256(flipped)}), reference, out)

    scratch = tmp_path / "certificate"
    shutil.copytree(R.TEMPLATES, scratch)
    (scratch / "certificate.css").write_bytes((scratch / "certificate.css").read_bytes() + b" ")
    real = importlib.metadata.version
    changes = {
        "the template file certificate.css (changed)": ("TEMPLATES", scratch),
        "the library pydyf: ": (None, lambda name: "0.0.1" if name == "pydyf" else real(name)),
        "certreg's version: ": ("__version__", "0.0.1"),
        "certreg's PDF code (publish/pdf.py): ": ("code_identity", lambda: "0" * 64),
        "the font (file, index, size): ": ("font_identity", lambda: '[["/elsewhere/NotoSerifCJK.ttc", 0, 1]]'),
    }
    for said, (attribute, value) in changes.items():
        with monkeypatch.context() as m:
            m.setattr(*((R, attribute) if attribute else (importlib.metadata, "version")), value)
            got = described(checked, hashes)
        with pytest.raises(AssertionError, match="the inputs of the reference PDFs changed") as failed:
            compare_with_reference(got, reference, out)
        assert said in str(failed.value) and "--refresh-goldens" in str(failed.value), (said, str(failed.value))
        assert "NOT REPRODUCIBLE" not in str(failed.value) and "(its bytes are the same)" in str(failed.value)


def test_a_changed_or_truncated_pdf_is_rendered_again(builder, tmp_path):
    """The manifest keeps the sha256 of each PDF written: a file changed or cut short since (a crash, a
    disk, a hand) is rendered again, never taken as current."""
    builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    builder.zwl("CEC-ZWL-2024-0003", raw_material_source="第三来源")
    checked = check_registry(builder.root, dt.date(2025, 6, 30))
    assert len(R.render(checked, tmp_path, base_url=BASE_URL).written) == 3
    good = {p.name: p.read_bytes() for p in tmp_path.glob("*.pdf")}
    cut, changed, kept = sorted(good)
    (tmp_path / cut).write_bytes(good[cut][: len(good[cut]) // 2])
    flipped = bytearray(good[changed])
    flipped[len(flipped) // 2] ^= 0x01
    (tmp_path / changed).write_bytes(bytes(flipped))
    again = R.render(checked, tmp_path, base_url=BASE_URL)
    assert (sorted(again.written), again.current, again.failed) == ([cut, changed], [kept], [])
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.pdf")} == good


def test_the_render_key_covers_the_libraries_that_shape_the_pdf(builder, tmp_path, monkeypatch):
    """A new version of certreg or of a library that shapes the bytes (cuts the font, draws the QR code, writes
    the PDF) renders every PDF again: the key has their versions (importlib.metadata)."""
    import importlib.metadata

    builder.zwl("CEC-ZWL-2024-0001")
    checked = check_registry(builder.root, dt.date(2025, 6, 30))
    first = R.render(checked, tmp_path, base_url=BASE_URL)
    assert len(first.written) == 1

    def keys():
        return [job.key for job in R.jobs_for(checked, None, BASE_URL)]

    before, real = keys(), importlib.metadata.version
    for library in ("uharfbuzz", "segno", "pydyf", "fonttools", "Pillow", "WeasyPrint"):
        with monkeypatch.context() as m:
            m.setattr(importlib.metadata, "version",
                      lambda name, library=library: "0.0.1" if name.lower() == library.lower() else real(name))
            assert keys() != before, library
    with monkeypatch.context() as m:
        m.setattr(R, "__version__", "0.0.1")
        assert keys() != before, "certreg"
    assert keys() == before
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1" if name == "pydyf" else real(name))
    again = R.render(checked, tmp_path, base_url=BASE_URL)
    assert (again.written, again.current) == (first.written, [])


def test_the_shards_of_a_render_make_the_whole_render_byte_for_byte(sample, tmp_path):
    """certreg render --shard K/N on N machines, then --merge: the same PDFs and manifest as one render; a merge
    that lacks a shard is refused, naming what is missing."""
    from click.testing import CliRunner

    from certreg.cli import main

    whole = sample[1]  # (the module's render of the sample registry, all in one)
    args = ["--registry", str(REGISTRY), "--as-of", SAMPLE_AS_OF.isoformat(), "--site", str(ROOT / "mkdocs.yml")]
    shards = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard-{k}"
        result = CliRunner().invoke(main, ["render", *args, "--shard", f"{k}/3", "--out", str(out)])
        assert result.exit_code == 0, result.output
        shards.append(out)
    names = [sorted(p.name for p in s.glob("*.pdf")) for s in shards]
    assert all(names) and sum(map(len, names)) == len(list(whole.glob("*.pdf")))  # each has some, none twice
    merged = tmp_path / "merged"
    partial = CliRunner().invoke(main, ["render", *args, "--out", str(tmp_path / "partial"),
                                        *(x for s in shards[:2] for x in ("--merge", str(s)))])
    assert partial.exit_code == 1 and f"{len(names[2])} PDF(s) missing" in partial.output
    result = CliRunner().invoke(main, ["render", *args, "--out", str(merged),
                                       *(x for s in shards for x in ("--merge", str(s)))])
    assert result.exit_code == 0, result.output
    pdfs = {p.name: p.read_bytes() for p in whole.glob("*.pdf")}
    assert {p.name: p.read_bytes() for p in merged.glob("*.pdf")} == pdfs
    assert json.loads((merged / ".manifest.json").read_text()) == json.loads((whole / ".manifest.json").read_text())
    again = CliRunner().invoke(main, ["render", *args, "--out", str(merged)])
    assert "0 PDF(s) written" in again.output
    with pytest.raises(SystemExit):
        main(["render", "--shard", "4/3"], standalone_mode=True)


def test_a_render_lists_what_it_would_write_and_leaves_out_what_the_published_site_has_as_issued(sample, tmp_path):
    """--dry-run prints the PDFs a render would write, and writes nothing; --published SITE leaves out the PDFs as
    issued that the site has as files or lists in its open data (what a shard, holding only the open data, needs)
    from the render, from --dry-run and from what --merge requires; a name of no PDF in the open data is ignored,
    and open data that is not JSON is an error naming the file."""
    import shutil

    from click.testing import CliRunner

    from certreg.cli import main

    whole = sample[1]
    names = sorted(p.name for p in whole.glob("*.pdf"))
    args = ["--registry", str(REGISTRY), "--as-of", SAMPLE_AS_OF.isoformat(), "--site", str(ROOT / "mkdocs.yml")]

    def run(*more):
        result = CliRunner().invoke(main, ["render", *args, *more])
        return result.exit_code, result.stdout.split(), result.output

    out = tmp_path / "out"
    assert run("--dry-run", "--out", str(out))[:2] == (0, names)
    assert not out.exists()  # nothing written
    shutil.copytree(whole, out)
    assert run("--dry-run", "--out", str(out))[:2] == (0, [])
    (out / names[0]).write_bytes(b"%PDF-1.7 cut short")
    assert run("--dry-run", "--out", str(out))[:2] == (0, [names[0]])

    site = tmp_path / "site"
    number = names[1].rsplit("-v", 1)[0]
    (site / "certificates" / number / "issued").mkdir(parents=True)
    (site / "certificates" / number / "issued" / names[1]).write_bytes(b"%PDF as issued")  # a file...
    data = {"certificates": [
        {"number": "x", "versions": [{"version": 1, "pdf_issued": f"https://example.org/certificates/x/issued/{names[2]}",
                                      "reissues": [{"pdf_issued": "https://example.org/../x.pdf"}]},
                                     {"pdf_issued": 7}]},
        "not an object"]}
    (site / "data").mkdir()
    (site / "data" / "certificates.json").write_text(json.dumps(data), encoding="utf-8")  # ...and the open data
    fresh = tmp_path / "fresh"
    code, listed, _ = run("--dry-run", "--published", str(site), "--out", str(fresh))
    assert (code, listed) == (0, [n for n in names if n not in names[1:3]])

    shards = []
    for k in (1, 2):
        shard = tmp_path / f"shard-{k}"
        code, _, output = run("--shard", f"{k}/2", "--published", str(site), "--out", str(shard))
        assert code == 0, output
        shards.append(shard)
    rendered = sorted(p.name for s in shards for p in s.glob("*.pdf"))
    assert rendered == [n for n in names if n not in names[1:3]]
    merge = [x for s in shards for x in ("--merge", str(s))]
    code, _, output = run(*merge, "--out", str(tmp_path / "m1"))
    assert code == 1 and "2 PDF(s) missing" in output, output  # the archive's two, without --published
    code, _, output = run(*merge, "--published", str(site), "--out", str(tmp_path / "m2"))
    assert code == 0, output
    for name in rendered:
        assert (tmp_path / "m2" / name).read_bytes() == (whole / name).read_bytes()

    (site / "data" / "certificates.json").write_text("{not json", encoding="utf-8")
    code, _, output = run("--dry-run", "--published", str(site), "--out", str(fresh))
    assert code == 1 and f"{site / 'data' / 'certificates.json'}: not the registry's open data" in output
