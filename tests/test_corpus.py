"""The corpus of bad records (tests/corpus/): every case raises exactly the errors it declares.

A registry is built in a temporary folder from the real settings, schemes and
schemas (registry/) plus the small valid base (tests/corpus/base/certificates).
Each case in tests/corpus/bad/NN-name/ is an overlay on that base: its files are
added to (or replace files of) the registry, the files listed in remove.txt are
deleted, and as_of.txt, if present, gives the date to judge on. expect.txt lists
one expected error per line as ``RELATIVE/PATH:LINE RULE-ID``; the validator's
problems (errors, and warnings marked " warning") must be exactly that set. See corpus/README.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from certreg.cli import main
from certreg.publish.preflight import with_preflight
from certreg.rules.validate import check_registry

TESTS = Path(__file__).resolve().parent
REGISTRY = TESTS.parent / "registry"
CORPUS = TESTS / "corpus"
BASE = CORPUS / "base"
BAD = CORPUS / "bad"
BASE_AS_OF = dt.date(2026, 6, 30)  # the working-day calendar knows years up to 2026 only
MIN_CASES = 150  # every kind of bad input the validator refuses, with its message's file, line and rule
CASE_FILES = {"expect.txt", "remove.txt", "as_of.txt"}  # files of a case that are not registry files
CASE_NAME = re.compile(r"^[0-9]{2,3}-[a-z0-9.-]+$")
EXPECT_LINE = re.compile(r"^(?P<path>\S+):(?P<line>[1-9][0-9]*) (?P<rule>(REG|ZCF|ZWL)-[A-Za-z0-9.-]+)"
                         r"(?: (?P<level>warning))?$")

CASES = sorted(p for p in BAD.iterdir() if p.is_dir()) if BAD.is_dir() else []

# A handful of cases that are also run through the command line (JSON output, exit code 1).
CLI_CASES = [
    "02-yaml-anchor-alias",
    "06-yaml-not-utf8",
    "22-layout-stray-file",
    "29-order-after-expiry",
    "46-zcf-12.1.2-open-suspension-overdue",
    "57-zwl-4-same-unit-twice",
    "140-emoji-in-product-name",  # (the publishing preflight's, which certreg validate runs)
    "145-mark-external-xlink-href",
]


# --- building a registry from the base and a case ------------------------------------------


def _lines(path: Path) -> list[str]:
    """The meaningful lines of a case's text file (blank lines and # comments dropped)."""
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def build(dest: Path, case: Path | None = None) -> Path:
    """Write the base registry (and ``case``'s overlay on it) at ``dest``; return the registry root."""
    root = dest / "registry"
    root.mkdir(parents=True)
    shutil.copy(REGISTRY / "registry.yml", root / "registry.yml")
    shutil.copytree(REGISTRY / "schemes", root / "schemes")
    shutil.copytree(REGISTRY / "schemas", root / "schemas")
    shutil.copytree(REGISTRY / "marks", root / "marks")
    shutil.copytree(BASE / "certificates", root / "certificates")
    if case is None:
        return root
    if (case / "remove.txt").exists():
        for rel in _lines(case / "remove.txt"):
            target = root / rel
            assert target.is_file(), f"{case.name}/remove.txt: {rel} is not a file of the base registry"
            target.unlink()
    for src in sorted(case.rglob("*")):
        if not src.is_file() or (src.parent == case and src.name in CASE_FILES):
            continue
        target = root / src.relative_to(case)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)  # byte for byte: some cases are deliberately not UTF-8
    return root


def as_of(case: Path) -> dt.date:
    path = case / "as_of.txt"
    if not path.exists():
        return BASE_AS_OF
    (text,) = _lines(path)
    return dt.date.fromisoformat(text)


def expected(case: Path) -> set[tuple[str, int, str, str]]:
    """The (path, line, rule, level) of every problem ``case`` declares in expect.txt."""
    path = case / "expect.txt"
    assert path.is_file(), f"{case.name} has no expect.txt"
    out = set()
    for line in _lines(path):
        m = EXPECT_LINE.match(line)
        assert m, f"{case.name}/expect.txt: {line!r} is not RELATIVE/PATH:LINE RULE-ID [warning]"
        out.add((m["path"], int(m["line"]), m["rule"], m["level"] or "error"))
    assert out, f"{case.name}/expect.txt declares no problem: a bad case must be bad"
    return out


def _rel(path, root: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), root.resolve())).as_posix()


def _line(line: int) -> int:
    # What the command line prints: files that are not YAML (a stray notes.txt) have no line, shown as 1.
    return max(line, 1)


def run(root: Path, day: dt.date):
    """check_registry and the publishing preflight, as certreg validate runs them: problems reported, never raised."""
    try:
        return with_preflight(check_registry(root, day))
    except Exception:  # a traceback is itself the failure being tested for
        pytest.fail("check_registry raised instead of reporting a problem:\n" + traceback.format_exc())


def _explain(want: set, got: set, messages: dict) -> str:
    lines = []
    for item in sorted(want - got):
        lines.append(f"  missing: {item[0]}:{item[1]} {item[2]} {item[3]}")
    for item in sorted(got - want):
        lines.append(f"  extra:   {item[0]}:{item[1]} {item[2]} {item[3]}  {messages.get(item, '')}")
    return "\n".join(lines)


# --- the corpus itself -----------------------------------------------------------------------


def test_corpus_has_enough_cases():
    assert len(CASES) >= MIN_CASES, f"{len(CASES)} cases in {BAD}; at least {MIN_CASES} expected"


def test_case_folders_are_well_formed():
    numbers = [c.name.split("-", 1)[0] for c in CASES]
    assert len(numbers) == len(set(numbers)), "two cases share a number"
    for case in CASES:
        assert CASE_NAME.match(case.name), f"{case.name}: name a case NN-short-name"
        overlay = [p for p in case.rglob("*") if p.is_file() and not (p.parent == case and p.name in CASE_FILES)]
        stray = [p.name for p in case.iterdir() if p.is_file() and p.name not in CASE_FILES | {"registry.yml"}]
        assert not stray, f"{case.name}: unexpected files {stray} (registry files go in their registry folders)"
        assert overlay or (case / "remove.txt").exists() or (case / "as_of.txt").exists(), \
            f"{case.name} changes nothing"
        expected(case)


def _case_dates() -> list[dt.date]:
    return sorted({BASE_AS_OF, *(as_of(c) for c in CASES)})


@pytest.mark.parametrize("day", _case_dates(), ids=str)
def test_base_is_clean(tmp_path, day):
    """The base alone: no error and no warning, on every date the cases are judged on."""
    root = build(tmp_path)
    checked = run(root, day)
    assert checked.report.problems == [], "\n".join(
        f"{_rel(p.path, root)}:{p.line} {p.level} {p.rule} {p.message}" for p in checked.report.problems)
    assert len(checked.registry.certificates) == len(list((BASE / "certificates").iterdir()))


def test_base_is_clean_on_the_command_line(tmp_path):
    root = build(tmp_path)
    result = CliRunner().invoke(main, ["validate", "--registry", str(root), "--as-of", BASE_AS_OF.isoformat(),
                                       "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_case(tmp_path, case):
    want = expected(case)
    root = build(tmp_path, case)
    checked = run(root, as_of(case))
    for p in checked.report.problems:
        assert isinstance(p.message, str) and p.message.strip(), f"empty message: {p}"
        assert p.level in ("error", "warning"), p
        assert p.rule, p
    found = checked.report.problems
    got = {(_rel(p.path, root), _line(p.line), p.rule, p.level) for p in found}
    messages = {(_rel(p.path, root), _line(p.line), p.rule, p.level): p.message for p in found}
    assert got == want, f"{case.name}: the validator's problems differ from expect.txt\n" + _explain(want, got,
                                                                                                   messages)
    if (case / "as_of.txt").exists():
        # A case judged on its own date tests a limit in time: on the base date it must not fail the same way.
        before = run(root, BASE_AS_OF)
        got_before = {(_rel(p.path, root), _line(p.line), p.rule, p.level) for p in before.report.problems}
        assert not want <= got_before, f"{case.name}: fails the same way on {BASE_AS_OF}; as_of.txt is not needed"


def test_cli_cases_exist():
    names = {c.name for c in CASES}
    assert set(CLI_CASES) <= names, sorted(set(CLI_CASES) - names)


@pytest.mark.parametrize("name", CLI_CASES)
def test_bad_case_on_the_command_line(tmp_path, name):
    case = BAD / name
    want = expected(case)
    root = build(tmp_path, case)
    result = CliRunner().invoke(main, ["validate", "--registry", str(root), "--as-of", as_of(case).isoformat(),
                                       "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        "".join(traceback.format_exception(*result.exc_info))
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    for row in rows:
        assert set(row) == {"path", "line", "column", "level", "rule", "message"}, row
        assert row["message"].strip(), row
        assert row["line"] >= 1 and row["column"] >= 1, row

    def where(row):
        path = Path(row["path"])
        return _rel(path if path.is_absolute() else Path.cwd() / path, root)

    got = {(where(r), r["line"], r["rule"], r["level"]) for r in rows}
    messages = {(where(r), r["line"], r["rule"], r["level"]): r["message"] for r in rows}
    assert got == want, f"{name}: the CLI's errors differ from expect.txt\n" + _explain(want, got, messages)
