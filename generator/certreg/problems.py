"""Problems found in records, and the three ways of printing them (text, JSON, GitHub annotations)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ("error", "warning")


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: where (file, line, column), how bad, which rule, and how to fix it.

    ``key`` is a path of mapping keys / list indexes inside the file; when the
    line is not known yet (business rules work on loaded values, not on YAML
    nodes) it is resolved from ``key`` by re-reading the file (see ``Report.resolve``).
    """

    path: Path
    level: str
    rule: str
    message: str
    line: int = 0
    column: int = 0
    key: tuple = ()
    # an action that time has made due (a suspension past its limit, a surveillance not recorded), or a record
    # that must still say something it cannot be rewritten to say (a late decision without its late record): an
    # error for staff, but not a reason to hold back the publication of everything else (the truth recorded)
    overdue: bool = False

    def sort_key(self):
        return (str(self.path), self.line, self.column, self.rule, self.message)


@dataclass
class Report:
    """Every problem of one run, collected before anything fails (report all, then fail once)."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, path, level, rule, message, *, line=0, column=0, key=(), overdue=False):
        assert level in LEVELS, level
        self.problems.append(Problem(Path(path), level, rule, message, line, column, tuple(key), overdue))

    def error(self, path, rule, message, **where):
        self.add(path, "error", rule, message, **where)

    def warning(self, path, rule, message, **where):
        self.add(path, "warning", rule, message, **where)

    def extend(self, problems):
        self.problems.extend(problems)

    def count(self, level):
        return sum(1 for p in self.problems if p.level == level)

    @property
    def ok(self):
        return self.count("error") == 0

    def resolve(self):
        """Give every problem a line and column, locating keys in their files; sort them."""
        from .records.yamlfile import locate

        cache: dict = {}
        done = []
        for p in self.problems:
            if p.line == 0:
                if p.key and p.path.is_file():
                    line, column = locate(p.path, p.key, cache)
                else:  # about the file as a whole (its name, its place): its first line
                    line, column = 1, 1
                p = Problem(p.path, p.level, p.rule, p.message, line, column, p.key, p.overdue)
            done.append(p)
        # The same finding can be reached twice (e.g. through two certificates); print it once.
        self.problems = sorted(set(done), key=Problem.sort_key)
        return self


def display_path(path: Path) -> str:
    """The path as the user typed it when that is shorter: relative to the working folder if inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _line_col(p: Problem):
    return max(p.line, 1), max(p.column, 1)


def format_text(problems) -> str:
    out = []
    for p in problems:
        line, col = _line_col(p)
        out.append(f"{display_path(p.path)}:{line}:{col}: {p.level} {p.rule} {p.message}")
    return "\n".join(out)


def format_json(problems) -> str:
    rows = []
    for p in problems:
        line, col = _line_col(p)
        rows.append({"path": display_path(p.path), "line": line, "column": col,
                     "level": p.level, "rule": p.rule, "message": p.message})
    return json.dumps(rows, ensure_ascii=False, indent=2)


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_property(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def format_github(problems) -> str:
    """GitHub Actions workflow commands, one annotation per problem."""
    out = []
    for p in problems:
        line, col = _line_col(p)
        props = ",".join([
            f"file={_gh_escape_property(display_path(p.path))}",
            f"line={line}",
            f"col={col}",
            f"title={_gh_escape_property(p.rule)}",
        ])
        out.append(f"::{p.level} {props}::{_gh_escape_data(p.rule + ' ' + p.message)}")
    return "\n".join(out)


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}
