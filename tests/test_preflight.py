"""One gate: whatever `certreg build` would refuse, `certreg validate` refuses first, at the file and line.

The publishing preflight (publish/preflight.py) finds, without rendering: a character the certificate's font
cannot draw in any published text, a printed text wider than its field, and mark or seal artwork that is not a
self-contained SVG (DTD, entity, external reference). validate, build, new and decide run it. The render refuses
the same artwork with the same check. A record at every length the validator accepts, in every kind of
character it accepts, fits its certificate page (at 7 pt at the least: nothing is cut); one character more is
refused. A render worker's error fails the build with its message, and never hangs it.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader

from certreg.cli import main
from certreg.publish import pdf as R
from certreg.publish.preflight import ArtworkError, svg_check, with_preflight
from certreg.records.specs import FIELD_TYPES, REGISTRY_SPEC
from certreg.rules.validate import check_registry
from conftest import REGISTRY, ROOT, ZCF_CONTENT, ZWL_CONTENT, dump, reason

DAY = dt.date(2025, 6, 30)
BASE_URL = R.site_url(ROOT / "mkdocs.yml")
HAVE = R.font_codepoints()
EMOJI = "\U0001F600"  # 😀: not in the font
EXT_B = next(chr(c) for c in range(0x20000, 0x2A6E0) if c not in HAVE)  # a CJK Extension B character it lacks


def problems(root: Path, day=DAY):
    checked = with_preflight(check_registry(root, day))
    return [p for p in checked.report.problems if p.level == "error"]


def where(p, root: Path) -> tuple[str, int, str]:
    return p.path.resolve().relative_to(root.resolve()).as_posix(), p.line, p.rule


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def validate(root: Path, day=DAY):
    return CliRunner().invoke(main, ["validate", "--registry", str(root), "--as-of", day.isoformat()])


# --- characters the font lacks ----------------------------------------------------------------------------------


def test_an_emoji_in_a_public_field_is_refused_at_its_line(builder):
    n = builder.zwl(product_name=f"回用水{EMOJI}")
    path = builder.root / "certificates" / n / "certificate.yml"
    found = problems(builder.root)
    assert [where(p, builder.root) for p in found] == [
        (f"certificates/{n}/certificate.yml", line_of(path, "product_name:"), "REG-PUBLIC")]
    assert "content.product_name" in found[0].message and "U+1F600" in found[0].message
    result = validate(builder.root)
    assert result.exit_code == 1 and "REG-PUBLIC" in result.stdout and "U+1F600" in result.stdout


def test_a_private_field_may_hold_any_character(builder):
    builder.zwl(contact={"name": f"王小明{EMOJI}", "phone": "025-58881234"})
    assert problems(builder.root) == []


def test_a_rare_cjk_character_in_a_reason_and_in_a_change_are_refused(builder):
    n = builder.zwl()
    builder.decide(n, "change", "2025-03-03", changes={"raw_material_source": f"蒸汽{EXT_B}冷凝水"})
    builder.decide(n, "suspend", "2025-04-01", ground="holder-request", facts_verified="2025-03-28",
                   reason=reason(zh=f"持有人{EXT_B}申请暂停", en="At the holder's request"))
    found = {(p.key, p.rule) for p in problems(builder.root)}
    assert found == {(("changes", "raw_material_source"), "REG-PUBLIC"), (("reason", "zh"), "REG-PUBLIC")}
    messages = " ".join(p.message for p in problems(builder.root))
    assert f"U+{ord(EXT_B):04X}" in messages


def test_the_registry_settings_and_scheme_words_are_checked_too(builder):
    settings = builder.root / "registry.yml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("样例签字人", f"样例{EMOJI}"), encoding="utf-8")
    scheme = builder.root / "schemes" / "zero-waste-low-carbon-water.yml"
    scheme.write_text(scheme.read_text(encoding="utf-8").replace("产品名称", f"产品名称{EMOJI}", 1), encoding="utf-8")
    builder.zwl()
    found = {(p.path.name, p.key, p.rule) for p in problems(builder.root)}
    assert ("registry.yml", ("signatory", "name", "zh"), "REG-PUBLIC") in found
    assert ("zero-waste-low-carbon-water.yml", ("fields", "product_name", "label", "zh"), "REG-PUBLIC") in found


def test_an_invisible_character_is_named_by_its_code_point_alone(builder):
    builder.zwl(product_name="回用水\u2060")  # (the schema may refuse it first: either way, named, never shown)
    found = problems(builder.root)
    assert found and all("\u2060" not in p.message for p in found)
    assert any("U+2060" in p.message for p in found)


def test_a_text_of_wide_characters_counts_its_width(builder):
    limit = FIELD_TYPES["text"](True, "x").max_length
    fits = "⸻" * math.floor(limit / R.char_width("⸻"))
    builder.zwl(product_name=fits)
    assert problems(builder.root) == []
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源", product_name=fits + "⸻")
    found = problems(builder.root)
    assert [(p.key, p.rule) for p in found] == [(("content", "product_name"), "REG-SCHEMA")]


def test_the_build_refuses_with_the_same_message_before_rendering(builder, tmp_path, monkeypatch):
    from certreg.publish.build import BuildError, build_site

    builder.zwl(product_name=f"回用水{EMOJI}")
    rendered = []
    monkeypatch.setattr(R, "render_pdf", lambda *a, **k: rendered.append(a) or b"")
    with pytest.raises(BuildError) as refused:
        build_site(ROOT / "mkdocs.yml", tmp_path / "site", DAY, registry=builder.root, pdf_dir=tmp_path / "pdfs")
    (message,) = [p.message for p in problems(builder.root)]
    assert message in str(refused.value) and "REG-PUBLIC" in str(refused.value)
    assert rendered == []


def test_new_and_decide_refuse_a_record_the_build_would_refuse(builder):
    n = builder.zwl()
    runner = CliRunner()
    result = runner.invoke(main, ["decide", "change", n, "--registry", str(builder.root), "--date", "2025-03-03",
                                  "--reason-zh", "名称变更", "--reason-en", "Renamed",
                                  "--set", f"changes.product_name=回用水{EMOJI}", "--as-of", "2025-06-30"])
    assert result.exit_code == 1 and "REG-PUBLIC" in result.output and "U+1F600" in result.output, result.output
    assert not list((builder.root / "certificates" / n / "decisions").glob("*change*"))
    sets = [f"--set={k}={v}" for k, v in {**{k: v for k, v in ZWL_CONTENT.items() if isinstance(v, str)},
                                          "product_name": f"回用水{EMOJI}"}.items()]
    sets += [f"--set={part}.{k}={v}" for part in ("client", "manufacturer", "factory") for k, v in
             ZWL_CONTENT[part].items()]
    sets += [f"--set=reporting_period.{k}={v}" for k, v in ZWL_CONTENT["reporting_period"].items()]
    sets += [f"--set=contact.{k}={v}" for k, v in ZWL_CONTENT["contact"].items()]
    sets += [f"--set=data_collection.{row}.{k}={v}" for row, values in ZWL_CONTENT["data_collection"].items()
             for k, v in values.items()]
    result = runner.invoke(main, ["new", "CEC-ZWL-2025-0009", "--registry", str(builder.root), "--scheme",
                                  "zero-waste-low-carbon-water", "--valid-from", "2025-05-06", *sets,
                                  "--as-of", "2025-06-30"], input="")
    assert result.exit_code == 1 and "REG-PUBLIC" in result.output, result.output
    assert not (builder.root / "certificates" / "CEC-ZWL-2025-0009").exists()
    # a registry that has such a problem already does not refuse every other record
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源", product_name=f"回用水{EMOJI}")
    result = runner.invoke(main, ["decide", "change", n, "--registry", str(builder.root), "--date", "2025-03-03",
                                  "--reason-zh", "规格变更", "--reason-en", "Changed",
                                  "--set", "changes.specification=初始温度 ≥ 65 ℃", "--as-of", "2025-06-30"])
    assert result.exit_code == 0, result.output


# --- the artwork ------------------------------------------------------------------------------------------------

SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY a "ha">\n'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
          + "]>\n" + SVG_OPEN + "<text>&j;</text></svg>")
PNG = base64.b64encode(bytes.fromhex(  # a 2×2 RGBA image
    "89504e470d0a1a0a0000000d494844520000000200000002080600000072b60d240000001449444154789c63d4cff7ffcfc0c0c0c0c4"
    "0005001cd801f09e6f08c10000000049454e44ae426082")).decode()
REFUSED = {
    "not-xml": b"\x89PNG\r\n\x1a\n not an svg",
    "malformed": SVG_OPEN.encode() + b"<rect></svg>",
    "not-svg-root": b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    "no-namespace": b"<svg><rect/></svg>",
    "billion-laughs": LAUGHS.encode(),
    "external-entity": ('<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                        + SVG_OPEN + "<text>&x;</text></svg>").encode(),
    "doctype": ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
                + SVG_OPEN + "</svg>").encode(),
    "xlink-http": (SVG_OPEN + '<image xlink:href="http://127.0.0.1:9/x.png" width="5" height="5"/></svg>').encode(),
    "href-file": (SVG_OPEN + '<image href="file:///etc/passwd" width="5" height="5"/></svg>').encode(),
    "href-relative": (SVG_OPEN + '<image href="logo.png" width="5" height="5"/></svg>').encode(),
    "use-external": (SVG_OPEN + '<use href="other.svg#shape"/></svg>').encode(),
    "css-import": (SVG_OPEN + "<style>@import url(http://127.0.0.1:9/x.css);</style></svg>").encode(),
    "css-url": (SVG_OPEN + "<style>rect { fill: url(http://127.0.0.1:9/p.svg#p) }</style><rect/></svg>").encode(),
    "css-escaped-url": (SVG_OPEN + r"<style>rect { fill: u\72l(file:///etc/x) }</style><rect/></svg>").encode(),
    "style-attribute-url": (SVG_OPEN + '<rect style="filter: url(\'https://x.example/f.svg#f\')"/></svg>').encode(),
    "attribute-url": (SVG_OPEN + '<rect fill="url(file:///etc/passwd#p)"/></svg>').encode(),
    "font-face": (SVG_OPEN + "<style>@font-face { font-family: X; src: url(data:font/otf;base64,AAAA) }</style>"
                  "</svg>").encode(),
    "stylesheet-pi": ('<?xml-stylesheet href="http://127.0.0.1:9/x.css"?>' + SVG_OPEN + "</svg>").encode(),
    "script": (SVG_OPEN + "<script>alert(1)</script></svg>").encode(),
    "event-handler": (SVG_OPEN + '<rect onload="alert(1)"/></svg>').encode(),
    "foreign-object": (SVG_OPEN + "<foreignObject><div xmlns='http://www.w3.org/1999/xhtml'>x</div>"
                       "</foreignObject></svg>").encode(),
    "broken-data-image": (SVG_OPEN + '<image href="data:image/png;base64,AAAA" width="5" height="5"/></svg>').encode(),
    "bad-checksum-image": (SVG_OPEN + '<image width="5" height="5" href="data:image/png;base64,' + base64.b64encode(
        bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63"
                      "60f8cfc0f01f0005000201a0a3a24a0000000049454e44ae426082")).decode() + '"/></svg>').encode(),
    "corrupt-data-image": (SVG_OPEN + '<image width="5" height="5" href="data:image/png;base64,' + base64.b64encode(
        bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 40).decode()
                           + '"/></svg>').encode(),
    "nested-svg-external": (SVG_OPEN + '<image width="5" height="5" href="data:image/svg+xml;base64,'
                            + base64.b64encode((SVG_OPEN + '<image href="http://127.0.0.1:9/x.png"/></svg>')
                                               .encode()).decode() + '"/></svg>').encode(),
}
ACCEPTED = (SVG_OPEN + '<defs><linearGradient id="g"><stop offset="0" stop-color="#2f6f4f"/></linearGradient>'
            '<rect id="r" width="4" height="4"/></defs><rect width="10" height="10" fill="url(#g)" '
            'style="stroke: url(#g)"/><use href="#r"/><use xlink:href="#r" x="5"/>'
            f'<image width="2" height="2" href="data:image/png;base64,{PNG}"/>'
            '<text x="1" y="9" font-family="CertSerif" font-size="3">样例</text></svg>').encode()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_artwork_that_is_not_a_self_contained_svg_is_refused(name):
    start = time.monotonic()
    with pytest.raises(ArtworkError):
        svg_check(REFUSED[name])
    assert time.monotonic() - start < 2  # (no entity is ever expanded)


def test_self_contained_artwork_is_accepted_and_its_text_read():
    assert svg_check(ACCEPTED) == "样例"
    for path in sorted((REGISTRY / "marks").glob("*.svg")):
        svg_check(path.read_bytes())


@pytest.mark.parametrize("name", ["billion-laughs", "xlink-http", "external-entity", "malformed"])
def test_validate_and_the_render_refuse_bad_artwork_alike(builder, name):
    builder.zwl()
    (builder.root / "marks" / "sample-mark.svg").write_bytes(REFUSED[name])
    found = problems(builder.root)
    settings = builder.root / "registry.yml"
    assert [where(p, builder.root) for p in found] == [("registry.yml", line_of(settings, "mark:"), "REG-LAYOUT")]
    assert "marks/sample-mark.svg" in found[0].message
    with pytest.raises(R.RenderError) as refused:  # the render path runs the same check
        R.jobs_for(check_registry(builder.root, DAY), None, BASE_URL)
    assert str(refused.value).endswith(found[0].message.split(" marks/sample-mark.svg ", 1)[1])


@pytest.mark.parametrize("drawn", ['<rect width="9" height="9" transform="rotate(abc)"/>',
                                   '<rect width="9" height="9" opacity="x"/>', '<g id="a"><use href="#a"/></g>'])
def test_artwork_that_weasyprint_cannot_draw_is_refused_and_a_good_one_drawn_once(builder, tmp_path, monkeypatch,
                                                                                   drawn):
    """Well-formed and self-contained, yet WeasyPrint's SVG drawer refuses it (only drawing finds it): validate
    draws the artwork as the certificates do, and remembers one that draws, by its bytes."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    builder.zwl()
    seal = builder.root / "marks" / "sample-seal.svg"
    good = seal.read_bytes()
    seal.write_bytes((SVG_OPEN + drawn + "</svg>").encode())
    found = problems(builder.root)
    assert [where(p, builder.root) for p in found] == [
        ("registry.yml", line_of(builder.root / "registry.yml", "seal:"), "REG-LAYOUT")]
    assert "cannot be drawn" in found[0].message
    seal.write_bytes(good)
    assert problems(builder.root) == []
    remembered = sorted((tmp_path / "cache" / "certreg" / "artwork-drawn").iterdir())
    assert len(remembered) == 2  # the mark and the seal, drawn once each
    monkeypatch.setattr(R, "draw_artwork", lambda *a: pytest.fail("drawn again"))
    assert problems(builder.root) == []


def test_without_the_font_validate_says_so_and_does_not_crash(builder, monkeypatch):
    builder.zwl()
    monkeypatch.setattr(R, "font_codepoints", lambda: (_ for _ in ()).throw(R.RenderError("the font is missing")))
    result = validate(builder.root)
    assert result.exit_code == 1 and "cannot check that the public texts can be printed" in result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_accepted_artwork_renders(builder, tmp_path):
    builder.zwl()
    (builder.root / "marks" / "sample-seal.svg").write_bytes(ACCEPTED)
    (builder.root / "marks" / "sample-mark.svg").write_bytes(ACCEPTED)
    checked = with_preflight(check_registry(builder.root, DAY))
    assert checked.report.ok, checked.report.problems
    done = R.render(checked, tmp_path, base_url=BASE_URL, jobs=1)
    assert done.failed == [] and len(done.written) == 1


# --- the longest records fit their page -------------------------------------------------------------------------

TEXT = FIELD_TYPES["text"](True, "x").max_length
LONG = FIELD_TYPES["longtext"](True, "x")
PARTY = {k: f.spec.max_length for k, f in FIELD_TYPES["party"](True, "x").fields.items()}
WIDEST_FIGURES = ("999999999999.999999", "1000000000000.000000")


def _cycle(pattern: str, n: int) -> str:
    return (pattern * (n // len(pattern) + 1))[:n]


def _by_width(ch: str, n: int) -> str:
    """As many ``ch`` as an n-character field takes (a character wider than a Chinese one counts its width)."""
    return ch * math.floor(n / max(1.0, R.char_width(ch)) + 1e-9)


def _words(n: int, word: int) -> str:
    """Latin words of ``word`` letters: just too long for two to share a line, each line half empty."""
    out = " ".join(_cycle("certification", word) for _ in range(n))
    return out[:n].rstrip()


# The kinds of text the validator accepts, each filling a field of n characters.
KINDS = {
    "cjk": lambda n: _cycle("中环联合认证中心零碳工厂产品回用水冷凝蒸汽管网龘齉", n),
    "latin": lambda n: _cycle("Zero-waste reused water, certified (see ISO 14064-2). ", n).strip(),
    "latin-long-words": lambda n: _words(n, 29),
    "latin-one-word": lambda n: _cycle("Pneumonoultramicroscopicsilicovolcanoconiosis", n),
    "latin-wide": lambda n: _by_width("W", n),
    "digits": lambda n: _cycle("0123456789", n),
    "full-width-punctuation": lambda n: _cycle("（龘）。，、；：？！《龘》【龘】「龘」", n),
    "ideographic-space": lambda n: _cycle("龘　", n - 1) + "龘",
    "mixed": lambda n: _cycle("江苏省南京市 No. 1 号楼 A-301 室，CO₂ ≥ 60 ℃；", n).strip(),
    "cyrillic-wide": lambda n: _by_width("Щ", n),
    "wide-dashes": lambda n: _by_width("⸻", n),
}


def _boundary(fill) -> str:
    """The longest longtext, in the most lines, each just over a line long (the most lines wasted)."""
    line, lines = 56, LONG.max_lines
    head = [fill(line) for _ in range(lines - 1)]
    width = sum(R.char_width(ch) for h in head for ch in h)
    rest = min(LONG.max_length - sum(len(h) for h in head) - (lines - 1), math.floor(LONG.max_length - width))
    return "\n".join(head + [fill(rest)])


def longest_content(fill) -> tuple[dict, dict]:
    party = lambda: {"name": fill(PARTY["name"]), "address": fill(PARTY["address"])}  # noqa: E731
    zcf = {**ZCF_CONTENT, "factory_name": fill(TEXT), "address": fill(TEXT), "industry": fill(TEXT),
           "main_products": fill(TEXT), "boundary": _boundary(fill), "emissions_tco2e": WIDEST_FIGURES[0],
           "offsets_tco2e": WIDEST_FIGURES[1]}
    zwl = {**ZWL_CONTENT, "product_name": fill(TEXT), "specification": fill(TEXT), "certification_unit": fill(TEXT),
           "functional_unit": fill(TEXT), "client": party(), "manufacturer": party(), "factory": party(),
           "raw_material_source": fill(TEXT), "waste_reduction_m3": WIDEST_FIGURES[0],
           "ghg_reduction_tco2e": WIDEST_FIGURES[1]}
    return zcf, zwl


def _limit(key: tuple) -> int:
    spec = REGISTRY_SPEC
    for part in key:
        spec = spec.fields[part].spec
    return spec.max_length


def longest_settings(root: Path, fill) -> None:
    """registry.yml with every printed setting at its longest."""
    path = root / "registry.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in (("publisher", "zh"), ("publisher", "en"), ("approval_number",), ("signatory", "name", "zh"),
                ("signatory", "name", "en"), ("signatory", "title", "zh"), ("signatory", "title", "en")):
        where = data
        for part in key[:-1]:
            where = where[part]
        where[key[-1]] = fill(_limit(key))
    path.write_text(dump(data), encoding="utf-8")


@pytest.fixture(scope="module")
def longest(tmp_path_factory):
    """A registry of the longest records (every kind of character, both schemes) under the longest settings,
    validated and rendered."""
    from certreg.records.specs import uscc_check_char
    from conftest import RegistryBuilder

    builder = RegistryBuilder(tmp_path_factory.mktemp("longest") / "registry")
    longest_settings(builder.root, KINDS["cjk"])
    for i, fill in enumerate(KINDS.values(), 1):
        zcf, zwl = longest_content(fill)
        code = f"91330600MA2B{i:05d}"  # (one factory a certificate: ZCF-11.2)
        builder.zcf(f"CEC-ZCF-2025-{i:04d}", **{**zcf, "credit_code": code + uscc_check_char(code)})
        builder.zwl(f"CEC-ZWL-2024-{i:04d}", **zwl)
    checked = with_preflight(check_registry(builder.root, DAY))
    out = tmp_path_factory.mktemp("longest-pdfs")
    done = R.render(checked, out, base_url=BASE_URL)
    return builder.root, checked, out, done


def test_the_longest_records_are_valid(longest):
    _, checked, _, _ = longest
    assert [p for p in checked.report.problems if p.level == "error"] == []
    assert len(checked.histories) == 2 * len(KINDS)


def test_the_longest_records_fit_their_page(longest):
    """Each renders (the render refuses a page whose text runs off it, into the footer or out of its box), on
    one certificate page and its guidance page."""
    _, checked, out, done = longest
    assert done.failed == [], "\n".join(done.failed)
    assert len(done.written) == 2 * len(KINDS)
    for name in done.written:
        assert len(PdfReader(out / name).pages) == 2, name


def test_the_longest_records_show_every_character(longest):
    """Nothing is cut: the certificate page's text (poppler, in the order it is drawn) holds every public text of the
    record."""
    import re

    _, checked, out, _ = longest

    def flat(text: str) -> str:
        return re.sub(r"\s+", "", text.translate(R.SUBSCRIPTS))

    for number, h in sorted(checked.histories.items()):
        shown = flat(subprocess.run(["pdftotext", "-raw", "-l", "1", "-enc", "UTF-8", str(out / R.pdf_name(number, 1)),
                                     "-"], capture_output=True, text=True, check=True).stdout)
        for name, f in h.cert.scheme.fields.items():
            if f["public"] and f["type"] in ("text", "longtext", "party"):
                value = h.cert.content[name]
                for text in (value.values() if isinstance(value, dict) else [value]):
                    assert flat(text) in shown, (number, name)


def test_one_character_more_is_refused(builder):
    zcf, zwl = longest_content(KINDS["cjk"])
    builder.zcf(**{**zcf, "industry": zcf["industry"] + "龘", "boundary": zcf["boundary"] + "\n龘"})
    builder.zwl(**{**zwl, "client": {"name": zwl["client"]["name"] + "龘", "address": zwl["client"]["address"]}})
    longest_settings(builder.root, KINDS["cjk"])
    settings = builder.root / "registry.yml"
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    data["signatory"]["title"]["zh"] += "龘"
    settings.write_text(dump(data), encoding="utf-8")
    found = {(p.path.name, ".".join(map(str, p.key)) or str(p.line)) for p in problems(builder.root)}
    assert {("certificate.yml", "content.industry"), ("certificate.yml", "content.boundary"),
            ("certificate.yml", "content.client.name"), ("registry.yml", "signatory.title.zh")} <= found, found


def test_a_page_that_runs_off_the_paper_is_caught_though_it_is_one_page(builder):
    """A frame longer than the page makes no second page: its bottom, the QR code and the seal with it, ran off the
    paper, and the render took it (it counted pages only). Now that step does not fit, and a smaller one is used."""
    builder.zwl(product_name=KINDS["cjk"](TEXT), specification=KINDS["cjk"](TEXT))
    checked = check_registry(builder.root, DAY)
    (job,) = R.jobs_for(checked, None, BASE_URL)
    mark = R._mark_path(checked.registry).parent
    page = R._layout(job.number, R.render_html(job.context), mark_dir=mark, one_page=False)
    assert len(page.pages) == 1 and "too far down the page" in R.does_not_fit(page)
    fits = [R.does_not_fit(R._layout(job.number, R.render_html(job.context, fit=step), mark_dir=mark, one_page=False))
            for step in R.FIT_STEPS]
    assert None in fits


def test_a_normal_certificate_is_laid_out_as_before():
    """The sample's certificates fit their page at the first step: they look exactly as they always did."""
    checked = check_registry(REGISTRY, dt.date(2026, 11, 21))
    mark = R._mark_path(checked.registry)
    for job in R.jobs_for(checked, None, BASE_URL)[:4]:
        html = R.render_html(job.context)
        assert 'class="page certificate"' in html
        page = R._layout(job.number, html, mark_dir=mark.parent, one_page=False)
        assert R.does_not_fit(page) is None, job.name


# --- a render worker's error ------------------------------------------------------------------------------------


def _failing_render(builder, tmp_path, how: str, jobs: int) -> subprocess.CompletedProcess:
    builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    builder.zwl("CEC-ZWL-2024-0003", raw_material_source="第三来源")
    code = f"""
import datetime as dt, os, sys
from pathlib import Path
from weasyprint.urls import FatalURLFetchingError
from certreg.publish import pdf as R
from certreg.rules.validate import check_registry

real = R.render_pdf
def render_pdf(number, *args, **kwargs):
    if number == "CEC-ZWL-2024-0002":
        if {how!r} == "fetch":
            raise FatalURLFetchingError("refused to load http://127.0.0.1:9/x.png: a certificate loads only its own")
        os._exit(9)  # a worker that dies (killed, or crashed)
    return real(number, *args, **kwargs)
R.render_pdf = render_pdf
done = R.render(check_registry(Path({str(builder.root)!r}), dt.date(2025, 6, 30)), Path({str(tmp_path / "out")!r}),
                base_url={BASE_URL!r}, jobs={jobs})
print("\\n".join(done.failed), file=sys.stderr)
sys.exit(1 if done.failed else 0)
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("jobs", [2, 1])
def test_a_refused_fetch_in_a_render_fails_that_pdf_with_its_message(builder, tmp_path, jobs):
    result = _failing_render(builder, tmp_path, "fetch", jobs)
    assert result.returncode == 1, result.stderr
    assert "CEC-ZWL-2024-0002" in result.stderr and "refused to load http://127.0.0.1:9/x.png" in result.stderr
    assert (tmp_path / "out" / "CEC-ZWL-2024-0001-v1.pdf").is_file()


def test_a_render_worker_that_dies_fails_the_render_and_never_hangs_it(builder, tmp_path):
    result = _failing_render(builder, tmp_path, "exit", 2)
    assert result.returncode == 1, result.stderr
    assert "ended abruptly" in result.stderr


def test_an_interrupt_in_the_parent_stops_the_render(builder, tmp_path, monkeypatch):
    builder.zwl()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(R, "render_pdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        R.render(check_registry(builder.root, DAY), tmp_path, base_url=BASE_URL, jobs=1)


def test_the_build_fails_with_a_render_worker_error_within_a_timeout(builder, tmp_path):
    """certreg build itself: a refused fetch raised in a render worker (a BaseException) ends the build with a
    non-zero exit and the certificate's number, in time (it used to hang the pool for ever)."""
    from conftest import site_config

    builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    config = site_config(tmp_path, builder.root)
    code = f"""
import sys
from weasyprint.urls import FatalURLFetchingError
from certreg.publish import pdf as R
real = R.render_pdf
def render_pdf(number, *args, **kwargs):
    if number == "CEC-ZWL-2024-0002":
        raise FatalURLFetchingError("refused to load http://127.0.0.1:9/track.png")
    return real(number, *args, **kwargs)
R.render_pdf = render_pdf
from certreg.cli import main
sys.argv = ["certreg", "build", "--as-of", "2025-06-30", "--config", {str(config)!r},
            "--out", {str(tmp_path / "site")!r}]
main()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode != 0
    assert "CEC-ZWL-2024-0002" in result.stderr and "refused to load http://127.0.0.1:9/track.png" in result.stderr
    assert not (tmp_path / "site").exists()

