"""Records that tell the truth: a decision taken after its deadline is recorded as it happened, flagged, and
published; an action now due is loud (validate fails) but never holds anything back (status, render, build).

Every limit is tried on the day before, the day itself and the day after, with the expected answers worked out
from the rules documents and the Chinese working-day calendar, not from the code.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from certreg.cli import main
from certreg.publish.build import build_site
from certreg.rules.validate import check_registry
from conftest import ROOT

D = dt.date.fromisoformat
CONFIG = ROOT / "mkdocs.yml"
LATE = {"zh": "调查结论经复核后才作出决定", "en": "The findings were reviewed again before the decision"}


def run(registry, *args, input=None, code=0):
    result = CliRunner().invoke(main, [args[0], "--registry", str(registry), *args[1:]], input=input)
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


def found(builder, as_of, level=None):
    c = check_registry(builder.root, D(as_of), jobs=1)
    return [(p.level, p.rule, p.path.name) for p in c.report.problems if level in (None, p.level)]


def status_on(builder, number, day):
    return check_registry(builder.root, D(day), jobs=1).histories[number].status_on(D(day))


# --- the issue's scenario: a suspension decided after its 5 working days -------------------------------


@pytest.mark.publishes
def test_a_late_suspension_is_recorded_warned_and_published_as_suspended(builder, tmp_path):
    """Facts verified Tue 2025-09-30; the 5 working days (ZCF-12.1.1) end 2025-10-14: 10-01..10-08 are the National
    Day holiday, Sat 10-11 is a make-up working day, so the days are 10-09, 10-10, 10-11, 10-13, 10-14. Suspended
    2025-10-15: one working day late."""
    n = builder.zcf()
    out = run(builder.root, "decide", "suspend", n, "--date", "2025-10-15", "--ground", "a", "--as-of", "2025-10-15",
              "--set", "facts_verified=2025-09-30", "--reason-zh", "被责令停产整顿", "--reason-en", "Ordered to stop",
              input=f"{LATE['zh']}\n{LATE['en']}\n").output
    assert "ZCF-12.1.1: this decision comes after its deadline, 2025-10-14" in out
    path = builder.root / "certificates" / n / "decisions" / "2025-10-15-suspend.yml"
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert record["late"] == {"ZCF-12.1.1": dt.date(2025, 10, 14)} and record["late_reason"] == LATE
    assert record["announcement"] == "20251015-1"
    out = run(builder.root, "validate", "--as-of", "2025-10-20").output
    assert "warning ZCF-12.1.1 the suspension is due within 5 working days of facts_verified (2025-09-30), by " \
           "2025-10-14, but date is 2025-10-15: 1 working day late (recorded as late, with the reason)" in out
    assert " error " not in out
    assert status_on(builder, n, "2025-10-14") == "valid" and status_on(builder, n, "2025-10-15") == "suspended"
    site = tmp_path / "site"
    notices = build_site(CONFIG, site, D("2025-10-20"), pdfs=False, registry=builder.root)
    assert [(p.level, p.rule) for p in notices] == [("warning", "ZCF-12.1.1")]
    data = json.loads((site / "data" / "certificates.json").read_text(encoding="utf-8"))
    cert = next(c for c in data["certificates"] if c["number"] == n)
    assert cert["status"] == "suspended" and cert["status_since"] == "2025-10-15"
    # the zero-carbon factory scheme keeps the reason for lateness internal (late_reason_public: false)
    page = (site / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert "late" not in cert["timeline"][-1] and LATE["zh"] not in page
    anns = json.loads((site / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    assert [(a["number"], a["certificate"], a["action"]) for a in anns] == [("20251015-1", n, "suspend")]


@pytest.mark.publishes
def test_the_reason_for_lateness_is_published_where_the_scheme_says_so(builder, tmp_path):
    n = builder.zwl()  # issued 2024-10-08; ZWL publishes late_reason (late_reason_public: true)
    builder.decide(n, "surveillance", "2025-10-09", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True, late={"ZWL-6.1": "2025-10-08"}, late_reason=LATE)
    site = tmp_path / "site"
    build_site(CONFIG, site, D("2025-10-20"), pdfs=False, registry=builder.root)
    cert = json.loads((site / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert cert["timeline"][-1]["late"] == {"ZWL-6.1": "2025-10-08"} and cert["timeline"][-1]["late_reason"] == LATE
    page = (site / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert "逾期作出（期限为 2025-10-08）" in page and LATE["zh"] in page


@pytest.mark.parametrize("day, late", [("2025-10-13", False), ("2025-10-14", False), ("2025-10-15", True)])
def test_the_suspension_deadline_the_day_before_on_and_after(builder, day, late):
    n = builder.zcf()
    builder.decide(n, "suspend", day, ground="a", facts_verified="2025-09-30")
    want = [("error", "ZCF-12.1.1", f"{day}-suspend.yml"), ("warning", "ZCF-12.1.1", f"{day}-suspend.yml")]
    assert sorted(found(builder, "2025-10-20")) == (want if late else [])
    assert status_on(builder, n, day) == "suspended"  # late or not, the suspension takes effect on its date


@pytest.mark.parametrize("day, late", [("2026-05-08", False), ("2026-05-09", False), ("2026-05-10", True),
                                       ("2026-05-11", True)])
def test_the_revocation_deadline_the_day_before_on_and_after(builder, day, late):
    """Facts verified 2026-04-29: 04-30 is the 1st working day, 05-01..05-05 the Labour Day holiday, 05-06, 05-07,
    05-08 and Sat 05-09 (a make-up working day) the 2nd to 5th. Sun 05-10, a rest day, is after the limit: late
    by no working day, but late; Mon 05-11 is one working day late."""
    n = builder.zcf("CEC-ZCF-2026-0001", valid_from="2026-03-02", valid_until="2026-12-31",
                    reporting_period={"start": "2025-01-01", "end": "2025-12-31"})
    extra = {"late": {"ZCF-12.2": "2026-05-09"}, "late_reason": LATE} if late else {}
    builder.decide(n, "revoke", day, ground="a", facts_verified="2026-04-29", **extra)
    assert found(builder, "2026-06-01") == ([("warning", "ZCF-12.2", f"{day}-revoke.yml")] if late else [])
    assert status_on(builder, n, day) == "revoked"
    if late:
        (message,) = [p.message for p in check_registry(builder.root, D("2026-06-01"), jobs=1).report.problems]
        assert message.endswith({"2026-05-10": "late, on a rest day after the deadline (recorded as late, with the "
                                                "reason)",
                                 "2026-05-11": "1 working day late (recorded as late, with the reason)"}[day])


# --- surveillance (ZWL-6.1): a late one restarts the 12 months from its own date --------------------------


@pytest.mark.parametrize("day, late", [("2025-10-07", False), ("2025-10-08", False), ("2025-10-09", True)])
def test_the_first_surveillance_the_day_before_on_and_after_its_due_date(builder, day, late):
    n = builder.zwl()  # issued 2024-10-08: the first surveillance is due by 2025-10-08
    extra = {"late": {"ZWL-6.1": "2025-10-08"}, "late_reason": LATE} if late else {}
    builder.decide(n, "surveillance", day, outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True, **extra)
    assert found(builder, "2025-12-01") == ([("warning", "ZWL-6.1", f"{day}-surveillance.yml")] if late else [])


@pytest.mark.parametrize("day, late", [("2026-10-08", False), ("2026-10-09", False), ("2026-10-10", True)])
def test_a_late_surveillance_restarts_the_clock_from_its_own_date(builder, day, late):
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-10-09", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True, late={"ZWL-6.1": "2025-10-08"}, late_reason=LATE)
    extra = {"late": {"ZWL-6.1": "2026-10-09"}, "late_reason": LATE} if late else {}
    builder.decide(n, "surveillance", day, outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True, **extra)
    want = [("warning", "ZWL-6.1", "2025-10-09-surveillance.yml")]
    if late:
        want.append(("warning", "ZWL-6.1", f"{day}-surveillance.yml"))
    assert found(builder, "2026-12-01") == want


def test_a_late_surveillance_without_its_late_record_is_an_error_until_it_says_so(builder):
    n = builder.zwl()
    path = builder.decide(n, "surveillance", "2025-10-09", outcome="pass", person_days="2",
                          quantified_value_decreased=True, target_met=True)
    assert sorted(found(builder, "2025-12-01")) == [("error", "ZWL-6.1", path.name), ("warning", "ZWL-6.1", path.name)]
    c = check_registry(builder.root, D("2025-12-01"), jobs=1)
    assert c.late == {path: {"ZWL-6.1": D("2025-10-08")}}


@pytest.mark.parametrize("as_of, overdue", [("2025-10-08", False), ("2025-10-09", True)])
@pytest.mark.publishes
def test_an_overdue_surveillance_is_an_error_of_validate_that_holds_nothing_back(builder, tmp_path, as_of, overdue):
    n = builder.zwl()  # due by 2025-10-08, not recorded
    run(builder.root, "validate", "--as-of", as_of, code=1 if overdue else 0)
    run(builder.root, "validate", "--as-of", as_of, "--publishable")
    out = run(builder.root, "status", "--as-of", as_of)
    assert ("notice: " in out.output and "ZWL-6.1 no surveillance since 2024-10-08: one was due by 2025-10-08"
            in out.output) == overdue
    site = tmp_path / "site"
    build_site(CONFIG, site, D(as_of), pdfs=False, registry=builder.root)
    cert = json.loads((site / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert cert["surveillance_due"] == "2025-10-08" and cert["surveillance_overdue"] is overdue
    page = (site / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert ("监督检查应于 2025-10-08 前进行，至今尚无记录（逾期）" in page) == overdue
    assert ("下次监督检查应于 2025-10-08 前进行" in page) != overdue


@pytest.mark.publishes
def test_render_is_not_held_back_by_an_action_due_elsewhere(builder, tmp_path):
    builder.zwl()  # its surveillance is overdue on 2025-12-01
    other = builder.zwl("CEC-ZWL-2025-0009", valid_from="2025-06-02", raw_material_source="另一来源")
    out = run(builder.root, "render", other, "--out", str(tmp_path / "pdfs"), "--as-of", "2025-12-01",
              "--site", str(CONFIG))
    assert (tmp_path / "pdfs" / f"{other}-v1.pdf").is_file()
    assert "notice: " in out.output and "1 PDF(s) written" in out.output


@pytest.mark.parametrize("as_of", ["2027-10-07", "2027-10-08"])
def test_a_missed_surveillance_on_a_certificate_since_expired_is_a_warning(builder, as_of):
    """Issued 2024-10-08, valid until 2027-10-07; no surveillance was ever recorded. While it is in force, the
    missing one is an action due (an error); from the day after its last day nothing can be recorded to mend it,
    and it is a warning that blocks nothing."""
    n = builder.zwl()
    levels = {p.level for p in check_registry(builder.root, D(as_of), jobs=1).report.problems}
    in_force = as_of <= "2027-10-07"
    assert levels == ({"error"} if in_force else {"warning"})
    run(builder.root, "validate", "--as-of", as_of, code=1 if in_force else 0)
    assert status_on(builder, n, as_of) == ("valid" if in_force else "expired")


# --- acceptance and issue deadlines (ZWL-5.1.2 binding, ZWL-5.5.2 "normally") ------------------------------


@pytest.mark.parametrize("accepted, late", [("2024-09-04", False), ("2024-09-05", False), ("2024-09-06", True)])
def test_the_acceptance_deadline_the_day_before_on_and_after(builder, accepted, late):
    """Received Mon 2024-09-02: three working days end Thu 2024-09-05 (ZWL-5.1.2)."""
    from conftest import ZWL_CONTENT, zwl_issue

    n = "CEC-ZWL-2024-0001"
    builder.certificate(n, "zero-waste-low-carbon-water", "2024-10-08", "2027-10-07", ZWL_CONTENT)
    extra = {"late": {"ZWL-5.1.2": "2024-09-05"}, "late_reason": LATE} if late else {}
    builder.decision(n, zwl_issue(n, "2024-10-08", application={"received": "2024-09-02", "accepted": accepted},
                                  **extra))
    assert found(builder, "2024-12-01") == ([("warning", "ZWL-5.1.2", "2024-10-08-issue.yml")] if late else [])


@pytest.mark.parametrize("issued, late", [("2024-10-30", False), ("2024-10-31", False), ("2024-11-01", True)])
def test_an_issue_normally_within_30_days_of_closure_warns_and_needs_no_late_record(builder, issued, late):
    """ZWL-5.5.2: nonconformities verified closed 2024-10-01; the certificate is normally issued within 30 days,
    by 2024-10-31. "Normally" (一般情况下): a warning, and no late: record is asked for."""
    from conftest import ZWL_CONTENT, zwl_issue

    n = "CEC-ZWL-2024-0001"
    until = (D(issued).replace(year=D(issued).year + 3) - dt.timedelta(days=1)).isoformat()
    builder.certificate(n, "zero-waste-low-carbon-water", issued, until, ZWL_CONTENT)
    builder.decision(n, zwl_issue(n, issued, nonconformities_closed="2024-10-01"))
    assert found(builder, "2024-12-01") == ([("warning", "ZWL-5.5.2", f"{issued}-issue.yml")] if late else [])


# --- restore after the suspension's limit, cancel instead of revoke: recorded as they happened ---------------


@pytest.mark.parametrize("day, late", [("2026-02-04", False), ("2026-02-05", False), ("2026-02-06", True)])
def test_a_restore_the_day_before_on_and_after_the_suspension_limit(builder, day, late):
    """ZWL-7.4: suspended 2025-08-05, six months end 2026-02-05 (the limit day may still be used)."""
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-01", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True)
    builder.decide(n, "suspend", "2025-08-05", ground="holder-request", facts_verified="2025-08-04")
    extra = {"late": {"ZWL-7.4": "2026-02-05"}, "late_reason": LATE} if late else {}
    builder.decide(n, "restore", day, rectification_verified="2026-02-03", **extra)
    assert found(builder, "2026-03-01") == ([("warning", "ZWL-7.4", f"{day}-restore.yml")] if late else [])
    assert status_on(builder, n, day) == "valid"


# --- the late record itself is checked ---------------------------------------------------------------------


def test_a_late_record_must_name_the_deadline_missed_and_only_when_late(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-10-15", ground="a", facts_verified="2025-09-30",
                   late={"ZCF-12.1.1": "2025-10-13"}, late_reason=LATE)
    c = check_registry(builder.root, D("2025-10-20"), jobs=1)
    msgs = [(p.level, p.rule, p.message) for p in c.report.problems]
    assert ("error", "ZCF-12.1.1", "late: ZCF-12.1.1: the deadline was 2025-10-14, not 2025-10-13") in msgs


def test_a_timely_decision_may_not_claim_to_be_late(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-10-14", ground="a", facts_verified="2025-09-30",
                   late={"ZCF-12.1.1": "2025-10-14"}, late_reason=LATE)
    msgs = [(p.level, p.rule, p.message) for p in check_registry(builder.root, D("2025-10-20"), jobs=1).report.problems]
    assert ("error", "REG-SCHEMA", "late: ZCF-12.1.1: the decision did not miss a deadline of ZCF-12.1.1; remove it") \
        in msgs
    assert ("error", "REG-SCHEMA", "late_reason is given but the decision met its deadlines; remove it (and late:)") \
        in msgs


def test_decide_takes_the_reason_for_lateness_from_options(builder):
    n = builder.zcf()
    run(builder.root, "decide", "suspend", n, "--date", "2025-10-15", "--ground", "a", "--as-of", "2025-10-15",
        "--set", "facts_verified=2025-09-30", "--reason-zh", "停产整顿", "--reason-en", "Stopped",
        "--late-reason-zh", LATE["zh"], "--late-reason-en", LATE["en"])
    run(builder.root, "validate", "--as-of", "2025-10-20")


def test_a_timely_decision_is_written_without_late_fields(builder):
    n = builder.zcf()
    run(builder.root, "decide", "suspend", n, "--date", "2025-10-14", "--ground", "a", "--as-of", "2025-10-15",
        "--set", "facts_verified=2025-09-30", "--reason-zh", "停产整顿", "--reason-en", "Stopped")
    text = (builder.root / "certificates" / n / "decisions" / "2025-10-14-suspend.yml").read_text(encoding="utf-8")
    assert "late" not in text and "announcement: 20251014-1" in text


# --- limits the mutation run (mutmut) found untested -------------------------------------------------------


@pytest.mark.parametrize("day, suspended", [("2025-08-04", False), ("2025-08-05", True), ("2025-09-14", True),
                                            ("2025-09-15", False)])
def test_a_suspension_covers_its_first_day_and_not_the_day_it_ends(builder, day, suspended):
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-01", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True)
    builder.decide(n, "suspend", "2025-08-05", ground="holder-request", facts_verified="2025-08-04")
    builder.decide(n, "restore", "2025-09-15", rectification_verified="2025-09-12")
    h = check_registry(builder.root, D("2025-12-01"), jobs=1).histories[n]
    s = h.suspension_on(D(day))
    assert (s is not None) == suspended and h.status_on(D(day)) == ("suspended" if suspended else "valid")
    if suspended:
        assert s.start == D("2025-08-05") and s.end == D("2025-09-15")


@pytest.mark.parametrize("day, allowed", [("2025-11-14", False), ("2025-11-15", False), ("2025-11-16", True),
                                          ("2025-11-17", True)])
def test_a_revocation_for_an_unrestored_suspension_comes_after_its_limit(builder, day, allowed):
    """ZCF-12.2 c: suspended 2025-08-15, the 3 months (ZCF-12.1.2) end 2025-11-15: the limit day still belongs to
    the suspension; ground c can be used from the next day (Sun 2025-11-16: a decision may bear a rest day)."""
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-08-15", ground="a", facts_verified="2025-08-14")
    path = builder.decide(n, "revoke", day, ground="c", facts_verified=day)
    c = check_registry(builder.root, D("2025-12-01"), jobs=1)
    errors = [(p.rule, p.path.name, p.line) for p in c.report.problems if p.level == "error"]
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("ground:"))
    assert errors == ([] if allowed else [("ZCF-12.2", f"{day}-revoke.yml", line)])
    assert status_on(builder, n, day) == "revoked"


@pytest.mark.parametrize("requested, ok", [("2025-06-01", True), ("2025-06-02", True), ("2025-06-03", False)])
def test_a_cancellation_is_requested_on_or_before_its_date(builder, requested, ok):
    n = builder.zcf()
    builder.decide(n, "cancel", "2025-06-02", ground="holder-request", requested=requested)
    assert found(builder, "2025-06-30") == ([] if ok else [("error", "REG-ORDER", "2025-06-02-cancel.yml")])


def test_no_surveillance_is_due_once_the_certificate_has_ended(builder):
    n = builder.zwl()  # issued 2024-10-08, last day 2027-10-07
    h = check_registry(builder.root, D("2025-01-01"), jobs=1).histories[n]
    from certreg.status import surveillance_due

    assert surveillance_due(h, D("2027-10-07")) == D("2025-10-08")
    assert surveillance_due(h, D("2027-10-08")) is None  # expired: nothing more is due
    assert surveillance_due(h, D("2024-10-07")) is None  # not issued yet
    assert h.version_on(D("2024-10-07")) is None and h.version_on(D("2024-10-08")).number == 1


@pytest.mark.parametrize("day, version", [("2025-06-01", 1), ("2025-06-02", 2), ("2025-06-03", 2)])
def test_the_rules_between_certificates_see_the_version_in_force_on_a_day(builder, day, version):
    """ZWL-7.2, ZWL-4: a successor is compared with what its predecessor certified on the successor's first day;
    a change takes effect on its date."""
    from certreg.rules.checks import facts

    a = builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.decide(a, "change", "2025-06-02", changes={"product_name": "新名称回用水"})
    c = check_registry(builder.root, D("2025-07-01"), jobs=1)
    f = facts(c.registry.certificates[a], c.histories[a])
    assert f.version_on(D(day)).number == version
    assert f.version_on(D(day)).values["product_name"] == ("高温冷凝回用水" if version == 1 else "新名称回用水")


def test_a_late_surveillance_is_judged_on_its_dates_whatever_the_as_of_date(builder):
    n = builder.zwl()  # due by 2025-10-08, held 2025-10-20 and recorded as late
    builder.decide(n, "surveillance", "2025-10-20", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True, late={"ZWL-6.1": "2025-10-08"}, late_reason=LATE)
    for as_of in ("2025-10-05", "2025-10-25", "2026-06-30"):
        assert found(builder, as_of) == [("warning", "ZWL-6.1", "2025-10-20-surveillance.yml")], as_of


def test_a_late_record_the_calendar_cannot_check_is_taken_as_written(builder):
    from certreg.rules.dates import calendar_years

    last = calendar_years()[1]
    n = builder.zcf(valid_from=f"{last + 1}-01-05", valid_until=f"{last + 1}-06-30",
                    reporting_period={"start": f"{last}-01-01", "end": f"{last}-12-31"})
    builder.decide(n, "suspend", f"{last + 1}-01-20", ground="c", facts_verified=f"{last + 1}-01-05",
                   late={"ZCF-12.1.1": f"{last + 1}-01-12"}, late_reason=LATE)
    assert found(builder, f"{last + 1}-01-25") == [("warning", "REG-CALENDAR", f"{last + 1}-01-20-suspend.yml")]


def test_a_late_record_the_calendar_cannot_check_does_not_hide_the_entries_after_it(builder):
    """late: lists a deadline the calendar cannot tell (taken as written) and then one the decision has not: the
    second is still reported."""
    from certreg.rules.dates import calendar_years

    last = calendar_years()[1]
    n = builder.zcf(valid_from=f"{last + 1}-01-05", valid_until=f"{last + 1}-06-30",
                    reporting_period={"start": f"{last}-01-01", "end": f"{last}-12-31"})
    builder.decide(n, "suspend", f"{last + 1}-01-20", ground="c", facts_verified=f"{last + 1}-01-05",
                   late={"ZCF-12.1.1": f"{last + 1}-01-12", "ZCF-12.2": f"{last + 1}-01-12"}, late_reason=LATE)
    assert sorted(found(builder, f"{last + 1}-01-25")) == [("error", "REG-SCHEMA", f"{last + 1}-01-20-suspend.yml"),
                                                          ("warning", "REG-CALENDAR", f"{last + 1}-01-20-suspend.yml")]


@pytest.mark.publishes
def test_a_late_decision_without_its_late_record_fails_validate_but_holds_nothing_back(builder, tmp_path):
    """A published record is never rewritten, and a holiday-calendar update can make a past decision late: the
    missing late record is an error for staff, and the decision is published as it happened."""
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-10-15", ground="a", facts_verified="2025-09-30")
    run(builder.root, "validate", "--as-of", "2025-10-20", code=1)
    run(builder.root, "validate", "--as-of", "2025-10-20", "--publishable")
    build_site(CONFIG, tmp_path / "site", D("2025-10-20"), pdfs=False, registry=builder.root)
    data = json.loads((tmp_path / "site" / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert data["status"] == "suspended"


@pytest.mark.publishes
def test_the_record_comparison_cannot_be_skipped_by_a_missing_records_file(builder, tmp_path):
    from certreg.publish.build import BuildError

    n = builder.zwl()
    site = tmp_path / "site"
    build = functools.partial(build_site, CONFIG, site, D("2025-06-30"), pdfs=False, registry=builder.root)
    build()
    records = json.loads((site / "data" / "records.json").read_text(encoding="utf-8"))
    assert records["format"] == "certreg-records/1" and f"certificate/{n}/v1" in records["records"]
    (site / "data" / "records.json").unlink()  # not fetched, say: the comparison would be skipped
    with pytest.raises(BuildError, match="publishes data/records.json, but it has none"):
        build()
    data = site / "data" / "certificates.json"  # a site made before records.json existed: compared as it can be
    from certreg import __version__

    data.write_text(data.read_text(encoding="utf-8").replace(f'"certreg {__version__}"', '"certreg 0.1.0"'),
                    encoding="utf-8")
    build()
    assert (site / "data" / "records.json").is_file()


@pytest.mark.parametrize("as_of, overdue", [("2025-10-31", False), ("2025-11-01", False), ("2025-11-02", True)])
@pytest.mark.publishes
def test_an_overdue_closure_of_nonconformities_is_loud_and_shown_on_the_page(builder, tmp_path, as_of, overdue):
    """ZWL-6.3: nonconformities found 2025-09-01 are verified closed within 2 months, by 2025-11-01."""
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-09-01", outcome="nonconformities", nonconformities=2, person_days="2",
                   quantified_value_decreased=True, target_met=True)
    assert found(builder, as_of) == ([("error", "ZWL-6.3", "2025-09-01-surveillance.yml")] if overdue else [])
    build_site(CONFIG, tmp_path / "site", D(as_of), pdfs=False, registry=builder.root)
    cert = json.loads((tmp_path / "site" / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert cert.get("closures_overdue") == ([{"found": "2025-09-01", "due": "2025-11-01"}] if overdue else None)
    page = (tmp_path / "site" / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert ("2025-09-01 监督检查发现的不符合项应于 2025-11-01 前验证关闭，至今尚无记录（逾期）" in page) == overdue


@pytest.mark.parametrize("verified, ok", [("2025-08-04", False), ("2025-08-05", True), ("2025-09-15", True),
                                          ("2025-09-16", False)])
def test_a_rectification_is_verified_within_the_suspension(builder, verified, ok):
    """ZWL-7.4: suspended 2025-08-05 and restored 2025-09-15: the rectification is verified from the first day
    of the suspension to the day of the restoration, both included."""
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-01", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True)
    builder.decide(n, "suspend", "2025-08-05", ground="holder-request", facts_verified="2025-08-04")
    path = builder.decide(n, "restore", "2025-09-15", rectification_verified=verified)
    c = check_registry(builder.root, D("2025-12-01"), jobs=1)
    got = [(p.level, p.rule, p.path.name, p.line) for p in c.report.problems]
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("rectification_verified:"))
    assert got == ([] if ok else [("error", "ZWL-7.4", path.name, line)])
    if not ok:
        assert c.report.problems[0].message == (f"rectification verified {verified}, which is not within the "
                                                "suspension (2025-08-05 – 2025-09-15)")


def test_each_restore_is_judged_against_the_suspension_it_ends(builder):
    """Two suspensions: the second restore's rectification is judged against the second suspension only."""
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-01", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True)
    builder.decide(n, "suspend", "2025-08-05", ground="holder-request", facts_verified="2025-08-04")
    builder.decide(n, "restore", "2025-08-20", rectification_verified="2025-08-19")
    builder.decide(n, "suspend", "2025-09-01", ground="holder-request", facts_verified="2025-08-29")
    builder.decide(n, "restore", "2025-09-20", rectification_verified="2025-08-25")  # before the 2nd suspension
    assert found(builder, "2025-12-01") == [("error", "ZWL-7.4", "2025-09-20-restore.yml")]


def test_the_next_surveillance_is_counted_from_the_last_surveillance_only(builder):
    from certreg.status import surveillance_due

    n = builder.zwl()  # issued 2024-10-08
    builder.decide(n, "surveillance", "2025-06-02", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True)
    builder.decide(n, "change", "2025-07-01", changes={"specification": "初始温度 ≥ 65 ℃"})  # not a surveillance
    h = check_registry(builder.root, D("2025-08-01"), jobs=1).histories[n]
    assert surveillance_due(h, D("2025-08-01")) == D("2026-06-02")
    assert surveillance_due(h, D("2025-06-01")) == D("2025-10-08")  # (the surveillance of 06-02 not yet held)
    assert surveillance_due(h, D("2025-06-02")) == D("2026-06-02")  # (held that day)


def test_a_warning_says_recorded_late_only_when_it_is(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-10-15", ground="a", facts_verified="2025-09-30")
    c = check_registry(builder.root, D("2025-10-20"), jobs=1)
    warning = next(p for p in c.report.problems if p.level == "warning")
    assert warning.message.endswith(": 1 working day late")


def test_a_successor_issued_before_its_predecessor_is_compared_with_its_first_version(builder):
    from certreg.rules.checks import facts

    a = builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    c = check_registry(builder.root, D("2025-07-01"), jobs=1)
    f = facts(c.registry.certificates[a], c.histories[a])
    assert f.version_on(D("2024-10-07")).number == 1  # (before its issue: its first version, never nothing)


def _nonconformities(builder, n, day):
    builder.decide(n, "surveillance", day, outcome="nonconformities", nonconformities=1, person_days="2",
                   quantified_value_decreased=True, target_met=True)


@pytest.mark.parametrize("closed, overdue", [("2025-10-31", False), ("2025-11-01", False), ("2025-11-02", True)])
def test_nonconformities_verified_closed_on_the_limit_day_are_in_time(builder, closed, overdue):
    """ZWL-6.3: found 2025-09-01, verified closed by a surveillance that passes within 2 months (by 2025-11-01).
    Verified the day after, the verification is recorded as it happened: late (a late record, then a warning);
    the closure is no longer due."""
    n = builder.zwl()
    _nonconformities(builder, n, "2025-09-01")
    path = builder.decide(n, "surveillance", closed, outcome="pass", person_days="1", quantified_value_decreased=True,
                          target_met=True)
    if not overdue:
        assert found(builder, "2025-12-01") == []
        return
    assert found(builder, "2025-12-01") == [("error", "ZWL-6.3", path.name), ("warning", "ZWL-6.3", path.name)]
    path.write_text(path.read_text(encoding="utf-8") + "late:\n  ZWL-6.3: 2025-11-01\nlate_reason:\n  zh: 复查推迟\n"
                    "  en: The follow-up visit was postponed\n", encoding="utf-8")
    assert found(builder, "2025-12-01") == [("warning", "ZWL-6.3", path.name)]
    (message,) = [p.message for p in check_registry(builder.root, D("2025-12-01"), jobs=1).report.problems]
    assert message.startswith("the nonconformities found 2025-09-01 were verified closed on 2025-11-02, after their "
                              "2-month limit (2025-11-01)")


def test_nonconformities_found_not_closed_after_the_limit_suspend_late(builder):
    """ZWL-6.3: found 2025-09-01, due closed by 2025-11-01; a surveillance of 2025-11-10 finds them not closed
    (fail): that suspends the certificate, late; nothing more is due, and the page shows no overdue closure."""
    from certreg.status import summary

    n = builder.zwl()
    _nonconformities(builder, n, "2025-09-01")
    path = builder.decide(n, "surveillance", "2025-11-10", outcome="fail", person_days="1",
                          quantified_value_decreased=False, target_met=False, late={"ZWL-6.3": "2025-11-01"},
                          late_reason=LATE, reason={"zh": "不符合项未整改", "en": "Nonconformities not closed"})
    c = check_registry(builder.root, D("2025-11-20"), jobs=1)
    assert [(p.level, p.rule, p.path.name) for p in c.report.problems] == [("warning", "ZWL-6.3", path.name)]
    assert c.report.problems[0].message.startswith("the nonconformities found 2025-09-01 were verified not closed (it "
                                                   "failed) on 2025-11-10, after their 2-month limit (2025-11-01)")
    row = summary(c.histories[n], D("2025-11-20"))
    assert row["status"] == "suspended" and "closures_overdue" not in row


@pytest.mark.parametrize("action, fields", [("revoke", {"ground": "nonconforming", "facts_verified": "2025-11-10"}),
                                            ("cancel", {"ground": "holder-request"}),
                                            ("suspend", {"ground": "surveillance-failed",
                                                         "facts_verified": "2025-11-10"})])
def test_nonconformities_not_closed_are_handled_by_a_later_suspension_revocation_or_cancellation(builder, action,
                                                                                                 fields):
    n = builder.zwl()
    _nonconformities(builder, n, "2025-09-01")
    assert found(builder, "2025-11-05") == [("error", "ZWL-6.3", "2025-09-01-surveillance.yml")]
    builder.decide(n, action, "2025-11-11", **fields)
    assert [p for p in found(builder, "2025-11-20") if p[1] == "ZWL-6.3"] == []


@pytest.mark.parametrize("found_on, overdue", [("2027-08-07", True), ("2027-08-08", False)])
def test_nonconformities_are_not_due_from_a_certificate_that_ended_by_their_limit(builder, found_on, overdue):
    """Issued 2024-10-08, last day 2027-10-07: nonconformities found 2027-08-08 were due closed by 2027-10-08,
    after the certificate ended; found a day earlier, they were due on its last day."""
    n = builder.zwl()
    for day in ("2025-10-08", "2026-10-08"):
        builder.decide(n, "surveillance", day, outcome="pass", person_days="1", quantified_value_decreased=True,
                       target_met=True)
    _nonconformities(builder, n, found_on)
    # a past fault of an ended certificate: a warning (nothing can be recorded after its end to mend it)
    assert [p for p in found(builder, "2027-10-20") if p[1] == "ZWL-6.3"] == (
        [("warning", "ZWL-6.3", f"{found_on}-surveillance.yml")] if overdue else [])


@pytest.mark.parametrize("last, warned", [("2026-10-06", True), ("2026-10-07", False)])
def test_an_ended_certificate_whose_last_surveillance_was_due_on_its_last_day_missed_none(builder, last, warned):
    """Issued 2024-10-08, last day 2027-10-07. A surveillance on 2026-10-07 made the next due on 2027-10-07, the
    last day: not missed. One on 2026-10-06 made it due on 2027-10-06, the day before: missed (a warning, since
    nothing can be recorded after the certificate ended)."""
    n = builder.zwl()
    for day in ("2025-10-07", last):
        builder.decide(n, "surveillance", day, outcome="pass", person_days="1", quantified_value_decreased=True,
                       target_met=True)
    assert found(builder, "2027-11-01") == ([("warning", "ZWL-6.1", f"{last}-surveillance.yml")] if warned else [])


def test_every_deadline_of_a_decision_is_judged_even_when_one_has_its_dates_out_of_order(builder):
    from conftest import ZWL_CONTENT, zwl_issue

    n = "CEC-ZWL-2024-0001"
    builder.certificate(n, "zero-waste-low-carbon-water", "2024-11-15", "2027-11-14", ZWL_CONTENT)
    # accepted before it was received (REG-ORDER; ZWL-5.1.2 cannot be judged), and issued 45 days after the
    # nonconformities were closed (ZWL-5.5.2: normally 30)
    builder.decision(n, zwl_issue(n, "2024-11-15", application={"received": "2024-09-04", "accepted": "2024-09-02"},
                                  nonconformities_closed="2024-10-01"))
    assert sorted(found(builder, "2024-12-01")) == [("error", "REG-ORDER", "2024-11-15-issue.yml"),
                                                    ("warning", "ZWL-5.5.2", "2024-11-15-issue.yml")]


def test_a_deadline_beyond_the_calendar_is_reported_at_the_field_it_judges(builder):
    from certreg.rules.dates import calendar_years

    last = calendar_years()[1]
    n = builder.zcf(valid_from=f"{last + 1}-01-05", valid_until=f"{last + 1}-06-30",
                    reporting_period={"start": f"{last}-01-01", "end": f"{last}-12-31"})
    path = builder.decide(n, "suspend", f"{last + 1}-01-20", ground="c", facts_verified=f"{last + 1}-01-05")
    c = check_registry(builder.root, D(f"{last + 1}-01-25"), jobs=1)
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("date:"))
    assert [(p.rule, p.line) for p in c.report.problems] == [("REG-CALENDAR", line)]


def test_a_deadline_beyond_the_calendar_is_reported_at_the_nested_field_it_judges_and_the_others_judged(builder):
    """ZWL-5.1.2 (3 working days from receipt to acceptance) beyond the calendar: the warning is at
    application.accepted; ZWL-5.2.3 (90 days to the conclusion), which needs no calendar, is still judged."""
    from certreg.rules.dates import calendar_years
    from conftest import ZWL_CONTENT, zwl_issue

    last = calendar_years()[1]
    n = "CEC-ZWL-2024-0001"
    issued = f"{last + 1}-06-15"
    builder.certificate(n, "zero-waste-low-carbon-water", issued, f"{last + 4}-06-14", ZWL_CONTENT)
    path = builder.decision(n, zwl_issue(n, issued, application={"received": f"{last + 1}-01-05",
                                                                  "accepted": f"{last + 1}-01-08"}))
    c = check_registry(builder.root, D(f"{last + 1}-07-01"), jobs=1)
    lines = path.read_text(encoding="utf-8").splitlines()
    accepted = next(i for i, t in enumerate(lines, 1) if t.strip().startswith("accepted:"))
    date = next(i for i, t in enumerate(lines, 1) if t.startswith("date:"))
    assert sorted((p.rule, p.level, p.line) for p in c.report.problems) == [
        ("REG-CALENDAR", "warning", accepted), ("ZWL-5.2.3", "warning", date)]


@pytest.mark.parametrize("accepted, warned", [("received", False), ("next day", True)])
def test_a_deadline_met_the_same_day_needs_no_calendar(builder, accepted, warned):
    """ZWL-5.1.2 beyond the calendar: an application accepted the day it was received is within any limit, so the
    calendar is not asked (no REG-CALENDAR); accepted the next day, it would have to be."""
    from certreg.rules.dates import calendar_years
    from conftest import ZWL_CONTENT, zwl_issue

    last = calendar_years()[1]
    n = "CEC-ZWL-2024-0001"
    issued = f"{last + 1}-02-02"
    day = f"{last + 1}-01-0{5 if accepted == 'received' else 6}"
    builder.certificate(n, "zero-waste-low-carbon-water", issued, f"{last + 4}-02-01", ZWL_CONTENT)
    builder.decision(n, zwl_issue(n, issued, application={"received": f"{last + 1}-01-05", "accepted": day}))
    assert found(builder, f"{last + 1}-03-01") == ([("warning", "REG-CALENDAR", f"{issued}-issue.yml")]
                                                   if warned else [])


def test_a_decision_a_scheme_does_not_have_does_not_hide_the_decisions_after_it(builder):
    """ZCF-2: a surveillance of a zero-carbon factory is refused, and the suspension after it is still judged
    (its facts verified after it was decided: REG-ORDER)."""
    n = builder.zcf()
    builder.decision(n, {"certificate": n, "action": "surveillance", "date": "2025-05-06", "outcome": "pass",
                         "person_days": "1", "quantified_value_decreased": True, "target_met": True})
    builder.decide(n, "suspend", "2025-06-02", ground="c", facts_verified="2025-06-03")
    assert sorted(found(builder, "2025-06-30", "error")) == [("error", "REG-ORDER", "2025-06-02-suspend.yml"),
                                                             ("error", "ZCF-2", "2025-05-06-surveillance.yml")]


@pytest.mark.parametrize("number, rule", [("CEC-ZCF-25-0001", "REG-ID"), ("CEC-ZCF-2025-0001", "REG-ORDER")])
def test_a_certificate_problem_is_at_its_number_wherever_the_number_is_written(builder, number, rule):
    """REG-ID (a number off its scheme's pattern) and REG-ORDER (no issue decision) are reported at number:, also
    when it is not the record's first key."""
    from conftest import ZCF_CONTENT, dump

    folder = builder.root / "certificates" / number
    (folder / "decisions").mkdir(parents=True)
    (folder / "certificate.yml").write_text(dump({"scheme": "zero-carbon-factory", "number": number,
                                                  "valid_from": "2025-04-15", "valid_until": "2025-12-31",
                                                  "content": ZCF_CONTENT}), encoding="utf-8")
    c = check_registry(builder.root, D("2025-06-30"), jobs=1)
    line = next(i for i, t in enumerate((folder / "certificate.yml").read_text(encoding="utf-8").splitlines(), 1)
                if t.startswith("number:"))
    assert line > 1 and (rule, line) in [(p.rule, p.line) for p in c.report.problems], c.report.problems


def test_a_late_record_naming_another_deadline_is_pointed_at_where_it_is_written(builder):
    """A revocation late for ZCF-12.2 whose late: names only ZCF-12.1.1: the missing entry is reported at late:
    (where it is to be written), the wrong one at its own line."""
    n = builder.zcf("CEC-ZCF-2026-0001", valid_from="2026-03-02", valid_until="2026-12-31",
                    reporting_period={"start": "2025-01-01", "end": "2025-12-31"})
    path = builder.decide(n, "revoke", "2026-05-11", ground="a", facts_verified="2026-04-29",
                          late={"ZCF-12.1.1": "2026-05-09"}, late_reason=LATE)
    lines = path.read_text(encoding="utf-8").splitlines()
    late = next(i for i, t in enumerate(lines, 1) if t.startswith("late:"))
    c = check_registry(builder.root, D("2026-06-01"), jobs=1)
    assert sorted((p.level, p.rule, p.line) for p in c.report.problems) == [
        ("error", "REG-SCHEMA", late + 1), ("error", "ZCF-12.2", late), ("warning", "ZCF-12.2", lines.index(
            next(t for t in lines if t.startswith("date:"))) + 1)]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text() | st.floats(allow_nan=False,
                                                                                                   allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=12))
@example({"\ue000": 1, "\U0001f600": 2})  # (UTF-16 puts the emoji first, its code point puts it last)
@example({"a": "\x00\x1f\x7f\u2028 \"\\ </script>", "b": [2**53 - 1, -(2**53 - 1)]})
@example({"z": 1, "a": {"y": None, "b": True}})
@example([0.1, 1234.5678, 0.0001, 0.00009999, 0.00001, 4503599627370495.5, 2.0, -0.0, 1e16, 1e21, -3.25])
def test_the_hash_of_a_record_is_of_its_rfc_8785_canonical_json(value):
    """data/records.json's hashes (REG-APPEND) are of RFC 8785 canonical JSON, made by Python's C encoder where that
    gives the same bytes as rfc8785: any value gives exactly rfc8785's bytes (or its refusal)."""
    import rfc8785

    from certreg.publish.public import canonical

    try:
        want = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical(value)
        return
    assert canonical(value) == want
