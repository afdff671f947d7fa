"""Stage 4b, copies: the PDF the site offers of each certificate version, made from the as-issued PDF.

The as-issued PDF is the record (ZCF-11.3 keeps it ten years) and is published unchanged at a stable
address. The copy offered for download says across every page what the certificate is now when that is
not "valid, and this is its current version": suspended, revoked, cancelled or expired, with the date, and
superseded by a later version. A valid certificate's current version is offered as issued, unmarked.
"""

from __future__ import annotations

import io
from pathlib import Path

HEADLINES = {
    "suspended": {"zh": "已暂停", "en": "SUSPENDED"},
    "revoked": {"zh": "已撤销", "en": "REVOKED"},
    "cancelled": {"zh": "已注销", "en": "CANCELLED"},
    "expired": {"zh": "已过期", "en": "EXPIRED"},
    "superseded": {"zh": "已被取代", "en": "SUPERSEDED"},
}


def marking(view: dict, version: int) -> str | None:
    """What the copy of ``version`` is marked as (a status, or "superseded"); None when it is offered as
    issued: the current version of a valid certificate."""
    if view["status"] != "valid":
        return view["status"]
    return "superseded" if version < view["version"] else None


def notice(view: dict, version: int) -> dict | None:
    """What the copy of ``version`` of the certificate ``view`` (publish.public.certificate_view) must say
    across its pages, or None for the current version of a valid certificate."""
    from .pdf import RenderError, date_en, date_zh

    status, since = view["status"], view["status_since"]
    lines, headline = [], None
    if status == "suspended":
        lines.append({"zh": f"本证书自{date_zh(since)}起暂停，暂停期间不得使用",
                      "en": f"Suspended since {date_en(since)}: it may not be used while suspended"})
    elif status in ("revoked", "cancelled"):
        word = {"revoked": ("撤销", "Revoked"), "cancelled": ("注销", "Cancelled")}[status]
        lines.append({"zh": f"本证书已于{date_zh(since)}{word[0]}，不得再使用",
                      "en": f"{word[1]} on {date_en(since)}: it may no longer be used"})
    elif status == "expired":
        lines.append({"zh": f"本证书有效期已于{date_zh(view['valid_until'])}届满，不得再使用",
                      "en": f"Its validity ended on {date_en(view['valid_until'])}: it may no longer be used"})
    elif status != "valid":
        raise RenderError(f"{view['number']}: no notice for the status {status!r}: the statuses are valid, "
                          + ", ".join(HEADLINES))
    if status != "valid":
        headline = HEADLINES[status]
    if version < view["version"]:
        later = next(v for v in view["versions"] if v["version"] == version + 1)
        lines.append({"zh": f"本版已被第{version + 1}版取代（{date_zh(later['date'])}）",
                      "en": f"This version was superseded by version {version + 1} on {date_en(later['date'])}"})
        headline = headline or HEADLINES["superseded"]
    if not lines:
        return None
    lines.append({"zh": f"证书状态以证书登记册为准：{view['url']}",
                  "en": f"The registry is authoritative for its status: {view['url']}"})
    return {"headline": headline, "lines": lines}


def stamp(original: bytes, note: dict, number: str) -> bytes:
    """``original`` with ``note`` laid over every page (pikepdf, i.e. qpdf: the pages' own content is kept
    as it is, byte for byte, under the notice). The same inputs give the same bytes."""
    import pikepdf

    from .pdf import render_overlay

    overlay = render_overlay(number, "stamp", {"notice": note})
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(original)) as pdf, pikepdf.open(io.BytesIO(overlay)) as over:
        notice_form = pdf.copy_foreign(over.pages[0].as_form_xobject())
        for page in pdf.pages:
            # pikepdf's add_overlay, with a fixed resource name (it draws a random one: other bytes each time)
            name = page.add_resource(notice_form, pikepdf.Name.XObject, pikepdf.Name("/CertregNotice"))
            placed = page.calc_form_xobject_placement(notice_form, name, pikepdf.Rectangle(page.trimbox))
            page.contents_add(b"q\n", prepend=True)
            page.contents_add(b"Q\n" + placed, prepend=False)
            page.contents_coalesce()
        pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()




def publish_copies(view: dict, folder: Path, rendered: Path, archive: Path | None) -> None:
    """Write every published version's PDF of the certificate ``view`` into its page's ``folder``: as issued
    under ``issued/`` (the archive's copy where the published site has one: once published it never changes,
    whatever a later render would give; else the one rendered into ``rendered``), and the copy offered for
    download beside the page, marked by ``notice`` where it must be."""
    from .public import ISSUED, pdf_name

    (folder / ISSUED).mkdir(parents=True, exist_ok=True)
    for v in view["versions"]:
        issued = b""
        for k in [0] + [r["reissue"] for r in v.get("reissues", [])]:  # as first issued, then each re-issue
            name = pdf_name(view["number"], v["version"], k)
            kept = archive / ISSUED / name if archive is not None else None
            issued = (kept if kept is not None and kept.is_file() else rendered / name).read_bytes()
            (folder / ISSUED / name).write_bytes(issued)
        note = notice(view, v["version"])  # the copy offered: the newest issue, marked where it must be
        (folder / pdf_name(view["number"], v["version"])).write_bytes(
            stamp(issued, note, view["number"]) if note else issued)
