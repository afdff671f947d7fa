"""What the certificate page says by Chinese official-document conventions: dates, the version, the
signatory, the seal and the approval number from registry.yml, and where to verify it."""

from __future__ import annotations

import datetime as dt
import re

import yaml
from pypdf import PdfReader

from certreg.publish.pdf import date_en, date_zh
from certreg.rules.validate import check_registry
from conftest import REGISTRY, SAMPLE_AS_OF

SITE = "https://registry.cec-certification.example/"


def test_dates_are_written_as_chinese_and_english_text_write_them():
    assert [date_zh(d) for d in ("2025-01-07", "2026-12-31", "2024-02-29")] == ["2025年1月7日", "2026年12月31日",
                                                                                "2024年2月29日"]
    assert [date_en(d) for d in ("2025-01-07", "2026-12-31", "2024-02-29")] == ["7 January 2025", "31 December 2026",
                                                                                "29 February 2024"]


def test_the_certificate_page_says_when_which_version_who_signed_and_where_to_verify(built):
    settings = yaml.safe_load((REGISTRY / "registry.yml").read_text(encoding="utf-8"))
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    for number, h in sorted(checked.histories.items()):
        for v in h.versions:
            path = built / "certificates" / number / "issued" / f"{number}-v{v.number}.pdf"
            raw = PdfReader(path).pages[0].extract_text()
            text = "".join(raw.split())
            issued = (h.issued or h.cert.valid_from).isoformat()
            expected = [f"第{v.number}版", date_zh(issued), "".join(date_en(issued).split()),
                        date_zh(h.cert.valid_from.isoformat()) + "至" + date_zh(h.cert.valid_until.isoformat()),
                        settings["approval_number"], settings["signatory"]["name"]["zh"],
                        settings["signatory"]["title"]["zh"], "".join(settings["signatory"]["name"]["en"].split()),
                        "样例印章", SITE]
            if v.number > 1:
                expected.append(date_zh(v.date.isoformat()))
            missing = [e for e in expected if e not in text]
            assert not missing, f"{path.name} lacks {missing}"
            assert not re.search(r"\bv\d", raw), f"{path.name} writes a version as v1: {raw!r}"
            assert not re.search(r"\d{4}-\d{2}-\d{2}", raw), f"{path.name} writes a date as YYYY-MM-DD"


def test_the_seal_artwork_must_be_in_the_registry(builder):
    builder.zwl("CEC-ZWL-2024-0001")
    (builder.root / "marks" / "sample-seal.svg").unlink()
    c = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    found = [(p.path.name, p.rule, p.message) for p in c.report.problems]
    assert ("registry.yml", "REG-LAYOUT", "the seal artwork marks/sample-seal.svg is not in the registry") in found


def test_the_signatory_and_approval_number_are_required(builder):
    text = (builder.root / "registry.yml").read_text(encoding="utf-8")
    kept = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("approval_number", "signatory", "  name:", "  title:")))
    (builder.root / "registry.yml").write_text(kept + "\n", encoding="utf-8")
    c = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    said = [p.message for p in c.report.problems if p.rule == "REG-SCHEMA"]
    assert any("approval_number" in m for m in said) and any("signatory" in m for m in said), said


def test_the_signatory_approval_number_and_seal_come_from_the_registry(builder, tmp_path):
    """Another registry's settings and seal artwork give another certificate: nothing is the template's."""
    from certreg.publish.pdf import render

    settings = yaml.safe_load((builder.root / "registry.yml").read_text(encoding="utf-8"))
    settings.update(approval_number="CNCA-R-2099-123", sample=False,
                    signatory={"name": {"zh": "李四", "en": "Li Si"},
                               "title": {"zh": "总经理", "en": "General Manager"}})
    (builder.root / "registry.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    seal = builder.root / "marks" / "sample-seal.svg"
    seal.write_text(seal.read_text(encoding="utf-8").replace("#b23a2e", "#0000ff"), encoding="utf-8")
    builder.zwl("CEC-ZWL-2024-0001")
    checked = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    assert checked.report.ok, checked.report.problems
    done = render(checked, tmp_path, base_url=SITE, jobs=1)
    assert done.failed == []
    pdf = tmp_path / "CEC-ZWL-2024-0001-v1.pdf"
    text = "".join(PdfReader(pdf).pages[0].extract_text().split())
    for wanted in ("CNCA-R-2099-123", "总经理李四", "GeneralManagerLiSi"):
        assert wanted in text, wanted
    assert "样例" not in text and "SAMPLE" not in text  # a real registry's certificate says no SAMPLE
    content = PdfReader(pdf).pages[0].get_contents().get_data()
    assert b"0 0 1 rg" in content  # the seal artwork's own colour: the registry's file is drawn
