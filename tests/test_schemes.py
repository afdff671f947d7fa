"""Scheme data is CEC's to edit: a mistake in it is an error at its line, never a crash."""

from __future__ import annotations

import datetime as dt

import pytest

from certreg.rules.validate import check_registry


def edit_scheme(builder, name, old, new):
    path = builder.root / "schemes" / f"{name}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


ZCF, ZWL = "zero-carbon-factory", "zero-waste-low-carbon-water"


@pytest.mark.parametrize("scheme,old,new,fragment", [
    (ZWL, "  years: 3\n", "", "validity of kind fixed-term needs years"),
    (ZCF, "  max_period_months: 12\n", "", "needs max_period_months"),
    (ZCF, "    working_days: 10\n", "", "either days or working_days"),
    (ZCF, "    from: application.received", "    from: person_days", "person_days is not a date field"),
    (ZCF, "    from: application.received", "    from: team", "team is not a date field"),
    (ZWL, "  fields: [manufacturer.name, product_name", "  fields: [manufacturer, product_name",
     "manufacturer is not a text field"),
    (ZWL, "pattern: '^CEC-ZWL-[0-9]{4}-(?:[0-9]{4}|[1-9][0-9]{4,5})$'", "pattern: '^CEC-ZWL-[0-9'",
     "not a regular expression"),
    (ZCF, "  months: 3\n", "  months: 999999999\n", "must be at most 120"),
    (ZCF, "  months: 3\n", "  months: three\n", "must be a whole number"),
    (ZCF, "  emissions: emissions_tco2e", "  emissions: industry", "industry is not a number field"),
    (ZWL, "  cancel:\n    rule: ZWL-7.4", "  nocancel:\n    rule: ZWL-7.4", "grounds: has no cancel"),
])
def test_unusable_scheme_data_is_an_error_at_its_line(builder, scheme, old, new, fragment):
    builder.zcf()
    builder.zwl()
    path = edit_scheme(builder, scheme, old, new)
    checked = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    errors = [p for p in checked.report.problems if p.level == "error"]
    at_scheme = [p for p in errors if p.path == path]
    assert any(fragment in p.message for p in at_scheme), [p.message for p in errors]
    # its certificates wait, said once at the scheme file, instead of an error each
    assert all(p.path == path for p in errors), [(str(p.path), p.message) for p in errors]
    assert any("not checked until they are fixed" in p.message for p in at_scheme)
    assert len(checked.registry.broken) == 1 and checked.registry.broken_schemes == {scheme}
    assert all(p.line >= 1 for p in errors)
