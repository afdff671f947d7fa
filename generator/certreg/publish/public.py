"""Stage 4b, publish: what the public may see of the registry on one date, as plain data.

Every public output (verification pages, lists, announcements, feeds, open data, look-up index) is
made from these objects; none reads records or computes a status by itself. Only fields the scheme
marks public leave the registry (REG-PUBLIC).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .. import __version__
from ..records.model import number_order
from ..status import IN_FORCE, ZH, History, announced, summary


def plain(value):
    """A content value as JSON-ready data: dates as ISO text, decimals as numbers."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def dig(content: dict, dotted: str) -> str:
    """The text at ``dotted`` (``manufacturer.name``) of a version's content, "" where there is none: what a scheme's
    ``listing`` names as the holder and the product."""
    value: object = content
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def listed(scheme, public: dict) -> tuple[str, str]:
    """The holder and the product (``scheme``'s ``listing``: for a zero-carbon factory, the factory and its main
    products) of one version's public content (``public_content``), so read from its public fields alone
    (REG-PUBLIC): a scheme cannot name a private field there (records.specs refuses it), and were one to, it would
    show as empty, never leak."""
    return dig(public, scheme.listing["holder"]), dig(public, scheme.listing["product"])


@dataclass
class Announcement:
    """A numbered public announcement (公告) of a decision (REG-ANNOUNCE, ZWL-7.4)."""

    number: str  # YYYYMMDD-N, from its record: its date, then the order in which that day's were recorded
    date: dt.date
    certificate: str
    scheme: str
    action: str
    status_after: str
    version: int
    record: str
    reason: dict | None
    ground: str | None
    changed: list
    # who and what (the scheme's listing) as the records stood at the version the announcement leaves in force: a
    # buyer reading a suspension learns whose certificate of what it is without opening the certificate
    holder: str = ""
    product: str = ""

    def as_dict(self, base_url: str) -> dict:
        return {"number": self.number, "date": self.date.isoformat(), "certificate": self.certificate,
                "scheme": self.scheme, "holder": self.holder, "product": self.product, "action": self.action,
                "status_after": self.status_after, "version": self.version, "reason": self.reason,
                "ground": self.ground, "changed": self.changed, "record": self.record,
                "url": f"{base_url}{announcement_path(self)}#{anchor(self.number)}"}


def anchor(number: str) -> str:
    return f"a{number}"


def announcement_path(a: Announcement) -> str:
    """The page of a month's announcements: a stable address (a month's page only grows while it lasts)."""
    return f"announcements/{a.date:%Y-%m}/"


def certificate_path(number: str) -> str:
    return f"certificates/{number}/"


def announcements(histories: Mapping[str, History], as_of: dt.date) -> list[Announcement]:
    """Every announced decision up to ``as_of`` (REG-ANNOUNCE), in number order (date, then N).

    The number is the decision record's own (``announcement:``, written by certreg decide): a published
    number never moves, and a decision recorded late gets the next number free on its day.
    """
    found = []
    for number, h in histories.items():
        for e in h.timeline(as_of):
            d = e.decision
            if d is None or not announced(d) or "announcement" not in d.data:
                continue  # (a decision without its number is an error of the registry: REG-ANNOUNCE)
            day, n = d.data["announcement"].split("-")
            found.append(((day, int(n)), number, e, h))
    found.sort(key=lambda t: t[0])
    out = []
    for _, number, e, h in found:
        d = e.decision
        assert d is not None  # (only decisions were collected above)
        scheme = h.cert.scheme
        public = [f for f in d.data.get("changes", {}) if scheme.fields.get(f, {}).get("public")]
        holder, product = listed(scheme, public_content(h, h.versions[e.version - 1].content))
        out.append(Announcement(d.data["announcement"], e.date, number, scheme.key, e.action, e.status, e.version,
                                d.name, d.data.get("reason"), d.data.get("ground"), sorted(public), holder, product))
    return out


ISSUED = "issued/"  # beside a certificate's page: every version's PDF as issued, never changed (ZCF-11.3)


def pdf_name(number: str, version: int, reissue: int = 0) -> str:
    """The file name of a certificate version's PDF: as first issued, or as issued anew by its ``reissue``-th
    recorded re-issue (REG-APPEND: every PDF once published keeps its name and bytes for ever)."""
    return f"{number}-v{version}.pdf" if not reissue else f"{number}-v{version}-r{reissue}.pdf"


def issues_of(h: History, version: int, as_of: dt.date) -> list[tuple[int, dt.date]]:
    """Every issue of a version's PDF up to ``as_of``: (0, its date) as first issued, then (k, date) for the
    k-th recorded re-issue. The last one is the copy offered for download."""
    v = h.versions[version - 1]
    return [(0, v.date)] + [(k, day) for k, day in enumerate(h.reissues.get(version, []), 1) if day <= as_of]


def public_content(h: History, version_content: dict) -> dict:
    """The public fields of one version's content (REG-PUBLIC), in the scheme's order, as plain data."""
    fields = h.cert.scheme.fields
    return {name: plain(version_content[name]) for name, f in fields.items()
            if f["public"] and name in version_content}


def certificate_view(h: History, as_of: dt.date, base_url: str, numbers: dict[str, list[str]],
                     pdfs: bool = True) -> dict | None:
    """Everything the public sees of one certificate on ``as_of`` (None if not issued by then).

    ``numbers`` maps a certificate to the numbers of its announcements.
    """
    row = summary(h, as_of)
    if row is None:
        return None
    cert = h.cert
    scheme = cert.scheme.key
    current = h.version_on(as_of)
    assert current is not None
    versions = [v for v in h.versions if v.date <= as_of]
    content = public_content(h, current.content)
    holder, product = listed(cert.scheme, content)
    fields = cert.scheme.fields

    def public(names) -> list[str]:  # REG-PUBLIC: not even the names of private fields
        return [n for n in names if fields.get(n, {}).get("public")]

    status = row["status"]
    since = max(start for start, st in h.segments if start <= as_of)
    view = {
        "number": cert.number,
        "scheme": scheme,
        "status": status,
        "status_zh": ZH[status],
        "status_since": since.isoformat(),
        "as_of": as_of.isoformat(),
        "version": current.number,
        "version_date": current.date.isoformat(),
        "issued": (h.issued or cert.valid_from).isoformat(),
        "valid_from": row["valid_from"],
        "valid_until": row["valid_until"],
        "follows": cert.follows,
        "use_permitted": status == "valid",
        "holder": holder,
        "product": product,
        "content": content,
        # a version no longer current keeps what it certified (the current one's is ``content``): the page the QR code
        # of an older paper opens shows what that paper says, beside what changed since
        "versions": [{"version": v.number, "date": v.date.isoformat(), "changed": public(v.changed),
                      **({} if v.number == current.number else {"content": public_content(h, v.content)})}
                     for v in versions],
        "timeline": [_public_event(e, event.decision, public, cert.scheme)
                     for e, event in zip(row["timeline"], h.timeline(as_of), strict=True)],
        "announcements": numbers.get(cert.number, []),
        "url": base_url + certificate_path(cert.number),
        "pdf": f"{base_url}{certificate_path(cert.number)}{pdf_name(cert.number, current.number)}" if pdfs else None,
    }
    if pdfs:  # every version: the copy offered (marked if not current and valid) and the PDF as issued
        from .stamp import marking

        for v in view["versions"]:
            name = pdf_name(cert.number, v["version"])
            v.update(pdf=view["url"] + name, pdf_issued=view["url"] + ISSUED + name,
                     marked=marking(view, v["version"]))
            again = issues_of(h, v["version"], as_of)[1:]
            if again:  # recorded re-issues: each PDF as issued anew (the copy offered is the newest)
                v["reissues"] = [{"reissue": k, "date": day.isoformat(),
                                  "pdf_issued": view["url"] + ISSUED + pdf_name(cert.number, v["version"], k)}
                                 for k, day in again]
    if "suspended_since" in row:
        view["suspended_since"] = row["suspended_since"]
        view["suspension_limit"] = row["suspension_limit"]
    if "closures_overdue" in row:  # ZWL-6.3: shown while CEC has not recorded them
        view["closures_overdue"] = row["closures_overdue"]
    if "surveillance_due" in row:  # ZWL-6.1: shown, and flagged when CEC has not acted in time
        view["surveillance_due"] = row["surveillance_due"]
        view["surveillance_overdue"] = row["surveillance_overdue"]
    return view


def _public_event(e: dict, d, public, scheme) -> dict:
    """A line of the timeline (status.Event.as_dict of the event of decision ``d``, None for expiry), with only
    the public fields a change changed (REG-PUBLIC), and, where the scheme publishes it, that the decision came
    after its deadline and why (late, late_reason)."""
    out = {**e, "changed": public(e["changed"])} if "changed" in e else dict(e)
    if d is not None and d.data.get("late") and scheme.data.get("late_reason_public"):
        out["late"] = {rule: day.isoformat() for rule, day in d.data["late"].items()}
        out["late_reason"] = d.data["late_reason"]
    return out


def in_renewal_window(view: dict, h: History, as_of: dt.date) -> bool:
    """ZWL-7.2: a certificate in force whose expiry is within the scheme's renewal window."""
    months = h.cert.scheme.validity.get("renewal_window_months")
    if not months or view["status"] not in IN_FORCE:
        return False
    from ..rules.dates import add_months

    until = h.cert.valid_until
    return add_months(as_of, months) >= until >= as_of


RECORDS_FORMAT = "certreg-records/1"  # data/records.json: what REG-APPEND compares with the live site


def _digest(value) -> str:
    """The SHA-256 of a value's canonical JSON (RFC 8785): the same public fields give the same hash anywhere."""
    import hashlib

    return hashlib.sha256(canonical(plain(value))).hexdigest()


_SAFE_INT = 2**53 - 1


def canonical(value) -> bytes:
    """``value``'s canonical JSON (RFC 8785, as ``rfc8785.dumps`` makes it), by Python's C JSON encoder where that
    gives the same bytes, ten times faster: text without lone surrogates, integers within ±(2^53 - 1), booleans,
    null, numbers with a fraction between 1e-4 and 1e16 (ECMAScript writes a number with the shortest digits that
    read back, as Python's repr, and in that range in the same notation), lists, and objects whose keys are ASCII
    (RFC 8785 orders keys by their UTF-16 code units: for ASCII, the order of Python's sort). Anything else (1e-7,
    2.0 or -0.0, say) is made by rfc8785."""
    import json

    import rfc8785

    if _plain_json(value):
        with contextlib.suppress(UnicodeEncodeError):  # (a lone surrogate: rfc8785 escapes it)
            return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return rfc8785.dumps(value)


def _plain_json(value) -> bool:
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    if isinstance(value, float):
        return 1e-4 <= abs(value) < 1e16 and not value.is_integer()
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain_json(v) for k, v in value.items())
    return False


def public_records(histories: Mapping[str, History], as_of: dt.date) -> dict[str, str]:
    """REG-APPEND, record by record: each published certificate version, decision and announcement (key) and the
    hash of its canonical public fields (REG-PUBLIC), never of any rendering. A build that would delete or change
    one of these is refused (``build.losses``); a change of template, library or page layout changes none."""
    out: dict[str, str] = {}
    for number, h in histories.items():
        cert = h.cert
        scheme = cert.scheme
        fields = scheme.fields
        for v in h.versions:
            if v.date > as_of:
                break
            out[f"certificate/{number}/v{v.number}"] = _digest({
                "number": number, "scheme": scheme.key, "version": v.number, "date": v.date,
                "valid_from": cert.valid_from, "valid_until": cert.valid_until, "follows": cert.follows,
                "content": public_content(h, v.content)})
        for e in h.timeline(as_of):
            d = e.decision
            if d is None:
                continue
            spec = scheme.decision_spec(d.action).fields
            public = {k: v for k, v in d.data.items() if k in spec and spec[k].public and k != "changes"}
            if "changes" in d.data:  # only the public fields a change sets (REG-PUBLIC)
                public["changes"] = {k: v for k, v in d.data["changes"].items() if fields.get(k, {}).get("public")}
            # (late: and late_reason: are left out: they say when CEC acted, not what it decided, and whether they
            # are shown is a scheme setting, which a hash of published records must not depend on)
            public = {k: v for k, v in public.items() if k not in ("late", "late_reason")}
            out[f"decision/{number}/{d.name}"] = _digest(public)
    for a in announcements(histories, as_of):
        out[f"announcement/{a.number}"] = _digest({"number": a.number, "date": a.date, "certificate": a.certificate,
                                                   "record": a.record, "action": a.action})
    return dict(sorted(out.items()))


@dataclass
class Published:
    """The whole public registry on one date: certificate views, announcements and the renewal window."""

    as_of: dt.date
    base_url: str
    registry: dict  # name, publisher, sample
    schemes: dict  # key -> {name, code, fields: {name: label}}
    certificates: list[dict]  # views, ordered by number (records.model.number_order: 9999 before 10000)
    announcements: list[Announcement]  # in number order
    renewal_window: list[str]  # certificate numbers, soonest expiry first
    records: dict  # key of each published record -> the hash of its public fields (REG-APPEND)
    generator: str = f"certreg {__version__}"
    # certificate number -> the digest of its view but followed_by (publish.reuse.digest; view_digest puts the two
    # together): what the pages and files that show it are keyed by (default: made from the view)
    digests: dict = field(default_factory=dict)
    # certificate number -> its view but followed_by as compact JSON in UTF-8 (view_json), where it is known already
    texts: dict = field(default_factory=dict)
    # certificate number -> what the look-up finds it by (lookup.terms), where it is known already
    terms: dict = field(default_factory=dict)


def view_digest(view: dict, made: str | None = None) -> str:
    """The key of a certificate's public view: the digest of the view but its followed_by (``made``, if known), with
    the certificates that follow it (which the registry as a whole tells)."""
    from .reuse import digest

    if made is None:
        made = digest({k: v for k, v in view.items() if k != "followed_by"})
    return digest(made, view.get("followed_by", []))


def compact_json(value) -> str:
    """``value`` as the open data writes each certificate's view, an announcement...: compact JSON, as written."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def view_json(view: dict, made: bytes | None = None) -> bytes:
    """``compact_json(view)`` in UTF-8, from ``made`` (that of the view but its last key, followed_by, which
    ``publish`` adds to it once the registry is known), if known: a certificate whose records have not changed is
    not encoded again (at 10,000 certificates, 0.4 s of the open data after one decision). (Bytes: the text of a view
    with a Chinese character in it takes two bytes a character in memory, where UTF-8 takes one for most.)"""
    if made is None or len(made) < 3 or list(view)[-1:] != ["followed_by"]:  # (b"{}": no key to put it after)
        return compact_json(view).encode()
    return made[:-1] + b',"followed_by":' + compact_json(view["followed_by"]).encode() + b"}"


@dataclass
class Part:
    """What one certificate gives the public registry on a date: its view (None if not issued by then), whether it
    is in its renewal window, its published records' hashes and its announcements (each certificate's own: every
    one is made from its History alone)."""

    view: dict | None
    renewal: bool
    records: dict[str, str]
    announcements: list[Announcement]
    digest: str  # of the view (publish.reuse.digest): what the pages and files showing it are keyed by
    text: bytes | None = None  # the view as compact JSON in UTF-8 (view_json)
    # what the look-up finds it by (lookup.terms: its texts, its grams' masks): the index is put together from these
    terms: tuple[list[str], str, bytes] | None = None


def part(number: str, h: History, as_of: dt.date, base_url: str, pdfs: bool) -> Part:
    from .lookup import terms
    from .reuse import digest

    own = announcements({number: h}, as_of)
    view = certificate_view(h, as_of, base_url, {number: [a.number for a in own]}, pdfs)
    return Part(view, view is not None and in_renewal_window(view, h, as_of), public_records({number: h}, as_of), own,
                digest(view), None if view is None else view_json(view),
                None if view is None else terms(view, h.cert.scheme.fields))


def parts(checked, base_url: str, pdfs: bool) -> dict[str, Part]:
    """Each certificate's Part. Where the check used the cache (``checked.cache``), the Parts are kept there too,
    by the certificate folder's key, under a context of the registry's settings and schemes as the check read them,
    the date, the address, ``pdfs`` and the code and templates that publish: a folder that has not changed gives its
    Part without its view being made again (at 10,000 certificates, 4 s of a build after one decision)."""
    as_of = checked.as_of
    cache = checked.cache
    if cache is None:
        return {n: part(n, h, as_of, base_url, pdfs) for n, h in checked.histories.items()}
    from .layer import _code_identity

    kept = cache.sibling(("publication", as_of.isoformat(), base_url, pdfs, _code_identity()))
    root = Path(kept.given) / "certificates"
    keys = kept.keys([root / n for n in checked.histories])
    found = kept.get([k for k in keys.values() if k is not None])
    out, made = {}, {}
    for n in checked.histories:  # (a history is read only where its Part is made: cache.Deferreds)
        key = keys[root / n]
        got = found.get(key) if key is not None else None
        if not isinstance(got, Part):
            got = part(n, checked.histories[n], as_of, base_url, pdfs)
            if key is not None:
                made[key] = got
        out[n] = got
    kept.put(made)
    return out


def publish(checked, base_url: str, *, pdfs: bool = True) -> Published:
    """The public view of a checked registry on its as-of date (``pdfs``: whether the PDFs are published)."""
    as_of = checked.as_of
    reg = checked.registry
    each = parts(checked, base_url, pdfs)
    anns = sorted((a for p in each.values() for a in p.announcements),
                  key=lambda a: (a.number.split("-")[0], int(a.number.split("-")[1])))
    views, window = [], []
    for number in sorted(each, key=number_order):
        view = each[number].view
        if view is None:
            continue
        views.append(view)
        if each[number].renewal:
            window.append((view["valid_until"], number))
    schemes = {key: {"name": s.data["name"], "code": s.code,
                     "fields": {n: f["label"] for n, f in s.fields.items() if f["public"]}}
               for key, s in sorted(reg.schemes.items())}
    registry = {k: reg.settings[k] for k in ("name", "publisher", "sample", "enquiries", "icp_filing")
                if k in reg.settings}
    successors: dict[str, list[str]] = {}
    for v in views:  # the renewal or next reporting year that follows a certificate (ZWL-7.2, ZCF-11.2)
        if v["follows"]:
            successors.setdefault(v["follows"], []).append(v["number"])
    for v in views:
        v["followed_by"] = successors.get(v["number"], [])
    window.sort(key=lambda t: (t[0], number_order(t[1])))
    records = dict(sorted(r for p in each.values() for r in p.records.items()))
    return Published(as_of, base_url, registry, schemes, views, anns, [n for _, n in window], records,
                     digests={v["number"]: each[v["number"]].digest for v in views},
                     texts={v["number"]: each[v["number"]].text for v in views if each[v["number"]].text},
                     terms={v["number"]: each[v["number"]].terms for v in views if each[v["number"]].terms})
