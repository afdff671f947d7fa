"""certreg.collector: the cycle collector off while records are made, and their objects out of its scans for as long
as a command keeps them, never longer."""

from __future__ import annotations

import gc

import pytest

from certreg.collector import freeze, kept_whole, no_cycles


@pytest.fixture(autouse=True)
def _nothing_frozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def _made() -> list:
    return [[i] for i in range(1000)]  # (objects the collector tracks: lists)


def test_no_cycles_turns_the_collector_off_and_back_on_and_leaves_nothing_frozen():
    assert gc.isenabled()
    with no_cycles():
        assert not gc.isenabled()
        kept = _made()
    assert gc.isenabled() and gc.get_freeze_count() == 0 and kept


def test_no_cycles_leaves_the_collector_off_if_it_was():
    gc.disable()
    try:
        with no_cycles():
            _made()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_within_kept_whole_what_is_made_stays_frozen_until_it_ends_however_it_ends():
    with pytest.raises(RuntimeError):
        with kept_whole():
            with no_cycles():
                kept = _made()
            after_check = gc.get_freeze_count()
            assert after_check >= len(kept)
            more = _made()
            freeze()
            assert gc.get_freeze_count() >= after_check + len(more)
            with kept_whole():  # (nested: the outer one lets go)
                pass
            assert gc.get_freeze_count() >= after_check + len(more)
            raise RuntimeError("a build that fails")
    assert gc.get_freeze_count() == 0


def test_freeze_outside_kept_whole_does_nothing():
    _made()
    freeze()
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_its_own_objects_keeps_them_and_only_them():
    mine = _made()
    gc.freeze()
    frozen = gc.get_freeze_count()
    with kept_whole():
        with no_cycles():
            _made()
        freeze()
        assert gc.get_freeze_count() <= frozen
    with no_cycles():
        _made()
    assert 0 < gc.get_freeze_count() <= frozen and mine
