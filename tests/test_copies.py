"""The PDFs the site publishes: every version as issued (the archive, never changed) and the copy offered
for download, which says across every page when it is not the valid certificate's current version."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from pypdf import PdfReader

from certreg.publish.build import build_site, losses
from certreg.publish.pdf import RenderError
from certreg.publish.stamp import notice, stamp
from certreg.rules.validate import check_registry
from conftest import REGISTRY, ROOT, SAMPLE_AS_OF

# What a marked copy says, written out from the statuses' meaning (ZCF-12, ZWL-7.4), not from the code
HEADLINE = {"suspended": ("已暂停", "SUSPENDED"), "revoked": ("已撤销", "REVOKED"),
            "cancelled": ("已注销", "CANCELLED"), "expired": ("已过期", "EXPIRED"),
            "superseded": ("已被取代", "SUPERSEDED")}


def zh(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def pages_text(path) -> list[str]:
    return ["".join(p.extract_text().split()) for p in PdfReader(path).pages]


def test_every_version_is_published_as_issued_and_as_an_honest_copy(built):
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    pdfs = built.parent / "pdfs"
    seen = {"marked": set(), "unmarked": 0}
    count = 0
    for number, h in sorted(checked.histories.items()):
        folder = built / "certificates" / number
        data = json.loads((folder / "certificate.json").read_text(encoding="utf-8"))
        status, current = h.status_on(SAMPLE_AS_OF), data["version"]
        for v in h.versions:
            count += 1
            name = f"{number}-v{v.number}.pdf"
            issued, offered = folder / "issued" / name, folder / name
            assert issued.read_bytes() == (pdfs / name).read_bytes(), name
            for f in (issued, offered):  # copies, not hard links into certs/
                assert f.stat().st_nlink == 1, f
            entry = next(e for e in data["versions"] if e["version"] == v.number)
            assert entry["pdf"] == data["url"] + name and entry["pdf_issued"] == data["url"] + "issued/" + name
            if status == "valid" and v.number == current:
                assert offered.read_bytes() == issued.read_bytes(), name
                assert entry["marked"] is None
                seen["unmarked"] += 1
                continue
            kind = status if status != "valid" else "superseded"
            assert entry["marked"] == kind
            seen["marked"].add(kind)
            words = [*HEADLINE[kind]]
            if status in ("suspended", "revoked", "cancelled"):
                words.append(zh(data["status_since"]))
            if status == "expired":
                words.append(zh(data["valid_until"]))
            if v.number < current:
                words.append(f"已被第{v.number + 1}版取代")
            texts = pages_text(offered)
            assert len(texts) == len(PdfReader(issued).pages) == 2
            for i, text in enumerate(texts):
                missing = [w for w in words if w not in text]
                assert not missing, f"{name} page {i + 1} lacks {missing}"
    assert count == 18  # every version of the sample: 16 certificates, two of them changed once
    assert seen["marked"] == set(HEADLINE) and seen["unmarked"] > 0


def test_the_notice_says_what_the_certificate_is_now():
    view = {"number": "X", "status": "valid", "status_since": "2025-04-22", "version": 2, "valid_until": "2028-04-21",
            "url": "https://r.example/certificates/X/",
            "versions": [{"version": 1, "date": "2025-04-22"}, {"version": 2, "date": "2025-10-21"}]}
    assert notice(view, 2) is None
    superseded = notice(view, 1)
    assert superseded["headline"] == {"zh": "已被取代", "en": "SUPERSEDED"}
    assert superseded["lines"][0] == {"zh": "本版已被第2版取代（2025年10月21日）",
                                      "en": "This version was superseded by version 2 on 21 October 2025"}
    assert superseded["lines"][-1]["en"] == "The registry is authoritative for its status: https://r.example/certificates/X/"
    suspended = notice(dict(view, status="suspended", status_since="2026-01-05"), 2)
    assert suspended["headline"]["en"] == "SUSPENDED"
    assert suspended["lines"][0]["zh"] == "本证书自2026年1月5日起暂停，暂停期间不得使用"
    both = notice(dict(view, status="revoked", status_since="2026-03-09"), 1)
    assert both["headline"]["zh"] == "已撤销"
    assert [line["zh"] for line in both["lines"][:2]] == ["本证书已于2026年3月9日撤销，不得再使用",
                                                          "本版已被第2版取代（2025年10月21日）"]
    expired = notice(dict(view, status="expired", status_since="2028-04-22"), 2)
    assert expired["lines"][0]["en"] == "Its validity ended on 21 April 2028: it may no longer be used"
    with pytest.raises(RenderError, match="X: no notice for the status 'lost'"):
        notice(dict(view, status="lost"), 2)


def test_the_published_pdf_as_issued_is_the_archive(built, tmp_path):
    """A PDF as issued, once published, is what every later build publishes, whatever a render gives now."""
    out = tmp_path / "site"
    shutil.copytree(built, out)
    number = "CEC-ZWL-2024-0001"  # valid, one version: its offered copy is the PDF as issued
    kept = out / "certificates" / number / "issued" / f"{number}-v1.pdf"
    archived = (built / "certificates" / "CEC-ZWL-2026-0001" / "issued" / "CEC-ZWL-2026-0001-v1.pdf").read_bytes()
    kept.write_bytes(archived)  # the archive holds other bytes than a render would give today
    build_site(ROOT / "mkdocs.yml", out, SAMPLE_AS_OF, pdf_dir=built.parent / "pdfs")
    assert kept.read_bytes() == archived
    assert (kept.parent.parent / f"{number}-v1.pdf").read_bytes() == archived


def test_a_pdf_as_issued_that_would_disappear_or_change_is_a_loss(built, tmp_path):
    new = tmp_path / "new"
    shutil.copytree(built, new)
    assert losses(built, new) == []
    gone = new / "certificates" / "CEC-ZWL-2024-0001" / "issued" / "CEC-ZWL-2024-0001-v1.pdf"
    gone.unlink()
    changed = new / "certificates" / "CEC-ZCF-2026-0001" / "issued" / "CEC-ZCF-2026-0001-v2.pdf"
    data = bytearray(changed.read_bytes())
    data[len(data) // 2] ^= 1  # one bit, the same size
    changed.write_bytes(bytes(data))
    lost = losses(built, new)
    assert len(lost) == 2
    assert "REG-APPEND" in lost[0] and "CEC-ZCF-2026-0001-v2.pdf" in lost[0] and "would change" in lost[0]
    assert "CEC-ZWL-2024-0001-v1.pdf" in lost[1] and "would disappear" in lost[1]


def test_a_marked_copy_is_the_same_bytes_each_time(built):
    """The same PDF and notice give the same copy (pikepdf names an overlay at random unless told a name)."""
    issued = (built / "certificates" / "CEC-ZCF-2025-0002" / "issued" / "CEC-ZCF-2025-0002-v1.pdf").read_bytes()
    note = {"headline": {"zh": "已撤销", "en": "REVOKED"}, "lines": [{"zh": "测试", "en": "test"}]}
    first, second = stamp(issued, note, "CEC-ZCF-2025-0002"), stamp(issued, note, "CEC-ZCF-2025-0002")
    assert first == second
    published = built / "certificates" / "CEC-ZCF-2025-0002" / "CEC-ZCF-2025-0002-v1.pdf"
    view = json.loads((published.parent / "certificate.json").read_text(encoding="utf-8"))
    assert stamp(issued, notice(view, 1), view["number"]) == published.read_bytes()


def test_a_build_without_pdfs_cannot_replace_a_site_that_publishes_them(built, tmp_path):
    from certreg.publish.build import BuildError

    out = tmp_path / "site"
    shutil.copytree(built, out)
    with pytest.raises(BuildError, match="REG-APPEND the PDF as issued certificates/CEC-ZCF-2025-0001/issued/"):
        build_site(ROOT / "mkdocs.yml", out, SAMPLE_AS_OF, pdfs=False)
    assert (out / "certificates" / "CEC-ZCF-2025-0001" / "issued" / "CEC-ZCF-2025-0001-v1.pdf").is_file()


def test_a_published_pdf_changes_only_by_a_recorded_reissue(builder, tmp_path):
    """REG-APPEND: a build publishes a PDF as issued again as it was (here: bytes a render would not give
    today, as after a library upgrade), until a reissue decision is recorded. The re-issue is published
    beside it under a name of its own; the first stays, and the copy offered is the newest."""
    n = builder.zwl()
    out, pdfs, config = tmp_path / "site", tmp_path / "pdfs", ROOT / "mkdocs.yml"
    build_site(config, out, dt.date(2025, 6, 30), pdf_dir=pdfs, registry=builder.root)
    issued = out / "certificates" / n / "issued" / f"{n}-v1.pdf"
    rendered = issued.read_bytes()
    assert rendered[9:14] == b"%\xf0\x9f\x96\xa4"  # the binary comment on the PDF's second line
    older = rendered[:10] + b"\xe2\x80\xa2\xa5" + rendered[14:]  # as an older renderer made it: other bytes
    assert older != rendered
    issued.write_bytes(older)
    (issued.parent.parent / f"{n}-v1.pdf").write_bytes(older)
    build_site(config, out, dt.date(2025, 6, 30), pdf_dir=pdfs, registry=builder.root)
    assert issued.read_bytes() == older and (issued.parent.parent / f"{n}-v1.pdf").read_bytes() == older
    builder.decide(n, "reissue", "2025-07-01", versions=[1],
                   reason={"zh": "更正认证机构批准号后重新签发",
                           "en": "Issued anew with the approval number corrected"})
    build_site(config, out, dt.date(2025, 7, 2), pdf_dir=pdfs, registry=builder.root)
    again = issued.parent / f"{n}-v1-r1.pdf"
    assert issued.read_bytes() == older  # the PDF first issued stays as it was published
    assert again.read_bytes() == rendered  # issued anew from today's inputs
    assert (issued.parent.parent / f"{n}-v1.pdf").read_bytes() == rendered  # the copy offered: the newest
    cert = json.loads((out / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert cert["versions"][0]["reissues"] == [{"reissue": 1, "date": "2025-07-01",
                                                "pdf_issued": f"{cert['url']}issued/{n}-v1-r1.pdf"}]
    assert cert["timeline"][-1]["action"] == "reissue" and cert["timeline"][-1]["versions"] == [1]
    page = (out / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert f"issued/{n}-v1-r1.pdf" in page and "2025-07-01 重新签发的原件" in page
    # and the re-issued PDF, once published, is the archive like any other
    again.write_bytes(older)
    build_site(config, out, dt.date(2025, 7, 3), pdf_dir=pdfs, registry=builder.root)
    assert again.read_bytes() == older
