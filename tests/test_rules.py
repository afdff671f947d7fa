"""Rules that need several records or the calendar: working days, succession, one unit one certificate."""

from __future__ import annotations

import datetime as dt
import signal

import pytest

from certreg.rules.dates import CalendarUnknown, add_months, add_working_days, calendar_years
from certreg.rules.validate import check_registry
from conftest import ZCF_CONTENT, ZWL_CONTENT, zcf_issue, zwl_issue

D = dt.date.fromisoformat


def problems(builder, as_of="2025-06-30"):
    c = check_registry(builder.root, D(as_of), jobs=1)
    return [(p.level, p.rule, p.path.name, p.line, p.message) for p in c.report.problems]


@pytest.mark.parametrize("start,n,due", [
    ("2025-09-26", 5, "2025-10-10"),   # National Day week and the make-up Saturday 2025-10-11 not yet reached
    ("2026-02-13", 3, "2026-02-25"),   # Spring Festival 2026
    ("2025-09-30", 1, "2025-10-09"),   # the holiday runs to 10-08
    ("2025-06-02", 5, "2025-06-09"),   # an ordinary week
])
def test_working_days_follow_the_chinese_calendar(start, n, due):
    assert add_working_days(D(start), n) == D(due)


def test_dates_outside_the_calendar_are_named_not_guessed():
    first, last = calendar_years()
    assert first <= 2025 <= last
    with pytest.raises(CalendarUnknown, match=f"knows {first}–{last} only, not {last + 1}"):
        add_working_days(dt.date(last, 12, 30), 5)


def test_month_arithmetic_clamps_to_month_end():
    assert add_months(D("2025-08-31"), 3) == D("2025-11-30")
    assert add_months(D("2024-02-29"), 12) == D("2025-02-28")
    assert add_months(D("2025-11-15"), -6) == D("2025-05-15")


def test_suspension_deadline_across_national_day(builder):
    n = builder.zcf()
    # facts verified 2025-09-26: five working days end 2025-10-10 (the National Day week is not counted)
    builder.decide(n, "suspend", "2025-10-10", ground="a", facts_verified="2025-09-26")
    assert problems(builder, "2025-10-20") == []
    builder.decide(n, "restore", "2025-10-20", rectification_verified="2025-10-17")
    builder.decide(n, "suspend", "2025-11-04", ground="a", facts_verified="2025-10-27")
    found = problems(builder, "2025-11-20")
    # late: a warning (CEC's timeliness), and an error until the record says so (late:, late_reason:)
    assert [(p[0], p[1], p[2]) for p in found] == [("error", "ZCF-12.1.1", "2025-11-04-suspend.yml"),
                                                   ("warning", "ZCF-12.1.1", "2025-11-04-suspend.yml")]
    assert "late: {ZCF-12.1.1: 2025-11-03}" in found[0][4]
    assert "by 2025-11-03" in found[1][4] and "1 working day late" in found[1][4]


def test_deadline_beyond_the_calendar_is_a_warning(builder):
    first, last = calendar_years()
    n = builder.zcf(valid_from=f"{last}-04-15", valid_until=f"{last}-12-31",
                    reporting_period={"start": f"{last - 1}-01-01", "end": f"{last - 1}-12-31"})
    builder.decide(n, "suspend", f"{last}-12-31", ground="c", facts_verified=f"{last}-12-30")
    found = problems(builder, f"{last}-12-31")
    assert [(p[0], p[1]) for p in found] == [("warning", "REG-CALENDAR")]
    assert f"not {last + 1}" in found[0][4] and "update the chinesecalendar package" in found[0][4]


def test_next_reporting_year_follows_the_previous(builder):
    a = builder.zcf("CEC-ZCF-2025-0001")
    b = builder.zcf("CEC-ZCF-2026-0001", valid_from="2026-03-16", valid_until="2026-12-31",
                    reporting_period={"start": "2025-01-01", "end": "2025-12-31"})
    path = builder.root / "certificates" / b / "certificate.yml"
    path.write_text(path.read_text().replace("scheme: zero-carbon-factory",
                                             f"scheme: zero-carbon-factory\nfollows: {a}"))
    # the issue decision's dates must fit the later year
    assert [p[1] for p in problems(builder, "2026-06-30") if p[0] == "error"] == []


@pytest.mark.parametrize("follows,rule,fragment", [
    ("CEC-ZCF-2020-0009", "REG-LINK", "not in the registry"),
    ("CEC-ZCF-2026-0001", "REG-LINK", "cannot follow itself"),
    ("CEC-ZWL-2024-0001", "REG-LINK", "another scheme"),
])
def test_bad_follows(builder, follows, rule, fragment):
    builder.zwl("CEC-ZWL-2024-0001")
    b = builder.zcf("CEC-ZCF-2026-0001", valid_from="2026-03-16", valid_until="2026-12-31",
                    reporting_period={"start": "2025-01-01", "end": "2025-12-31"})
    path = builder.root / "certificates" / b / "certificate.yml"
    path.write_text(path.read_text().replace("scheme: zero-carbon-factory",
                                             f"scheme: zero-carbon-factory\nfollows: {follows}"))
    found = [p for p in problems(builder, "2026-06-30") if p[1] == rule]
    assert len(found) == 1 and fragment in found[0][4] and found[0][3] == 3


def test_one_unit_one_certificate_unless_the_first_ended(builder):
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-01-06")
    found = [p for p in problems(builder, "2025-03-01") if p[0] == "error"]
    assert [(p[1], p[2]) for p in found] == [("ZWL-4", "certificate.yml")]
    assert "CEC-ZWL-2025-0001 and CEC-ZWL-2024-0001" in found[0][4]
    builder.decide("CEC-ZWL-2024-0001", "cancel", "2025-01-06", ground="superseded")
    assert [p for p in problems(builder, "2025-03-01") if p[0] == "error"] == []


def test_another_source_is_another_unit(builder):
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-01-06", raw_material_source="工艺冷却水")
    assert [p for p in problems(builder, "2025-03-01") if p[0] == "error"] == []


def test_public_text_may_not_carry_contact_details(builder):
    n = builder.zwl(specification=f"联系人 {ZWL_CONTENT['contact']['name']} 提供")
    builder.decide(n, "cancel", "2025-03-03", ground="holder-request",
                   reason={"zh": "注销，电话 13912345678", "en": "mail x.y@example.org"})
    found = [(p[1], p[2], p[4][:20]) for p in problems(builder) if p[0] == "error"]
    assert sorted((r, f) for r, f, _ in found) == [("REG-PUBLIC", "2025-03-03-cancel.yml")] * 2 + [
        ("REG-PUBLIC", "certificate.yml")]


def test_one_unit_one_certificate_follows_changes(builder):
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.decide("CEC-ZWL-2024-0001", "change", "2024-12-02", changes={"product_name": "余热回用水"})
    builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-01-06", product_name="余热回用水")
    found = [p for p in problems(builder, "2025-03-01") if p[0] == "error"]
    assert [(p[1], p[2]) for p in found] == [("ZWL-4", "certificate.yml")]
    assert "both in force from 2025-01-06" in found[0][4]


def test_renewal_matches_the_version_in_force_when_it_is_issued(builder):
    old = builder.zwl("CEC-ZWL-2022-0001", valid_from="2022-10-10")
    first = builder.root / "certificates" / old / "decisions" / "2022-10-10-issue.yml"
    first.write_text(first.read_text().replace("2024-09-02", "2022-07-04").replace("2024-09-04", "2022-07-06"))
    for day in ("2023-09-04", "2024-09-02"):
        builder.decide(old, "surveillance", day, outcome="pass", person_days="2", quantified_value_decreased=True,
                       target_met=True)
    builder.decide(old, "change", "2024-12-02", changes={"product_name": "余热回用水"})
    builder.decide(old, "cancel", "2025-09-01", ground="superseded")
    new = builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-09-01", product_name="余热回用水")
    path = builder.root / "certificates" / new / "certificate.yml"
    path.write_text(path.read_text().replace("scheme: zero-waste", f"follows: {old}\nscheme: zero-waste"))
    issue = builder.root / "certificates" / new / "decisions" / "2025-09-01-issue.yml"
    issue.write_text(issue.read_text().replace("2024-09-02", "2025-06-02").replace("2024-09-04", "2025-06-04"))
    assert [p for p in problems(builder, "2025-09-30") if p[0] == "error"] == []


def test_a_three_year_term_from_29_february(builder):
    from certreg.rules.dates import anniversary

    assert anniversary(D("2024-02-29"), 3) == D("2027-03-01")
    assert anniversary(D("2024-02-29"), 4) == D("2028-02-29")
    n = builder.zwl(valid_from="2024-02-29")  # the builder writes valid_until 2027-02-28
    assert [p for p in problems(builder, "2024-06-30") if p[1] == "ZWL-7.2"] == []
    path = builder.root / "certificates" / n / "certificate.yml"
    path.write_text(path.read_text().replace("2027-02-28", "2027-02-27"))
    assert [p[4] for p in problems(builder, "2024-06-30") if p[1] == "ZWL-7.2"] == [
        "a zero-waste-low-carbon-water certificate is valid 3 years: from 2024-02-29, valid_until must be "
        "2027-02-28, not 2027-02-27"]


@pytest.mark.parametrize("then,errors", [
    ([("surveillance", "2025-09-15", {"outcome": "pass"})], []),                      # closed in time
    ([("suspend", "2025-09-23", {"ground": "surveillance-failed", "facts_verified": "2025-09-22"})], []),
    ([("surveillance", "2025-10-01", {"outcome": "pass"})], ["ZWL-6.3"]),             # closed too late
    ([], ["ZWL-6.3"]),                                                                # nothing recorded
])
def test_nonconformities_are_closed_in_two_months_or_the_certificate_is_suspended(builder, then, errors):
    n = builder.zwl()
    visit = {"person_days": "2", "quantified_value_decreased": True, "target_met": True}
    builder.decide(n, "surveillance", "2025-07-21", outcome="nonconformities", nonconformities="2",
                   **{k: v for k, v in visit.items()})
    for action, day, fields in then:
        builder.decide(n, action, day, **({**visit, **fields} if action == "surveillance" else fields))
    assert [p[1] for p in problems(builder, "2025-10-31") if p[0] == "error"] == errors


def test_a_change_that_breaks_net_zero_is_reported_at_the_change(builder):
    n = builder.zcf()
    builder.decide(n, "change", "2025-06-02", changes={"emissions_tco2e": "1400"})
    found = [p for p in problems(builder) if p[0] == "error"]
    assert [(p[1], p[2]) for p in found] == [("ZCF-net-zero", "2025-06-02-change.yml")]
    assert "exceed offsets 1300 tCO₂e by 100" in found[0][4]


@pytest.mark.parametrize("emissions,errors", [
    ("1299.9", []),                # below the offsets
    ("1300", []),                  # equal: net zero exactly
    ("1300.5", ["ZCF-net-zero"]),  # over by half a tonne
])
def test_net_zero_is_emissions_at_most_the_offsets(builder, emissions, errors):
    """ZCF-net-zero (interpretation): on the limit (emissions equal to the offsets), just below and just above."""
    builder.zcf(emissions_tco2e=emissions)
    assert [p[1] for p in problems(builder) if p[0] == "error"] == errors


def test_a_change_that_breaks_net_zero_after_one_that_does_not_touch_it_is_reported(builder):
    """A change of other fields, then one of the figures: the second is judged (and found at its changes:)."""
    n = builder.zcf()
    builder.decide(n, "change", "2025-05-06", changes={"industry": "纺织服装业"})
    path = builder.decide(n, "change", "2025-06-02", changes={"offsets_tco2e": "1000"})
    found = [p for p in problems(builder) if p[0] == "error"]
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("changes:"))
    assert [(p[1], p[2], p[3]) for p in found] == [("ZCF-net-zero", "2025-06-02-change.yml", line)]
    assert "exceed offsets 1000 tCO₂e by 200.5" in found[0][4]


def test_one_factory_one_certificate_at_a_time(builder):
    builder.zcf("CEC-ZCF-2025-0001")
    builder.zcf("CEC-ZCF-2025-0002", valid_from="2025-05-06")
    found = [(p[1], p[2]) for p in problems(builder) if p[0] == "error"]
    assert found == [("ZCF-11.2", "certificate.yml")]


def test_an_overdue_suspension_ends_in_revocation(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-05-06", ground="a", facts_verified="2025-05-06")
    found = [p for p in problems(builder, "2025-08-07") if p[0] == "error"]
    assert [p[1] for p in found] == ["ZCF-12.1.2"] and "revoke it (ground c, ZCF-12.2)" in found[0][4]
    builder.decide(n, "cancel", "2025-08-11", ground="holder-request")
    # recorded as it happened: a past fault that nothing can mend now (nothing follows a cancellation) warns
    found = problems(builder, "2025-09-01")
    assert [(p[0], p[1], p[2]) for p in found] == [("warning", "ZCF-12.1.2", "2025-08-11-cancel.yml")]
    assert "revoked, not cancelled" in found[0][4]


def test_an_overdue_suspension_that_expired_is_a_warning(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-09-01", ground="a", facts_verified="2025-09-01")
    assert [(p[0], p[1]) for p in problems(builder, "2026-03-01")] == [("warning", "ZCF-12.1.2")]


@pytest.mark.parametrize("reason", ["联系人陈芳", "电话 138 0000 1111", "请致电 0571-8888 1234"])
def test_contact_details_in_any_spelling_stay_private(builder, reason):
    n = builder.zcf()
    builder.decide(n, "cancel", "2025-06-02", ground="holder-request", reason={"zh": reason, "en": "x"})
    assert [(p[1], p[2]) for p in problems(builder) if p[0] == "error"] == [("REG-PUBLIC", "2025-06-02-cancel.yml")]


def test_a_late_decision_without_its_late_record_is_an_error_that_time_made(builder):
    """The missing late record is an error for staff (validate fails), marked overdue: it holds no publication
    back (certreg validate --publishable, build)."""
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-10-15", ground="a", facts_verified="2025-09-30")
    c = check_registry(builder.root, D("2025-10-20"), jobs=1)
    assert sorted((p.level, p.rule, p.overdue) for p in c.report.problems) == [
        ("error", "ZCF-12.1.1", True), ("warning", "ZCF-12.1.1", False)]


def test_ground_c_is_judged_against_the_suspension_the_revocation_ends(builder):
    """ZWL-7.4: a suspension that outlived its limit was restored on 2025-08-01, and a new one began that day and is
    revoked that day on the ground of the suspension's limit: the new suspension's limit has not passed."""
    n = builder.zwl()
    builder.decide(n, "suspend", "2025-01-10", ground="violation", facts_verified="2025-01-09")
    builder.decide(n, "restore", "2025-08-01", rectification_verified="2025-07-31",
                   late={"ZWL-7.4": "2025-07-10"}, late_reason={"zh": "复核", "en": "Reviewed"})
    builder.decide(n, "suspend", "2025-08-01", ground="violation", facts_verified="2025-08-01")
    path = builder.decide(n, "revoke", "2025-08-01", ground="suspension-expired", facts_verified="2025-08-01")
    c = check_registry(builder.root, D("2025-09-01"), jobs=1)
    assert [(p.rule, p.path.name) for p in c.report.problems if p.level == "error"] == [("ZWL-7.4", path.name)]


def test_today_is_the_date_in_china(monkeypatch):
    """At 20:00 UTC on 2026-01-01 it is already 04:00 on 2026-01-02 in China: certreg judges on China's date."""
    import certreg.rules.dates as dates

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            utc = dt.datetime(2026, 1, 1, 20, 0, tzinfo=dt.UTC)
            return utc.astimezone(tz) if tz is not None else utc.replace(tzinfo=None)

    monkeypatch.setattr(dates.dt, "datetime", Clock)
    assert dates.today() == dt.date(2026, 1, 2)


def test_a_change_cannot_correct_itself(builder):
    n = builder.zwl()
    builder.decide(n, "change", "2024-12-02", changes={"specification": "初始温度 ≥ 65 ℃"},
                   corrects="2024-12-02-change.yml")
    assert [(p[1], p[2]) for p in problems(builder) if p[0] == "error"] == [("REG-APPEND", "2024-12-02-change.yml")]


def test_a_revocation_on_a_ground_the_scheme_lacks_is_refused_by_the_schema_before_any_rule(builder):
    """ZWL-7.4 names the grounds; a record with another one is refused as it is read, and reaches no rule (the
    rules index the scheme's grounds by the record's)."""
    n = builder.zwl()
    builder.decide(n, "revoke", "2025-03-03", ground="no-such-ground", facts_verified="2025-03-01")
    (found,) = problems(builder)
    assert found[:3] == ("error", "ZWL-7.4", "2025-03-03-revoke.yml") and "no-such-ground" in found[4]


def test_checking_without_keeping_the_records_keeps_no_history(builder):
    """keep=False sends back only the report (and the facts between certificates): no history, no record."""
    builder.zwl()
    kept, lean = (check_registry(builder.root, D("2025-06-30"), jobs=1, keep=keep) for keep in (True, False))
    assert set(kept.histories) == {"CEC-ZWL-2024-0001"}
    assert lean.histories == {} and lean.registry.certificates == {}
    assert [p.rule for p in lean.report.problems] == [p.rule for p in kept.report.problems]


@pytest.mark.parametrize("number,valid", [
    ("CEC-ZWL-2025-0001", True),
    ("CEC-ZWL-2025-9999", True),
    ("CEC-ZWL-2025-10000", True),     # past 9999: five digits...
    ("CEC-ZCF-2026-999999", True),    # ...or six, the most a scheme issues in a year
    ("CEC-ZWL-2025-00001", False),    # a second spelling of CEC-ZWL-2025-0001
    ("CEC-ZWL-2025-099999", False),   # a second spelling of CEC-ZWL-2025-99999
    ("CEC-ZCF-2026-1000000", False),  # seven digits
    ("CEC-ZCF-2026-001", False),
])
def test_a_serial_has_four_digits_then_five_or_six_without_leading_zeros(builder, number, valid):
    """REG-ID: a scheme numbers 0001 to 9999 in a year, then 10000 to 999999; each number has one spelling."""
    if "-ZWL-" in number:  # issued in the year its number says
        builder.certificate(number, "zero-waste-low-carbon-water", "2025-03-03", "2028-03-02", ZWL_CONTENT)
        builder.decision(number, zwl_issue(number, "2025-03-03",
                                           application={"received": "2025-01-06", "accepted": "2025-01-08"}))
        scheme, as_of = "zero-waste-low-carbon-water", "2025-06-30"
    else:
        builder.certificate(number, "zero-carbon-factory", "2026-03-02", "2026-12-31",
                            {**ZCF_CONTENT, "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"}})
        builder.decision(number, zcf_issue(number, "2026-03-02",
                                           application={"received": "2026-01-05", "accepted": "2026-01-09"}))
        scheme, as_of = "zero-carbon-factory", "2026-06-30"
    found = problems(builder, as_of)
    refused = [("error", "REG-ID", "certificate.yml", 1,
                f"{number} does not have the {scheme} number pattern (e.g. {number[:8]}2025-0001)")]
    assert found == ([] if valid else refused)


def _edit_scheme(builder, key, old, new):
    path = builder.root / "schemes" / f"{key}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors_but_schemas(builder, as_of="2025-06-30"):
    """The errors, but those of the JSON Schemas (schemas/*.json), stale once a test edits a scheme; an edited
    scheme that the loader refuses is among them (its certificates would not be checked at all)."""
    c = check_registry(builder.root, D(as_of), jobs=1)
    return [(p.level, p.rule, p.path.name, p.line, p.message) for p in c.report.problems
            if p.level == "error" and p.path.parent.name != "schemas"]


def test_a_private_text_field_is_kept_out_of_published_text(builder):
    """REG-PUBLIC: a scheme (data) that makes a text field private: its value may not appear in a public reason."""
    _edit_scheme(builder, "zero-waste-low-carbon-water", "  specification:\n    type: text\n    required: true\n"
                 "    public: true\n", "  specification:\n    type: text\n    required: true\n    public: false\n")
    n = builder.zwl()
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01",
                   reason={"zh": "规格为初始温度 ≥ 60 ℃，电导率 ≤ 10 μS/cm", "en": "Suspended"})
    found = errors_but_schemas(builder)
    assert [(p[1], p[2]) for p in found] == [("REG-PUBLIC", "2025-03-03-suspend.yml")], found
    assert "is a private value" in found[0][4]


def test_a_private_longtext_field_is_kept_out_of_published_text(builder):
    """REG-PUBLIC: the same for a field of several lines (longtext) that a scheme makes private."""
    _edit_scheme(builder, "zero-carbon-factory", "  boundary:\n    type: longtext\n    required: true\n"
                 "    public: true\n", "  boundary:\n    type: longtext\n    required: true\n    public: false\n")
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-06-03", ground="a", facts_verified="2025-06-02",
                   reason={"zh": f"核算边界（{ZCF_CONTENT['boundary']}）内的排放数据有误", "en": "Suspended"})
    found = errors_but_schemas(builder, "2025-06-30")
    assert [(p[1], p[2]) for p in found] == [("REG-PUBLIC", "2025-06-03-suspend.yml")], found
    assert f'"{ZCF_CONTENT["boundary"]}" is a private value' in found[0][4]


def test_contact_details_in_a_changed_public_field_are_refused_at_the_change(builder):
    """REG-PUBLIC: a change that writes a phone number into a public field is refused there (changes: FIELD)."""
    n = builder.zwl()
    path = builder.decide(n, "change", "2025-06-02", changes={"product_name": "高温冷凝回用水 订购 13912345678"})
    found = [p for p in problems(builder) if p[0] == "error"]
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if t.strip().startswith("product_name:"))
    assert [(p[1], p[2], p[3]) for p in found] == [("REG-PUBLIC", "2025-06-02-change.yml", line)], found


def test_the_unit_identity_is_compared_whatever_the_succession_compares(builder):
    """ZWL-4 compares the fields of unit_identity even where succession compares fewer (scheme data)."""
    _edit_scheme(builder, "zero-waste-low-carbon-water",
                 "  same: [manufacturer.name, product_name, factory.address, raw_material_source]",
                 "  same: [manufacturer.name]")
    builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", valid_from="2024-11-05")
    assert [(p[1], p[2]) for p in errors_but_schemas(builder)] == [("ZWL-4", "certificate.yml")]


def test_a_scheme_without_a_unit_identity_certifies_a_unit_more_than_once(builder):
    """Without unit_identity (scheme data), nothing limits a factory to one certificate at a time."""
    path = builder.root / "schemes" / "zero-carbon-factory.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("unit_identity:\n")
    end = text.index("\n", text.index("  what:", start)) + 1
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    builder.zcf("CEC-ZCF-2025-0001")
    builder.zcf("CEC-ZCF-2025-0002", valid_from="2025-05-06")
    assert errors_but_schemas(builder) == []


def test_contact_details_in_a_public_content_field_are_refused_at_the_field(builder):
    """REG-PUBLIC: a phone number in a public field of the certificate is reported at that field's line."""
    builder.zwl(product_name="高温冷凝回用水 订购 13912345678")
    path = builder.root / "certificates" / "CEC-ZWL-2024-0001" / "certificate.yml"
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if t.strip().startswith("product_name:"))
    found = [p for p in problems(builder) if p[0] == "error"]
    assert [(p[1], p[2], p[3]) for p in found] == [("REG-PUBLIC", "certificate.yml", line)], found


def test_a_change_of_the_private_contact_is_not_published_text(builder):
    """REG-PUBLIC looks only at public fields: a change of the private contact (its phone number) is allowed."""
    n = builder.zwl()
    builder.decide(n, "change", "2025-06-02", changes={"contact": {"name": "王小明", "phone": "13912345678"}})
    assert [p for p in problems(builder) if p[1] == "REG-PUBLIC"] == []


def test_a_credit_code_is_not_scanned_for_private_values(builder):
    """REG-PUBLIC: a unified social credit code is published as it is, even when the contact's mobile number
    happens to be among its 18 characters (an identifier is no text that could leak it)."""
    builder.zcf(credit_code="9113800001111ABCDP")  # the contact's phone is 13800001111
    assert [p for p in problems(builder) if p[0] == "error"] == []


def test_a_changed_credit_code_is_refused_as_immutable_only(builder):
    """ZCF-11.2: the credit code cannot change; the refused change is not also scanned as published text."""
    n = builder.zcf()
    builder.decide(n, "change", "2025-06-02", changes={"credit_code": "9113800001111ABCDP"})
    assert [p[1] for p in problems(builder) if p[0] == "error"] == ["ZCF-11.2"]


def test_a_stale_json_schema_is_an_error_at_its_first_line(builder):
    """REG-SCHEMA: a published JSON Schema that no longer matches the scheme declarations is reported at 1:1."""
    builder.zwl()
    schema = builder.root / "schemas" / "decision.schema.json"
    schema.write_text(schema.read_text(encoding="utf-8").replace('"title"', '"description"', 1), encoding="utf-8")
    c = check_registry(builder.root, D("2025-06-30"), jobs=1)
    assert [(p.path, p.level, p.rule, p.line, p.column) for p in c.report.problems] == [
        (schema, "error", "REG-SCHEMA", 1, 1)]
    assert "certreg schemas" in c.report.problems[0].message


def test_a_check_says_what_day_it_judged_and_how_many_certificates(builder):
    builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    c = check_registry(builder.root, D("2025-06-30"), jobs=1)
    assert (c.as_of, c.count) == (D("2025-06-30"), 2)


def test_a_decision_without_its_number_hides_no_clash_of_the_next(builder):
    """REG-ANNOUNCE: a suspension that lacks its number, then a restoration whose number another certificate's
    suspension also carries: both clashes are reported, and the missing number too."""
    a = builder.zwl("CEC-ZWL-2024-0001")
    b = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    builder.decide(a, "suspend", "2025-06-02", ground="holder-request", facts_verified="2025-06-01",
                   announcement=None)
    builder.decide(a, "restore", "2025-07-01", rectification_verified="2025-06-30", announcement="20250701-1")
    builder.decide(b, "suspend", "2025-07-01", ground="holder-request", facts_verified="2025-06-30",
                   announcement="20250701-1")
    found = sorted((p[2], p[1]) for p in problems(builder, "2025-07-15") if p[0] == "error")
    assert found == [("2025-06-02-suspend.yml", "REG-ANNOUNCE"), ("2025-07-01-restore.yml", "REG-ANNOUNCE"),
                     ("2025-07-01-suspend.yml", "REG-ANNOUNCE")]


def _successor(builder, number, follows, valid_from="2026-03-02", **content):
    """A zero-carbon factory certificate of the 2025 reporting year following ``follows`` (of 2024)."""
    builder.certificate(number, "zero-carbon-factory", valid_from, "2026-12-31",
                        {**ZCF_CONTENT, "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"}, **content},
                        follows=follows)
    builder.decision(number, zcf_issue(number, valid_from,
                                       application={"received": "2026-01-05", "accepted": "2026-01-09"}))
    return number


def test_a_successor_certifies_the_same_unit_and_is_issued_after(builder):
    """ZCF-11.2: the certificate that follows certifies the same factory (credit code), at the follows: line,
    and is issued after the one it follows (the same day is not after)."""
    builder.zcf("CEC-ZCF-2025-0001")
    _successor(builder, "CEC-ZCF-2026-0001", "CEC-ZCF-2025-0001", credit_code="91320100MA1XXXXX11")
    found = [p for p in problems(builder, "2026-06-30") if p[0] == "error" and "differs" in p[4]]
    path = builder.root / "certificates" / "CEC-ZCF-2026-0001" / "certificate.yml"
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("follows:"))
    assert [(p[1], p[3]) for p in found] == [("ZCF-11.2", line)], found
    assert "follows CEC-ZCF-2025-0001 but credit_code differs (“91320100MA1XXXXX11” here" in found[0][4]


@pytest.mark.parametrize("valid_from, first", [("2025-04-14", True), ("2025-04-15", True), ("2025-04-16", False)])
def test_a_successor_issued_on_or_before_its_predecessor_is_refused(builder, valid_from, first):
    builder.zcf("CEC-ZCF-2025-0001")  # valid from 2025-04-15
    _successor(builder, "CEC-ZCF-2025-0002", "CEC-ZCF-2025-0001", valid_from=valid_from)
    found = [p[4] for p in problems(builder, "2026-06-30") if "was issued first" in p[4]]
    assert len(found) == (1 if first else 0), found


def test_every_broken_link_is_reported(builder):
    """REG-LINK: a certificate following itself, one following a certificate not in the registry, one following
    a certificate of another scheme, and two following one: each is reported (none hides the next)."""
    builder.zcf("CEC-ZCF-2025-0001")
    builder.zwl("CEC-ZWL-2024-0001")
    _successor(builder, "CEC-ZCF-2026-0001", "CEC-ZCF-2026-0001")  # itself
    _successor(builder, "CEC-ZCF-2026-0002", "CEC-ZWL-2024-0001", credit_code="91320100MA1XXXXX11")  # other scheme
    _successor(builder, "CEC-ZCF-2026-0003", "CEC-ZCF-2024-0009", credit_code="91330600MA2BXXXX2R")  # missing
    _successor(builder, "CEC-ZCF-2026-0004", "CEC-ZCF-2025-0001")  # two following one:
    _successor(builder, "CEC-ZCF-2026-0005", "CEC-ZCF-2025-0001", credit_code="91330600MA2BXXXX3W")
    found = [(p.path.parent.name, p.rule, p.message) for p in
             check_registry(builder.root, D("2026-06-30"), jobs=1).report.problems if p.rule == "REG-LINK"]
    assert ("CEC-ZCF-2026-0001", "REG-LINK", "a certificate cannot follow itself") in found
    assert any(n == "CEC-ZCF-2026-0002" and "another scheme (zero-waste-low-carbon-water)" in m for n, _, m in found)
    assert any(n == "CEC-ZCF-2026-0003" and "not in the registry" in m for n, _, m in found)
    assert [n for n, _, m in found if "a certificate has one successor" in m] == ["CEC-ZCF-2026-0004",
                                                                                 "CEC-ZCF-2026-0005"]
    at = {(p.path.parent.name, p.line) for p in check_registry(builder.root, D("2026-06-30"), jobs=1).report.problems
          if "a certificate has one successor" in p.message}
    assert at == {("CEC-ZCF-2026-0004", 3), ("CEC-ZCF-2026-0005", 3)}  # follows: (after number and scheme)



def test_a_change_that_makes_two_certificates_one_unit_is_reported_at_the_change(builder):
    """ZWL-4: B certifies another product until its change makes it A's: the clash begins on the change's date
    and is reported at its changes: line."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2024-0002", valid_from="2024-11-05", product_name="余热回用水")
    path = builder.decide("CEC-ZWL-2024-0002", "change", "2025-02-03", changes={"product_name": "高温冷凝回用水"})
    found = [p for p in problems(builder, "2025-03-01") if p[0] == "error"]
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("changes:"))
    assert [(p[1], p[2], p[3]) for p in found] == [("ZWL-4", "2025-02-03-change.yml", line)], found
    assert "both in force from 2025-02-03" in found[0][4]


def test_a_change_away_from_a_unit_frees_it_from_its_date(builder):
    """ZWL-4: A changes its product on 2025-02-03; B certifies A's old product from 2025-03-03 (no clash) or from
    2025-02-03 (none either: the change took effect that day), but from 2025-02-02 it clashes with A's first
    version."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.decide("CEC-ZWL-2024-0001", "change", "2025-02-03", changes={"product_name": "余热回用水"})
    builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-03-03")
    assert [p for p in problems(builder, "2025-04-01") if p[0] == "error"] == []


@pytest.mark.parametrize("valid_from, clash", [("2025-02-02", True), ("2025-02-03", False), ("2025-02-04", False)])
def test_a_unit_is_free_from_the_day_a_change_takes_it_away(builder, valid_from, clash):
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.decide("CEC-ZWL-2024-0001", "change", "2025-02-03", changes={"product_name": "余热回用水"})
    builder.zwl("CEC-ZWL-2025-0001", valid_from=valid_from)
    found = [p[1] for p in problems(builder, "2025-04-01") if p[0] == "error"]
    assert found == (["ZWL-4"] if clash else [])


def test_a_certificate_never_in_force_hides_no_clash_of_the_others(builder):
    """ZWL-4: a certificate without its issue decision (never in force: REG-ORDER) is skipped, and the two after
    it that certify one unit still clash."""
    builder.certificate("CEC-ZWL-2024-0001", "zero-waste-low-carbon-water", "2024-10-08", "2027-10-07", ZWL_CONTENT)
    builder.zwl("CEC-ZWL-2024-0002", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2024-0003", valid_from="2024-11-05")
    found = sorted((p[1], p[2]) for p in problems(builder, "2025-03-01") if p[0] == "error")
    assert found == [("REG-ORDER", "certificate.yml"), ("ZWL-4", "certificate.yml")]


def test_of_two_certificates_of_one_unit_the_later_one_is_reported(builder):
    """ZWL-4: the clash is reported on the certificate that began later (here the one that also ends first)."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2024-0002", valid_from="2024-11-05")
    builder.decide("CEC-ZWL-2024-0002", "cancel", "2025-03-03", ground="holder-request")
    c = check_registry(builder.root, D("2025-04-01"), jobs=1)
    found = [(p.path.parent.name, p.rule) for p in c.report.problems if p.level == "error"]
    assert found == [("CEC-ZWL-2024-0002", "ZWL-4")]
    assert "CEC-ZWL-2024-0002 and CEC-ZWL-2024-0001 certify" in c.report.problems[0].message


def test_a_unit_left_two_changes_ago_is_free(builder):
    """ZWL-4 over three versions: A certifies its product until 2025-01-06, then others; B certifies it from
    2025-02-03: no clash."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.decide("CEC-ZWL-2024-0001", "change", "2025-01-06", changes={"product_name": "余热回用水"})
    builder.decide("CEC-ZWL-2024-0001", "change", "2025-03-03", changes={"product_name": "工艺回用水"})
    builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-02-03")
    assert [p for p in problems(builder, "2025-04-01") if p[0] == "error"] == []


def test_of_two_certificates_of_one_unit_begun_the_same_day_the_higher_number_is_reported(builder):
    """ZWL-4: begun the same day, the clash is reported on the certificate numbered later (whichever ends first)."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2024-0002", valid_from="2024-10-08")
    builder.decide("CEC-ZWL-2024-0002", "cancel", "2025-03-03", ground="holder-request")
    c = check_registry(builder.root, D("2025-04-01"), jobs=1)
    assert [(p.path.parent.name, p.rule) for p in c.report.problems if p.level == "error"] == [
        ("CEC-ZWL-2024-0002", "ZWL-4")]


def test_a_correction_after_expiry_is_no_clash_with_the_renewal(builder):
    """ZWL-4: a clerical correction of A dated the day after A expired (the day its renewal B begins) makes a
    version that is in force on no day: A and B do not clash."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")  # last day 2027-10-07
    first = builder.decide("CEC-ZWL-2024-0001", "change", "2027-10-08", changes={"specification": "初始温度 ≥ 61 ℃"},
                           corrects="2024-10-08-issue.yml")
    n = "CEC-ZWL-2027-0001"
    builder.certificate(n, "zero-waste-low-carbon-water", "2027-10-08", "2030-10-07", ZWL_CONTENT,
                        follows="CEC-ZWL-2024-0001")
    builder.decision(n, zwl_issue(n, "2027-10-08", application={"received": "2027-06-01", "accepted": "2027-06-03"}))
    found = [p for p in errors_but_schemas(builder, "2027-11-01") if p[1] == "ZWL-4"]
    assert found == [] and first.exists()


def test_a_third_certificate_of_a_unit_is_reported_against_each_of_the_two_before(builder):
    """ZWL-4 with versions: A and B (one unit) each change their specification; C of the same unit is reported
    against A and against B (a pair already reported for earlier versions stops no other)."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    builder.zwl("CEC-ZWL-2024-0002", valid_from="2024-11-05")
    builder.decide("CEC-ZWL-2024-0001", "change", "2025-01-06", changes={"specification": "初始温度 ≥ 61 ℃"})
    builder.decide("CEC-ZWL-2024-0002", "change", "2025-02-03", changes={"specification": "初始温度 ≥ 62 ℃"})
    builder.zwl("CEC-ZWL-2025-0001", valid_from="2025-03-03")
    c = check_registry(builder.root, D("2025-04-01"), jobs=1)
    third = sorted(p.message[:61] for p in c.report.problems
                   if p.rule == "ZWL-4" and p.path.parent.name == "CEC-ZWL-2025-0001")
    assert third == ["CEC-ZWL-2025-0001 and CEC-ZWL-2024-0001 certify the same prod",
                     "CEC-ZWL-2025-0001 and CEC-ZWL-2024-0002 certify the same prod"], third


def test_a_successor_of_a_certificate_never_issued_is_judged_against_its_content(builder):
    """ZWL-7.2 / REG-ORDER: a predecessor without its issue decision (an error of its own) still has the content of
    its record, from its valid_from: the successor that certifies another product is told so."""
    builder.certificate("CEC-ZWL-2024-0001", "zero-waste-low-carbon-water", "2024-10-08", "2027-10-07", ZWL_CONTENT)
    n = "CEC-ZWL-2027-0001"
    builder.certificate(n, "zero-waste-low-carbon-water", "2027-10-08", "2030-10-07",
                        {**ZWL_CONTENT, "product_name": "另一种回用水"}, follows="CEC-ZWL-2024-0001")
    builder.decision(n, zwl_issue(n, "2027-10-08", application={"received": "2027-06-01", "accepted": "2027-06-03"}))
    c = check_registry(builder.root, D("2027-11-01"), jobs=1)
    found = sorted((p.path.parent.name, p.rule, p.message[:41]) for p in c.report.problems
                   if p.level == "error" and p.path.parent.name != "schemas")
    assert found == [("CEC-ZWL-2024-0001", "REG-ORDER", "the certificate has no issue decision; ad"),
                     ("CEC-ZWL-2027-0001", "ZWL-7.2", "follows CEC-ZWL-2024-0001 but product_nam")], found


def test_two_announced_decisions_of_one_day_without_numbers_are_told_two_numbers(builder):
    """REG-ANNOUNCE: each decision of a day that lacks its number is told the next one free, one after the other
    (20250602-1, then 20250602-2), in the order of their files."""
    a = builder.zwl("CEC-ZWL-2024-0001")
    b = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    for n in (a, b):
        builder.decide(n, "suspend", "2025-06-02", ground="holder-request", facts_verified="2025-06-01",
                       announcement=None)
    c = check_registry(builder.root, D("2025-06-30"), jobs=1)
    found = [(p.path.parent.parent.name, p.message.partition("add announcement: ")[2][:10])
             for p in c.report.problems if p.rule == "REG-ANNOUNCE"]
    assert found == [(a, "20250602-1"), (b, "20250602-2")], found


def test_a_number_of_two_announcements_late_in_the_year_and_month_is_read_as_its_own_date(builder):
    """REG-ANNOUNCE: two decisions that carry 20251117-1: the record that is not published takes the next number
    free on 2025-11-17 (a two-digit month and day read whole)."""
    a = builder.zwl("CEC-ZWL-2024-0001")
    b = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    for n in (a, b):
        builder.decide(n, "suspend", "2025-11-17", ground="holder-request", facts_verified="2025-11-14",
                       announcement="20251117-1")
    found = sorted(p[4] for p in problems(builder, "2025-11-30") if p[1] == "REG-ANNOUNCE")
    assert found == [f"announcement 20251117-1 is also the number of {other} 2025-11-17-suspend.yml: a number names "
                     "one announcement; if that one is published, this record takes the next number free on "
                     "2025-11-17, 20251117-2" for other in (a, b)], found


def test_a_successor_never_issued_is_told_only_that(builder):
    """ZWL-7.2: the renewal window is judged from the successor's application, which a certificate without its
    issue decision does not have: it is told that it has no issue decision, and nothing about its renewal."""
    builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08")
    n = "CEC-ZWL-2027-0001"
    builder.certificate(n, "zero-waste-low-carbon-water", "2027-10-08", "2030-10-07", ZWL_CONTENT,
                        follows="CEC-ZWL-2024-0001")
    c = check_registry(builder.root, D("2027-11-01"), jobs=1)
    found = [(p.path.parent.name, p.rule, p.message[:41]) for p in c.report.problems
             if p.level == "error" and p.path.parent.name != "schemas"]
    assert found == [(n, "REG-ORDER", "the certificate has no issue decision; ad")], found


def _following(builder, *pairs):
    """Issued ZWL certificates, each (number, the number it follows), of different products (no ZWL-4 clash)."""
    for n, follows in pairs:
        builder.certificate(n, "zero-waste-low-carbon-water", "2024-10-08", "2027-10-07",
                            {**ZWL_CONTENT, "raw_material_source": n}, follows=follows)
        builder.decision(n, zwl_issue(n, "2024-10-08"))


def test_a_certificate_following_itself_hides_no_loop_of_others(builder):
    """REG-LINK: one certificate follows itself, two others follow each other: all three are reported, the loop at
    the follows: line of each certificate in it."""
    _following(builder, ("CEC-ZWL-2024-0001", "CEC-ZWL-2024-0001"), ("CEC-ZWL-2024-0002", "CEC-ZWL-2024-0003"),
               ("CEC-ZWL-2024-0003", "CEC-ZWL-2024-0002"))
    c = check_registry(builder.root, D("2025-06-30"), jobs=1)
    loops = sorted((p.path.relative_to(builder.root).as_posix(), p.line, p.message) for p in c.report.problems
                   if p.rule == "REG-LINK" and "loops back" in p.message)
    assert loops == [(f"certificates/{n}/certificate.yml", 3, f"the follows: chain from {n} loops back to itself")
                     for n in ("CEC-ZWL-2024-0002", "CEC-ZWL-2024-0003")], loops
    itself = [p.path.parent.name for p in c.report.problems if p.rule == "REG-LINK" and "loops back" not in p.message]
    assert "CEC-ZWL-2024-0001" in itself


def test_a_chain_that_runs_into_a_loop_of_others_is_reported_and_ends(builder):
    """REG-LINK: A follows B, B follows C and C follows B: A's chain never comes back to A but runs into the loop
    of B and C; all three are reported (and the check ends)."""
    _following(builder, ("CEC-ZWL-2024-0001", "CEC-ZWL-2024-0002"), ("CEC-ZWL-2024-0002", "CEC-ZWL-2024-0003"),
               ("CEC-ZWL-2024-0003", "CEC-ZWL-2024-0002"))

    def endless(signum, frame):
        raise TimeoutError("the check of a chain running into a loop did not end in 60 s")

    before = signal.signal(signal.SIGALRM, endless)
    signal.alarm(60)
    try:
        c = check_registry(builder.root, D("2025-06-30"), jobs=1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    loops = sorted(p.path.parent.name for p in c.report.problems if p.rule == "REG-LINK" and "loops back" in p.message)
    assert loops == ["CEC-ZWL-2024-0001", "CEC-ZWL-2024-0002", "CEC-ZWL-2024-0003"], loops
