"""The command line: exit codes, the three output formats, status output, and no tracebacks."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest
from click.testing import CliRunner

from certreg.cli import main

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<level>error|warning) (?P<rule>[A-Z]+-[\w.-]+) .+$")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def broken(builder):
    n = builder.zwl()
    builder.decide(n, "restore", "2025-03-03", rectification_verified="2025-03-01")
    builder.decide(n, "suspend", "2025-03-10", ground="violation", facts_verified="2025-03-09",
                   until="2025-12-31", reason={"zh": "违规 请联系 wang@example.com", "en": "x"})
    return builder.root


def test_validate_clean_registry_exits_0(builder):
    builder.zwl()
    r = run("validate", "--registry", builder.root, "--as-of", "2025-06-30")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert "1 certificates checked as of 2025-06-30: 0 error(s), 0 warning(s)" in r.stderr


def test_validate_text_lists_every_problem_one_per_line(broken):
    r = run("validate", "--registry", broken, "--as-of", "2025-06-30")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert sorted(m["rule"] for m in parsed) == ["REG-ORDER", "REG-PUBLIC", "ZWL-7.4"]
    assert all(m["path"].endswith(".yml") and int(m["line"]) > 1 for m in parsed)


def test_validate_json(broken):
    r = run("validate", "--registry", broken, "--as-of", "2025-06-30", "--format", "json")
    assert r.exit_code == 1
    rows = json.loads(r.stdout)
    assert {tuple(sorted(row)) for row in rows} == {("column", "level", "line", "message", "path", "rule")}
    by_rule = {row["rule"]: row for row in rows}
    assert by_rule["ZWL-7.4"]["path"].endswith("decisions/2025-03-10-suspend.yml")
    assert by_rule["ZWL-7.4"]["line"] == 6 and by_rule["ZWL-7.4"]["level"] == "error"
    assert "2025-09-10" in by_rule["ZWL-7.4"]["message"]  # the latest allowed end, so the fix is obvious


def test_validate_github_annotations(broken):
    r = run("validate", "--registry", broken, "--as-of", "2025-06-30", "--format", "github")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(r"^::error file=[^,]+\.yml,line=\d+,col=\d+,title=[A-Z]+-[\w.%-]+::\S", line), line


def test_github_annotation_escapes_newlines_and_percent():
    from pathlib import Path

    from certreg.problems import Problem, format_github

    out = format_github([Problem(Path("a,b:c.yml"), "warning", "REG-X", "50% done\nnext", 3, 4)])
    assert out == "::warning file=a%2Cb%3Ac.yml,line=3,col=4,title=REG-X::REG-X 50%25 done%0Anext"


@pytest.mark.parametrize("args", [
    ["validate", "--as-of", "2025-02-30"],
    ["validate", "--as-of", "tomorrow"],
    ["validate", "--format", "xml"],
    ["status", "CEC-ZWL-2099-0001"],
    ["status", "CEC-ZWL-2024-0001", "--as-of", "2020-01-01"],
    ["nonsense"],
])
def test_usage_errors_exit_2(builder, args):
    builder.zwl()
    r = run(*args, "--registry", builder.root) if args[0] != "nonsense" else run(*args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "Error:" in r.output


def test_status_one_certificate_text(builder):
    n = builder.zwl()
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    r = run("status", n, "--registry", builder.root, "--as-of", "2025-04-01")
    assert r.exit_code == 0, r.output
    assert "status:      suspended (暂停) on 2025-04-01" in r.stdout
    assert "suspended:   since 2025-03-03, limit 2025-09-03" in r.stdout
    assert re.search(r"2025-03-03\s+suspend\s+-> suspended", r.stdout)


def test_status_json_all(builder):
    a = builder.zwl("CEC-ZWL-2024-0001")
    b = builder.zcf("CEC-ZCF-2025-0001")
    builder.decide(b, "cancel", "2025-06-02", ground="holder-request")
    r = run("status", "--registry", builder.root, "--as-of", "2025-06-30", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["number"] for row in rows] == [b, a]
    for row in rows:
        assert {"number", "scheme", "status", "version", "valid_from", "valid_until", "timeline"} <= set(row)
    assert [row["status"] for row in rows] == ["cancelled", "valid"]
    assert rows[0]["timeline"][-1] == {"date": "2025-06-02", "action": "cancel", "status": "cancelled",
                                       "version": 1, "record": "2025-06-02-cancel.yml",
                                       "reason": {"zh": "决定", "en": "Decision"}, "ground": "holder-request",
                                       "announcement": "20250602-1"}


def test_status_table(builder):
    n = builder.zwl("CEC-ZWL-2024-0001")
    for day in ("2025-09-01", "2026-08-03", "2027-07-05"):
        builder.decide(n, "surveillance", day, outcome="pass", person_days="2", quantified_value_decreased=True,
                       target_met=True)
    r = run("status", "--registry", builder.root, "--as-of", "2028-01-01")
    assert r.exit_code == 0
    header, row = r.stdout.splitlines()
    assert header.split() == ["number", "scheme", "status", "version", "valid_from", "valid_until"]
    assert row.split() == ["CEC-ZWL-2024-0001", "zero-waste-low-carbon-water", "expired", "1", "2024-10-08",
                           "2027-10-07"]


def test_status_with_registry_errors_exits_1_and_lists_them(broken):
    r = run("status", "--registry", broken, "--as-of", "2025-06-30")
    assert r.exit_code == 1
    assert "the registry has 3 error(s)" in r.stderr


def test_every_command_has_help():
    for name, command in main.commands.items():
        assert command.help, name
        r = run(name, "--help")
        assert r.exit_code == 0 and "Usage:" in r.stdout


def test_schemas_check_detects_a_stale_schema(builder):
    assert run("schemas", "--registry", builder.root, "--check").exit_code == 0
    path = builder.root / "schemas" / "decision.schema.json"
    path.write_text("{}\n")
    assert run("schemas", "--registry", builder.root, "--check").exit_code == 1
    builder.zwl()
    r = run("validate", "--registry", builder.root, "--as-of", "2025-06-30")
    assert r.exit_code == 1 and "decision.schema.json is out of date" in r.stdout
    assert run("schemas", "--registry", builder.root).exit_code == 0
    assert run("validate", "--registry", builder.root, "--as-of", "2025-06-30").exit_code == 0


def test_strict_fails_on_warnings(builder):
    builder.zwl(valid_from="2025-01-06")  # issued 124 days after acceptance: ZWL-5.2.3 says "normally" 90
    plain = run("validate", "--registry", builder.root, "--as-of", "2025-06-30")
    strict = run("validate", "--registry", builder.root, "--as-of", "2025-06-30", "--strict")
    assert "warning ZWL-5.2.3" in plain.stdout
    assert (plain.exit_code, strict.exit_code) == (0, 1)


def test_status_of_a_certificate_without_issue_decision(builder):
    n = builder.zwl()
    (builder.root / "certificates" / n / "decisions" / "2024-10-08-issue.yml").unlink()
    r = run("status", n, "--registry", builder.root, "--as-of", "2025-06-30")
    assert r.exit_code == 2 and "has no issue decision" in r.output


def test_a_broken_scheme_does_not_claim_the_schemas_are_stale(builder):
    builder.zwl()
    path = builder.root / "schemes" / "zero-carbon-factory.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  months: 3\n", "  months: three\n"))
    r = run("validate", "--registry", builder.root, "--as-of", "2025-06-30")
    assert r.exit_code == 1
    assert "must be a whole number" in r.stdout and "out of date" not in r.stdout


def test_hidden_files_are_ignored_everywhere(builder):
    n = builder.zwl()
    for folder in (builder.root, builder.root / "schemes", builder.root / "certificates",
                   builder.root / "certificates" / n, builder.root / "certificates" / n / "decisions"):
        (folder / ".gitkeep").write_text("")
    r = run("validate", "--registry", builder.root, "--as-of", "2025-06-30")
    assert r.exit_code == 0 and "error" not in r.stdout, r.output


@pytest.mark.parametrize("args, code", [(["validate", "--as-of", "2025-06-30"], 1), (["status", "--as-of", "2025-06-30",
                                        "--format", "json"], 1), (["--version"], 0), (["nonsense"], 2)])
def test_the_command_ends_its_process_with_all_it_wrote_and_its_exit_code(broken, args, code):
    """The console script (cli.run) ends the process at once when the command is done: every line of its output
    written (into a pipe, whose buffer it flushes) and the exit code the command gave, as in-process."""
    import subprocess
    import sys
    from importlib.metadata import entry_points
    from pathlib import Path

    assert entry_points(group="console_scripts")["certreg"].value == "certreg.cli:run"
    script = Path(sys.executable).with_name("certreg")
    argv = [*args, "--registry", str(broken)] if args[0] not in ("--version", "nonsense") else args
    done = subprocess.run([str(script), *argv], capture_output=True, text=True, check=False)
    same = CliRunner().invoke(main, argv, prog_name="certreg")
    assert (done.returncode, done.stdout, done.stderr) == (code, same.stdout, same.stderr)
    assert len(done.stdout) + len(done.stderr) > 20


def test_a_message_the_command_exits_with_is_said_and_exits_1(monkeypatch, capsys):
    from certreg import cli

    exits: list = []
    monkeypatch.setattr(cli, "main", lambda: sys.exit("certreg: a message"))
    monkeypatch.setattr("os._exit", exits.append)
    cli.run()
    assert exits == [1] and capsys.readouterr().err == "certreg: a message\n"
    monkeypatch.setattr(cli, "main", lambda: sys.exit(None))
    cli.run()
    assert exits == [1, 0]


def test_what_the_command_wrote_without_flushing_it_is_written_before_the_process_ends():
    import subprocess

    code = ("import sys\nfrom certreg import cli\n"
            "cli.main = lambda: (sys.stdout.write('out ' * 100), sys.stderr.write('err'), sys.exit(3))\ncli.run()\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # (buffered, as a pipe is by default)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out " * 100, "err")


def test_an_error_no_command_words_itself_is_one_line_and_exit_1(builder, monkeypatch, tmp_path):
    """A CertregError that reaches the command line (a damaged check cache found while reading a history) is its
    message and exit code 1, never a traceback."""
    from certreg import cache
    from certreg.errors import CertregError

    monkeypatch.setenv("CERTREG_CACHE", str(tmp_path / "cache"))
    builder.zwl()
    assert run("status", "--registry", builder.root, "--as-of", "2025-06-30").exit_code == 0  # (the cache warm)

    def damaged(self):
        raise CertregError("the check cache in X is damaged (a test): remove it")

    monkeypatch.setattr(cache.Deferred, "get", damaged)
    r = run("status", "--registry", builder.root, "--as-of", "2025-06-30")
    assert r.exit_code == 1 and r.output == "Error: the check cache in X is damaged (a test): remove it\n"
