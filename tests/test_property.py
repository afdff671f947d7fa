"""Random decision sequences either validate or yield rule errors: never an exception."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certreg.rules.validate import check_registry
from certreg.status import IN_FORCE, TERMINAL
from conftest import RegistryBuilder

RULE_ID = re.compile(r"^(REG-[A-Z]+|ZCF-[\w.-]+|ZWL-[\w.-]+)$")
START = dt.date(2024, 10, 8)

GROUNDS = {
    "zero-waste-low-carbon-water": {"suspend": ["violation", "holder-request", "bogus"],
                                    "revoke": ["suspension-expired", "violation"],
                                    "cancel": ["holder-request", "superseded"]},
    "zero-carbon-factory": {"suspend": ["a", "c", "z"], "revoke": ["b", "c"], "cancel": ["ceased"]},
}

decision = st.fixed_dictionaries({
    "action": st.sampled_from(["change", "suspend", "restore", "revoke", "cancel", "surveillance", "issue"]),
    "offset": st.integers(min_value=-30, max_value=800),
    "lag": st.integers(min_value=0, max_value=12),
    "ground": st.integers(min_value=0, max_value=2),
    "outcome": st.sampled_from(["pass", "nonconformities", "fail"]),
    "flag": st.booleans(),
    "until_months": st.integers(min_value=1, max_value=8),
})


def write(builder: RegistryBuilder, scheme: str, steps: list[dict]) -> str:
    if scheme == "zero-carbon-factory":
        n = builder.zcf(valid_from="2025-04-15", valid_until="2025-12-31")
        start = dt.date(2025, 4, 15)
    else:
        n = builder.zwl(valid_from=START.isoformat())
        start = START
    used = set()
    for i, s in enumerate(steps):
        day = start + dt.timedelta(days=s["offset"])
        action = s["action"]
        fields: dict = {}
        if action in ("suspend", "revoke", "cancel"):
            choices = GROUNDS[scheme][action]
            fields["ground"] = choices[s["ground"] % len(choices)]
        if action in ("suspend", "revoke"):
            fields["facts_verified"] = (day - dt.timedelta(days=s["lag"])).isoformat()
        if action == "suspend" and s["flag"]:
            fields["until"] = (day + dt.timedelta(days=30 * s["until_months"])).isoformat()
        if action == "restore":
            fields["rectification_verified"] = (day - dt.timedelta(days=s["lag"])).isoformat()
        if action == "change":
            fields["changes"] = {"specification" if scheme != "zero-carbon-factory" else "industry": f"第 {i} 版"}
            if s["flag"]:
                fields["corrects"] = f"{start.isoformat()}-issue.yml"
        if action == "surveillance":
            fields.update(outcome=s["outcome"], person_days="2", quantified_value_decreased=s["flag"],
                          target_met=True, nonconformities=s["lag"])
        if action == "issue":
            from conftest import zwl_issue

            fields = {k: v for k, v in zwl_issue(n, day.isoformat()).items()
                      if k not in ("certificate", "action", "date")}
        name = f"{day.isoformat()}-{action}.yml"
        k = 2
        while name in used:
            name = f"{day.isoformat()}-{action}-{k}.yml"
            k += 1
        used.add(name)
        record = {"certificate": n, "action": action, "date": day.isoformat(), **fields}
        if action in ("change", "suspend", "restore", "revoke", "cancel"):
            record["reason"] = {"zh": "原因", "en": "reason"}
        builder.decision(n, record, name=name)
    return n


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheme=st.sampled_from(sorted(GROUNDS)), steps=st.lists(decision, max_size=8),
       as_of=st.integers(min_value=-10, max_value=1400))
def test_random_sequences_validate_or_fail_with_rules(scheme, steps, as_of):
    with tempfile.TemporaryDirectory() as tmp:
        builder = RegistryBuilder(Path(tmp) / "registry")
        n = write(builder, scheme, steps)
        day = START + dt.timedelta(days=as_of)
        checked = check_registry(builder.root, day, jobs=1)  # must not raise
        for p in checked.report.problems:
            assert RULE_ID.match(p.rule), p
            assert p.line >= 1 and p.column >= 1 and p.message
            assert p.path.is_relative_to(builder.root)
        if n in checked.histories:
            h = checked.histories[n]
            statuses = [status for _, status in h.segments]
            assert statuses[0] == "valid"
            assert all(s in IN_FORCE + TERMINAL for s in statuses)
            # once terminal, always terminal
            first_terminal = next((i for i, s in enumerate(statuses) if s in TERMINAL), len(statuses))
            assert first_terminal >= len(statuses) - 1
            assert h.status_on(day) in (None,) + IN_FORCE + TERMINAL
        else:
            assert n in checked.registry.broken
            assert not checked.report.ok
