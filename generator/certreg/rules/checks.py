"""Stage 2, validate: the certification rules that need more than one field or more than one record.

Each check cites the rule of ``rules.md`` it enforces. Checks only read the
typed records and their ``History``; every finding goes to the report and
nothing stops at the first one. Limits that depend on time are judged on the
as-of date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..problems import Report
from ..records.model import Certificate, Decision, Scheme, dig, number_order, texts
from ..status import History, Version, announced, closures_overdue, history, nonconformity_closures
from .dates import DAY, CalendarUnknown, add_months, add_working_days, anniversary, working_days_after

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Chinese mobile and landline numbers, written with or without spaces or dashes between the groups
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+86[ -]?)?(?:1[3-9][0-9](?:[ -]?[0-9]{4}){2}"
                    r"|0[1-9][0-9]{1,2}[ -]?[1-9][0-9]{2,3}[ -]?[0-9]{4})(?![0-9A-Za-z])")


class Checks:
    """The rules of one certificate on its own, judged on one as-of date."""

    def __init__(self, as_of: dt.date, report: Report):
        self.as_of = as_of
        self.report = report
        # decision path -> {rule: (the last day it was due, binding, the key of the late field)}: the deadlines
        # each decision missed
        self.missed: dict[Path, dict[str, tuple[dt.date, bool, tuple]]] = {}
        self.unknown: dict[Path, set[str]] = {}  # deadlines the holiday calendar cannot tell (REG-CALENDAR)

    # --- helpers -----------------------------------------------------------------------------

    def error(self, path, rule, message, key=()):
        self.report.error(path, rule, message, key=key)

    def overdue(self, path, rule, message, key=()):
        """An error that only the as-of date makes: an action now due (see Problem.overdue)."""
        self.report.error(path, rule, message, key=key, overdue=True)

    def warning(self, path, rule, message, key=()):
        self.report.warning(path, rule, message, key=key)

    def late(self, d: Decision, rule: str, deadline: dt.date, message: str, *, binding=True, key=("date",)):
        """A decision taken after its deadline: recorded as it happened, and a warning for CEC's own records
        (its timeliness), never an error that holds the decision back. A binding deadline's lateness is
        recorded in the decision itself (late: and late_reason:, see ``late_records``)."""
        recorded = (" (recorded as late, with the reason)" if rule in (d.data.get("late") or {})
                    and d.data.get("late_reason") else "")
        self.warning(d.path, rule, message + recorded, key)
        self.missed.setdefault(d.path, {})[rule] = (deadline, binding, key)

    def incomplete(self, path, rule, message, key=()):
        """A published record that does not yet say all it should (a late decision without its late record):
        an error for staff, which holds no publication back (see Problem.overdue), since a published record is
        never rewritten and a calendar update can make a decision of the past late."""
        self.report.error(path, rule, message, key=key, overdue=True)

    def late_records(self, cert: Certificate):
        """A late decision says so (late: RULE: DEADLINE, and late_reason: zh and en); a timely one does not.
        A deadline the holiday calendar cannot tell (REG-CALENDAR) accepts what the record says."""
        for d in cert.decisions:
            missed = self.missed.get(d.path, {})
            unknown = self.unknown.get(d.path, set())
            given = d.data.get("late") or {}
            binding = {rule: (deadline, key) for rule, (deadline, must, key) in missed.items() if must}
            for rule, (deadline, key) in binding.items():
                if rule not in given:
                    why = "" if d.data.get("late_reason") else " and late_reason: (zh and en, why CEC acted late)"
                    self.incomplete(d.path, rule, f"the decision came after its deadline ({deadline}); record it as "
                                                  f"it happened, with late: {{{rule}: {deadline}}}{why}; certreg "
                                                  "decide asks for them", ("late",) if given else key)
            for rule, day in given.items():
                if rule in unknown:
                    continue
                if rule not in missed:
                    self.incomplete(d.path, "REG-SCHEMA", f"late: {rule}: the decision did not miss a deadline of "
                                                          f"{rule}; remove it", ("late", rule))
                elif day != missed[rule][0]:
                    self.incomplete(d.path, rule, f"late: {rule}: the deadline was {missed[rule][0]}, not {day}",
                                    ("late", rule))
            if binding and set(binding) <= set(given) and not d.data.get("late_reason"):
                self.incomplete(d.path, next(iter(binding)), "a decision taken after its deadline needs "
                                                             "late_reason: (zh and en), why CEC acted late", ("late",))
            if d.data.get("late_reason") and not missed and not unknown:
                self.incomplete(d.path, "REG-SCHEMA", "late_reason is given but the decision met its deadlines; "
                                                      "remove it (and late:)", ("late_reason",))

    # --- entry point ---------------------------------------------------------------------------


    def certificate(self, cert: Certificate, h: History):
        scheme = cert.scheme
        if not scheme.number_re.fullmatch(cert.number):
            self.error(cert.path, scheme.number["rule"],
                       f"{cert.number} does not have the {scheme.key} number pattern "
                       f"(e.g. {scheme.number['example']})", ("number",))
        self.validity(cert)
        if "net_zero" in scheme.data:
            self.net_zero(cert, h)
        issues = [d for d in cert.decisions if d.action == "issue"]
        if not issues:
            self.error(cert.path, "REG-ORDER", "the certificate has no issue decision; add "
                                               f"decisions/{cert.valid_from}-issue.yml", ("number",))
        for d in cert.decisions:
            if d.action not in scheme.actions:
                self.error(d.path, scheme.mode_rule, f"the {scheme.key} scheme has no {d.action} decisions "
                           f"(its decisions are: {', '.join(scheme.actions)})", ("action",))
                continue
            self.deadlines(cert, d)
            self.announcement(d)
            getattr(self, f"on_{d.action}")(cert, h, d)
        self.suspension_limits(cert, h)
        if scheme.data.get("surveillance"):
            self.surveillance(cert, h)
        self.late_records(cert)
        self.public_text(cert)

    # --- the certificate record --------------------------------------------------------------

    def validity(self, cert: Certificate):
        v = cert.scheme.validity
        rule = v["rule"]
        if cert.valid_until < cert.valid_from:
            self.error(cert.path, rule, f"valid_until {cert.valid_until} is before valid_from {cert.valid_from}",
                       ("valid_until",))
            return
        if v["kind"] == "fixed-term":
            want = anniversary(cert.valid_from, v["years"]) - DAY
            if cert.valid_until != want:
                self.error(cert.path, rule, f"a {cert.scheme.key} certificate is valid {v['years']} years: "
                                            f"from {cert.valid_from}, valid_until must be {want}, "
                                            f"not {cert.valid_until}", ("valid_until",))
        elif v["kind"] == "reporting-period":
            if cert.valid_until == cert.valid_from:
                self.error(cert.path, rule, f"valid_until must lie after the issue date {cert.valid_from}",
                           ("valid_until",))
            period = cert.content["reporting_period"]
            last_day = add_months(period["start"], v["max_period_months"]) - DAY
            if period["end"] > last_day:
                self.error(cert.path, rule, f"the reporting period {period['start']} – {period['end']} is longer "
                                            f"than {v['max_period_months']} months (it may end on {last_day} "
                                            "at the latest); each reporting year is its own certificate",
                           ("content", "reporting_period", "end"))
            if cert.valid_from <= period["end"]:
                self.error(cert.path, rule, f"issued {cert.valid_from}, before the reporting period ended "
                                            f"({period['end']}); a reporting year is certified after it ends",
                           ("valid_from",))
            limit = add_months(period["end"], v["max_months_after_period"])
            if cert.valid_until > limit:
                self.error(cert.path, rule, f"valid_until {cert.valid_until} is more than "
                                            f"{v['max_months_after_period']} months after the reporting period "
                                            f"ends ({period['end']}); the latest allowed is {limit}",
                           ("valid_until",))

    def net_zero(self, cert: Certificate, h: History):
        """ZCF-net-zero (interpretation): the offsets cover the emissions inside the boundary, in every version."""
        nz = cert.scheme.net_zero
        versions = h.versions or [None]
        for v in versions:
            if v is not None and v.number > 1 and not {nz["emissions"], nz["offsets"]} & set(v.changed):
                continue  # the figures did not change: any problem is reported where they were set
            content = v.content if v else cert.content
            e, o = content[nz["emissions"]], content[nz["offsets"]]
            if e - o <= 0:
                continue
            key: tuple
            if v is None or v.number == 1:
                path, key = cert.path, ("content", nz["offsets"])
            else:  # the change that broke it
                path, key = v.decision.path, ("changes",)
            self.error(path, nz["rule"], f"emissions {e} tCO₂e exceed offsets {o} tCO₂e by {e - o}: the factory "
                                         "is not zero-carbon; check both figures", key)

    # --- decisions -----------------------------------------------------------------------------

    def deadlines(self, cert: Certificate, d: Decision):
        for rule in cert.scheme.deadlines:
            if rule["action"] != d.action:
                continue
            start, end = d.get(rule["from"]), d.get(rule["to"])
            if start is None or end is None:
                continue
            if end <= start:  # out of order: REG-ORDER reports that (on_issue, facts_before); or the same day, which
                continue      # any limit allows (and the holiday calendar need not be asked about)
            delay = ""
            if "working_days" in rule:
                n, unit = rule["working_days"], "working days"
                try:
                    limit = add_working_days(start, n)
                except CalendarUnknown as exc:
                    self.unknown.setdefault(d.path, set()).add(rule["rule"])
                    self.warning(d.path, "REG-CALENDAR", f"cannot check {rule['rule']} ({n} working days for "
                                                         f"{rule['what']}): {exc}", tuple(rule["to"].split(".")))
                    continue
            else:
                n, unit = rule["days"], "days"
                extra = d.get(rule["excluding"]) if "excluding" in rule else None
                limit = start + dt.timedelta(days=n + (extra or 0))
                if extra:  # ZWL-5.2.3: the client's delays do not count
                    delay = f" plus {extra} day{'' if extra == 1 else 's'} of client delay ({rule['excluding']})"
            if end > limit:
                over = working_days_after(limit, end) if "working_days" in rule else (end - limit).days
                late_unit = unit if over != 1 else unit[:-1]
                # (a rest day after the last working day allowed is late by no working day, but late)
                lateness = f"{over} {late_unit} late" if over else "late, on a rest day after the deadline"
                # a binding deadline (CEC "shall"), or one that holds only "normally" (level: warning)
                self.late(d, rule["rule"], limit, f"{rule['what']} is due within {n} {unit}{delay} of "
                                                  f"{rule['from']} ({start}), by {limit}, but {rule['to']} is "
                                                  f"{end}: {lateness}",
                          binding=rule.get("level", "error") == "error",
                          key=tuple(rule["to"].split(".")))

    def announcement(self, d: Decision):
        """REG-ANNOUNCE: an announced decision's number starts with its date; other decisions have none.
        (A missing or taken number is reported across the registry: ``Across.announcement_numbers``.)"""
        number = d.data.get("announcement")
        if number is None:
            return
        if not announced(d):
            self.error(d.path, "REG-ANNOUNCE", f"a {d.action} decision is not announced"
                                               + (" (only a failed surveillance is)" if d.action == "surveillance"
                                                  else "") + "; remove announcement:", ("announcement",))
        elif number.split("-")[0] != f"{d.date:%Y%m%d}":
            self.error(d.path, "REG-ANNOUNCE", f"announcement {number} does not start with the decision's date "
                                               f"({d.date:%Y%m%d}): an announcement number is YYYYMMDD-N",
                       ("announcement",))

    def on_issue(self, cert: Certificate, h: History, d: Decision):
        scheme = cert.scheme
        if d.date != cert.valid_from:
            self.error(d.path, "REG-ORDER", f"issued {d.date} but the certificate is valid from "
                                            f"{cert.valid_from}; the issue date is the first day of validity",
                       ("date",))
        app = d.data["application"]
        if app["received"] > app["accepted"]:
            self.error(d.path, "REG-ORDER", f"the application was accepted {app['accepted']}, before it was "
                                            f"received ({app['received']})", ("application", "accepted"))
        if app["accepted"] > d.date:
            self.error(d.path, "REG-ORDER", f"the application was accepted {app['accepted']}, after the issue "
                                            f"{d.date}", ("application", "accepted"))
        closed = d.data.get("nonconformities_closed")
        if closed is not None and closed > d.date:
            self.error(d.path, "REG-ORDER", f"nonconformities closed {closed}, after the issue {d.date}",
                       ("nonconformities_closed",))
        minimum = scheme.min_person_days
        if d.data["person_days"] < minimum["value"]:
            days = d.data["person_days"]
            self.error(d.path, minimum["rule"], f"{days} person-day{'' if days == 1 else 's'} on site; at least "
                                                f"{minimum['value']} are required", ("person_days",))
        planned = d.data.get("planned_person_days")
        if ("adjustment_rule" in minimum and planned is not None and planned != d.data["person_days"]
                and not d.data.get("adjustment_justification")):
            self.error(d.path, minimum["adjustment_rule"],
                       f"the person-days were adjusted from {planned} to {d.data['person_days']}; record why in "
                       "adjustment_justification", ("person_days",))
        self.team(cert, d)
        pre = scheme.data.get("prerequisites")
        if pre:
            checked = d.data.get("prerequisites_checked", [])
            for i, item in enumerate(checked):
                if item not in pre["items"]:
                    self.error(d.path, pre["rule"], f'unknown prerequisite "{item}"; the prerequisites are: '
                                                    + ", ".join(pre["items"]), ("prerequisites_checked", i))
            missing = [k for k in pre["items"] if k not in checked]
            if missing:
                self.error(d.path, pre["rule"], "prerequisites not confirmed: " + ", ".join(missing)
                           + "; a certificate is issued only when all are checked", ("prerequisites_checked",))

    def team(self, cert: Certificate, d: Decision):
        rules = cert.scheme.team
        team = d.data["team"]
        leaders = [m for m in team if m["role"] == "leader"]
        if len(leaders) != 1:
            self.error(d.path, rules["rule"], f"the team needs exactly one leader, not {len(leaders)}", ("team",))
        qualified = [m for m in team if set(m.get("qualifications", ())) & set(rules["qualifications"])]
        wanted = " or ".join(rules["qualifications"])
        if rules["qualification_needed"] == "any" and not qualified:
            self.error(d.path, rules["rule"], f"no team member is qualified as {wanted}; at least one must be",
                       ("team",))
        if rules["qualification_needed"] == "each":
            for i, m in enumerate(team):
                if m["role"] != "expert" and m not in qualified:
                    self.error(d.path, rules["rule"], f"{m['name']} is not registered as {wanted}; every "
                                                      "inspector must be (technical experts excepted)",
                               ("team", i))
        years = rules.get("no_consulting_years")
        for i, m in enumerate(team):
            if years and m.get("consulted_applicant"):
                self.error(d.path, rules["rule"], f"{m['name']} gave the applicant consulting in the last {years} "
                                                  "years and may not audit it", ("team", i))

    def on_change(self, cert: Certificate, h: History, d: Decision):
        # rules.md models a change of either scheme on ZWL-7.3 (the only clause on changes)
        if not d.data["changes"]:
            self.error(d.path, "ZWL-7.3", "the change lists no field; give the fields that change under changes:",
                       ("changes",))
        immutable = cert.scheme.immutable
        for name in d.data["changes"]:
            if name in immutable["fields"]:
                self.error(d.path, immutable["rule"], f"{name} cannot change on an issued certificate; certify "
                                                      f"the new {name.replace('_', ' ')} with a new certificate",
                           ("changes", name))
        version = next((v for v in h.versions if v.decision is d), None)  # (a change's version is 2 or more)
        if version is not None:
            before = h.versions[version.number - 2].content
            same = [n for n, value in d.data["changes"].items() if before.get(n) == value]
            if same:
                self.error(d.path, "ZWL-7.3", "the change repeats the current value of " + ", ".join(same)
                           + "; list only what changes", ("changes", same[0]))
        corrects = d.data.get("corrects")
        if corrects and not any(o.name == corrects and o.order < d.order for o in cert.decisions):
            self.error(d.path, "REG-APPEND", f"corrects {corrects}, which is not an earlier decision of "
                                             f"{cert.number}", ("corrects",))

    def on_suspend(self, cert: Certificate, h: History, d: Decision):
        self.facts_before(d)
        until = d.data.get("until")
        limit = add_months(d.date, cert.scheme.max_suspension["months"])
        if until is not None and until > limit:
            self.error(d.path, cert.scheme.max_suspension["rule"],
                       f"the suspension would end {until}, more than {cert.scheme.max_suspension['months']} months "
                       f"after it began ({d.date}); the latest end is {limit}", ("until",))
        if until is not None and until <= d.date:
            self.error(d.path, cert.scheme.max_suspension["rule"], f"the suspension would end {until}, before "
                                                                   f"it begins ({d.date})", ("until",))

    def on_restore(self, cert: Certificate, h: History, d: Decision):
        s = next((s for s in h.suspensions if s.end == d.date and s.ended_by == "restore"), None)
        if s is None:
            return  # not a legal restore: REG-ORDER already reported it
        rv = d.data["rectification_verified"]
        if not s.start <= rv <= d.date:
            self.error(d.path, cert.scheme.max_suspension["restore_rule"],
                       f"rectification verified {rv}, which is not within the suspension ({s.start} – {d.date})",
                       ("rectification_verified",))
        if d.date > s.limit:  # recorded as it happened: CEC restored it after the limit
            rule = cert.scheme.max_suspension["rule"]
            self.late(d, rule, s.limit, f"restored {d.date}, after the suspension's limit ({s.limit}, "
                                        f"{cert.scheme.max_suspension['months']} months from {s.start}); a "
                                        "certificate not restored in time is revoked")

    def on_revoke(self, cert: Certificate, h: History, d: Decision):
        self.facts_before(d)
        ground = cert.scheme.grounds["revoke"]["choices"][d.data["ground"]]  # (the schema admits only these)
        if ground.get("after_suspension_limit"):
            s = next((s for s in h.suspensions if s.end == d.date and s.ended_by == "revoke"), None)
            if s is None:
                self.error(d.path, cert.scheme.grounds["revoke"]["rule"],
                           f"ground {d.data['ground']} needs a suspension that outlived its limit, but the "
                           "certificate was not suspended", ("ground",))
            elif d.date <= s.limit:
                self.error(d.path, cert.scheme.grounds["revoke"]["rule"],
                           f"ground {d.data['ground']}: the suspension's limit is {s.limit}, not yet passed on "
                           f"{d.date}; revoke on another ground, or on this one from {s.limit + DAY}",
                           ("ground",))

    def on_cancel(self, cert: Certificate, h: History, d: Decision):
        requested = d.data.get("requested")
        if requested is not None and requested > d.date:
            self.error(d.path, "REG-ORDER", f"requested {requested}, after the cancellation {d.date}",
                       ("requested",))

    def on_reissue(self, cert: Certificate, h: History, d: Decision):
        """REG-APPEND: a published PDF changes only by a recorded re-issue, which names each version once."""
        versions = d.data["versions"]
        twice = sorted({v for v in versions if versions.count(v) > 1})
        if twice:
            self.error(d.path, "REG-APPEND", "versions lists " + ", ".join(map(str, twice)) + " more than once",
                       ("versions",))

    def on_surveillance(self, cert: Certificate, h: History, d: Decision):
        outcome = d.data["outcome"]
        n = d.data.get("nonconformities", 0)
        rule = cert.scheme.surveillance["nonconformity_rule"]
        if outcome == "pass":
            if n:
                self.error(d.path, rule, f"{n} nonconformities found: the outcome is nonconformities, not pass",
                           ("outcome",))
            if not (d.data["quantified_value_decreased"] and d.data["target_met"]):
                self.error(d.path, "ZWL-6.2", "a surveillance passes only when the quantified value fell "
                                              "compared with the previous year and last year's target was met",
                           ("outcome",))
        elif outcome == "fail" and not d.data.get("reason"):
            self.error(d.path, "REG-ANNOUNCE", "a failed surveillance suspends the certificate, and the suspension "
                                               "is announced: give its public reason (reason: zh and en)",
                       ("outcome",))
        if outcome == "nonconformities" and not n:
            self.error(d.path, rule, "outcome nonconformities needs their number (nonconformities: N)",
                       ("outcome",))

    def facts_before(self, d: Decision):
        facts = d.data["facts_verified"]
        if facts > d.date:
            self.error(d.path, "REG-ORDER", f"facts verified {facts}, after the decision {d.date}",
                       ("facts_verified",))

    # --- limits in time ------------------------------------------------------------------------

    def suspension_limits(self, cert: Certificate, h: History):
        """ZCF-12.1.2 / ZWL-7.4: a suspension lasts until its limit at most, and one not restored by then
        ends in revocation (ZCF-12.2 c, ZWL-7.4)."""
        rule = cert.scheme.max_suspension["rule"]
        months = cert.scheme.max_suspension["months"]
        revoke = cert.scheme.grounds.get("revoke", {})
        ground = next((g for g, v in revoke.get("choices", {}).items() if v.get("after_suspension_limit")), None)
        fix = f"revoke it (ground {ground}, {revoke.get('rule')})" if ground else "revoke it"
        for s in h.suspensions:
            if s.start <= self.as_of < (s.end or dt.date.max) and self.as_of > s.limit:
                self.overdue(s.decision.path, rule,
                           f"suspended since {s.start}; the {months}-month limit ended {s.limit} and the "
                           f"certificate is still suspended on {self.as_of}: {fix}", ("date",))
            elif s.end is not None and s.end > s.limit and s.end <= self.as_of:
                if s.ended_by == "cancel":  # past: nothing can follow a cancellation to mend it
                    end = next(d for d in h.applied if d.action == "cancel" and d.date == s.end)
                    self.warning(end.path, rule, f"the suspension of {s.start} outlived its limit ({s.limit}) "
                                                 "and the certificate was then cancelled; a certificate not "
                                                 "restored in time is revoked, not cancelled", ("action",))
                elif s.ended_by == "expire":  # past: nothing can be appended after expiry to mend it
                    self.warning(s.decision.path, rule, f"the suspension of {s.start} outlived its limit "
                                                        f"({s.limit}) until the certificate expired (its last day "
                                                        f"was {s.end - DAY}); "
                                                        "it should have been revoked", ("date",))

    def surveillance(self, cert: Certificate, h: History):
        # ZWL-6.1: a surveillance at least every interval_months while the certificate is in force.
        sv = cert.scheme.surveillance
        months, rule = sv["interval_months"], sv["rule"]
        span = h.in_force()
        if span is None:
            return
        start, end = span
        last_day = min(end - DAY, self.as_of)
        previous = start
        previous_path, previous_key = cert.path, ("valid_from",)
        visits = [d for d in h.applied if d.action == "surveillance"]
        for d in visits:
            due = add_months(previous, months)
            if d.date > due:  # late: recorded, and the next is due 12 months after it (whatever the as-of date)
                self.late(d, rule, due, f"surveillance on {d.date}, more than {months} months after {previous}: it "
                                        f"was due by {due}")
            previous, previous_path, previous_key = d.date, d.path, ("date",)
        due = add_months(previous, months)
        if due < last_day:
            if end > self.as_of:  # an action due now, while the certificate is in force: CEC must act
                self.overdue(previous_path, rule, f"no surveillance since {previous}: one was due by {due} "
                                                  f"(every {months} months while the certificate is in force); "
                                                  "record it", previous_key)
            else:  # a past fault: nothing can be recorded after the certificate ended to mend it
                self.warning(previous_path, rule, f"no surveillance since {previous}: one was due by {due}, "
                                                  f"before the certificate's last day in force ({end - DAY})",
                             previous_key)
        # ZWL-6.3: nonconformities closed within nonconformity_close_months.
        close = sv["nonconformity_close_months"]
        for d, limit, settling in nonconformity_closures(h):  # verified after the limit: recorded, and late
            first = settling[0] if settling else None
            if first is not None and first.action == "surveillance" and first.date > limit:
                verified = "closed" if first.data["outcome"] == "pass" else "not closed (it failed)"
                self.late(first, sv["nonconformity_rule"], limit,
                          f"the nonconformities found {d.date} were verified {verified} on {first.date}, after "
                          f"their {close}-month limit ({limit}); a certificate whose nonconformities are not "
                          "closed in time is suspended")
        for d, limit in closures_overdue(h, self.as_of):
            if end > self.as_of:  # due now, while the certificate is in force: CEC must act
                self.overdue(d.path, sv["nonconformity_rule"],
                             f"nonconformities found {d.date} had to be verified closed within {close} months, by "
                             f"{limit}; record the verification (surveillance pass) or the failure (fail, which "
                             "suspends the certificate)", ("outcome",))
            else:  # a past fault: nothing can be recorded after the certificate ended to mend it
                self.warning(d.path, sv["nonconformity_rule"],
                             f"nonconformities found {d.date} were not verified closed by {limit}, before the "
                             f"certificate's last day in force ({end - DAY})", ("outcome",))

    # --- public text ---------------------------------------------------------------------------

    def public_text(self, cert: Certificate):
        """REG-PUBLIC: no contact details or private values in text that will be published."""
        fields = cert.scheme.fields
        private_values: set[str] = set()
        for name, f in fields.items():
            # contact details and private text; the ZWL-A1 data table holds measurements, not secrets in words
            if not f["public"] and f["type"] in ("contact", "text", "longtext") and name in cert.content:
                private_values.update(v for v in texts(cert.content[name]) if len(v) >= 2)
        places: list[tuple] = []
        for name, f in fields.items():
            if f["public"] and f["type"] != "uscc" and name in cert.content:
                places.extend((cert.path, ("content", name), t) for t in texts(cert.content[name]))
        for d in cert.decisions:
            for lang, text in (d.data.get("reason") or {}).items():
                places.append((d.path, ("reason", lang), text))
            for name, value in (d.data.get("changes") or {}).items():
                if name in fields and fields[name]["public"] and fields[name]["type"] != "uscc":
                    places.extend((d.path, ("changes", name), t) for t in texts(value))
        blob = "\n".join(text for _, _, text in places)  # one search for the usual case: nothing found
        if not (_EMAIL.search(blob) or _PHONE.search(blob) or any(v in blob for v in private_values)):
            return
        for path, key, text in places:
            found = _EMAIL.search(text) or _PHONE.search(text)
            leaked = next((v for v in private_values if v in text), None)
            if found:
                self.error(path, "REG-PUBLIC", f'"{found.group()}" looks like contact details in published text; '
                                               "keep them in the private contact field", key)
            elif leaked:
                self.error(path, "REG-PUBLIC", f'"{leaked}" is a private value of this certificate and would be '
                                               "published here; remove it", key)



# --- across certificates ---------------------------------------------------------------------


@dataclass
class VersionFacts:
    """The values of one content version that rules between certificates compare."""

    date: dt.date
    number: int
    change: Path | None  # the change decision that made this version (None for version 1)
    values: dict  # dotted field -> value
    # ZWL-4: the scheme's key and its unit_identity fields, each as it reads (_norm), or None if it has none:
    # found once with the facts (and kept with them), not by every check between certificates
    identity: tuple | None = None


@dataclass
class Facts:
    """What one certificate tells the rules between certificates: small, so that a worker can send it back."""

    number: str
    scheme: Scheme
    path: Path
    follows: str | None
    valid_from: dt.date
    valid_until: dt.date
    in_force: tuple | None
    versions: list
    applied: dt.date | None  # the issue decision's application.received
    issue_path: Path | None
    # REG-ANNOUNCE: (record, its date, its announcement number or None) of every decision announced
    announced: list = field(default_factory=list)
    # decision path -> {rule: deadline}: the binding deadlines each decision missed (certreg decide records them)
    late: dict = field(default_factory=dict)

    def version_on(self, day: dt.date) -> VersionFacts:
        found = self.versions[0]
        for v in self.versions:
            if v.date <= day:
                found = v
        return found


def facts(cert: Certificate, h: History, missed: dict | None = None) -> Facts:
    """The Facts of ``cert``: the fields its scheme compares across certificates, in every version."""
    scheme = cert.scheme
    wanted = list(scheme.data.get("unit_identity", {}).get("fields", [])) + list(scheme.succession["same"])
    if scheme.validity["kind"] == "reporting-period":
        wanted.append("reporting_period")
    versions = h.versions or [Version(1, cert.valid_from, cert.content)]
    issue = next((d for d in cert.decisions if d.action == "issue"), None)
    ident = scheme.data.get("unit_identity")
    return Facts(
        number=cert.number, scheme=scheme, path=cert.path, follows=cert.follows, valid_from=cert.valid_from,
        valid_until=cert.valid_until, in_force=h.in_force(),
        versions=[VersionFacts(v.date, v.number, v.decision.path if v.number > 1 and v.decision else None,
                               {f: dig(v.content, f) for f in wanted},
                               (scheme.key, *(_norm(dig(v.content, f)) for f in ident["fields"])) if ident else None)
                  for v in versions],
        applied=issue.data["application"]["received"] if issue else None,
        issue_path=issue.path if issue else None,
        announced=[(d.path, d.date, d.data.get("announcement")) for d in cert.decisions if announced(d)],
        late={path: {rule: day for rule, (day, binding, _) in rules.items() if binding}
              for path, rules in (missed or {}).items() if any(b for _, b, _ in rules.values())})


class Across:
    """The rules between certificates: succession (follows:) and one unit, one certificate at a time."""

    def __init__(self, all_facts: dict[str, Facts], broken: set[str], report: Report):
        self.facts = all_facts
        self.broken = broken
        self.report = report

    def error(self, path, rule, message, key=()):
        self.report.error(path, rule, message, key=key)

    def run(self):
        self.links()
        self.unit_identity()
        self.announcement_numbers()

    def announcement_numbers(self):
        """REG-ANNOUNCE: every announced decision carries its own number, YYYYMMDD-N (its date, then the next N
        free that day), unique in the registry; a number is given once and never moves (REG-APPEND)."""
        holders = defaultdict(list)
        taken = defaultdict(set)  # date -> the N taken that day
        missing = []
        for cert in self.facts.values():
            for path, date, number in cert.announced:
                if number is None:
                    missing.append((date, str(path), path))
                    continue
                holders[number].append((cert.number, path))
                day, n = number.split("-")
                if day == f"{date:%Y%m%d}":
                    taken[date].add(int(n))

        def next_free(date):
            n = max(taken[date], default=0) + 1
            taken[date].add(n)
            return f"{date:%Y%m%d}-{n}"

        for number, found in sorted(holders.items()):
            if len(found) < 2:
                continue
            day = dt.date(int(number[:4]), int(number[4:6]), int(number[6:8]))
            free = next_free(day)  # (the same for each: the one that is not published takes it)
            for _, path in found:
                others = ", ".join(f"{c} {p.name}" for c, p in found if p != path)
                self.error(path, "REG-ANNOUNCE", f"announcement {number} is also the number of {others}: a number "
                                                 "names one announcement; if that one is published, this record "
                                                 f"takes the next number free on {day}, {free}", ("announcement",))
        for date, _, path in sorted(missing):
            self.error(path, "REG-ANNOUNCE", "an announced decision carries the number of its announcement (公告): "
                                             f"add announcement: {next_free(date)} (the next number free on {date})",
                       ("action",))

    def links(self):
        certs = self.facts
        successors = defaultdict(list)
        for cert in certs.values():
            if cert.follows is None:
                continue
            prev = certs.get(cert.follows)
            if cert.follows == cert.number:
                self.error(cert.path, "REG-LINK", "a certificate cannot follow itself", ("follows",))
                continue
            if prev is None:
                if cert.follows not in self.broken:
                    self.error(cert.path, "REG-LINK", f"follows {cert.follows}, which is not in the registry",
                               ("follows",))
                continue
            if prev.scheme is not cert.scheme:
                self.error(cert.path, "REG-LINK", f"follows {prev.number}, a certificate of another scheme "
                                                  f"({prev.scheme.key})", ("follows",))
                continue
            successors[prev.number].append(cert)
            succession = cert.scheme.succession
            # ZCF-11.2 / ZWL-7.2: the successor certifies what its predecessor certified when it took over
            before, mine = prev.version_on(cert.valid_from).values, cert.versions[0].values
            for dotted in succession["same"]:
                if before[dotted] != mine[dotted]:
                    self.error(cert.path, succession["rule"], f"follows {prev.number} but {dotted} differs "
                                                              f"(“{mine[dotted]}” here, “{before[dotted]}” there); "
                                                              "a successor certifies the same unit", ("follows",))
            if cert.valid_from <= prev.valid_from:
                self.error(cert.path, succession["rule"], f"follows {prev.number} but was issued first "
                                                          f"({cert.valid_from}, {prev.number} {prev.valid_from}); a "
                                                          "successor is issued after the certificate it follows: "
                                                          "check the dates, or which certificate says follows:",
                           ("follows",))
            v = cert.scheme.validity
            if v["kind"] == "reporting-period":
                earlier = prev.versions[0].values["reporting_period"]
                later = cert.versions[0].values["reporting_period"]
                if later["start"] <= earlier["end"]:
                    self.error(cert.path, v["rule"], f"the reporting period starts {later['start']}, within the "
                                                     f"period of {prev.number} (to {earlier['end']}); each "
                                                     "reporting year is certified once",
                               ("content", "reporting_period", "start"))
            elif "renewal_window_months" in v and cert.applied is not None:
                opens = add_months(prev.valid_until, -v["renewal_window_months"])
                if not opens <= cert.applied <= prev.valid_until:
                    self.error(cert.issue_path, v["rule"],
                               f"a renewal is applied for in the {v['renewal_window_months']} months before "
                               f"{prev.number} expires ({opens} – {prev.valid_until}), not on {cert.applied}",
                               ("application", "received"))
        for number, after in successors.items():
            if len(after) > 1:
                for cert in after:
                    self.error(cert.path, "REG-LINK", f"{number} is followed by "
                               + ", ".join(c.number for c in after) + "; a certificate has one successor",
                               ("follows",))
        for cert in certs.values():  # cycles (a certificate following itself is reported above)
            if cert.follows == cert.number:
                continue
            seen = {cert.number}
            cur = cert
            while cur.follows in certs:
                cur = certs[cur.follows]
                if cur.number in seen:
                    self.error(cert.path, "REG-LINK", f"the follows: chain from {cert.number} loops back to "
                                                      "itself", ("follows",))
                    break
                seen.add(cur.number)

    def unit_identity(self):
        """ZWL-4 (and ZCF-11.2): what a scheme's unit_identity names is certified once at a time.

        Every version of the content counts, from the day it took effect, so a change can cause a clash.
        """
        spans = defaultdict(list)  # identity -> [(first day, day after last, certificate, where it began)]
        for cert in self.facts.values():
            ident = cert.scheme.data.get("unit_identity")
            force = cert.in_force
            if not ident or force is None:
                continue
            versions = cert.versions
            for i, v in enumerate(versions):
                start = max(v.date, force[0])
                end = min(versions[i + 1].date if i + 1 < len(versions) else dt.date.max, force[1])
                if start < end:
                    key = v.identity
                    began = ((v.change, ("changes",)) if v.change and start == v.date else (cert.path, ("content",)))
                    spans[key].append((start, end, cert, began))
        reported = set()
        for found in spans.values():
            found.sort(key=lambda s: (s[0], number_order(s[2].number)))
            for i, (_start_a, end_a, a, _) in enumerate(found):
                for start_b, _end_b, b, (path, key) in found[i + 1:]:
                    if a is b or start_b >= end_a or (a.number, b.number) in reported:
                        continue
                    reported.add((a.number, b.number))
                    ident = a.scheme.data["unit_identity"]
                    self.error(path, ident["rule"],
                               f"{b.number} and {a.number} certify {ident['what']} and are both in force from "
                               f"{start_b}; one certificate at a time: end {a.number} first (e.g. cancel it as "
                               "superseded)", key)


def _norm(value):
    """Text compared as it reads: without its spaces (二期 装置 and 二期装置 name the same unit), in its NFKC form
    (full-width Ａ and ６ are A and 6, a compatibility ideograph is its unified one) and without invisible
    characters or variation selectors (records refuse the invisible ones; this holds for what came before)."""
    if not isinstance(value, str):
        return value
    import unicodedata

    from ..records.schema import IGNORABLE

    return IGNORABLE.sub("", "".join(unicodedata.normalize("NFKC", value).split()))


def check_certificate(cert: Certificate, as_of: dt.date) -> tuple[History, list, Facts]:
    """The rules of one certificate on its own: its History, the problems found, and its Facts."""
    report = Report()
    h = history(cert)
    report.extend(h.problems)
    checks = Checks(as_of, report)
    checks.certificate(cert, h)
    return h, report.problems, facts(cert, h, checks.missed)


def check_across(all_facts: dict[str, Facts], broken: set[str], report: Report):
    """The rules between certificates, from each certificate's Facts."""
    Across(all_facts, broken, report).run()
