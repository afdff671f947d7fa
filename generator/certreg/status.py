"""Stage 3, status: a certificate's history, and its status on any date, from its records alone.

``history(cert)`` replays the decisions in the order they take effect and
returns status segments, content versions and suspensions, plus the REG-ORDER
problems of decisions that the sequence does not allow (those are skipped).
Everything here is a pure function of the records; the as-of date is only ever
an argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .problems import Problem
from .records.model import Certificate, Decision
from .rules.dates import DAY, add_months

TERMINAL = ("revoked", "cancelled", "expired")
IN_FORCE = ("valid", "suspended")
ZH = {"valid": "有效", "suspended": "暂停", "revoked": "撤销", "cancelled": "注销", "expired": "过期"}
# REG-ANNOUNCE: the decisions announced publicly (公告), and a failed surveillance, which suspends (ZWL-6.3)
ANNOUNCED = ("suspend", "restore", "revoke", "cancel", "change")


def announced(d: Decision) -> bool:
    """Whether decision ``d`` is announced, and so carries an announcement number (REG-ANNOUNCE)."""
    return d.action in ANNOUNCED or (d.action == "surveillance" and d.data.get("outcome") == "fail")


@dataclass
class Version:
    """One version of the certificate content: 1 at issue, one more per change (ZWL-7.3)."""

    number: int
    date: dt.date
    content: dict
    changed: tuple = ()
    decision: Decision | None = None


@dataclass
class Suspension:
    """A suspension: when it began, the last day it may last, and how it ended (if it did)."""

    start: dt.date
    limit: dt.date
    decision: Decision
    end: dt.date | None = None
    ended_by: str | None = None  # restore, revoke, cancel or expire


@dataclass
class Event:
    """One line of the public timeline."""

    date: dt.date
    action: str
    status: str
    version: int
    decision: Decision | None = None

    def as_dict(self) -> dict:
        d = {"date": self.date.isoformat(), "action": self.action, "status": self.status,
             "version": self.version}
        if self.decision is not None:
            d["record"] = self.decision.name
            reason = self.decision.data.get("reason")
            if reason:
                d["reason"] = reason
            if self.action == "change":
                d["changed"] = sorted(self.decision.data["changes"])  # (required of a change)
            for key in ("ground", "outcome", "until", "corrects", "announcement", "versions"):
                if key in self.decision.data:
                    value = self.decision.data[key]
                    d[key] = value.isoformat() if isinstance(value, dt.date) else value
        return d


@dataclass
class History:
    """All a certificate's decisions replayed: what its status and content were on each day."""

    cert: Certificate
    segments: list = field(default_factory=list)  # (first day, status), in date order
    versions: list = field(default_factory=list)
    suspensions: list = field(default_factory=list)
    events: list = field(default_factory=list)
    applied: list = field(default_factory=list)  # decisions that took effect
    # version -> the dates its PDF was issued anew (reissue decisions, REG-APPEND), in order
    reissues: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def issued(self) -> dt.date | None:
        return self.segments[0][0] if self.segments else None

    def status_on(self, day: dt.date) -> str | None:
        """The status on ``day``; None before the certificate was issued."""
        found = None
        for start, status in self.segments:
            if start > day:
                break
            found = status
        return found

    def version_on(self, day: dt.date) -> Version | None:
        found = None
        for v in self.versions:
            if v.date > day:
                break
            found = v
        return found

    def suspension_on(self, day: dt.date) -> Suspension | None:
        for s in self.suspensions:
            if s.start <= day and (s.end is None or day < s.end):
                return s
        return None

    def timeline(self, day: dt.date) -> list[Event]:
        return [e for e in self.events if e.date <= day]

    def in_force(self) -> tuple[dt.date, dt.date] | None:
        """First day and day after the last day the certificate was in force (valid or suspended)."""
        if not self.segments:
            return None
        # (a history ends in a terminal status: expired, if nothing else ended it first)
        end = next(start for start, status in self.segments if status in TERMINAL)
        return self.segments[0][0], end


def _problem(d: Decision, message: str, rule="REG-ORDER", key=("action",)) -> Problem:
    return Problem(d.path, "error", rule, message, key=key)


def history(cert: Certificate) -> History:
    """Replay ``cert``'s decisions (already sorted by the loader) into a History."""
    h = History(cert)
    max_months = cert.scheme.max_suspension["months"]
    status: str | None = None
    since = None
    open_suspension: Suspension | None = None

    def move(day, new):
        nonlocal status, since
        status, since = new, day
        h.segments.append((day, new))

    def suspend(d: Decision):
        nonlocal open_suspension
        move(d.date, "suspended")
        open_suspension = Suspension(d.date, add_months(d.date, max_months), d)
        h.suspensions.append(open_suspension)

    def end_suspension(day, how):
        nonlocal open_suspension
        if open_suspension is not None:
            open_suspension.end, open_suspension.ended_by = day, how
            open_suspension = None

    def expire():
        expiry = cert.valid_until + DAY
        end_suspension(expiry, "expire")
        move(expiry, "expired")
        h.events.append(Event(expiry, "expire", "expired", len(h.versions)))

    for d in cert.decisions:
        a = d.action
        if status in IN_FORCE and d.date > cert.valid_until:
            expire()
        corrects = a == "change" and "corrects" in d.data
        if status == "expired" and not corrects:
            h.problems.append(_problem(d, f"dated {d.date}, after the certificate expired ({cert.valid_until} "
                                          "was its last day); nothing may follow expiry except a change that "
                                          "corrects a clerical error (with corrects:)", key=("date",)))
            continue
        if status in TERMINAL and not corrects:
            h.problems.append(_problem(d, f"the certificate is {status} since {since}; nothing may follow except "
                                          "a change that corrects a clerical error (with corrects:)"))
            continue
        if a == "issue":
            if status is not None:
                h.problems.append(_problem(d, f"the certificate was already issued on {h.issued}; a certificate "
                                              "is issued once (a renewal is a new certificate with follows:)"))
                continue
            move(d.date, "valid")
            h.versions.append(Version(1, d.date, cert.content, (), d))
        elif status is None:
            h.problems.append(_problem(d, f"a {a} before the certificate was issued; add the issue decision first "
                                          "or correct the date", key=("date",)))
            continue
        elif a == "change":
            changes = d.data["changes"]  # (required of a change)
            new = {**h.versions[-1].content, **changes}
            h.versions.append(Version(len(h.versions) + 1, d.date, new, tuple(changes), d))
        elif a == "suspend":
            if status != "valid":
                by = (" (a failed surveillance suspends it by itself)"
                      if open_suspension and open_suspension.decision.action == "surveillance" else "")
                h.problems.append(_problem(d, f"suspend is allowed only from valid, but the certificate is "
                                              f"{status} since {since}{by}"))
                continue
            suspend(d)
        elif a == "restore":
            if status != "suspended":
                h.problems.append(_problem(d, f"restore is allowed only from suspended, but the certificate is "
                                              f"{status} since {since}"))
                continue
            end_suspension(d.date, "restore")
            move(d.date, "valid")
        elif a in ("revoke", "cancel"):  # (from valid or suspended: every other status is refused above)
            end_suspension(d.date, a)
            move(d.date, "revoked" if a == "revoke" else "cancelled")
        elif a == "reissue":
            known = [v for v in d.data["versions"] if 1 <= v <= len(h.versions)]  # (required of a reissue)
            if len(known) != len(d.data["versions"]):
                h.problems.append(_problem(d, f"reissues a version the certificate does not have on {d.date} (it has "
                                              f"versions 1 to {len(h.versions)})", rule="REG-APPEND",
                                           key=("versions",)))
                continue
            for v in known:
                h.reissues.setdefault(v, []).append(d.date)
        elif a == "surveillance" and d.data.get("outcome") == "fail" and status == "valid":
            suspend(d)  # ZWL-6.3: a failed surveillance suspends the certificate (ZWL-7.4 then applies)
        h.applied.append(d)
        assert status is not None  # every path above that leaves it None has continued
        h.events.append(Event(d.date, a, status, len(h.versions), d))
    if status in IN_FORCE:
        expire()
    return h


def surveillance_due(h: History, day: dt.date) -> dt.date | None:
    """ZWL-6.1: the day by which the next surveillance is due, for a certificate in force on ``day`` whose scheme
    has surveillance: the scheme's interval after the last surveillance recorded by then (or the issue). A
    surveillance held late restarts the interval from its own date."""
    sv = h.cert.scheme.data.get("surveillance")
    if not sv or h.status_on(day) not in IN_FORCE or h.issued is None:
        return None
    last = max((d.date for d in h.applied if d.action == "surveillance" and d.date <= day), default=h.issued)
    return add_months(last, sv["interval_months"])


def handles_closure(o: Decision) -> bool:
    """ZWL-6.3: whether ``o`` settles the nonconformities an earlier surveillance found: a surveillance that
    verifies them closed (pass) or not (fail, which suspends), or a suspension, revocation or cancellation."""
    return (o.action == "surveillance" and o.data.get("outcome") in ("pass", "fail")) or o.action in (
        "suspend", "revoke", "cancel")


def nonconformity_closures(h: History) -> list[tuple[Decision, dt.date, list[Decision]]]:
    """ZWL-6.3: each applied surveillance that found nonconformities, the last day their closure is due
    (``nonconformity_close_months`` after it), and the later applied decisions that settle them (handles_closure),
    in order. Read by closures_overdue (overdue on a day) and Checks.surveillance (verified after the limit)."""
    sv = h.cert.scheme.data.get("surveillance")
    if not sv:
        return []
    out = []
    for d in h.applied:
        if d.action != "surveillance" or d.data.get("outcome") != "nonconformities":
            continue
        limit = add_months(d.date, sv["nonconformity_close_months"])
        out.append((d, limit, [o for o in h.applied if o.order > d.order and handles_closure(o)]))
    return out


def closures_overdue(h: History, day: dt.date) -> list[tuple[Decision, dt.date]]:
    """ZWL-6.3: the surveillances that found nonconformities whose closure is overdue on ``day``, with the last
    day it was due. Verified (a later surveillance that passed, or failed and so suspended it; after the limit,
    that verification is late: Checks.surveillance), or suspended, revoked or cancelled after it (by ``day``: a
    decision of a later day has not been taken on ``day``), or the certificate ended by the limit: none is due."""
    span = h.in_force()
    if span is None:
        return []
    out = []
    for d, limit, settling in nonconformity_closures(h):
        handled = any(o.date <= day for o in settling)
        if not handled and span[1] > limit and limit < day:
            out.append((d, limit))
    return out


def summary(h: History, day: dt.date) -> dict | None:
    """What ``certreg status`` shows of one certificate on ``day``; None if not yet issued then."""
    status = h.status_on(day)
    if status is None:
        return None
    version = h.version_on(day)
    assert version is not None  # issued on or before ``day``, so version 1 exists
    out = {
        "number": h.cert.number,
        "scheme": h.cert.scheme.key,
        "status": status,
        "status_zh": ZH[status],
        "as_of": day.isoformat(),
        "version": version.number,
        "version_date": version.date.isoformat(),
        "valid_from": h.cert.valid_from.isoformat(),
        "valid_until": h.cert.valid_until.isoformat(),
        "follows": h.cert.follows,
        "timeline": [e.as_dict() for e in h.timeline(day)],
    }
    closures = closures_overdue(h, day) if status in IN_FORCE else []
    if closures:  # ZWL-6.3: nonconformities whose closure CEC has not recorded in time
        out["closures_overdue"] = [{"found": d.date.isoformat(), "due": limit.isoformat()} for d, limit in closures]
    due = surveillance_due(h, day)
    if due is not None:
        out["surveillance_due"] = due.isoformat()
        out["surveillance_overdue"] = day > due
    s = h.suspension_on(day)
    if s is not None:  # (a suspension covers ``day`` exactly when the status is suspended)
        out["suspended_since"] = s.start.isoformat()
        out["suspension_limit"] = s.limit.isoformat()
        out["suspension_overdue"] = day > s.limit
    return out
