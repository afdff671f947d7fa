"""The check cache (certreg/cache.py) changes how long a check takes, never what it finds: every corpus case gives the
same problems, lines and messages with a cold cache, a warm one and none; a folder whose files change is checked
again; the cache serves a copy of the registry elsewhere; a damaged cache is set aside."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from certreg.cache import CheckCache
from certreg.publish.preflight import with_preflight
from certreg.rules.validate import check_registry
from test_corpus import BASE, BASE_AS_OF, CASES, as_of, build

D = dt.date.fromisoformat


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CERTREG_CACHE", str(tmp_path / "cache"))


def found(root: Path, day: dt.date, **kwargs) -> list[tuple]:
    c = with_preflight(check_registry(root, day, jobs=1, **kwargs))
    return [(str(p.path.relative_to(root)) if p.path.is_relative_to(root) else str(p.path), p.line, p.column,
             p.level, p.rule, p.message, p.overdue) for p in c.report.problems]


def summaries(root: Path, day: dt.date, **kwargs) -> dict:
    from certreg.status import summary

    c = check_registry(root, day, jobs=1, **kwargs)
    return {n: summary(h, day) for n, h in sorted(c.histories.items())}


SHARDS = 4  # (each corpus-wide test runs as four, which the test run's workers share)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_corpus_case_gives_the_same_problems_with_a_cold_cache_a_warm_one_and_none(tmp_path, shard):
    assert len(CASES) > 150
    for case in CASES[shard::SHARDS]:
        root = build(tmp_path / case.name, case)
        day = as_of(case)
        plain = found(root, day)
        assert plain, case.name  # (every case has a problem: a comparison of nothing would prove nothing)
        assert found(root, day, cache=True) == plain, f"{case.name}: cold cache"
        assert found(root, day, cache=True) == plain, f"{case.name}: warm cache"
        shutil.rmtree(root)


def test_the_histories_are_the_same_from_the_cache(tmp_path):
    root = build(tmp_path / "base")
    plain = summaries(root, BASE_AS_OF)
    assert len(plain) >= 4
    assert summaries(root, BASE_AS_OF, cache=True) == plain
    assert summaries(root, BASE_AS_OF, cache=True) == plain


def test_a_folder_whose_files_change_is_checked_again_and_the_others_come_from_the_cache(tmp_path):
    root = build(tmp_path / "base")
    cache = CheckCache(root, ("check", BASE_AS_OF.isoformat()))
    folders = sorted((root / "certificates").iterdir())
    keys = {f.name: cache.key(f) for f in folders}
    assert None not in keys.values() and len(set(keys.values())) == len(folders)
    check_registry(root, BASE_AS_OF, jobs=1, cache=True)
    decision = next((root / "certificates" / "CEC-ZWL-2025-0001" / "decisions").glob("*-surveillance.yml"))
    text = decision.read_text(encoding="utf-8")
    decision.write_text(text.replace("outcome: pass", "outcome: fail"), encoding="utf-8")
    assert cache.key(decision.parent.parent) != keys["CEC-ZWL-2025-0001"]
    assert [cache.key(f) == keys[f.name] for f in folders].count(False) == 1
    again = found(root, BASE_AS_OF, cache=True)
    assert again == found(root, BASE_AS_OF) and again  # (a failed surveillance without its reason and number)
    decision.write_text(text, encoding="utf-8")
    assert found(root, BASE_AS_OF, cache=True) == []


def test_another_date_or_scheme_is_another_context(tmp_path):
    root = build(tmp_path / "base")
    first = CheckCache(root, ("check", BASE_AS_OF.isoformat()))
    assert CheckCache(root, ("check", (BASE_AS_OF + dt.timedelta(days=1)).isoformat())).context != first.context
    scheme = next((root / "schemes").glob("*.yml"))
    scheme.write_text(scheme.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert CheckCache(root, ("check", BASE_AS_OF.isoformat())).context != first.context


def test_the_cache_serves_a_copy_of_the_registry_elsewhere_with_its_own_paths(tmp_path):
    case = next(c for c in CASES if c.name.startswith("65-"))  # a problem with a line in a decision file
    root = build(tmp_path / "here", case)
    plain = found(root, as_of(case))
    found(root, as_of(case), cache=True)
    copy = tmp_path / "there" / "registry"
    shutil.copytree(root, copy)
    shutil.rmtree(root)
    c = check_registry(copy, as_of(case), jobs=1, cache=True)
    assert all(str(p.path).startswith(str(copy)) for p in c.report.problems)
    assert found(copy, as_of(case), cache=True) == plain


def test_a_folder_with_a_link_is_never_taken_from_the_cache(tmp_path):
    root = build(tmp_path / "base")
    folder = root / "certificates" / "CEC-ZWL-2025-0001"
    os.symlink(folder / "certificate.yml", folder / "decisions" / "2026-01-05-change.yml")
    cache = CheckCache(root, ("check", BASE_AS_OF.isoformat()))
    assert cache.key(folder) is None
    plain = found(root, BASE_AS_OF)
    assert any(p[4] == "REG-LAYOUT" for p in plain)
    assert found(root, BASE_AS_OF, cache=True) == plain == found(root, BASE_AS_OF, cache=True)
    # nor what the rules between certificates find in a registry with such a folder: another certificate's follows:
    # changed is judged again (the registry has no key: its problems are not kept)
    other = root / "certificates" / "CEC-ZCF-2026-0001" / "certificate.yml"
    other.write_text(other.read_text(encoding="utf-8").replace("follows: CEC-ZCF-2025-0001",
                                                               "follows: CEC-ZCF-2099-0001"), encoding="utf-8")
    now = found(root, BASE_AS_OF)
    assert now != plain and found(root, BASE_AS_OF, cache=True) == now


def test_a_damaged_cache_is_set_aside_and_the_verdict_stands(tmp_path):
    case = next(c for c in CASES if c.name.startswith("65-"))
    root = build(tmp_path / "base", case)
    plain = found(root, as_of(case))
    found(root, as_of(case), cache=True)
    db = Path(os.environ["CERTREG_CACHE"]) / "checks.sqlite"
    db.write_bytes(b"not a database" * 100)
    assert found(root, as_of(case), cache=True) == plain
    assert db.with_name("checks.sqlite.damaged").exists()
    assert found(root, as_of(case), cache=True) == plain


def test_off_means_off(tmp_path, monkeypatch):
    root = build(tmp_path / "base")
    monkeypatch.setenv("CERTREG_CACHE", "off")
    check_registry(root, BASE_AS_OF, jobs=1, cache=True)
    assert not Path("off").exists()


def test_a_check_uses_the_cache_only_when_asked(tmp_path):
    """check_registry reads and fills the cache with cache=True alone: a library caller that does not ask never
    writes into the user's cache folder (the commands ask)."""
    root = build(tmp_path / "base")
    db = Path(os.environ["CERTREG_CACHE"]) / "checks.sqlite"
    check_registry(root, BASE_AS_OF, jobs=1)
    assert not db.exists()
    check_registry(root, BASE_AS_OF, jobs=1, cache=True)
    assert db.is_file()


def test_decide_with_the_cache_refuses_and_writes_as_without_it(builder, monkeypatch):
    """certreg decide checks the new record with every other certificate's result from the cache: a decision the
    rules forbid is refused with its rule, an allowed one is written, and validate agrees with a run without it."""
    from click.testing import CliRunner

    from certreg.cli import main

    for i in range(1, 4):
        builder.zwl(f"CEC-ZWL-2024-000{i}", raw_material_source=f"来源{i}")
    n = "CEC-ZWL-2024-0002"

    def run(*args, code=0):
        result = CliRunner().invoke(main, [*args[:1], "--registry", str(builder.root), *args[1:]])
        assert result.exit_code == code, result.output
        return result.output

    run("validate", "--as-of", "2025-06-30")  # (fills the cache)
    common = ["--date", "2025-04-07", "--ground", "holder-request", "--set", "facts_verified=2025-04-03",
              "--reason-zh", "暂停", "--as-of", "2025-06-30"]
    refused = run("decide", "suspend", n, *common, "--set", "until=2025-12-01", code=1)
    assert "error ZWL-7.4 " in refused and "nothing was written" in refused
    run("decide", "suspend", n, *common)
    assert (builder.root / "certificates" / n / "decisions" / "2025-04-07-suspend.yml").exists()
    cached = run("validate", "--as-of", "2025-10-31", code=1)  # the suspension's 6 months ended 2025-10-07
    monkeypatch.setenv("CERTREG_CACHE", "off")
    assert run("validate", "--as-of", "2025-10-31", code=1) == cached
    assert "ZWL-7.4" in cached


def test_a_check_that_keeps_no_records_and_one_that_does_share_the_cache(tmp_path):
    """validate and decide keep no records, build does: each fills the cache for the other, and a check that keeps
    none sends back none, from the cache or not."""
    root = build(tmp_path / "base")
    lean = check_registry(root, BASE_AS_OF, jobs=1, keep=False, cache=True)
    assert lean.histories == {} and lean.registry.certificates == {}
    cache = CheckCache(root, ("check", BASE_AS_OF.isoformat()))
    keys = [cache.key(f) for f in sorted((root / "certificates").iterdir())]
    assert len(cache.get(keys)) == len(keys)  # all kept by the check that kept no records
    whole = check_registry(root, BASE_AS_OF, jobs=1, cache=True)
    assert len(whole.histories) == len(keys) == len(whole.registry.certificates)
    assert summaries(root, BASE_AS_OF, cache=True) == summaries(root, BASE_AS_OF)
    assert check_registry(root, BASE_AS_OF, jobs=1, keep=False, cache=True).histories == {}


def _problem_rows(problems, root: Path) -> set[tuple]:
    return {(str(p.path.relative_to(root)), p.line, p.column, p.level, p.rule, p.message, p.overdue)
            for p in problems}


def _scenarios(case: Path):
    """(the record taken out and written back, its text) for ``case``: the first of its own records (mostly the one
    that is wrong), and a record of the base in the same certificate folder (the case's problems are there before and
    after it)."""
    own = sorted(f for f in (case / "certificates").rglob("*.yml") if f.is_file()) \
        if (case / "certificates").is_dir() else []
    for f in own[:1]:
        try:
            yield f.relative_to(case), f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            pass
    for f in own[:1]:
        base = BASE / f.relative_to(case).parts[0] / f.relative_to(case).parts[1]
        theirs = sorted(set(base.rglob("*.yml")) - {BASE / f.relative_to(case)}, key=lambda p: p.name)
        if theirs and not (case / "remove.txt").exists():
            yield theirs[-1].relative_to(BASE), theirs[-1].read_text(encoding="utf-8")


@pytest.mark.parametrize("shard", range(SHARDS))
def test_a_new_record_brings_the_problems_a_check_of_the_whole_registry_finds_new(tmp_path, shard, monkeypatch):
    """certreg decide and certreg new check the new record's certificate folder and the rules between certificates
    (from every other certificate's Facts, kept in the cache), not the whole registry: for records of each corpus
    case (see _scenarios), the problems one brings are those that a check of the whole registry with it has and one
    without it has not, to the line; with the Facts from the cache, or (one case in three) with no cache."""
    from certreg.staff.write import assess

    compared = refused = kept = 0
    for i, case in enumerate(CASES[shard::SHARDS]):
        monkeypatch.setenv("CERTREG_CACHE", "off" if i % 3 == 0 else str(tmp_path / "cache"))
        for n, (rel, text) in enumerate(_scenarios(case)):
            root = build(tmp_path / f"{case.name}-{n}", case).resolve()
            path = root / rel
            day = as_of(case)
            path.unlink()
            before = _problem_rows(with_preflight(check_registry(root, day, jobs=1, cache=True)).report.problems,
                                   root)
            new, _ = assess(root, path, text, day)
            assert not path.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            after = _problem_rows(with_preflight(check_registry(root, day, jobs=1)).report.problems, root)
            drop_lines = {row[:1] + row[3:] for row in before}
            whole = {row for row in after if row[:1] + row[3:] not in drop_lines}
            assert _problem_rows(new, root) == whole, (case.name, str(rel))
            compared += 1
            refused += any(p.level == "error" and not p.overdue for p in new)
            kept += bool(before) and n == 1
            shutil.rmtree(root.parent)
    assert compared >= 280 // SHARDS and refused >= 160 // SHARDS and kept >= 120 // SHARDS, (compared, refused, kept)


def test_results_kept_for_a_registry_named_by_a_relative_path_come_back_with_the_paths_of_the_next_caller(
        tmp_path, monkeypatch):
    """The cache keeps paths relative to the registry however the caller names it (validate --registry registry
    from its parent folder): a run from another folder, naming it otherwise, is told its problems at its paths."""
    case = next(c for c in CASES if c.name.startswith("57-"))
    build(tmp_path / "a", case)
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    plain = found(Path("registry"), as_of(case))
    assert plain and all(row[0].startswith("certificates/") for row in plain)
    assert found(Path("registry"), as_of(case), cache=True) == plain
    monkeypatch.chdir(tmp_path / "b")
    c = check_registry(Path("../a/registry"), as_of(case), jobs=1, cache=True)
    assert {str(p.path).split("/certificates/")[0] for p in c.report.problems} == {"../a/registry"}
    assert all(p.path.is_file() for p in c.report.problems)


def test_a_folder_not_changed_since_it_was_hashed_is_not_read_again_and_a_change_of_the_same_size_is_seen(
        tmp_path, monkeypatch):
    """The cache takes a folder's digest from the stat of its files (sizes, times, inodes) when they have not changed
    since it was hashed, as git does; a file rewritten with the same size and its old time put back still changes its
    ctime, and is read again."""
    import sqlite3

    from certreg import cache as cache_module

    monkeypatch.setattr(cache_module, "RACY_SECONDS", -1)  # (the files were written a moment ago)
    root = build(tmp_path / "base")
    folders = sorted((root / "certificates").iterdir())
    plain = found(root, BASE_AS_OF)
    assert found(root, BASE_AS_OF, cache=True) == plain
    with sqlite3.connect(tmp_path / "cache" / "checks.sqlite") as db:
        assert db.execute("SELECT count(*) FROM seen").fetchone()[0] == len(folders)
    hashed = []
    real = CheckCache._hash_tree
    monkeypatch.setattr(CheckCache, "_hash_tree", lambda self, path, rel, h, depth: (
        hashed.append(path) if depth == 0 else None, real(self, path, rel, h, depth))[1])
    assert found(root, BASE_AS_OF, cache=True) == plain
    assert hashed == []
    record = root / "certificates" / "CEC-ZWL-2025-0001" / "certificate.yml"
    text = record.read_text(encoding="utf-8")
    times = record.stat()
    changed = text.replace("valid_until: 2028-", "valid_until: 2019-", 1)
    assert changed != text and len(changed.encode()) == len(text.encode())
    record.write_text(changed, encoding="utf-8")
    os.utime(record, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert record.stat().st_size == times.st_size and record.stat().st_mtime_ns == times.st_mtime_ns
    again = found(root, BASE_AS_OF, cache=True)
    assert hashed == [record.parent]
    assert again != plain and again == found(root, BASE_AS_OF)


def test_files_changed_a_moment_ago_are_hashed_each_time(tmp_path):
    """A file written within RACY_SECONDS could change again without its times showing it: its folder's stat is not
    kept, and the next run reads it again."""
    import sqlite3

    root = build(tmp_path / "base")
    check_registry(root, BASE_AS_OF, jobs=1, cache=True)
    with sqlite3.connect(tmp_path / "cache" / "checks.sqlite") as db:
        assert db.execute("SELECT count(*) FROM seen").fetchone()[0] == 0


def test_a_record_that_stops_its_certificate_loading_takes_it_out_of_the_rules_between_certificates(builder):
    """A new record with an error of its own (its certificate then does not load) takes its certificate's Facts out of
    the rules between certificates, as a check of the whole registry does: its announcement numbers are no longer
    taken, and another certificate's record without a number is told the first one free; a certificate that follows
    it is not told that it follows a certificate the registry lacks."""
    from certreg.staff.write import assess
    from conftest import ZWL_CONTENT, zwl_issue

    a = builder.zwl("CEC-ZWL-2024-0001")
    c = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    b = "CEC-ZWL-2025-0009"
    builder.certificate(b, "zero-waste-low-carbon-water", "2025-03-03", "2028-03-02",
                        {**ZWL_CONTENT, "raw_material_source": "第三来源"}, follows=a)
    builder.decision(b, zwl_issue(b, "2025-03-03"))
    builder.decide(a, "suspend", "2025-06-02", ground="holder-request", facts_verified="2025-05-30")
    builder.decision(c, {"certificate": c, "action": "suspend", "date": "2025-06-02", "ground": "holder-request",
                         "facts_verified": "2025-05-30", "reason": {"zh": "暂停", "en": "Suspended"},
                         "announcement": None})
    root = builder.root.resolve()
    day = D("2025-06-30")
    before = _problem_rows(with_preflight(check_registry(root, day, jobs=1)).report.problems, root)
    assert any("add announcement: 20250602-2" in row[5] for row in before)
    path = root / "certificates" / a / "decisions" / "2025-06-20-restore.yml"
    text = "certificate: CEC-ZWL-2024-0001\naction: restore\ndate: 2025-06-20\nno_such_field: 1\n"
    new, _ = assess(root, path, text, day)
    path.write_text(text, encoding="utf-8")
    after = _problem_rows(with_preflight(check_registry(root, day, jobs=1)).report.problems, root)
    whole = {row for row in after if row[:1] + row[3:] not in {r[:1] + r[3:] for r in before}}
    assert _problem_rows(new, root) == whole
    assert any("add announcement: 20250602-1" in row[5] for row in whole)
    assert any(row[4] == "REG-LINK" or "follows" in row[5] for row in before)
    assert not any("which is not in the registry" in row[5] for row in after)


def test_decide_takes_the_facts_a_check_kept_and_writes_no_cache_when_it_is_off(tmp_path, monkeypatch):
    """The Facts that check_registry keeps (any date) are those certreg decide's judgement takes: after a check, it
    loads no certificate; with CERTREG_CACHE=off it loads them all and writes no cache anywhere."""
    from certreg.rules import validate

    root = build(tmp_path / "base")
    check_registry(root, BASE_AS_OF, jobs=1, cache=True)
    loaded = []
    real = validate._facts_only
    monkeypatch.setattr(validate, "_facts_only", lambda cert, as_of: (loaded.append(cert.number), real(cert, as_of))[1])
    later = BASE_AS_OF + dt.timedelta(days=40)  # (the Facts do not depend on the date)
    kept = validate.known(root, later)
    assert loaded == [] and len(kept.facts) >= 4
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CERTREG_CACHE", "off")
    afresh = validate.known(root, later)
    assert sorted(loaded) == sorted(afresh.facts) == sorted(kept.facts)
    assert not (tmp_path / "off").exists()  # (a cache folder named "off", in the working folder)


def test_the_public_registry_from_the_cache_is_the_one_made_afresh(tmp_path, monkeypatch):
    """publish.public keeps each certificate's part of the public registry (its view, records' hashes,
    announcements) beside its check, by the folder's key: a second build takes every part from there, a changed
    folder's part is made again, another address is another context; the whole is always what a check without the
    cache gives."""
    from certreg.publish import public
    from conftest import REGISTRY

    root = tmp_path / "registry"
    shutil.copytree(REGISTRY, root)
    day, url = D("2026-11-21"), "https://example.org/registry/"
    made: list[str] = []
    real = public.part
    monkeypatch.setattr(public, "part", lambda number, *args: made.append(number) or real(number, *args))

    def publish(cache=True, base=url, when=day) -> public.Published:
        made.clear()
        return public.publish(check_registry(root, when, jobs=1, cache=cache), base)

    first = publish()
    assert len(made) >= 5 and first.announcements and first.records
    assert publish() == first and made == []  # (every part from the cache)
    # the digest each part carries is the one its view gives (what the pages are keyed by)
    assert any(v["followed_by"] for v in first.certificates)
    assert {v["number"]: public.view_digest(v, first.digests[v["number"]]) for v in first.certificates} == \
        {v["number"]: public.view_digest(v) for v in first.certificates}
    folder = max((root / "certificates").iterdir(), key=lambda f: len(list((f / "decisions").glob("*.yml"))))
    max((folder / "decisions").glob("*.yml")).unlink()  # (its newest decision)
    changed = publish()
    assert made == [folder.name]
    assert changed != first and changed == publish(cache=False)
    every = sorted(f.name for f in (root / "certificates").iterdir())
    other = publish(base="https://other.example/")
    assert sorted(made) == every and other == publish(cache=False, base="https://other.example/")
    later = publish(when=day + dt.timedelta(days=1))
    assert sorted(made) == every and later == publish(cache=False, when=day + dt.timedelta(days=1))


def test_a_sibling_cache_has_the_settings_and_schemes_its_run_read(tmp_path):
    """A later stage's results (the public parts, made from what the check loaded) are kept under the settings and
    schemes the check read, not under those on disk when the stage ends: a scheme saved during a build is the next
    build's context, and that build makes the parts again."""
    root = build(tmp_path / "base")
    check = CheckCache(root, ("check", "2026-06-30"))
    scheme = next((root / "schemes").glob("*.yml"))
    scheme.write_text(scheme.read_text(encoding="utf-8") + "\n# saved during the build\n", encoding="utf-8")
    later = check.sibling(("publication",))
    assert later.context == CheckCache(root, ("publication",), settings=check.settings).context
    assert later.context != CheckCache(root, ("publication",)).context


def test_the_preflight_of_a_folder_that_has_not_changed_comes_from_the_cache(tmp_path, monkeypatch):
    """The font checks of a certificate's texts are kept beside its check: a second check reads no certificate's
    texts and finds the same problems (a character the font lacks among them); a changed folder's are read again."""
    from certreg.publish import preflight

    case = next(c for c in CASES if c.name.startswith("142-"))  # (a change whose text the font cannot print)
    root = build(tmp_path / case.name, case)
    day = as_of(case)
    read: list[str] = []
    real = preflight.certificate_texts
    monkeypatch.setattr(preflight, "certificate_texts", lambda h, per: read.append(h.cert.number) or real(h, per))
    first = found(root, day, cache=True)
    assert any("cannot print" in p[5] for p in first) and len(read) >= 4
    read.clear()
    assert found(root, day, cache=True) == first and read == []
    cert = next((root / "certificates").iterdir())
    (cert / "certificate.yml").write_text((cert / "certificate.yml").read_text(encoding="utf-8") + "\n",
                                          encoding="utf-8")
    assert found(root, day, cache=True) == first and read == [cert.name]


def test_keeping_a_result_leaves_nothing_of_it_alive_while_the_collector_is_off(tmp_path):
    """A check turns the cyclic collector off: a pickler that outlived ``put`` by a reference cycle kept every
    value it had pickled, and a full build at 100,000 certificates grew by a third (3.9 -> 5.4 GiB)."""
    import gc
    import weakref

    registry = tmp_path / "registry"
    shutil.copytree(BASE, registry)
    cache = CheckCache(registry, ("test",), tmp_path / "checks.sqlite")
    value = Kept(registry / "certificates" / "x" / "certificate.yml")
    kept = weakref.ref(value)
    was_on = gc.isenabled()
    gc.disable()
    try:
        cache.put({"key": value})
        del value
        assert kept() is None, "a value given to the cache is still referenced after it was kept"
    finally:
        if was_on:
            gc.enable()
    assert cache.get(["key"])["key"].path == registry / "certificates" / "x" / "certificate.yml"


def test_reading_results_makes_no_garbage_in_a_cycle(tmp_path):
    """An unpickler per result that held itself in a cycle (its memo kept the method it gave for a registry path)
    kept each result's bytes and intermediate objects alive as long as a check has the collector off: at 10,000
    certificates, half a million objects and 160 MiB, and a collection of them all afterwards."""
    import gc

    registry = tmp_path / "registry"
    shutil.copytree(BASE, registry)
    cache = CheckCache(registry, ("test",), tmp_path / "checks.sqlite")
    cache.put({f"k{i}": Kept(registry / "certificates" / str(i) / "certificate.yml") for i in range(50)})
    gc.collect()
    was_on = gc.isenabled()
    gc.disable()
    try:
        got = cache.get([f"k{i}" for i in range(50)])
        assert gc.collect() == 0, "reading results left objects that only the cycle collector frees"
    finally:
        if was_on:
            gc.enable()
    assert [got[f"k{i}"].path for i in range(50)] == [registry / "certificates" / str(i) / "certificate.yml"
                                                       for i in range(50)]


def test_a_check_leaves_what_it_made_to_the_collector(tmp_path):
    """A check moves what it made with the collector off into the collector's oldest generation (gc.freeze, then
    unfreeze): nothing stays frozen, out of the collector's reach, after it."""
    import gc

    registry = tmp_path / "registry"
    shutil.copytree(BASE, registry)
    before = gc.get_freeze_count()
    check_registry(registry, BASE_AS_OF, cache=False)
    assert gc.get_freeze_count() == before
    gc.freeze()  # a process that froze objects of its own keeps them frozen
    try:
        mine = gc.get_freeze_count()
        check_registry(registry, BASE_AS_OF, cache=False)
        assert 0 < gc.get_freeze_count() <= mine  # (not let go of, nor added to; some are freed meanwhile)
    finally:
        gc.unfreeze()


def test_a_registry_path_is_not_read_outside_the_registry_it_is_in(tmp_path):
    """A result's registry paths are kept relative to the registry, and made again only under the registry being
    read: anywhere else unpickling one is an error (the cache then makes that result again), never a path relative
    to wherever the process happens to be."""
    import io
    import pickle

    from certreg.cache import _Pickler

    buffer = io.BytesIO()
    _Pickler(buffer, tmp_path).dump(Kept(tmp_path / "certificates" / "x"))
    with pytest.raises(pickle.UnpicklingError, match="without the registry"):
        pickle.loads(buffer.getvalue())


class Kept:
    def __init__(self, path: Path):
        self.path = path


def test_a_build_reads_the_records_and_history_of_the_certificates_that_changed_alone(tmp_path, monkeypatch):
    """A check keeps each certificate's records and history in the cache as a part read only when looked up
    (cache.Deferred): the preflight and the public parts of an unchanged folder come from the cache too, so that a
    build after one change reads the records of that folder alone; the histories read are those a check without the
    cache makes, with the paths of the registry where it now lies."""
    from certreg import cache as cache_module
    from certreg.publish.public import publish

    root = build(tmp_path / "here")
    url = "https://example.org/"
    publish(with_preflight(check_registry(root, BASE_AS_OF, cache=True)), url)
    read: list = []
    real = cache_module.Deferred.get

    def get(self):
        if self._blob is not None:
            read.append(self)
        return real(self)

    monkeypatch.setattr(cache_module.Deferred, "get", get)
    publish(with_preflight(check_registry(root, BASE_AS_OF, cache=True)), url)
    assert read == []
    copy = tmp_path / "there" / "registry"
    shutil.copytree(root, copy)
    cert = sorted((copy / "certificates").iterdir())[1]
    (cert / "certificate.yml").write_text((cert / "certificate.yml").read_text(encoding="utf-8") + "\n",
                                          encoding="utf-8")
    checked = with_preflight(check_registry(copy, BASE_AS_OF, cache=True))
    publish(checked, url)
    assert read == []  # (the changed folder's were made, not read)
    # (another registry loaded meanwhile, with schemes of its own, as certreg validate --base loads the published one)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(copy, elsewhere)
    for scheme in (elsewhere / "schemes").glob("*.yml"):
        scheme.write_text(scheme.read_text(encoding="utf-8") + "\n# another registry's\n", encoding="utf-8")
    check_registry(elsewhere, BASE_AS_OF, jobs=1)
    other = next(n for n in checked.histories if n != cert.name)
    h = checked.histories[other]
    assert h.cert.path == copy / "certificates" / other / "certificate.yml"
    assert h.cert.scheme is checked.registry.schemes[h.cert.scheme.key]  # (its own registry's, not the last one's)
    assert len(read) == 1 and checked.registry.certificates[other] is h.cert
    plain = check_registry(copy, BASE_AS_OF, jobs=1)
    assert {n: summary(h) for n, h in checked.histories.items()} == \
        {n: summary(h) for n, h in plain.histories.items()}
    assert list(checked.registry.certificates) == list(plain.registry.certificates)


def summary(h) -> tuple:
    return h.cert.number, h.cert.path, h.segments, [v.number for v in h.versions], [d.path for d in h.cert.decisions]


def test_a_part_of_a_result_that_cannot_be_read_stops_the_run_with_a_message(tmp_path):
    """A part read after its result (cache.Deferred) cannot be made again in its place: its run stops with a
    message that says what to do, never a traceback, never a verdict from damaged bytes."""
    import pickle

    from certreg.cache import Deferred, _deferred, _paths_inside
    from certreg.errors import CertregError

    with _paths_inside(tmp_path):
        damaged = _deferred(b"\x80\x05not a pickle")
    with pytest.raises(CertregError, match="cache .* is damaged.*CERTREG_CACHE=off"):
        damaged.get()
    # given to another process (pickled without a cache), a part is its value
    assert pickle.loads(pickle.dumps(Deferred((1, Kept(tmp_path))))).get()[1].path == tmp_path


@pytest.fixture
def judged(monkeypatch) -> list[int]:
    """How many Facts each run of the rules between certificates judged, one entry a run."""
    from certreg.rules import validate

    runs: list[int] = []
    real = validate.check_across
    monkeypatch.setattr(validate, "check_across", lambda facts, *rest: runs.append(len(facts)) or real(facts, *rest))
    return runs


def test_the_rules_between_certificates_are_judged_once_for_a_registry_as_it_is(tmp_path, judged):
    """What the rules between certificates find depends on every certificate's Facts alone: the cache keeps it by
    the key of every folder's Facts, on any date. A check of a registry whose folders have not changed, and certreg
    decide's judging of the registry as it is (before its record), take it from there; a changed folder, or a new
    record's Facts, are judged afresh. The problems are those of a check without the cache, every time."""
    from certreg.rules import validate

    case = next(c for c in CASES if c.name.startswith("57-"))  # (the same unit certified twice: ZWL-4)
    root = build(tmp_path / case.name, case)
    day = as_of(case)
    plain = found(root, day)
    assert any(p[4] == "ZWL-4" for p in plain) and judged
    judged.clear()
    assert found(root, day, cache=True) == plain and len(judged) == 1
    assert found(root, day + dt.timedelta(days=1), cache=True) == found(root, day + dt.timedelta(days=1)) and \
        len(judged) == 2  # (the second, without the cache: another date takes what the first kept)
    judged.clear()
    known = validate.known(root, day)
    number = "CEC-ZWL-2025-0003"  # (the one that clashes)
    for replace in (None, {number: known.facts[number]}):
        from certreg.problems import Report

        report = Report()
        known.across(report, replace)
        assert [p for p in report.problems if p.rule == "ZWL-4"] and judged == []
        as_is = report.problems
    later = dataclasses.replace(known.facts[number], follows="CEC-ZWL-2099-0001")
    report = Report()
    known.across(report, {number: later})
    assert len(judged) == 1 and any(p.rule == "REG-LINK" for p in report.problems)
    report = Report()
    known.across(report, {number: None})  # (its folder would no longer load)
    assert len(judged) == 2 and len(report.problems) < len(as_is)
    known.across(Report(), {"CEC-ZWL-2025-0099": None})  # (a folder that is not there, said not to load: a
    assert len(judged) == 3  # certificate that follows it would be waiting for it, not following nothing)
    cert = root / "certificates" / number / "certificate.yml"
    cert.write_text(cert.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    judged.clear()
    assert found(root, day, cache=True) == plain and len(judged) == 1


def test_a_folder_that_does_not_load_said_not_to_load_is_the_registry_as_it_is(tmp_path, judged):
    """certreg decide on a certificate whose folder does not load judges the registry as it is (that folder said not
    to load, as known) from the cache; said not to load, a folder that loads is another registry."""
    from certreg.problems import Report
    from certreg.rules import validate

    case = next(c for c in CASES if c.name.startswith("05-"))  # (a decision that is not YAML: its folder waits)
    root = build(tmp_path / case.name, case)
    found(root, as_of(case), cache=True)
    judged.clear()
    known = validate.known(root, as_of(case))
    assert "CEC-ZCF-2025-0001" in known.registry.broken and "CEC-ZCF-2025-0001" not in known.facts
    known.across(Report(), {"CEC-ZCF-2025-0001": None})
    assert judged == []
    known.across(Report(), {next(iter(known.facts)): None})
    assert len(judged) == 1
