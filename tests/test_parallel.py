"""Loading and checking on several processes gives exactly what one process gives."""

from __future__ import annotations

import datetime as dt

import certreg.records.load
from certreg.rules.validate import check_registry
from conftest import REGISTRY, SAMPLE_AS_OF


def snapshot(checked):
    return (
        [(str(p.path), p.line, p.column, p.level, p.rule, p.message) for p in checked.report.problems],
        {n: (h.segments, [(v.number, v.date, v.content) for v in h.versions],
             [e.as_dict() for e in h.events]) for n, h in checked.histories.items()},
        sorted(checked.registry.broken),
    )


def test_two_workers_equal_one_process(monkeypatch):
    one = check_registry(REGISTRY, SAMPLE_AS_OF, jobs=1)
    monkeypatch.setattr(certreg.records.load, "PARALLEL_FROM", 0)
    two = check_registry(REGISTRY, SAMPLE_AS_OF, jobs=2)
    assert snapshot(one) == snapshot(two)
    # the certificates came back from the workers bound to this process's scheme objects
    assert all(c.scheme is two.registry.schemes[c.scheme.key] for c in two.registry.certificates.values())


def test_problems_found_in_workers_are_reported(monkeypatch, builder):
    for i in range(1, 7):
        n = builder.zwl(f"CEC-ZWL-2024-{i:04d}", raw_material_source=f"来源 {i}")
        builder.decide(n, "restore", "2025-03-03", rectification_verified="2025-03-01")
    (builder.root / "certificates" / "CEC-ZWL-2024-0006" / "certificate.yml").write_text("- not a mapping\n")
    monkeypatch.setattr(certreg.records.load, "PARALLEL_FROM", 0)
    checked = check_registry(builder.root, dt.date(2025, 6, 30), jobs=2)
    rules = sorted(p.rule for p in checked.report.problems if p.level == "error")
    assert rules == ["REG-ORDER"] * 5 + ["REG-SCHEMA"]
    assert checked.registry.broken == {"CEC-ZWL-2024-0006"}


def test_checking_without_keeping_the_records_reports_the_same(monkeypatch, builder):
    for i in range(1, 5):
        n = builder.zwl(f"CEC-ZWL-2024-{i:04d}")  # four certificates of one unit: ZWL-4 across them
        builder.decide(n, "restore", "2025-03-03", rectification_verified="2025-03-01")
    monkeypatch.setattr(certreg.records.load, "PARALLEL_FROM", 0)
    for root, day in ((REGISTRY, SAMPLE_AS_OF), (builder.root, dt.date(2025, 6, 30))):
        kept = check_registry(root, day, jobs=2)
        lean = check_registry(root, day, jobs=2, keep=False)
        assert snapshot(kept)[0] == snapshot(lean)[0]
        assert (kept.count, lean.count) == (len(kept.registry.certificates), len(kept.registry.certificates))
        assert lean.histories == {} and lean.registry.certificates == {}
    assert {p.rule for p in lean.report.problems} == {"REG-ORDER", "ZWL-4"}
