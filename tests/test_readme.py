"""The README's two set-up commands: CI runs the second, and the first's main job works."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    main_job, tests = readme_commands()
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert tests in ci, "the test command of README.md must be the one .ci/run runs"
    assert main_job.startswith("sh .ci/setup && ") and tests.startswith("sh .ci/setup && ")


def test_the_main_job_runs_on_the_sample_registry():
    main_job, _ = readme_commands()
    bin_dir = Path(sys.executable).parent
    for part in main_job.split(" && ")[1:]:  # the set-up itself has run: these tests run in its environment
        argv = shlex.split(part)
        assert argv[0] == ".venv/bin/certreg", part
        result = subprocess.run([str(bin_dir / "certreg"), *argv[1:]], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in subprocess.run(
        [str(bin_dir / "certreg"), *shlex.split(main_job.split(" && ")[1])[1:]], cwd=ROOT, capture_output=True,
        text=True).stderr
