"""The staff workflow in a temporary git repository, through the commands: a certificate written and issued,
suspended and restored; what a pull request changes in public; decisions the rules forbid refused with
nothing written; and every way of losing or rewriting a published record caught against the published ref
(REG-APPEND, REG-ID)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from certreg.cli import main
from certreg.staff.diff import md
from conftest import ROOT, ZCF_CONTENT, ZWL_CONTENT

AS_OF = "2025-06-30"
NUMBER = "CEC-ZWL-2025-0001"
DATA_COLLECTION = [f"--set=data_collection.{k}.{f}={v}" for k in ("steam_for_heating", "electricity", "steam",
                                                                    "replaced_tap_water")
                   for f, v in (("quantity", "100"), ("unit", "t"), ("source", "台账"), ("method", "计量"))]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=CEC staff", "-c", "user.email=staff@example.com",
                           *args], capture_output=True, text=True, check=True).stdout


def commit(repo: Path, message: str, tag: str | None = None) -> None:
    """Everything in the work tree committed (and tagged: the published ref)."""
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    if tag:
        git(repo, "tag", "-f", tag)


def run(registry: Path, *args: str, input: str | None = None, code: int = 0):
    result = CliRunner().invoke(main, [*args[:1], "--registry", str(registry), *args[1:]], input=input)
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


@pytest.fixture
def repo(builder, tmp_path):
    """A registry repository (no certificate yet) with one commit."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "the registry")
    return tmp_path, builder.root


def new_certificate(registry: Path, number: str = NUMBER, *, answers: str = ""):
    """certreg new, the four first fields answered at the prompts, the rest given as options."""
    sets = [f"--set={party}.{key}={ZWL_CONTENT[party][key]}" for party in ("client", "manufacturer", "factory")
            for key in ("name", "address")]
    sets += ["--set=raw_material_source=蒸汽冷凝水", "--set=waste_reduction_m3=125430.5",
            "--set=ghg_reduction_tco2e=8123.42", "--set=reporting_period.start=2024-01-01",
            "--set=reporting_period.end=2024-12-31", "--set=contact.name=王小明", "--set=contact.phone=025-58881234",
            *DATA_COLLECTION]
    return run(registry, "new", number, "--scheme", "zero-waste-low-carbon-water", "--valid-from", "2025-03-03",
               "--as-of", AS_OF, *sets,
               input=answers or "高温冷凝回用水\n初始温度 ≥ 60 ℃\n冷凝水回收装置\n1 m³ 回用水\n")


def issue(registry: Path, number: str = NUMBER):
    return run(registry, "decide", "issue", number, "--date", "2025-03-03", "--as-of", AS_OF,
               "--set", "application.received=2025-02-20", "--set", "application.accepted=2025-02-21",
               "--set", "person_days=2", "--member", "李静:leader:product-inspector",
               "--set", "technical_reviewer=孙楠")


def test_a_certificate_is_written_issued_suspended_and_restored_through_the_commands(repo):
    top, registry = repo
    result = new_certificate(registry)
    assert "product_name" in result.output  # it was asked for
    cert = registry / "certificates" / NUMBER / "certificate.yml"
    record = yaml.safe_load(cert.read_text(encoding="utf-8"))
    assert record["valid_until"].isoformat() == "2028-03-02"  # ZWL-7.2: three years less a day
    assert record["content"]["product_name"] == "高温冷凝回用水"
    assert cert.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../../schemas/")
    issue(registry)
    run(registry, "validate", "--as-of", AS_OF)
    commit(top, f"issue {NUMBER}", "published")

    run(registry, "decide", "suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request",
        "--as-of", AS_OF, "--set", "facts_verified=2025-04-03", input="证书持有人申请暂停\nHolder's request\n")
    suspended = registry / "certificates" / NUMBER / "decisions" / "2025-04-07-suspend.yml"
    assert yaml.safe_load(suspended.read_text(encoding="utf-8"))["reason"] == {"zh": "证书持有人申请暂停",
                                                                               "en": "Holder's request"}
    diff = run(registry, "diff", "--base", "published", "--as-of", AS_OF, "--format", "markdown",
               "--site", str(ROOT / "mkdocs.yml")).output
    assert "### Status changes" in diff and f"{md(NUMBER)}: valid → suspended (暂停) from 2025-04-07" in diff
    assert "20250407-1 2025-04-07" in diff and "证书持有人申请暂停" in diff

    run(registry, "decide", "restore", NUMBER, "--date", "2025-05-06", "--as-of", AS_OF,
        "--set", "rectification_verified=2025-05-05", "--reason-zh", "整改完成，恢复证书", "--reason-en", "Restored")
    run(registry, "validate", "--as-of", AS_OF, "--base", "published")
    status = run(registry, "status", NUMBER, "--as-of", AS_OF).output
    assert "status:      valid" in status and "restore" in status and "suspend" in status
    text = run(registry, "diff", "--base", "published", "--as-of", AS_OF, "--site", str(ROOT / "mkdocs.yml")).output
    assert "20250407-1" in text and "20250506-1" in text and "Status changes" not in text  # valid again


@pytest.mark.parametrize("args, rule", [
    (["restore", NUMBER, "--date", "2025-05-06", "--set", "rectification_verified=2025-05-05", "--reason-zh", "恢复"],
     "REG-ORDER"),  # restoring a certificate that is not suspended
    (["suspend", NUMBER, "--date", "2025-04-07", "--ground", "whim", "--set", "facts_verified=2025-04-03",
      "--reason-zh", "暂停"], "ZWL-7.4"),  # a ground the rules do not have
    (["suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request", "--set", "facts_verified=2025-04-03",
      "--set", "until=2025-12-01", "--reason-zh", "暂停"], "ZWL-7.4"),  # longer than 6 months
    (["suspend", NUMBER, "--date", "2025-02-01", "--ground", "holder-request", "--set", "facts_verified=2025-01-30",
      "--reason-zh", "暂停"], "REG-ORDER"),  # before the issue
    (["suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request", "--set", "facts_verified=2025-04-03",
      "--reason-zh", "请联系 13912345678"], "REG-PUBLIC"),  # a phone number in a public reason
])
def test_a_decision_the_rules_forbid_is_refused_and_nothing_is_written(repo, args, rule):
    _, registry = repo
    new_certificate(registry)
    issue(registry)
    before = sorted(p.name for p in (registry / "certificates" / NUMBER / "decisions").iterdir())
    result = run(registry, "decide", *args[:2], "--as-of", AS_OF, *args[2:], code=1)
    assert f"error {rule} " in result.output and "nothing was written" in result.output
    assert sorted(p.name for p in (registry / "certificates" / NUMBER / "decisions").iterdir()) == before


def test_a_zero_carbon_factory_suspension_longer_than_three_months_is_refused(builder):
    n = builder.zcf("CEC-ZCF-2025-0001")
    result = run(builder.root, "decide", "suspend", n, "--date", "2025-06-02", "--ground", "c", "--as-of", "2025-06-30",
                 "--set", "facts_verified=2025-05-30", "--set", "until=2025-10-01", "--reason-zh", "申请暂停", code=1)
    assert "error ZCF-12.1.2 " in result.output
    assert not (builder.root / "certificates" / n / "decisions" / "2025-06-02-suspend.yml").exists()
    result = run(builder.root, "decide", "suspend", n, "--date", "2025-06-02", "--ground", "d", "--as-of", "2025-06-30",
                 "--set", "facts_verified=2025-05-30", "--reason-zh", "申请暂停", code=1)
    assert "error ZCF-12.1.1 " in result.output


def test_a_published_record_cannot_be_lost_or_rewritten(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    run(registry, "decide", "suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request", "--as-of", AS_OF,
        "--set", "facts_verified=2025-04-03", "--reason-zh", "申请暂停")
    commit(top, "published", "published")
    folder = registry / "certificates" / NUMBER
    validate = ("validate", "--as-of", AS_OF, "--base", "published")

    decision = folder / "decisions" / "2025-04-07-suspend.yml"
    kept = decision.read_bytes()
    decision.unlink()  # a published decision deleted
    out = run(registry, *validate, code=1).output
    assert f"{decision.relative_to(top)}:1:1: error REG-APPEND published in published and deleted" in out
    decision.write_bytes(kept)

    cert = folder / "certificate.yml"
    text = cert.read_text(encoding="utf-8")
    cert.write_text(text.replace("高温冷凝回用水", "低温冷凝回用水"), encoding="utf-8")  # a published field edited
    out = run(registry, *validate, code=1).output
    assert "certificate.yml:1:1: error REG-APPEND published in published and altered" in out
    cert.write_text(text, encoding="utf-8")
    run(registry, *validate)

    git(top, "commit", "-q", "--allow-empty", "-m", "later work")  # history rewritten: the published commit is gone
    git(top, "reset", "-q", "--hard", "HEAD~2")
    git(top, "commit", "-q", "--allow-empty", "-m", "rewritten")
    out = run(registry, *validate, code=1).output
    assert "error REG-APPEND HEAD does not contain published: merge it first" in out and "rewritten" in out


def test_a_certificate_number_is_never_reused(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    commit(top, "a certificate")
    git(top, "rm", "-rq", str(registry / "certificates" / NUMBER))  # (before publication, as history can have it)
    git(top, "commit", "-qm", "withdrawn")
    git(top, "tag", "published")
    new_certificate(registry, answers="另一种回用水\n初始温度 ≥ 70 ℃\n另一装置\n1 m³ 回用水\n")
    issue(registry)
    out = run(registry, "validate", "--as-of", AS_OF, "--base", "published", code=1).output
    assert f"certificate.yml:1:1: error REG-ID the number {NUMBER} was used before" in out


def test_markdown_of_record_text_is_inert():
    assert md("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert md("**bold** [link](http://x) | `code`") == "\\*\\*bold\\*\\* \\[link\\]\\(http:\u200b//x\\) \\| \\`code\\`"
    assert md("@cec-example/officers #12 www.example.com") == \
        "@\u200bcec-example/officers \\#\u200b12 www\u200b.example.com"


def test_the_diff_comment_shows_hostile_record_text_as_text(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    commit(top, "published")
    hostile = "<img src=x onerror=alert(1)> @cec-example/officers [x](https://evil.example) #1 | **b**"
    run(registry, "decide", "change", NUMBER, "--date", "2025-04-07", "--as-of", AS_OF,
        "--set", f"changes.product_name={hostile}", "--reason-zh", hostile, "--reason-en", hostile)
    comment = run(registry, "diff", "--base", "HEAD", "--as-of", AS_OF, "--format", "markdown",
                  "--site", str(ROOT / "mkdocs.yml")).output
    assert "### Changed public fields" in comment and "### New announcements" in comment
    for raw in ("<img", "@cec-example", "[x](", "https://", "#1", "| **b**"):
        assert raw not in comment, raw
    assert comment.count(md(hostile)) == 3  # the field's new value, and the reason in both languages



def test_publishable_fails_only_on_what_holds_back_publication(builder):
    n = builder.zwl("CEC-ZWL-2024-0001")
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    late = ("validate", "--as-of", "2025-09-15")  # the suspension outlived its 6 months (ZWL-7.4) on 2025-09-03
    assert "error ZWL-7.4 " in run(builder.root, *late, code=1).output
    assert "error ZWL-7.4 " in run(builder.root, *late, "--publishable").output  # listed, but no failure
    builder.decide(n, "restore", "2025-03-01", rectification_verified="2025-03-01")  # before the suspension
    assert "error REG-ORDER " in run(builder.root, *late, "--publishable", code=1).output


def test_a_factory_issue_asks_for_each_prerequisite(builder):
    n = "CEC-ZCF-2025-0001"
    builder.certificate(n, "zero-carbon-factory", "2025-04-15", "2025-12-31", ZCF_CONTENT)
    args = ("decide", "issue", n, "--date", "2025-04-15", "--as-of", "2025-06-30",
            "--set", "application.received=2025-01-06", "--set", "application.accepted=2025-01-10",
            "--set", "person_days=2.5", "--member", "甲:leader:ghg-verifier", "--set", "technical_reviewer=乙")
    refused = run(builder.root, *args, input="y\nn\ny\ny\n", code=1).output  # one prerequisite not checked
    assert "ZCF-5.2.1 checked:" in refused and "error ZCF-5.2.1 " in refused
    run(builder.root, *args, input="y\ny\ny\ny\n")
    record = yaml.safe_load((builder.root / "certificates" / n / "decisions" / "2025-04-15-issue.yml").read_text(
        encoding="utf-8"))
    assert record["prerequisites_checked"] == ["lawfully_established", "no_major_accident_3_years",
                                               "energy_better_than_limits", "commitment_and_ghg_system"]


def test_a_branch_behind_the_published_ref_is_told_to_merge_it_not_that_records_were_deleted(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    commit(top, "issued")
    git(top, "switch", "-qc", "work")  # a branch, then main moves on
    git(top, "switch", "-q", "main")
    run(registry, "decide", "suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request", "--as-of", AS_OF,
        "--set", "facts_verified=2025-04-03", "--reason-zh", "申请暂停")
    commit(top, "suspended")
    git(top, "switch", "-q", "work")
    out = run(registry, "validate", "--as-of", AS_OF, "--base", "main", code=1).output
    assert "HEAD does not contain main: merge it first (git merge main)" in out and "deleted" not in out
    diff = run(registry, "diff", "--base", "main", "--as-of", AS_OF, "--site", str(ROOT / "mkdocs.yml")).output
    assert "No public change." in diff  # the branch's own changes only (none), not main's suspension undone


def test_a_decision_recorded_late_for_a_day_with_a_published_announcement_takes_the_next_number(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    other = "CEC-ZWL-2025-0002"
    new_certificate(registry, other, answers="另一种回用水\n初始温度 ≥ 70 ℃\n另一装置\n1 m³ 回用水\n")
    issue(registry, other)
    run(registry, "decide", "suspend", other, "--date", "2025-04-07", "--ground", "holder-request", "--as-of", AS_OF,
        "--set", "facts_verified=2025-04-03", "--reason-zh", "申请暂停")
    commit(top, "published", "published")
    # recorded in the afternoon: a change of a certificate that sorts before the published suspension's
    run(registry, "decide", "change", NUMBER, "--date", "2025-04-07", "--as-of", AS_OF,
        "--set", "changes.specification=初始温度 ≥ 65 ℃", "--reason-zh", "规格变更")
    decisions = registry / "certificates"
    assert "announcement: 20250407-1\n" in (decisions / other / "decisions/2025-04-07-suspend.yml").read_text()
    assert "announcement: 20250407-2\n" in (decisions / NUMBER / "decisions/2025-04-07-change.yml").read_text()
    run(registry, "validate", "--as-of", AS_OF, "--base", "published")
    status = json.loads(run(registry, "status", "--as-of", AS_OF, "--format", "json").stdout)
    numbers = {row["number"]: [e.get("announcement") for e in row["timeline"]] for row in status}
    assert numbers == {NUMBER: [None, "20250407-2"], other: [None, "20250407-1"]}


def test_two_pull_requests_that_took_the_same_number_the_second_is_told_the_next(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    commit(top, "published", "published")
    run(registry, "decide", "suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request", "--as-of", AS_OF,
        "--set", "facts_verified=2025-04-03", "--reason-zh", "申请暂停")
    commit(top, "first pull request", "published")
    other = "CEC-ZWL-2025-0002"  # written on a branch before the first was merged: it took the same number
    new_certificate(registry, other, answers="另一种回用水\n初始温度 ≥ 70 ℃\n另一装置\n1 m³ 回用水\n")
    issue(registry, other)
    path = registry / "certificates" / other / "decisions" / "2025-04-07-suspend.yml"
    first = (registry / "certificates" / NUMBER / "decisions" / "2025-04-07-suspend.yml").read_text()
    path.write_text(first.replace(NUMBER, other), encoding="utf-8")
    out = run(registry, "validate", "--as-of", AS_OF, "--base", "published", code=1).output
    assert (f"{path.relative_to(top)}:" in out or f"{path}:" in out) and "error REG-ANNOUNCE announcement " \
        f"20250407-1 is also the number of {NUMBER} 2025-04-07-suspend.yml" in out
    assert "takes the next number free on 2025-04-07, 20250407-2" in out
    assert f"{NUMBER}/decisions/2025-04-07-suspend.yml:" not in out  # the published one keeps its number
    assert out.count("error REG-ANNOUNCE") == 1


def test_publishable_excuses_only_the_overdue_actions_published_already(repo):
    top, registry = repo
    new_certificate(registry)
    issue(registry)
    commit(top, "published", "published")
    late = ("validate", "--as-of", "2025-12-01", "--publishable", "--base", "published")
    run(registry, *late)
    run(registry, "decide", "suspend", NUMBER, "--date", "2025-04-07", "--ground", "holder-request",
        "--as-of", AS_OF, "--set", "facts_verified=2025-04-03", "--reason-zh", "申请暂停")
    out = run(registry, *late, code=1).output  # this change brings a suspension already past its 6 months
    assert "error ZWL-7.4 " in out


def test_input_is_checked_strictly_and_every_problem_told_at_once(builder):
    n = builder.zwl("CEC-ZWL-2024-0001")
    out = run(builder.root, "decide", "surveillance", n, "--date", "2025-05-06", "--as-of", AS_OF,
              "--set", "person_days=2,5", "--set", "outcome=pass", "--set", "target_met=yes",
              "--set", "quantified_value_decreased=true", "--set", "colour=green", code=2).output
    assert "person_days: '2,5' is not a number" in out and "target_met: 'yes' is not a bool" in out
    assert "colour: no such field" in out
    out = run(builder.root, "decide", "restore", n, "--date", "2025-05-06", "--set", "date=2025-05-07", code=2).output
    assert "date is given with --date, not --set" in out
    out = run(builder.root, "decide", "suspend", n, "--date", "2025-05-06", "--ground", "holder-request",
              "--set", "ground=violation", code=2).output
    assert "ground is given with --ground, not --set" in out
    out = run(builder.root, "decide", "suspend", "CEC-ZWL-2099-0001", "--date", "2025-05-06", code=2).output
    assert "no certificate CEC-ZWL-2099-0001" in out  # before any question is asked
    out = run(builder.root, "new", "../../../tmp/x", "--scheme", "zero-waste-low-carbon-water",
              "--valid-from", "2025-05-06", code=2).output
    assert "is not a certificate number of zero-waste-low-carbon-water (such as CEC-ZWL-2025-0001)" in out


def test_a_wrong_answer_is_asked_again(builder):
    n = builder.zwl("CEC-ZWL-2024-0001")
    result = run(builder.root, "decide", "suspend", n, "--date", "2025-05-06", "--ground", "holder-request",
                 "--as-of", AS_OF, "--reason-zh", "申请暂停", input="2025-5-1\n2025-05-01\n")
    assert "is not a date" in result.output and "wrote" in result.output
    record = yaml.safe_load((builder.root / "certificates" / n / "decisions" / "2025-05-06-suspend.yml")
                            .read_text(encoding="utf-8"))
    assert record["facts_verified"].isoformat() == "2025-05-01"


def test_written_text_reads_back_exactly(builder):
    n = builder.zwl("CEC-ZWL-2024-0001")
    tricky = {"specification": "1e3", "certification_unit": "NO", "functional_unit": "0012: # 单位 'x' \"y\""}
    run(builder.root, "decide", "change", n, "--date", "2025-05-06", "--as-of", AS_OF, "--reason-zh", "变更",
        *[f"--set=changes.{k}={v}" for k, v in tricky.items()])
    path = builder.root / "certificates" / n / "decisions" / "2025-05-06-change.yml"
    assert "specification: '1e3'" in path.read_text(encoding="utf-8")  # a number to a YAML 1.2 editor otherwise
    assert yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)["changes"] == tricky
    run(builder.root, "validate", "--as-of", AS_OF)
    out = run(builder.root, "decide", "change", n, "--date", "2025-05-07", "--as-of", AS_OF, "--reason-zh", "变更",
              "--set", "changes.specification=a\x85b", code=2).output
    assert "would not read back as given" in out
    assert not (builder.root / "certificates" / n / "decisions" / "2025-05-07-change.yml").exists()


def test_a_late_entry_is_written_with_what_is_now_due(builder):
    """A suspension recorded after its limit has passed is history, not a fault of the record: it is written,
    and the overdue revocation is told (ZWL-7.4)."""
    n = builder.zwl("CEC-ZWL-2024-0001")
    result = run(builder.root, "decide", "suspend", n, "--date", "2025-01-06", "--ground", "holder-request",
                 "--as-of", "2025-09-15", "--set", "facts_verified=2025-01-03", "--reason-zh", "申请暂停")
    assert "wrote" in result.output and "error ZWL-7.4 " in result.output
    run(builder.root, "decide", "revoke", n, "--date", "2025-09-15", "--ground", "suspension-expired", "--as-of",
        "2025-09-15", "--set", "facts_verified=2025-09-10", "--reason-zh", "暂停期满未恢复，撤销证书")
    run(builder.root, "validate", "--as-of", "2025-09-15")


def test_records_published_before_numbers_were_recorded_take_the_numbers_they_were_published_under(repo):
    """A registry published before announcement numbers were written into the records: each announced record
    may take, once, the number it was published under (the rank of its day by certificate and record) as its
    last line; any other number, or any other change, is a rewrite (REG-APPEND)."""
    top, registry = repo
    b = "CEC-ZWL-2025-0002"
    new_certificate(registry)
    issue(registry)
    new_certificate(registry, b, answers="另一种回用水\n初始温度 ≥ 70 ℃\n另一装置\n1 m³ 回用水\n")
    issue(registry, b)
    first = registry / "certificates" / b / "decisions" / "2025-04-07-suspend.yml"
    second = registry / "certificates" / NUMBER / "decisions" / "2025-04-07-suspend.yml"
    for path in (first, second):  # as certreg wrote them before: no number in the record
        path.write_text(f"certificate: {path.parent.parent.name}\naction: suspend\ndate: 2025-04-07\nground: "
                        "holder-request\nfacts_verified: 2025-04-03\nreason:\n  zh: 申请暂停\n  en: At the holder's "
                        "request\n", encoding="utf-8")
    commit(top, "published before numbers", "published")
    legacy = {NUMBER: "20250407-1", b: "20250407-2"}  # ranked by certificate number that day
    for path in (first, second):
        path.write_text(path.read_text(encoding="utf-8") + f"announcement: {legacy[path.parent.parent.name]}\n",
                        encoding="utf-8")
    run(registry, "validate", "--as-of", AS_OF, "--base", "published")
    first.write_text(first.read_text(encoding="utf-8").replace("20250407-2", "20250407-3"), encoding="utf-8")
    out = run(registry, "validate", "--as-of", AS_OF, "--base", "published", code=1).output
    assert "error REG-APPEND published in published and altered" in out
    assert "the one change it may take, once, is its announcement number as it was published, announcement: " \
           "20250407-2, as its last line" in out


def test_decide_will_not_guess_a_number_when_a_record_of_that_day_cannot_be_read(builder):
    n = builder.zwl("CEC-ZWL-2024-0001")
    other = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    broken = builder.decide(other, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    broken.write_bytes(broken.read_bytes().replace("申请".encode(), b"\xff\xfe") if "申请".encode() in
                       broken.read_bytes() else broken.read_bytes() + b"# \xff\n")
    out = run(builder.root, "decide", "suspend", n, "--date", "2025-03-03", "--ground", "holder-request",
              "--as-of", AS_OF, "--set", "facts_verified=2025-03-01", "--reason-zh", "申请暂停", "--reason-en", "x",
              code=2).output
    assert "the announcement numbers of 2025-03-03 cannot all be read" in out and "not UTF-8" in out
    assert not (builder.root / "certificates" / n / "decisions" / "2025-03-03-suspend.yml").exists()
