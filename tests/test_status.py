"""The status engine: every transition, every refused transition, and statuses on any date."""

from __future__ import annotations

import datetime as dt

import pytest

from certreg.rules.validate import check_registry
from certreg.status import history, summary

D = dt.date.fromisoformat


def checked(builder, as_of="2025-06-30"):
    return check_registry(builder.root, D(as_of), jobs=1)


def errors(c):
    return [(p.path.name, p.rule, p.message) for p in c.report.problems if p.level == "error"]


def status(c, number, day):
    return c.histories[number].status_on(D(day))


def test_issue_makes_valid_from_its_date(builder):
    n = builder.zwl(valid_from="2024-10-08")
    c = checked(builder, "2025-06-30")
    assert errors(c) == []
    assert status(c, n, "2024-10-07") is None
    assert status(c, n, "2024-10-08") == "valid"
    assert summary(c.histories[n], D("2024-10-07")) is None


def test_suspend_then_restore(builder):
    n = builder.zwl()
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    builder.decide(n, "restore", "2025-04-01", rectification_verified="2025-03-28")
    c = checked(builder)
    assert errors(c) == []
    assert [status(c, n, d) for d in ("2025-03-02", "2025-03-03", "2025-03-31", "2025-04-01")] == [
        "valid", "suspended", "suspended", "valid"]
    s = c.histories[n].suspensions[0]
    assert (s.start, s.limit, s.end, s.ended_by) == (D("2025-03-03"), D("2025-09-03"), D("2025-04-01"), "restore")


@pytest.mark.parametrize("first", ["valid", "suspended"])
@pytest.mark.parametrize("action,final", [("revoke", "revoked"), ("cancel", "cancelled")])
def test_terminal_decisions_from_valid_and_suspended(builder, first, action, final):
    n = builder.zwl()
    if first == "suspended":
        builder.decide(n, "suspend", "2025-03-03", ground="violation", facts_verified="2025-03-01")
    ground = {"revoke": "violation", "cancel": "holder-request"}[action]
    builder.decide(n, action, "2025-05-06", ground=ground, **(
        {"facts_verified": "2025-05-01"} if action == "revoke" else {}))
    c = checked(builder)
    assert errors(c) == []
    assert status(c, n, "2025-05-05") == first
    assert status(c, n, "2025-05-06") == final
    # terminal: still revoked/cancelled after the validity would have ended
    assert status(c, n, "2030-01-01") == final


def test_expiry_after_last_day(builder):
    n = builder.zwl(valid_from="2021-10-08")
    builder.decide(n, "surveillance", "2022-09-01", outcome="pass", person_days="2",
                   quantified_value_decreased=True, target_met=True)
    c = checked(builder, "2022-10-01")
    assert status(c, n, "2024-10-07") == "valid"
    assert status(c, n, "2024-10-08") == "expired"
    assert c.histories[n].events[-1].action == "expire"


def test_expiry_while_suspended(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-11-03", ground="c", facts_verified="2025-11-03")
    c = checked(builder, "2025-12-01")
    assert errors(c) == []
    assert status(c, n, "2025-12-31") == "suspended"
    assert status(c, n, "2026-01-01") == "expired"
    s = c.histories[n].suspensions[0]
    assert (s.end, s.ended_by) == (D("2026-01-01"), "expire")


def test_failed_surveillance_suspends(builder):
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-04", outcome="fail", person_days="2",
                   quantified_value_decreased=False, target_met=False, reason={"zh": "监督不通过"})
    c = checked(builder, "2025-09-01")
    assert errors(c) == []
    assert status(c, n, "2025-08-04") == "suspended"
    assert c.histories[n].suspensions[0].limit == D("2026-02-04")


def test_change_makes_a_new_version_with_same_number_and_validity(builder):
    n = builder.zwl()
    builder.decide(n, "change", "2025-05-06", changes={"product_name": "高温冷凝回用水（二期）"})
    c = checked(builder)
    assert errors(c) == []
    h = c.histories[n]
    assert [v.number for v in h.versions] == [1, 2]
    assert h.version_on(D("2025-05-05")).content["product_name"] == "高温冷凝回用水"
    assert h.version_on(D("2025-05-06")).content["product_name"] == "高温冷凝回用水（二期）"
    row = summary(h, D("2025-06-30"))
    assert (row["version"], row["valid_from"], row["valid_until"], row["status"]) == (
        2, "2024-10-08", "2027-10-07", "valid")


@pytest.mark.parametrize("sequence,message", [
    ([("restore", "2025-03-03", {"rectification_verified": "2025-03-01"})], "restore is allowed only from suspended"),
    ([("suspend", "2025-03-03", {"ground": "violation", "facts_verified": "2025-03-01"}),
      ("suspend", "2025-03-10", {"ground": "violation", "facts_verified": "2025-03-09"})],
     "suspend is allowed only from valid"),
    ([("revoke", "2025-03-03", {"ground": "violation", "facts_verified": "2025-03-01"}),
      ("restore", "2025-03-10", {"rectification_verified": "2025-03-09"})], "nothing may follow"),
    ([("cancel", "2025-03-03", {"ground": "holder-request"}),
      ("suspend", "2025-03-10", {"ground": "violation", "facts_verified": "2025-03-09"})], "nothing may follow"),
])
def test_illegal_sequences_are_refused(builder, sequence, message):
    n = builder.zwl()
    for action, date, fields in sequence:
        builder.decide(n, action, date, **fields)
    c = checked(builder)
    found = [e for e in errors(c) if e[1] == "REG-ORDER"]
    assert len(found) == 1 and message in found[0][2], errors(c)


def test_decision_before_issue_and_second_issue(builder):
    n = builder.zwl(valid_from="2024-10-08")
    builder.decide(n, "suspend", "2024-10-01", ground="violation", facts_verified="2024-09-30")
    builder.decision(n, {**__import__("conftest").zwl_issue(n, "2024-10-08")}, name="2024-10-08-issue-2.yml")
    c = checked(builder)
    msgs = sorted(e[2] for e in errors(c) if e[1] == "REG-ORDER")
    assert any("before the certificate was issued" in m for m in msgs)
    assert any("already issued" in m for m in msgs)


def test_correction_is_allowed_after_revocation(builder):
    n = builder.zwl()
    builder.decide(n, "revoke", "2025-03-03", ground="violation", facts_verified="2025-03-01")
    builder.decide(n, "change", "2025-04-01", changes={"specification": "初始温度 ≥ 65 ℃"},
                   corrects="2024-10-08-issue.yml")
    c = checked(builder)
    assert errors(c) == []
    assert status(c, n, "2025-04-01") == "revoked"
    assert len(c.histories[n].versions) == 2


def test_status_ignores_decisions_after_the_as_of_date(builder):
    n = builder.zwl()
    builder.decide(n, "cancel", "2025-05-06", ground="holder-request")
    c = checked(builder)
    before = summary(c.histories[n], D("2025-05-05"))
    assert before["status"] == "valid"
    assert [e["action"] for e in before["timeline"]] == ["issue"]
    after = summary(c.histories[n], D("2025-05-06"))
    assert after["status"] == "cancelled"
    assert [e["action"] for e in after["timeline"]] == ["issue", "cancel"]


def test_status_is_a_pure_function(builder):
    """The same records give the same history whatever the as-of date it is judged on (and however often)."""
    n = builder.zwl()
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    builder.decide(n, "restore", "2025-04-01", rectification_verified="2025-03-28")
    a = checked(builder, "2025-03-02")  # before any of the decisions took effect
    b = checked(builder, "2031-01-01")  # long after the certificate expired
    cert = a.registry.certificates[n]
    want = [(D("2024-10-08"), "valid"), (D("2025-03-03"), "suspended"), (D("2025-04-01"), "valid"),
            (D("2027-10-08"), "expired")]
    assert history(cert).segments == a.histories[n].segments == b.histories[n].segments == want
    assert [e.action for e in a.histories[n].events] == [e.action for e in b.histories[n].events] == [
        "issue", "suspend", "restore", "expire"]


def test_overdue_suspension_stays_suspended_and_is_flagged(builder):
    n = builder.zcf()
    builder.decide(n, "suspend", "2025-05-06", ground="c", facts_verified="2025-05-06")
    c = checked(builder, "2025-09-01")
    row = summary(c.histories[n], D("2025-09-01"))
    assert row["status"] == "suspended"
    assert row["suspension_limit"] == "2025-08-06" and row["suspension_overdue"] is True
    assert [e[1] for e in errors(c)] == ["ZCF-12.1.2"]


def test_restore_and_a_new_suspension_on_the_same_day(builder):
    n = builder.zwl()
    builder.decide(n, "suspend", "2025-01-10", ground="violation", facts_verified="2025-01-09")
    builder.decide(n, "restore", "2025-03-03", rectification_verified="2025-03-01")
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-03")
    c = checked(builder)
    assert errors(c) == []
    assert [e.action for e in c.histories[n].events] == ["issue", "suspend", "restore", "suspend", "expire"]
    assert status(c, n, "2025-03-03") == "suspended"


def test_a_correction_after_expiry_comes_after_the_expiry(builder):
    n = builder.zcf()  # valid until 2025-12-31
    builder.decide(n, "change", "2026-02-02", changes={"industry": "纺织服装业"}, corrects="2025-04-15-issue.yml")
    c = checked(builder, "2026-03-01")
    assert errors(c) == []
    events = [(e.date.isoformat(), e.action, e.status) for e in c.histories[n].events]
    assert events == [("2025-04-15", "issue", "valid"), ("2026-01-01", "expire", "expired"),
                      ("2026-02-02", "change", "expired")]


def test_a_failed_surveillance_already_suspends(builder):
    n = builder.zwl()
    visit = {"person_days": "2", "quantified_value_decreased": False, "target_met": False}
    builder.decide(n, "surveillance", "2025-08-04", outcome="fail", **visit)
    builder.decide(n, "suspend", "2025-08-04", ground="surveillance-failed", facts_verified="2025-08-04")
    c = checked(builder, "2025-09-01")
    found = sorted((e[1], e[2]) for e in errors(c))
    assert found[0][0] == "REG-ANNOUNCE" and "give its public reason" in found[0][1]
    assert found[1][0] == "REG-ORDER" and "a failed surveillance suspends it by itself" in found[1][1]


def test_the_public_timeline_lines_say_what_each_decision_did(builder):
    """Event.as_dict is the timeline line the site and records.json publish: the fields of each kind of decision."""
    n = builder.zwl()
    builder.decide(n, "change", "2024-12-02", changes={"specification": "初始温度 ≥ 65 ℃",
                                                       "product_name": "余热回用水"})
    builder.decide(n, "change", "2024-12-09", changes={"specification": "初始温度 ≥ 66 ℃"},
                   corrects="2024-12-02-change.yml")
    builder.decide(n, "surveillance", "2025-03-03", outcome="pass", person_days="2",
                   quantified_value_decreased=True, target_met=True)
    builder.decide(n, "suspend", "2025-04-01", ground="violation", facts_verified="2025-03-31", until="2025-06-30")
    builder.decide(n, "reissue", "2025-04-02", versions=[2], reason={"zh": "补发", "en": "Reissued"})
    h = checked(builder).histories[n]
    assert h.reissues == {2: [D("2025-04-02")]}
    assert [(v.number, v.date, v.changed, v.decision.path.name) for v in h.versions] == [
        (1, D("2024-10-08"), (), "2024-10-08-issue.yml"),
        (2, D("2024-12-02"), ("specification", "product_name"), "2024-12-02-change.yml"),
        (3, D("2024-12-09"), ("specification",), "2024-12-09-change.yml")]
    lines = [e.as_dict() for e in h.events]
    decided = {"reason": {"zh": "决定", "en": "Decision"}}
    assert [(line.pop("reason", None), line.pop("announcement", None)) for line in lines] == [
        (None, None), (decided["reason"], "20241202-1"), (decided["reason"], "20241209-1"), (None, None),
        (decided["reason"], "20250401-1"), ({"zh": "补发", "en": "Reissued"}, None), (None, None)]
    assert lines == [
        {"date": "2024-10-08", "action": "issue", "status": "valid", "version": 1, "record": "2024-10-08-issue.yml"},
        {"date": "2024-12-02", "action": "change", "status": "valid", "version": 2, "record": "2024-12-02-change.yml",
         "changed": ["product_name", "specification"]},
        {"date": "2024-12-09", "action": "change", "status": "valid", "version": 3, "record": "2024-12-09-change.yml",
         "changed": ["specification"], "corrects": "2024-12-02-change.yml"},
        {"date": "2025-03-03", "action": "surveillance", "status": "valid", "version": 3,
         "record": "2025-03-03-surveillance.yml", "outcome": "pass"},
        {"date": "2025-04-01", "action": "suspend", "status": "suspended", "version": 3,
         "record": "2025-04-01-suspend.yml", "ground": "violation", "until": "2025-06-30"},
        {"date": "2025-04-02", "action": "reissue", "status": "suspended", "version": 3,
         "record": "2025-04-02-reissue.yml", "versions": [2]},
        {"date": "2027-10-08", "action": "expire", "status": "expired", "version": 3},
    ]


@pytest.mark.parametrize("day, status_, overdue", [("2025-10-31", "valid", []), ("2025-11-05", "valid", [
    {"found": "2025-09-01", "due": "2025-11-01"}]), ("2025-11-06", "cancelled", None)])
def test_the_summary_row_names_the_predecessor_and_the_closures_overdue_while_in_force(builder, day, status_,
                                                                                       overdue):
    """ZWL-6.3: nonconformities found 2025-09-01 are due closed by 2025-11-01; the row says so while the certificate
    is in force, not once it has ended (cancelled 2025-11-06), and a cancellation of a later day does not count
    on 2025-11-05."""
    old = builder.zwl("CEC-ZWL-2022-0001", valid_from="2022-10-10")
    new = builder.zwl("CEC-ZWL-2024-0001", valid_from="2024-10-08", raw_material_source="另一来源")
    path = builder.root / "certificates" / new / "certificate.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("scheme: zero-waste", f"follows: {old}\nscheme: zero-waste"), encoding="utf-8")
    builder.decide(new, "surveillance", "2025-09-01", outcome="nonconformities", person_days="2",
                   quantified_value_decreased=True, target_met=True, nonconformities=2)
    builder.decide(new, "cancel", "2025-11-06", ground="holder-request")
    row = summary(checked(builder, day).histories[new], D(day))
    assert (row["status"], row["follows"], row.get("closures_overdue")) == (status_, old, overdue or None)


def test_an_expired_certificate_has_no_closure_overdue(builder):
    """Nonconformities found 2027-08-02 were due closed by 2027-10-02; the certificate expired after its last day,
    2027-10-07: once it has ended, nothing is due of it."""
    n = builder.zwl()
    for day in ("2025-09-01", "2026-08-31"):
        builder.decide(n, "surveillance", day, outcome="pass", person_days="2", quantified_value_decreased=True,
                       target_met=True)
    builder.decide(n, "surveillance", "2027-08-02", outcome="nonconformities", person_days="2",
                   quantified_value_decreased=True, target_met=True, nonconformities=1)
    h = checked(builder, "2027-10-09").histories[n]
    assert summary(h, D("2027-10-07")).get("closures_overdue") == [{"found": "2027-08-02", "due": "2027-10-02"}]
    assert (summary(h, D("2027-10-08"))["status"], summary(h, D("2027-10-08")).get("closures_overdue")) == (
        "expired", None)


def test_the_status_row_of_a_suspended_certificate_with_a_surveillance_due(builder):
    """The whole row certreg status prints (and the site publishes) of a ZWL certificate suspended 2025-08-05 (limit
    2026-02-05), last surveilled 2025-08-01 (next due 2026-08-01), judged on 2026-02-06: every key and value."""
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-08-01", outcome="pass", person_days="2", quantified_value_decreased=True,
                   target_met=True)
    builder.decide(n, "suspend", "2025-08-05", ground="holder-request", facts_verified="2025-08-04")
    row = summary(checked(builder, "2026-02-06").histories[n], D("2026-02-06"))
    assert len(row.pop("timeline")) == 3
    assert row == {"number": n, "scheme": "zero-waste-low-carbon-water", "status": "suspended", "status_zh": "暂停",
                   "as_of": "2026-02-06", "version": 1, "version_date": "2024-10-08", "valid_from": "2024-10-08",
                   "valid_until": "2027-10-07", "follows": None, "surveillance_due": "2026-08-01",
                   "surveillance_overdue": False, "suspended_since": "2025-08-05", "suspension_limit": "2026-02-05",
                   "suspension_overdue": True}
    later = summary(checked(builder, "2026-08-02").histories[n], D("2026-08-02"))
    assert (later["surveillance_due"], later["surveillance_overdue"]) == ("2026-08-01", True)
    on_the_day = summary(checked(builder, "2026-08-01").histories[n], D("2026-08-01"))
    assert (on_the_day["surveillance_due"], on_the_day["surveillance_overdue"]) == ("2026-08-01", False)


@pytest.mark.parametrize("day, overdue", [("2025-10-31", False), ("2025-11-01", False), ("2025-11-02", True),
                                          ("2025-11-09", True), ("2025-11-10", False)])
def test_a_closure_is_overdue_from_the_day_after_its_limit_until_the_day_it_is_verified(builder, day, overdue):
    """ZWL-6.3: nonconformities found 2025-09-01, due closed by 2025-11-01, verified closed (late) 2025-11-10."""
    n = builder.zwl()
    builder.decide(n, "surveillance", "2025-09-01", outcome="nonconformities", nonconformities=1, person_days="2",
                   quantified_value_decreased=True, target_met=True)
    builder.decide(n, "surveillance", "2025-11-10", outcome="pass", person_days="1", quantified_value_decreased=True,
                   target_met=True, late={"ZWL-6.3": "2025-11-01"}, late_reason={"zh": "推迟", "en": "Postponed"})
    row = summary(checked(builder, day).histories[n], D(day))
    assert row.get("closures_overdue") == ([{"found": "2025-09-01", "due": "2025-11-01"}] if overdue else None)
