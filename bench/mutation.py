"""Mutation testing of the rules core (``rules/``, ``status.py`` and the dates) against the fast tests, with mutmut.

Run from the project folder:

    .venv/bin/python bench/mutation.py [PATTERN ...] [--max-children N] [--keep DIR] [--git REV] [--property]
                                       [--reasons FILE]
    .venv/bin/python bench/mutation.py [PATTERN ...] --keep DIR --report-only   (report again, after editing reasons)

mutmut 3 does not handle the src layout under ``generator/``, so the script builds a restructured copy in a
temporary folder (or in DIR with ``--keep DIR``, kept afterwards for ``mutmut show``/``mutmut browse`` there):
``certreg/`` at its top (a copy of ``generator/certreg``), ``tests/``, ``registry/``, ``mkdocs.yml``,
``site_src/``, and a ``pyproject.toml`` holding the project's pytest settings and the ``[tool.mutmut]`` section
written below. It runs ``mutmut run`` there (its progress goes to stderr) and then prints, on stdout, in plain
text and a fixed order:

1. the figures: mutants, killed, survived, timeout, suspicious, skipped, no tests, not checked, the run time and
   the rate (mutants per minute of mutation testing);
2. every survivor (a mutant that survived, or that no test reaches) classified as *text* or *logic*. A survivor
   is text only if the tokens that differ between the original and the mutated lines (Python's tokenize) are
   all string literals, and every changed literal is prose (contains a space, like a message; ``"REG-ORDER"``,
   ``"suspended"``, ``"-"`` or ``"%Y%m%d"`` are values the code works with, so a change to them is logic).
   Everything else (operators, comparisons, numbers, dropped arguments, None, booleans, break/continue...) is
   logic;
3. the logic survivors without a written reason, each with its diff and a ready-to-paste entry for the reasons
   file, then the accepted ones with their reason, the text ones (one line each), and the reasons that match
   no survivor any more (stale; only those of the functions this run tested).

The exit code is 1 if a logic survivor has no reason (or, without a PATTERN, if some mutants were not checked),
2 if mutmut failed (the figures are not printed then, only mutmut's last lines) or the command line is wrong,
0 otherwise. The reasons file,
``bench/mutation-reasons.toml`` by default, documents its own format: a reason is keyed by the function and the
changed lines, not by mutmut's mutant number, which moves whenever code above it changes.

PATTERNs restrict the run to some mutants (fnmatch patterns of mutmut's names, as ``mutmut run`` takes them);
``?`` matches the ``ǁ`` that mutmut writes around a class name:

    .venv/bin/python bench/mutation.py 'certreg.rules.dates*'
    .venv/bin/python bench/mutation.py 'certreg.rules.checks.x?Checks?deadlines__mutmut_*'

Without a PATTERN it runs every mutant (about 2,850; hours on two cores: see the rate it prints). The copy is
taken from the working tree when the script starts; ``--git HEAD`` (or any commit) takes the committed files
instead (``git archive``), when the working tree is in the middle of an edit that fails the tests: mutmut stops
at once if the tests fail without a mutation.

``--property`` adds tests/test_property.py (Hypothesis, random sequences, with ``--hypothesis-seed=0``). It is
left out by default: a surviving mutant runs every test that reaches its function, and that one test adds about
13 s to each (the fast tests together take about 25 s); and Hypothesis keeps the failing examples it finds
(in the copy's .hypothesis/), so a verdict can depend on the mutants tested before it.

Functions under a decorator (the ``lru_cache`` ones of the dates: ``is_working_day``, ``add_working_days``,
``calendar_years``) are not mutated by mutmut at all.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tokenize
import tomllib
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REASONS = ROOT / "bench" / "mutation-reasons.toml"

MUTATE = ["certreg/rules/*", "certreg/status.py"]
FAST_TESTS = ["tests/test_status.py", "tests/test_rules.py", "tests/test_limits.py", "tests/test_truth.py",
              "tests/test_corpus.py", "tests/test_cache.py"]  # (check_registry keeps and takes results in the cache)
# the tests that build a site or render PDFs (marked publishes) take seconds each and test the publication
# and those that read the rules' source code (marked reads_source), which mutmut rewrites; the corpus cases of
# the loader alone (marked loader: YAML, layout) never reach the rules
SELECT = ["-m", "not publishes and not reads_source and not loader"]
PROPERTY_TESTS = ["tests/test_property.py"]
# what the tests read beside tests/ (conftest.py: ROOT = the folder above tests/; mkdocs.yml and site_src/ for the
# site the truth tests build); mutmut copies tests/ and pyproject.toml itself
ALSO_COPY = ["registry", "mkdocs.yml", "site_src"]
MARKER = "# written by bench/mutation.py: the copy mutmut runs in (emptied by the next run that uses it)"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", "*.egg-info")

# mutmut's statuses, in the order the figures are printed
FIGURES = ["killed", "survived", "timeout", "suspicious", "skipped", "no tests", "caught by type check", "segfault",
           "check was interrupted by user", "not checked"]
SURVIVING = ("survived", "no tests")  # nothing caught these


# --- the restructured copy ---------------------------------------------------------------------------------------

def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def pyproject(source: Path, tests: list[str], property_tests: bool) -> str:
    """The copy's pyproject.toml: the project's pytest settings, and mutmut's configuration."""
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = project.get("tool", {}).get("pytest", {}).get("ini_options", {})
    mutmut = {
        "source_paths": ["certreg"],
        "only_mutate": MUTATE,
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args_test_selection": tests + SELECT,
        # no .pytest_cache; with the Hypothesis test, a fixed seed (the same examples for every mutant)
        "pytest_add_cli_args": ["-p", "no:cacheprovider"] + (["--hypothesis-seed=0"] if property_tests else []),
        # the copy is not a git repository (or lies inside the project's): compare nothing with git
        "use_git_change_detection": False,
    }
    lines = [MARKER, "", "[tool.pytest.ini_options]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in pytest_options.items()]
    lines += ["", "[tool.mutmut]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in mutmut.items()]
    return "\n".join(lines) + "\n"


def from_git(rev: str, into: Path) -> Path:
    """The files the copy needs as they are in commit ``rev`` (``git archive``: the working tree is not touched)."""
    paths = ["generator/certreg", "tests", "pyproject.toml", *ALSO_COPY]
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "--", *paths],
                             capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {rev} failed: {archive.stderr.decode('utf-8', 'replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        try:
            tar.extractall(into, filter="data")
        except TypeError:  # Python before 3.11.4 (a commit of this project is trusted anyway)
            tar.extractall(into)
    return into


def is_copy(work: Path) -> bool:
    """Whether ``work`` is a folder this script made (and may empty)."""
    try:
        return (work / "pyproject.toml").read_text(encoding="utf-8").startswith("# written by bench/mutation.py")
    except OSError:
        return False


def build_copy(work: Path, source: Path, tests: list[str], property_tests: bool) -> None:
    """``work`` becomes a project with certreg/ at its top (what mutmut expects), from a clean slate."""
    if work.exists():
        for child in work.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "generator" / "certreg", work / "certreg", ignore=IGNORE)
    shutil.copytree(source / "tests", work / "tests", ignore=IGNORE)
    for name in ALSO_COPY:
        if (source / name).is_dir():
            shutil.copytree(source / name, work / name, ignore=IGNORE)
        else:
            shutil.copy2(source / name, work / name)
    (work / "pyproject.toml").write_text(pyproject(source, tests, property_tests), encoding="utf-8")


# --- running mutmut ----------------------------------------------------------------------------------------------

def mutmut_command() -> list[str]:
    script = Path(sys.executable).parent / "mutmut"
    if script.exists():
        return [str(script)]
    # what the console script does (``python -m mutmut`` would import mutmut.__main__ twice)
    return [sys.executable, "-c", "import sys; from mutmut.__main__ import cli; sys.argv[0] = 'mutmut'; cli()"]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.pop("MUTANT_UNDER_TEST", None)
    return env


@dataclass
class Run:
    returncode: int
    started: float
    ended: float
    testing_started: float | None = None  # when mutmut began the mutants themselves ("Running mutation testing")
    output: list[str] = field(default_factory=list)  # every line mutmut printed (status updates collapsed)


def run_mutmut(work: Path, patterns: list[str], max_children: int) -> Run:
    """``mutmut run`` in ``work``; its output goes to stderr as it comes (on a terminal, the status line is
    updated in place; otherwise one status line every 30 seconds)."""
    tty = sys.stderr.isatty()
    run = Run(returncode=-1, started=time.monotonic(), ended=0.0)
    proc = subprocess.Popen(mutmut_command() + ["run", "--max-children", str(max_children), *patterns], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment())
    assert proc.stdout is not None
    reader = io.TextIOWrapper(proc.stdout, encoding="utf-8", errors="replace", newline="")
    pending = ""  # the status line being updated in place
    last_status = 0.0

    def status(text: str) -> None:
        nonlocal last_status
        if tty:
            sys.stderr.write("\r" + text + "\x1b[K")
            sys.stderr.flush()
        elif time.monotonic() - last_status >= 30:
            sys.stderr.write(f"[{time.monotonic() - run.started:6.0f} s] {text}\n")
            sys.stderr.flush()
            last_status = time.monotonic()

    def line(text: str) -> None:
        if run.testing_started is None and "Running mutation testing" in text:
            run.testing_started = time.monotonic()
        run.output.append(text)
        sys.stderr.write(("\r\x1b[K" if tty else "") + text + "\n")
        sys.stderr.flush()

    buffer = ""
    while True:
        chunk = reader.read(1)
        if not chunk:
            break
        buffer += chunk
        if chunk == "\r":
            text = buffer[:-1].strip()
            buffer = ""
            if text:
                pending = text
                if "Running mutation testing" in text and run.testing_started is None:
                    run.testing_started = time.monotonic()
                status(text)
        elif chunk == "\n":
            text = buffer[:-1].strip()
            buffer = ""
            if text or pending:
                line(text or pending)
            pending = ""
    if buffer.strip():
        line(buffer.strip())
    if pending:
        run.output.append(pending)
    run.returncode = proc.wait()
    run.ended = time.monotonic()
    if tty:
        sys.stderr.write("\n")
    return run


def mutmut_output(work: Path, *args: str) -> str:
    proc = subprocess.run(mutmut_command() + list(args), cwd=work, capture_output=True, env=environment())
    if proc.returncode != 0:
        raise RuntimeError(f"mutmut {' '.join(args)} failed ({proc.returncode}):\n"
                           + proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace"))
    return proc.stdout.decode("utf-8")


def results(work: Path) -> dict[str, str]:
    """Every mutant's status, from ``mutmut results --all true``."""
    out: dict[str, str] = {}
    for row in mutmut_output(work, "results", "--all", "true").splitlines():
        name, sep, status = row.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            out[name] = status
    return out


# One process for all the diffs: the same function as ``mutmut show`` (each ``mutmut show`` would start Python and
# import mutmut anew, about a second per survivor); ``mutmut show`` is the fallback if that function moves.
DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
json.dump({name: get_diff_for_mutant(name) for name in json.load(sys.stdin)}, sys.stdout)
"""


def diffs(work: Path, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    proc = subprocess.run([sys.executable, "-c", DIFFS], cwd=work, input=json.dumps(names).encode(),
                          capture_output=True, env=environment())
    if proc.returncode == 0:
        return json.loads(proc.stdout)
    out = {}
    for name in names:
        shown = mutmut_output(work, "show", name)
        out[name] = "\n".join(row for row in shown.splitlines() if not row.startswith("# "))
    return out


# --- survivors ---------------------------------------------------------------------------------------------------

def function_of(mutant: str) -> str:
    """``certreg.rules.checks.xǁChecksǁdeadlines__mutmut_17`` -> ``certreg.rules.checks.Checks.deadlines``."""
    mangled = mutant.partition("__mutmut_")[0]
    module, _, name = mangled.rpartition(".")
    if name.startswith("x\u01c1"):
        name = ".".join(name[2:].split("\u01c1"))
    elif name.startswith("x_"):
        name = name[2:]
    return f"{module}.{name}"


def number_of(mutant: str) -> int:
    tail = mutant.rpartition("__mutmut_")[2]
    return int(tail) if tail.isdigit() else 0


@dataclass
class Change:
    removed: list[str]  # the original lines that changed, as in the diff (without the "-")
    added: list[str]
    line: int  # where in the function the change begins (for the order only)


def change_of(diff: str) -> Change:
    removed, added, line = [], [], 0
    for row in diff.splitlines():
        if row.startswith(("---", "+++")):
            continue
        if row.startswith("@@"):
            m = re.match(r"@@ -(\d+)", row)
            line = line or (int(m.group(1)) if m else 0)
        elif row.startswith("-"):
            removed.append(row[1:])
        elif row.startswith("+"):
            added.append(row[1:])
    return Change(removed, added, line)


def normalised(lines: list[str]) -> list[str]:
    return [" ".join(row.split()) for row in lines]


def change_text(c: Change) -> str:
    """The key of a change in the reasons file: its lines without their indentation, ``- `` then ``+ ``."""
    return "\n".join([f"- {row}" for row in normalised(c.removed)] + [f"+ {row}" for row in normalised(c.added)])


def tokens(lines: list[str]) -> list[tokenize.TokenInfo]:
    """The significant tokens of some lines of code, which need not be a whole statement (an unclosed
    bracket is fine: tokenize only objects at the end, after yielding the tokens before)."""
    text = "\n".join(row.strip() for row in lines) + "\n"
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type not in skip:
                out.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def string_value(token: str):
    try:
        return eval(token, {"__builtins__": {}})  # a string literal only (an f-string is not a STRING token on 3.11)
    except Exception:
        return None


def is_prose(token: str) -> bool:
    value = string_value(token)
    return isinstance(value, str) and any(ch.isspace() for ch in value)


def classify(c: Change) -> str:
    """``text`` if only prose string literals changed, ``logic`` otherwise (see the module's docstring)."""
    if not c.removed and not c.added:
        return "logic"  # nothing to compare: be safe
    before, after = tokens(c.removed), tokens(c.added)
    matcher = SequenceMatcher(a=[(t.type, t.string) for t in before], b=[(t.type, t.string) for t in after],
                              autojunk=False)
    changed = False
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        changed = True
        if op != "replace" or i2 - i1 != j2 - j1:
            return "logic"  # a token appeared or went
        for old, new in zip(before[i1:i2], after[j1:j2], strict=True):
            if old.type != tokenize.STRING or new.type != tokenize.STRING or not is_prose(old.string):
                return "logic"
    return "text" if changed else "logic"


@dataclass
class Survivor:
    name: str
    status: str
    function: str
    diff: str
    change: Change
    kind: str
    reason: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.function, change_text(self.change)

    def order(self):
        return self.function, self.change.line, number_of(self.name), self.name


# --- the reasons file --------------------------------------------------------------------------------------------

@dataclass
class Reason:
    function: str
    change: str
    reason: str
    index: int  # its place in the file

    @property
    def key(self) -> tuple[str, str]:
        return self.function, self.change


def load_reasons(path: Path) -> list[Reason]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, entry in enumerate(data.get("accepted", []), 1):
        missing = [k for k in ("function", "change", "reason") if not str(entry.get(k, "")).strip()]
        if missing:
            raise SystemExit(f"{path}: [[accepted]] entry {i} lacks {', '.join(missing)}")
        change = "\n".join(" ".join(row.split()) for row in entry["change"].strip().splitlines() if row.strip())
        out.append(Reason(entry["function"].strip(), change, " ".join(entry["reason"].split()), i))
    return out


def toml_multiline(text: str) -> str:
    if "'''" not in text:
        return "'''\n" + text + "\n'''"
    return json.dumps(text)


def entry_for(s: Survivor) -> str:
    return "\n".join(["[[accepted]]", f"function = {json.dumps(s.function)}",
                      f"change = {toml_multiline(change_text(s.change))}",
                      'reason = "equivalent: ... / not worth a test: ..."'])


# --- the report --------------------------------------------------------------------------------------------------

def minutes(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


def indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + row if row else row for row in text.splitlines())


def report(statuses: dict[str, str], survivors: list[Survivor], reasons: list[Reason], run: Run | None,
           patterns: list[str], tests: list[str], max_children: int, reasons_path: Path) -> int:
    out: list[str] = []
    p = out.append
    counts = {status: 0 for status in FIGURES}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    total = len(statuses)
    p(f"certreg mutation testing (mutmut {importlib.metadata.version('mutmut')}): " + ", ".join(MUTATE)
      + " against " + ", ".join(tests))
    p("mutants: " + (", ".join(patterns) if patterns else "all"))
    p("")
    width = max(len(s) for s in ["mutants", *counts])
    p(f"{'mutants':<{width}}  {total:6d}")
    for status in FIGURES + sorted(set(counts) - set(FIGURES)):
        if counts.get(status) or status in ("killed", "survived", "timeout", "suspicious", "skipped", "no tests"):
            p(f"{status:<{width}}  {counts.get(status, 0):6d}")
    tested = total - counts["skipped"] - counts["not checked"]
    if tested:
        p(f"{'score':<{width}}  {100 * (counts['killed'] + counts['timeout']) / tested:5.1f}%  "
          "(killed and timeout, of those tested)")
    if run is None:
        p(f"{'run time':<{width}}  (not measured: --report-only)")
    else:
        p(f"{'run time':<{width}}  {minutes(run.ended - run.started)}  (mutmut run, {max_children} children)")
    if run is not None and run.testing_started is not None:
        testing = run.ended - run.testing_started
        ran = total - counts["not checked"] - counts["no tests"]
        p(f"{'testing':<{width}}  {minutes(testing)}  (the mutants themselves; before: generation, the stats "
          f"and clean runs, {minutes(run.testing_started - run.started)})")
        if testing > 0 and ran:
            p(f"{'rate':<{width}}  {60 * ran / testing:6.1f} mutants/minute")
    logic = [s for s in survivors if s.kind == "logic"]
    text = [s for s in survivors if s.kind == "text"]
    open_ = [s for s in logic if s.reason is None]
    accepted = [s for s in logic if s.reason is not None]
    p("")
    p(f"survivors: {len(survivors)} (survived or no tests): text {len(text)}, logic {len(logic)} "
      f"(accepted with a reason {len(accepted)}, without a reason {len(open_)})")

    p("")
    p(f"== logic survivors without a reason ({len(open_)})")
    for s in open_:
        p("")
        p(f"{s.function}  [{s.name}{', no tests' if s.status == 'no tests' else ''}]")
        p(indent(s.diff))
        p("  entry for " + reasons_path.name + ":")
        p(indent(entry_for(s)))

    p("")
    p(f"== accepted (reason) ({len(accepted)})")
    for s in accepted:
        p(f"{s.function}  [{s.name}]")
        p(indent(change_text(s.change)))
        p(f"    reason: {s.reason}")

    p("")
    p(f"== text survivors ({len(text)})")
    for s in text:
        p(f"{s.function}  [{s.name}]  " + " | ".join(change_text(s.change).splitlines()))

    tested_functions = {function_of(name) for name, status in statuses.items() if status != "not checked"}
    used = {s.key for s in survivors}
    # (a run of some patterns says nothing of the reasons of the functions it did not test)
    stale = [r for r in reasons if (r.function in tested_functions or not patterns) and r.key not in used]
    if stale:
        p("")
        p(f"== notice: reasons matching no survivor ({len(stale)}; remove them, or check the change text)")
        for r in stale:
            p(f"{reasons_path.name} entry {r.index}: {r.function}")
            p(indent(r.change))
    unchecked = counts["not checked"]
    if unchecked and not patterns:
        p("")
        p(f"== notice: {unchecked} mutants were not checked (the run was interrupted?)")
    odd = sorted(n for n, st in statuses.items() if st in ("suspicious", "segfault", "timeout"))
    if odd:
        p("")
        p(f"== notice: timeout, suspicious or segfault ({len(odd)}; counted as caught, but look at them)")
        for name in odd:
            p(f"{statuses[name]:<10}  {name}")
    print("\n".join(out))
    return 1 if open_ or (unchecked and not patterns) else 0


def prepare_and_run(work: Path, args, tests: list[str]) -> Run:
    if args.git:
        with tempfile.TemporaryDirectory(prefix="certreg-mutation-git-") as staging:
            build_copy(work, from_git(args.git, Path(staging)), tests, args.property)
    else:
        build_copy(work, ROOT, tests, args.property)
    print(f"mutmut runs in {work}", file=sys.stderr)
    return run_mutmut(work, args.patterns, args.max_children)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("patterns", nargs="*", metavar="PATTERN",
                   help="fnmatch patterns of mutant names (default: every mutant); ? matches the ǁ of a class")
    p.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="build the copy in DIR (emptied first) and keep it, instead of a temporary folder")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: report on the copy given by --keep DIR as its last run left it (after editing "
                        "the reasons, say)")
    p.add_argument("--property", action="store_true", help="also run tests/test_property.py (slow)")
    p.add_argument("--git", metavar="REV",
                   help="test the files of commit REV (e.g. HEAD) instead of the working tree's")
    p.add_argument("--reasons", type=Path, default=REASONS, help=f"the reasons file (default {REASONS.name})")
    args = p.parse_args(argv)

    tests = FAST_TESTS + (PROPERTY_TESTS if args.property else [])
    reasons = load_reasons(args.reasons)  # (a broken file fails before the long run, not after)
    if args.report_only and not (args.keep and is_copy(args.keep.resolve())):
        p.error("--report-only needs --keep DIR, a copy this script ran mutmut in")
    if args.keep:
        work = args.keep.resolve()
        if work == ROOT or work in ROOT.parents:
            p.error(f"--keep {args.keep}: that folder holds the project; give a new folder (e.g. bench/out/mutation)")
        if work.exists() and any(work.iterdir()) and not is_copy(work):
            p.error(f"--keep {args.keep}: not empty, and not a copy made by this script; give an empty or new folder")
    else:
        work = Path(tempfile.mkdtemp(prefix="certreg-mutation-"))
    try:
        run = None if args.report_only else prepare_and_run(work, args, tests)
        if run is not None and run.returncode != 0:
            # pytest's summary of the failures if there is one (mutmut stops when the tests fail unmutated)
            starts = [i for i, row in enumerate(run.output) if "short test summary info" in row]
            tail = "\n".join(run.output[starts[-1]:] if starts else run.output[-40:])
            print(f"mutmut run failed (exit code {run.returncode}); its last lines:\n{tail}")
            return 2
        statuses = results(work)
        if args.patterns:
            statuses = {n: s for n, s in statuses.items()
                        if any(n == pat or fnmatch.fnmatch(n, pat) for pat in args.patterns)}
        names = sorted(n for n, s in statuses.items() if s in SURVIVING)
        shown = diffs(work, names)
        by_key = {r.key: r for r in reasons}
        survivors = []
        for name in names:
            c = change_of(shown[name])
            s = Survivor(name, statuses[name], function_of(name), shown[name], c, classify(c))
            if s.kind == "logic" and s.key in by_key:
                s.reason = by_key[s.key].reason
            survivors.append(s)
        survivors.sort(key=Survivor.order)
        config = tomllib.loads((work / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
        return report(statuses, survivors, reasons, run, args.patterns, config["pytest_add_cli_args_test_selection"],
                      args.max_children, args.reasons)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
