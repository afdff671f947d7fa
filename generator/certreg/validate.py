"""Load and check a whole registry: the one entry point the commands use.

``check_registry`` runs stage 1 (load: layout, YAML, schema) and stage 2
(rules) and returns the records, each certificate's history and every problem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .load import load_registry
from .model import Registry
from .problems import Report
from .rules import check
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
    registry, problems = load_registry(Path(root), jobs=jobs)
    report = Report()
    report.extend(problems)
    histories = check(registry, as_of, report)
    report.resolve()
    return Checked(registry, histories, report, as_of)
