"""Load and check a whole registry: the one entry point the commands use.

``check_registry`` runs stage 1 (load: layout, YAML, schema) and stage 2
(rules) and returns the records, each certificate's history and every problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
from dataclasses import dataclass
from pathlib import Path

from .load import load_registry
from .model import Registry
from .problems import Report
from .rules import check_across, check_certificate
from .schemasync import stale_schemas
from .status import History


@dataclass
class Checked:
    """A registry with its histories and the report of everything wrong with it."""

    registry: Registry
    histories: dict[str, History]
    report: Report
    as_of: dt.date


def check_registry(root: Path, as_of: dt.date, *, jobs: int | None = None) -> Checked:
    """Load ``root`` and judge every record and rule as of ``as_of``; problems are resolved and sorted."""
    with _no_cycle_collection():
        # each certificate's own rules run where it is loaded (in parallel), then the rules between them
        registry, problems, results = load_registry(Path(root), jobs=jobs,
                                                    after=functools.partial(check_certificate, as_of=as_of))
        report = Report()
        report.extend(problems)
        histories = {}
        for number, (h, found) in results.items():
            histories[number] = h
            report.extend(found)
        check_across(registry, histories, as_of, report)
        if not registry.broken_schemes:  # (from broken schemes, the generated schemas would be wrong too)
            for path, message in stale_schemas(registry.root, registry.schemes):
                report.error(path, "REG-SCHEMA", message, line=1, column=1)
        report.resolve()
    return Checked(registry, histories, report, as_of)


@contextlib.contextmanager
def _no_cycle_collection():
    """Loading builds about a hundred objects per record and no reference cycles: the cycle collector
    would only rescan them, again and again (a third of the time on 10,000 certificates)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
