"""Load and check a whole registry: the one entry point the commands use.

``check_registry`` runs stage 1 (load: layout, YAML, schema) and stage 2
(rules) and returns the records, each certificate's history and every problem.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..collector import no_cycles
from ..problems import Report
from ..records.load import load_registry, typed_certificate
from ..records.model import Registry
from ..records.schemasync import stale_schemas
from ..status import History
from .checks import check_across, check_certificate


@dataclass
class Checked:
    """A registry with its histories and the report of everything wrong with it."""

    registry: Registry
    histories: Mapping[str, History]  # empty when the records were not kept (keep=False); each read when looked up
    report: Report
    as_of: dt.date
    count: int  # certificates checked (those whose records passed their schema)
    late: dict = field(default_factory=dict)  # decision path -> {rule: deadline}: binding deadlines missed
    cache: object = None  # the certreg.cache.CheckCache the check used, if any (a later stage keeps its own
    # results by folder in a sibling of it: publish.public)


def _check_one(cert, as_of: dt.date, keep: bool):
    """Runs where ``cert`` was loaded (a worker process for a large registry): its own rules, and its Facts
    for the rules between certificates. The certificate and its History go back only if the caller keeps the
    records, together (the one refers to the other) as a cache.Deferred: a result taken from the cache gives them
    only when they are looked up."""
    from ..cache import Deferred

    h, problems, facts = check_certificate(cert, as_of)
    return (Deferred((cert, h)) if keep else None), problems, facts


# The facts a certificate gives the rules between certificates (and its layout, YAML and schema problems) do
# not depend on the date judged on: the cache keeps them under this context, for any date.
FACTS = ("facts",)
# The problems of the rules between certificates, which depend on every certificate's Facts alone: the cache keeps
# them under this context, by the key of every folder's Facts (``_fingerprint``), for any date.
ACROSS = ("across",)


def _fingerprint(facts_cache, root: Path, names) -> str | None:
    """The key of what the rules between certificates find in the registry at ``root``: the keys in ``facts_cache``
    (FACTS) of the certificate folders ``names`` (every one: those that load and those that do not); None if a folder
    has none (it is never taken from the cache)."""
    import hashlib

    keys = facts_cache.keys([Path(root) / "certificates" / name for name in sorted(names)])
    if None in keys.values():
        return None
    h = hashlib.sha256()
    for folder, key in keys.items():
        h.update(f"{folder.name}\0{key}\n".encode())
    return h.hexdigest()


def _across(all_facts: dict, broken: set, report: Report, kept=None, fingerprint: str | None = None) -> None:
    """check_across into ``report``; from ``kept`` (the ACROSS cache) if it has the problems of ``fingerprint``
    (under its context), else found and kept there."""
    key = None
    if kept is not None and fingerprint is not None:
        key = kept.key_of(fingerprint)
        found = kept.get([key]).get(key)
        if isinstance(found, list):
            report.extend(found)
            return
    mine = Report()
    check_across(all_facts, broken, mine)
    if key is not None:
        kept.put({key: mine.problems})
    report.extend(mine.problems)


def _facts_row(row: tuple) -> tuple:
    """What the facts cache keeps of a loaded folder's row (loaded, certificate, problems, (history, problems,
    facts)): whether it loaded, its load problems and its Facts."""
    loaded, _cert, problems, result = row
    return loaded, None, problems, (None if result is None else (None, [], result[2]))


def _facts_only(cert, as_of: dt.date):
    return None, [], check_certificate(cert, as_of)[2]


def check_registry(root: Path, as_of: dt.date, *, jobs: int | None = None, keep: bool = True,
                   cache: bool = False) -> Checked:
    """Load ``root`` and judge every record and rule as of ``as_of``; problems are resolved and sorted.

    ``keep=False`` keeps only the report (and sends only that back from worker processes): for a caller
    that checks and prints, it saves copying every record between processes. ``cache=True`` takes each
    certificate whose files have not changed since a run like this one from the cache (certreg.cache), unless
    $CERTREG_CACHE is ``off``; the verdicts are the same.
    """
    from ..cache import CheckCache, Deferreds, enabled

    kept = CheckCache(Path(root), ("check", as_of.isoformat())) if cache and enabled() else None
    whole = keep or kept is not None  # (the cache keeps whole results, whoever asks next: validate, build...)
    with no_cycles():
        # (the records come back in each result, with its history: load_registry need not keep them)
        facts_cache = kept.sibling(FACTS) if kept is not None else None
        registry, problems, results = load_registry(
            Path(root), jobs=jobs, keep=False, after=functools.partial(_check_one, as_of=as_of, keep=whole),
            cache=kept, also=[(facts_cache, _facts_row)] if facts_cache is not None else ())
        report = Report()
        report.extend(problems)
        records = {}  # number -> Deferred (certificate, history), read where looked up
        all_facts = {}
        late: dict = {}
        for number, (both, found, facts) in results.items():
            if both is not None and keep:
                records[number] = both
            report.extend(found)
            all_facts[number] = facts
            late.update(facts.late)
        if facts_cache is not None:
            _across(all_facts, registry.broken, report, facts_cache.sibling(ACROSS),
                    _fingerprint(facts_cache, root, set(results) | registry.broken))
        else:
            check_across(all_facts, registry.broken, report)
        if not registry.broken_schemes:  # (from broken schemes, the generated schemas would be wrong too)
            for path, message in stale_schemas(registry.root, registry.schemes):
                report.error(path, "REG-SCHEMA", message, line=1, column=1)
        report.resolve()
        registry.certificates = Deferreds(records, 0)
    return Checked(registry, Deferreds(records, 1), report, as_of, len(all_facts), late, cache=kept)


@dataclass
class Known:
    """What the rules between certificates need of a registry: every certificate's Facts (by number), and the
    folders that did not load (``broken``) or wait for their scheme's file to be mended."""

    registry: Registry
    facts: dict
    cache: object = None  # the ACROSS cache, and the key there of what the rules between certificates find in
    fingerprint: str | None = None  # the registry as known (validate and build keep it there too)

    def across(self, report: Report, replace: dict | None = None) -> None:
        """The rules between certificates into ``report``, with the Facts of ``replace`` (number -> Facts, or None
        for a folder that does not load) in place of those known. (A folder that loads is in ``facts``, where the
        rules look first: whether it is among the broken ones then tells them nothing.) The registry as known
        (``replace`` the same as it) is judged once: its problems are kept in the cache."""
        facts = dict(self.facts)
        gone = set(self.registry.broken)
        same = True
        for number, f in (replace or {}).items():
            if f is None:
                same = same and number in gone and number not in facts
                facts.pop(number, None)
                gone.add(number)
            else:
                same = same and facts.get(number) == f
                facts[number] = f
        _across(dict(sorted(facts.items())), gone, report, self.cache, self.fingerprint if same else None)


def known(root: Path, as_of: dt.date, *, jobs: int | None = None) -> Known:
    """Every certificate's Facts, each from the facts cache when its folder has not changed since a check put it
    there (any check_registry with cache=True, on any date), else loaded and checked (and kept there): what
    ``certreg decide`` and ``certreg new`` judge a new record's certificate against."""
    from ..cache import CheckCache, enabled

    kept = CheckCache(Path(root), FACTS) if enabled() else None
    with no_cycles():
        registry, _problems, results = load_registry(Path(root), jobs=jobs, keep=False, cache=kept,
                                                     after=functools.partial(_facts_only, as_of=as_of))
    facts = {number: result[2] for number, result in results.items()}
    if kept is None:
        return Known(registry, facts)
    return Known(registry, facts, kept.sibling(ACROSS), _fingerprint(kept, root, set(results) | registry.broken))


def check_folder(root: Path, number: str, as_of: dt.date, schemes: dict):
    """One certificate folder of the registry at ``root``, alone: the problems of its files and its own rules (as
    check_registry finds them for it), and its Facts (None if it does not load)."""
    cert, problems = typed_certificate(Path(root) / "certificates" / number, schemes)
    if cert is None:
        return problems, None
    _h, found, facts = check_certificate(cert, as_of)
    return problems + found, facts
