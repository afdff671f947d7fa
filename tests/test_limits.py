"""Every time limit of both schemes, on the day before, the day itself and the day after.

The expected answers are worked out by hand from the rules documents (../shared/spec/rules.md) and the Chinese
working-day calendar, not from the code; each test says how. The limits that tests/test_truth.py already tries
this way (the working-day deadlines of a decision, the surveillance interval, the closure of nonconformities)
are listed in ``ELSEWHERE``; ``test_every_limit_of_the_schemes_is_tried_on_three_days`` fails when a scheme
declares a limit that no test tries on the day before, on and after.

The second part replays decision sequences through refused decisions: a refused decision changes nothing, and
everything that follows it is still applied and judged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

import test_truth
from certreg.records.load import load_schemes
from certreg.rules.validate import check_registry
from certreg.status import history, summary
from conftest import REGISTRY, ZCF_CONTENT, ZWL_CONTENT, zwl_issue

D = dt.date.fromisoformat
LATE = {"zh": "复核后才作出决定", "en": "Decided after a second review"}
VISIT = {"outcome": "pass", "person_days": "2", "quantified_value_decreased": True, "target_met": True}


def problems(builder, as_of, rule=None):
    c = check_registry(builder.root, D(as_of), jobs=1)
    return sorted((p.level, p.rule, p.path.name) for p in c.report.problems if rule in (None, p.rule))


def messages(builder, as_of, rule):
    c = check_registry(builder.root, D(as_of), jobs=1)
    return [p.message for p in c.report.problems if p.rule == rule]


# --- ZCF-5.2.1: the application review, 10 working days --------------------------------------------------


@pytest.mark.parametrize("accepted, late", [("2025-03-16", False), ("2025-03-17", False), ("2025-03-18", True)])
def test_zcf_the_application_review_the_day_before_on_and_after_its_deadline(builder, accepted, late):
    """Received Mon 2025-03-03 (no holiday in March 2025): the 10th working day after it is Mon 2025-03-17."""
    n = builder.zcf()
    issue = builder.root / "certificates" / n / "decisions" / "2025-04-15-issue.yml"
    text = issue.read_text(encoding="utf-8").replace("2025-01-06", "2025-03-03").replace("2025-01-10", accepted)
    if late:
        text += "late:\n  ZCF-5.2.1: 2025-03-17\nlate_reason:\n  zh: 材料补正\n  en: Documents were completed late\n"
    issue.write_text(text, encoding="utf-8")
    assert problems(builder, "2025-05-01") == ([("warning", "ZCF-5.2.1", issue.name)] if late else [])
    if late:  # without its late record, the late acceptance is an error naming the deadline and how late
        issue.write_text(text.split("late:")[0], encoding="utf-8")
        assert problems(builder, "2025-05-01") == [("error", "ZCF-5.2.1", issue.name),
                                                   ("warning", "ZCF-5.2.1", issue.name)]
        assert "by 2025-03-17" in " ".join(messages(builder, "2025-05-01", "ZCF-5.2.1"))
        assert "1 working day late" in " ".join(messages(builder, "2025-05-01", "ZCF-5.2.1"))


# --- ZWL-5.2.3: from acceptance to conclusion normally at most 90 days, the client's delays not counted ----


@pytest.mark.parametrize("delay, issued, late", [
    (None, "2024-12-02", False), (None, "2024-12-03", False), (None, "2024-12-04", True),
    (5, "2024-12-07", False), (5, "2024-12-08", False), (5, "2024-12-09", True),
])
def test_zwl_the_conclusion_the_day_before_on_and_after_90_days_from_acceptance(builder, delay, issued, late):
    """Accepted 2024-09-04: 26 days to 09-30, 31 to 10-31, 30 to 11-30, 3 more: day 90 is 2024-12-03; five days
    of the client's delay move it to 2024-12-08. "Normally" (一般): a warning, and no late record is asked for."""
    n = "CEC-ZWL-2024-0001"
    until = (D(issued).replace(year=D(issued).year + 3) - dt.timedelta(days=1)).isoformat()
    builder.certificate(n, "zero-waste-low-carbon-water", issued, until, ZWL_CONTENT)
    extra = {"client_delay_days": delay} if delay is not None else {}
    builder.decision(n, zwl_issue(n, issued, **extra))
    assert problems(builder, "2025-01-15") == ([("warning", "ZWL-5.2.3", f"{issued}-issue.yml")] if late else [])
    if late:
        (message,) = messages(builder, "2025-01-15", "ZWL-5.2.3")
        assert f"by {'2024-12-08' if delay else '2024-12-03'}" in message and "1 day late" in message


@pytest.mark.parametrize("delay, said", [(1, "plus 1 day of client delay"), (2, "plus 2 days of client delay")])
def test_zwl_the_client_delay_is_told_in_days(builder, delay, said):
    """ZWL-5.2.3: the late conclusion's message counts the client's delay in the right number."""
    n = "CEC-ZWL-2024-0001"
    issued = (D("2024-12-03") + dt.timedelta(days=delay + 1)).isoformat()
    until = (D(issued).replace(year=D(issued).year + 3) - dt.timedelta(days=1)).isoformat()
    builder.certificate(n, "zero-waste-low-carbon-water", issued, until, ZWL_CONTENT)
    builder.decision(n, zwl_issue(n, issued, client_delay_days=delay))
    (message,) = messages(builder, "2025-01-15", "ZWL-5.2.3")
    assert f"{said} (client_delay_days)" in message and "1 day late" in message


@pytest.mark.parametrize("revocation", ["no action", "no ground after the limit"])
def test_a_suspension_past_its_limit_in_a_scheme_without_a_ground_for_it_says_revoke_it(builder, revocation):
    """ZCF-12.1.2 in a scheme (data) that has no revocation, or no revocation ground for a suspension past its
    limit: the overdue suspension is still reported, and the message names no ground."""
    path = builder.root / "schemes" / "zero-carbon-factory.yml"
    text = path.read_text(encoding="utf-8")
    if revocation == "no action":
        text = text.replace("actions: [issue, change, suspend, restore, revoke, cancel, reissue]",
                            "actions: [issue, change, suspend, restore, cancel, reissue]")
        start = text.index("  - rule: ZCF-12.2\n    action: revoke")
        text = text[:start] + text[text.index("grounds:\n"):]
        start = text.index("  revoke:\n    rule: ZCF-12.2")
        text = text[:start] + text[text.index("  cancel:\n"):]
    else:
        text = text.replace(", after_suspension_limit: true}", "}")
    path.write_text(text, encoding="utf-8")
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-06-02", ground="c", facts_verified="2025-05-30")
    found = [p for p in check_registry(builder.root, D("2025-09-15"), jobs=1).report.problems
             if p.rule != "REG-SCHEMA"]  # (the JSON Schemas are not written again for the edited scheme)
    assert [(p.level, p.rule, p.overdue) for p in found] == [("error", "ZCF-12.1.2", True)], found
    assert "revoke it" in found[0].message and "ground" not in found[0].message.split("revoke it")[1]


# --- REG-ORDER: an issue's dates in their order, on the day before, on and after ---------------------------


@pytest.mark.parametrize("field, value, wrong", [
    ("received", "2024-09-05", True), ("received", "2024-09-04", False), ("received", "2024-09-03", False),
    ("accepted", "2024-10-09", True), ("accepted", "2024-10-08", False), ("accepted", "2024-10-07", False),
    ("closed", "2024-10-09", True), ("closed", "2024-10-08", False), ("closed", "2024-10-07", False),
])
def test_an_issues_dates_may_fall_on_the_same_day_but_not_out_of_order(builder, field, value, wrong):
    """REG-ORDER: received on or before accepted (2024-09-04), accepted on or before the issue (2024-10-08),
    nonconformities closed on or before the issue: the same day is in order, the day after is not."""
    n = "CEC-ZWL-2024-0001"
    app = {"received": "2024-09-02", "accepted": "2024-09-04"}
    extra: dict = {}
    if field == "received":
        app["received"] = value
    elif field == "accepted":
        app = {"received": "2024-10-07", "accepted": value}
    else:
        extra["nonconformities_closed"] = value
    builder.certificate(n, "zero-waste-low-carbon-water", "2024-10-08", "2027-10-07", ZWL_CONTENT)
    builder.decision(n, zwl_issue(n, "2024-10-08", application=app, **extra))
    errors = [(p[1], p[2]) for p in problems(builder, "2025-01-15") if p[0] == "error"]
    assert errors == ([("REG-ORDER", "2024-10-08-issue.yml")] if wrong else [])


# --- validity: ZWL-7.2 (3 years), ZCF-11.2 (the reporting year) ---------------------------------------------


@pytest.mark.parametrize("until, ok", [("2027-10-06", False), ("2027-10-07", True), ("2027-10-08", False)])
def test_zwl_a_certificate_is_valid_exactly_three_years(builder, until, ok):
    """ZWL-7.2: valid 3 years from 2024-10-08, so its last day is 2027-10-07."""
    n = "CEC-ZWL-2024-0001"
    builder.certificate(n, "zero-waste-low-carbon-water", "2024-10-08", until, ZWL_CONTENT)
    builder.decision(n, zwl_issue(n, "2024-10-08"))
    assert problems(builder, "2025-01-15") == ([] if ok else [("error", "ZWL-7.2", "certificate.yml")])
    if not ok:
        assert messages(builder, "2025-01-15", "ZWL-7.2") == [
            "a zero-waste-low-carbon-water certificate is valid 3 years: from 2024-10-08, valid_until must be "
            f"2027-10-07, not {until}"]


@pytest.mark.parametrize("end, ok", [("2024-12-30", True), ("2024-12-31", True), ("2025-01-01", False)])
def test_zcf_a_reporting_period_is_at_most_twelve_months(builder, end, ok):
    """ZCF-11.2 (interpretation): a period starting 2024-01-01 may end 2024-12-31 at the latest."""
    builder.zcf(valid_until="2025-12-30", reporting_period={"start": "2024-01-01", "end": end})
    assert problems(builder, "2025-05-01") == ([] if ok else [("error", "ZCF-11.2", "certificate.yml")])
    if not ok:
        (message,) = messages(builder, "2025-05-01", "ZCF-11.2")
        assert "longer than 12 months (it may end on 2024-12-31 at the latest)" in message


@pytest.mark.parametrize("until, ok", [("2025-12-30", True), ("2025-12-31", True), ("2026-01-01", False)])
def test_zcf_valid_until_at_most_twelve_months_after_the_reporting_period(builder, until, ok):
    """ZCF-11.2 (interpretation): the period ends 2024-12-31, so valid_until is 2025-12-31 at the latest."""
    builder.zcf(valid_until=until)
    assert problems(builder, "2025-05-01") == ([] if ok else [("error", "ZCF-11.2", "certificate.yml")])
    if not ok:
        (message,) = messages(builder, "2025-05-01", "ZCF-11.2")
        assert f"valid_until {until} is more than 12 months" in message and "latest allowed is 2025-12-31" in message


@pytest.mark.parametrize("end, ok", [("2025-04-14", True), ("2025-04-15", False), ("2025-04-16", False)])
def test_zcf_a_reporting_year_is_certified_after_it_ends(builder, end, ok):
    """ZCF-11.2: issued 2025-04-15, the certificate may cover a period that ended 2025-04-14 at the latest."""
    builder.zcf(reporting_period={"start": "2024-04-17", "end": end})
    assert problems(builder, "2025-05-01") == ([] if ok else [("error", "ZCF-11.2", "certificate.yml")])


@pytest.mark.parametrize("until, ok", [("2025-04-14", False), ("2025-04-15", False), ("2025-04-16", True)])
def test_zcf_valid_until_lies_after_the_issue_date(builder, until, ok):
    """ZCF-11.2 (interpretation): an explicit end date after the issue date (2025-04-15)."""
    builder.zcf(valid_until=until)
    assert problems(builder, "2025-05-01", "ZCF-11.2") == ([] if ok else [("error", "ZCF-11.2", "certificate.yml")])


@pytest.mark.parametrize("start, ok", [("2024-12-30", False), ("2024-12-31", False), ("2025-01-01", True)])
def test_zcf_the_next_reporting_year_starts_after_the_last_one_ends(builder, start, ok):
    """ZCF-11.2: each reporting year is certified once; the predecessor's period ends 2024-12-31."""
    builder.zcf("CEC-ZCF-2025-0001")
    builder.certificate("CEC-ZCF-2026-0001", "zero-carbon-factory", "2026-03-02", "2026-12-28",
                        {**ZCF_CONTENT, "reporting_period": {"start": start, "end": "2025-12-29"}},
                        follows="CEC-ZCF-2025-0001")
    from conftest import zcf_issue

    builder.decision("CEC-ZCF-2026-0001", zcf_issue("CEC-ZCF-2026-0001", "2026-03-02",
                                                    application={"received": "2026-01-05", "accepted": "2026-01-09"}))
    assert problems(builder, "2026-04-01", "ZCF-11.2") == (
        [] if ok else [("error", "ZCF-11.2", "certificate.yml")])


@pytest.mark.parametrize("scheme, last", [("zero-waste-low-carbon-water", "2027-10-07"),
                                          ("zero-carbon-factory", "2025-12-31")])
@pytest.mark.parametrize("offset, status", [(-1, "valid"), (0, "valid"), (1, "expired")])
def test_a_certificate_is_valid_on_its_last_day_and_expired_the_day_after(builder, scheme, last, offset, status):
    """ZWL-7.2 / ZCF-11.2: valid_until is the last day of validity."""
    n = builder.zwl() if scheme.startswith("zero-waste") else builder.zcf()
    day = D(last) + dt.timedelta(days=offset)
    h = check_registry(builder.root, day, jobs=1).histories[n]
    assert h.status_on(day) == status
    assert summary(h, day)["status"] == status


@pytest.mark.parametrize("day, refused", [("2025-12-30", False), ("2025-12-31", False), ("2026-01-01", True)])
def test_a_decision_on_the_last_day_is_applied_and_the_day_after_is_refused(builder, day, refused):
    """A certificate valid until 2025-12-31 can still be suspended that day; the next day it has expired."""
    n = builder.zcf()
    builder.decide(n, "suspend", day, ground="c", facts_verified=day)
    c = check_registry(builder.root, D("2026-02-01"), jobs=1)
    assert sorted((p.level, p.rule) for p in c.report.problems) == ([("error", "REG-ORDER")] if refused else [])
    assert c.histories[n].status_on(D(day)) == ("expired" if refused else "suspended")


# --- ZWL-7.2: a renewal is applied for within the 6 months before expiry -------------------------------------


@pytest.mark.parametrize("received, ok", [("2025-04-08", False), ("2025-04-09", True), ("2025-10-09", True),
                                          ("2025-10-10", False)])
def test_zwl_a_renewal_is_applied_for_in_the_six_months_before_expiry(builder, received, ok):
    """The predecessor is valid 2022-10-10 – 2025-10-09: the window opens 2025-04-09 and closes on its last day."""
    old = builder.zwl("CEC-ZWL-2022-0001", valid_from="2022-10-10")
    first = builder.root / "certificates" / old / "decisions" / "2022-10-10-issue.yml"
    first.write_text(first.read_text().replace("2024-09-02", "2022-07-04").replace("2024-09-04", "2022-07-06"))
    for day in ("2023-09-04", "2024-09-02", "2025-09-01"):
        builder.decide(old, "surveillance", day, **VISIT)
    new = "CEC-ZWL-2025-0001"
    builder.certificate(new, "zero-waste-low-carbon-water", "2025-10-10", "2028-10-09", ZWL_CONTENT, follows=old)
    builder.decision(new, zwl_issue(new, "2025-10-10", application={"received": received, "accepted": received}))
    assert problems(builder, "2025-11-01", "ZWL-7.2") == ([] if ok else [("error", "ZWL-7.2", "2025-10-10-issue.yml")])
    if not ok:
        assert messages(builder, "2025-11-01", "ZWL-7.2") == [
            f"a renewal is applied for in the 6 months before {old} expires (2025-04-09 – 2025-10-09), "
            f"not on {received}"]


# --- the suspension's limit: ZCF-12.1.2 (3 months), ZWL-7.4 (6 months) --------------------------------------


def _suspended(builder, scheme):
    """A certificate suspended on a day whose limit falls on a known date: ZCF 2025-08-15 + 3 months =
    2025-11-15; ZWL 2025-08-05 + 6 months = 2026-02-05 (after a surveillance on 2025-08-01, so none is due)."""
    if scheme == "zero-carbon-factory":
        n = builder.zcf()
        builder.decide(n, "suspend", "2025-08-15", ground="a", facts_verified="2025-08-14")
        return n, "ZCF-12.1.2", D("2025-11-15")
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-01", **VISIT)
    builder.decide(n, "suspend", "2025-08-05", ground="holder-request", facts_verified="2025-08-04")
    return n, "ZWL-7.4", D("2026-02-05")


SCHEMES = ["zero-carbon-factory", "zero-waste-low-carbon-water"]
DAYS = [(-1, False), (0, False), (1, True)]  # the day before the limit, the limit, the day after: past it?


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset, past", DAYS)
def test_a_suspension_outlives_its_limit_only_the_day_after(builder, scheme, offset, past):
    n, rule, limit = _suspended(builder, scheme)
    day = limit + dt.timedelta(days=offset)
    c = check_registry(builder.root, day, jobs=1)
    row = summary(c.histories[n], day)
    assert (row["status"], row["suspension_limit"], row["suspension_overdue"]) == ("suspended", limit.isoformat(),
                                                                                  past)
    found = [(p.level, p.rule, p.overdue) for p in c.report.problems]
    assert found == ([("error", rule, True)] if past else [])


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset, late", DAYS)
def test_a_restore_on_the_limit_is_in_time_and_the_day_after_is_late(builder, scheme, offset, late):
    n, rule, limit = _suspended(builder, scheme)
    day = (limit + dt.timedelta(days=offset)).isoformat()
    extra = {"late": {rule: limit.isoformat()}, "late_reason": LATE} if late else {}
    builder.decide(n, "restore", day, rectification_verified=(limit - dt.timedelta(days=2)).isoformat(), **extra)
    assert problems(builder, "2026-03-01") == ([("warning", rule, f"{day}-restore.yml")] if late else [])
    assert check_registry(builder.root, D("2026-03-01"), jobs=1).histories[n].status_on(D(day)) == "valid"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset, ok", [(-1, True), (0, True), (1, False)])
def test_a_suspension_may_be_set_to_end_on_its_limit_at_the_latest(builder, scheme, offset, ok):
    n, rule, limit = _suspended(builder, scheme)
    path = next((builder.root / "certificates" / n / "decisions").glob("*-suspend.yml"))
    until = limit + dt.timedelta(days=offset)
    path.write_text(path.read_text(encoding="utf-8") + f"until: {until}\n", encoding="utf-8")
    assert problems(builder, limit.isoformat()) == ([] if ok else [("error", rule, path.name)])


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset, ok", [(-1, False), (0, False), (1, True)])
def test_a_suspension_may_not_be_set_to_end_before_it_begins(builder, scheme, offset, ok):
    n, rule, limit = _suspended(builder, scheme)
    path = next((builder.root / "certificates" / n / "decisions").glob("*-suspend.yml"))
    start = D(path.name[:10])
    until = start + dt.timedelta(days=offset)
    path.write_text(path.read_text(encoding="utf-8") + f"until: {until}\n", encoding="utf-8")
    assert problems(builder, start.isoformat()) == ([] if ok else [("error", rule, path.name)])


CANCEL = {"zero-carbon-factory": "ceased", "zero-waste-low-carbon-water": "holder-request"}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset, outlived", DAYS)
def test_a_suspension_cancelled_on_its_limit_ended_in_time_and_the_day_after_outlived_it(builder, scheme, offset,
                                                                                       outlived):
    """A suspended certificate cancelled on the day before its limit, on it (in time: nothing to tell) or the day
    after (it outlived its limit, and was cancelled instead of revoked: a past fault, a warning at the
    cancellation), judged on the day of the cancellation and the day after."""
    n, rule, limit = _suspended(builder, scheme)
    day = limit + dt.timedelta(days=offset)
    builder.decide(n, "cancel", day.isoformat(), ground=CANCEL[scheme])
    for as_of in (day, day + dt.timedelta(days=1)):
        assert problems(builder, as_of.isoformat()) == ([("warning", rule, f"{day}-cancel.yml")] if outlived else [])


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset, found", [(-1, ("error", True)), (0, ("warning", False)), (1, ("warning", False))])
def test_a_suspension_past_its_limit_is_overdue_until_the_day_it_is_cancelled(builder, scheme, offset, found):
    """Cancelled two days after its limit: the day before the cancellation the certificate is still suspended
    past its limit (overdue, an error); on the day of the cancellation and after, it is a past fault (a warning
    at the cancellation)."""
    n, rule, limit = _suspended(builder, scheme)
    cancelled = limit + dt.timedelta(days=2)
    builder.decide(n, "cancel", cancelled.isoformat(), ground=CANCEL[scheme])
    as_of = cancelled + dt.timedelta(days=offset)
    c = check_registry(builder.root, as_of, jobs=1)
    where = "-suspend.yml" if found[1] else f"{cancelled}-cancel.yml"
    assert [(p.level, p.rule, p.overdue) for p in c.report.problems] == [(found[0], rule, found[1])]
    assert c.report.problems[0].path.name.endswith(where)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_warning_for_a_suspension_cancelled_past_its_limit_is_at_the_cancellation(builder, scheme):
    """...not at another decision of that day (a change, which takes effect first)."""
    n, rule, limit = _suspended(builder, scheme)
    day = (limit + dt.timedelta(days=1)).isoformat()
    field = "product_name" if scheme == "zero-waste-low-carbon-water" else "factory_name"
    builder.decide(n, "change", day, changes={field: "更名后的名称"})
    builder.decide(n, "cancel", day, ground=CANCEL[scheme])
    assert problems(builder, day) == [("warning", rule, f"{day}-cancel.yml")]


@pytest.mark.parametrize("day, ok", [("2026-02-04", False), ("2026-02-05", False), ("2026-02-06", True)])
def test_zwl_revocation_for_an_unrestored_suspension_comes_after_its_limit(builder, day, ok):
    """ZWL-7.4: not restored within the 6 months (to 2026-02-05): revoked from the next day on that ground."""
    n, _, _ = _suspended(builder, "zero-waste-low-carbon-water")
    builder.decide(n, "revoke", day, ground="suspension-expired", facts_verified=day)
    assert problems(builder, "2026-03-01") == ([] if ok else [("error", "ZWL-7.4", f"{day}-revoke.yml")])


# --- every limit the schemes declare is tried on three days --------------------------------------------------

# Limits tried on the day before, on and after in tests/test_truth.py
ELSEWHERE = {
    ("zero-carbon-factory", "ZCF-12.1.1"): test_truth.test_the_suspension_deadline_the_day_before_on_and_after,
    ("zero-carbon-factory", "ZCF-12.2"): test_truth.test_the_revocation_deadline_the_day_before_on_and_after,
    ("zero-carbon-factory", "ZCF-12.2 c"):
        test_truth.test_a_revocation_for_an_unrestored_suspension_comes_after_its_limit,
    ("zero-waste-low-carbon-water", "ZWL-5.1.2"): test_truth.test_the_acceptance_deadline_the_day_before_on_and_after,
    ("zero-waste-low-carbon-water", "ZWL-5.5.2"):
        test_truth.test_an_issue_normally_within_30_days_of_closure_warns_and_needs_no_late_record,
    ("zero-waste-low-carbon-water", "ZWL-6.1 interval_months"):
        test_truth.test_the_first_surveillance_the_day_before_on_and_after_its_due_date,
    ("zero-waste-low-carbon-water", "ZWL-6.1 nonconformity_close_months"):
        test_truth.test_nonconformities_verified_closed_on_the_limit_day_are_in_time,
}
HERE = {
    ("zero-carbon-factory", "ZCF-5.2.1"): test_zcf_the_application_review_the_day_before_on_and_after_its_deadline,
    ("zero-waste-low-carbon-water", "ZWL-5.2.3"):
        test_zwl_the_conclusion_the_day_before_on_and_after_90_days_from_acceptance,
    ("zero-waste-low-carbon-water", "ZWL-7.2 years"): test_zwl_a_certificate_is_valid_exactly_three_years,
    ("zero-waste-low-carbon-water", "ZWL-7.2 renewal_window_months"):
        test_zwl_a_renewal_is_applied_for_in_the_six_months_before_expiry,
    ("zero-carbon-factory", "ZCF-11.2 max_period_months"): test_zcf_a_reporting_period_is_at_most_twelve_months,
    ("zero-carbon-factory", "ZCF-11.2 max_months_after_period"):
        test_zcf_valid_until_at_most_twelve_months_after_the_reporting_period,
    ("zero-carbon-factory", "ZCF-12.1.2 months"): test_a_suspension_outlives_its_limit_only_the_day_after,
    ("zero-waste-low-carbon-water", "ZWL-7.4 months"): test_a_suspension_outlives_its_limit_only_the_day_after,
    ("zero-waste-low-carbon-water", "ZWL-7.4 suspension-expired"):
        test_zwl_revocation_for_an_unrestored_suspension_comes_after_its_limit,
}


def declared_limits() -> set[tuple[str, str]]:
    """Every limit in time that the scheme files declare: deadlines, the validity's parameters, the suspension's
    limit and the grounds allowed only after it, the surveillance interval and closure period."""
    found: list = []
    schemes = load_schemes(REGISTRY, found)
    assert schemes and not found, found
    out = set()
    for key, scheme in schemes.items():
        for rule in scheme.deadlines:
            out.add((key, rule["rule"]))
        v = scheme.validity
        for param in ("years", "renewal_window_months", "max_period_months", "max_months_after_period"):
            if param in v:
                out.add((key, f"{v['rule']} {param}"))
        out.add((key, f"{scheme.max_suspension['rule']} months"))
        revoke = scheme.grounds.get("revoke", {})
        for ground, value in revoke.get("choices", {}).items():
            if value.get("after_suspension_limit"):
                out.add((key, f"{revoke['rule']} {ground}"))
        surveillance = scheme.data.get("surveillance", {})
        for param in ("interval_months", "nonconformity_close_months"):
            if param in surveillance:
                out.add((key, f"{surveillance['rule']} {param}"))
    return out


def test_every_limit_of_the_schemes_is_tried_on_three_days():
    tests = {**ELSEWHERE, **HERE}
    assert declared_limits() == set(tests), "a limit of a scheme file without its day-before/on/after test"
    for limit, test in tests.items():
        days = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize" and len(m.args[1]) >= 3]
        # the days tried and the answers expected: the answer (the last value) changes across the limit
        assert any(len({values[-1] for values in m.args[1]}) >= 2 for m in days), (
            f"{limit}: {test.__name__} does not try three days with an answer that changes across the limit")


# --- replaying through refused decisions ---------------------------------------------------------------------


def test_a_refused_decision_changes_nothing_and_what_follows_is_applied(builder):
    """A restore of a valid certificate is refused; the suspension and restore after it still take effect."""
    n = builder.zwl()
    builder.decide(n, "restore", "2025-03-03", rectification_verified="2025-03-01")  # refused: not suspended
    builder.decide(n, "suspend", "2025-04-01", ground="violation", facts_verified="2025-03-31")
    builder.decide(n, "suspend", "2025-04-10", ground="violation", facts_verified="2025-04-09")  # refused
    builder.decide(n, "restore", "2025-05-06", rectification_verified="2025-05-02")
    builder.decide(n, "revoke", "2025-06-02", ground="violation", facts_verified="2025-05-30")
    builder.decide(n, "restore", "2025-06-09", rectification_verified="2025-06-05")  # refused: revoked
    c = check_registry(builder.root, D("2025-07-01"), jobs=1)
    h = c.histories[n]
    assert h.segments == [(D("2024-10-08"), "valid"), (D("2025-04-01"), "suspended"), (D("2025-05-06"), "valid"),
                          (D("2025-06-02"), "revoked")]
    assert [(s.start, s.end, s.ended_by) for s in h.suspensions] == [(D("2025-04-01"), D("2025-05-06"), "restore")]
    assert sorted((p.rule, p.path.name) for p in c.report.problems) == [
        ("REG-ORDER", "2025-03-03-restore.yml"), ("REG-ORDER", "2025-04-10-suspend.yml"),
        ("REG-ORDER", "2025-06-09-restore.yml")]


def test_the_decisions_after_a_refused_one_are_judged_by_their_own_rules(builder):
    """After a refused restore, the suspension that follows is still judged: decided 2025-10-15 on facts verified
    2025-09-30, after its 5 working days (to 2025-10-14, ZCF-12.1.1), without a late record; the restore after it
    takes effect."""
    n = builder.zcf("CEC-ZCF-2025-0001", valid_until="2025-12-31")
    builder.decide(n, "restore", "2025-09-01", rectification_verified="2025-08-29")  # refused
    builder.decide(n, "suspend", "2025-10-15", ground="a", facts_verified="2025-09-30")  # late, no late record
    builder.decide(n, "restore", "2025-12-30", rectification_verified="2025-12-29")
    c = check_registry(builder.root, D("2026-02-01"), jobs=1)
    assert sorted((p.level, p.rule, p.path.name) for p in c.report.problems) == [
        ("error", "REG-ORDER", "2025-09-01-restore.yml"),
        ("error", "ZCF-12.1.1", "2025-10-15-suspend.yml"), ("warning", "ZCF-12.1.1", "2025-10-15-suspend.yml")]
    assert c.histories[n].status_on(D("2025-12-29")) == "suspended"
    assert c.histories[n].status_on(D("2025-12-30")) == "valid"


ACTIONS = ["suspend", "restore", "revoke", "cancel", "change", "surveillance", "issue", "reissue"]


def _random_certificate(rng: random.Random, cert):
    """``cert`` with 1 to 9 random decisions after its issue (many of them refused), in date order."""
    from certreg.records.model import Decision

    issue = cert.decisions[0]
    start = issue.date
    out = [issue]
    for i in range(rng.randint(1, 9)):
        action = rng.choice(ACTIONS)
        day = start + dt.timedelta(days=rng.randint(0, 1300))
        data = {"certificate": cert.number, "action": action, "date": day}
        if action == "surveillance":
            data["outcome"] = rng.choice(["pass", "fail", "nonconformities"])
        if action == "reissue":
            data["versions"] = [rng.randint(1, 3)]
        if action == "change":
            data["changes"] = {"specification": f"第 {i} 版"}
            if rng.random() < 0.3:
                data["corrects"] = issue.path.name
        out.append(Decision(issue.path.with_name(f"{day}-{action}-{i}.yml"), action, day, data))
    out[1:] = sorted(out[1:], key=lambda d: d.date)
    return dataclasses.replace(cert, decisions=out)


def test_a_history_is_the_history_of_its_applied_decisions_alone(builder):
    """For 400 random sequences: replaying only the decisions that were not refused gives the same history
    (statuses, suspensions, versions, events), with nothing refused. A replay that stopped at the first refused
    decision, or let one change anything, fails this."""
    n = builder.zwl()
    cert = check_registry(builder.root, D("2025-01-01"), jobs=1).registry.certificates[n]
    rng = random.Random(20261130)
    seen_refused_then_applied = 0
    for _ in range(400):
        c = _random_certificate(rng, cert)
        h = history(c)
        refused = {p.path for p in h.problems}
        kept = dataclasses.replace(c, decisions=[d for d in c.decisions if d.path not in refused])
        again = history(kept)
        assert again.problems == []
        assert (again.segments, again.suspensions, again.versions, again.events, again.applied, again.reissues) == (
            h.segments, h.suspensions, h.versions, h.events, h.applied, h.reissues), [
            (d.date, d.action) for d in c.decisions]
        first = next((i for i, d in enumerate(c.decisions) if d.path in refused), None)
        if first is not None and any(d.path not in refused for d in c.decisions[first + 1:]):
            seen_refused_then_applied += 1
    assert seen_refused_then_applied > 50  # the sequences do exercise a decision applied after a refused one


@pytest.mark.parametrize("as_of, level", [("2027-10-06", "error"), ("2027-10-07", "error"), ("2027-10-08", "warning")])
def test_an_overdue_closure_is_due_until_the_last_day_in_force_and_a_past_fault_after(builder, as_of, level):
    """ZWL-6.3: nonconformities found 2027-06-01 were due closed by 2027-08-01. Until the certificate's last day in
    force (2027-10-07) the closure is an action due (an error); from the next day nothing can mend it (a warning)."""
    n = builder.zwl()
    for day in ("2025-09-01", "2026-08-31"):
        builder.decide(n, "surveillance", day, **VISIT)
    builder.decide(n, "surveillance", "2027-06-01", **{**VISIT, "outcome": "nonconformities"}, nonconformities=1)
    c = check_registry(builder.root, D(as_of), jobs=1)
    assert [(p.level, p.overdue) for p in c.report.problems if p.rule == "ZWL-6.3"] == [
        (level, level == "error")]
