"""The sample registry: clean, fictional, and covering every status and kind of decision."""

from __future__ import annotations

from collections import Counter

import pytest

from certreg.rules.validate import check_registry
from conftest import REGISTRY, SAMPLE_AS_OF


@pytest.fixture(scope="module")
def sample():
    return check_registry(REGISTRY, SAMPLE_AS_OF)


def test_sample_validates_clean(sample):
    assert [f"{p.path}:{p.line}: {p.rule} {p.message}" for p in sample.report.problems] == []
    assert not sample.registry.broken


def test_sample_is_marked_as_sample(sample):
    assert sample.registry.settings["sample"] is True
    for path in (REGISTRY / "certificates").rglob("*.yml"):
        assert "SAMPLE DATA" in "".join(path.read_text(encoding="utf-8").splitlines(True)[:3]), path


def test_sample_covers_both_schemes_and_every_status(sample):
    certs = sample.registry.certificates
    assert len(certs) >= 12
    assert Counter(c.scheme.key for c in certs.values()).keys() == {"zero-carbon-factory",
                                                                     "zero-waste-low-carbon-water"}
    statuses = Counter(h.status_on(SAMPLE_AS_OF) for h in sample.histories.values())
    assert set(statuses) == {"valid", "suspended", "revoked", "cancelled", "expired"}, statuses


def test_sample_covers_every_kind_of_decision(sample):
    hs = sample.histories.values()
    decisions = [d for h in hs for d in h.applied]
    actions = Counter(d.action for d in decisions)
    assert set(actions) == {"issue", "change", "suspend", "restore", "revoke", "cancel", "surveillance"}
    outcomes = {d.data["outcome"] for d in decisions if d.action == "surveillance"}
    assert {"pass", "fail"} <= outcomes
    assert any(len(h.versions) > 1 for h in hs), "a change"
    assert any(s.ended_by == "restore" for h in hs for s in h.suspensions), "a suspension restored"
    assert any(s.ended_by == "revoke" for h in hs for s in h.suspensions), "a suspension ending in revocation"
    assert any(d.action == "cancel" and d.data["ground"] == "holder-request" for d in decisions)
    follows = [c for c in sample.registry.certificates.values() if c.follows]
    assert any(c.scheme.key == "zero-carbon-factory" for c in follows), "a factory's next reporting year"


def test_sample_has_hard_names(sample):
    texts = " ".join(str(c.content) for c in sample.registry.certificates.values())
    assert "𠮷" in texts or "䶮" in texts
    for ch in ("&", "<", '"'):
        assert ch in texts, ch
