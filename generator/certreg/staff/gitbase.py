"""What git says was published: the registry at a ref, and REG-APPEND checked against it.

A record in the published ref (say origin/main) must still be in the working tree, byte for byte; the
ref must be an ancestor of HEAD (a force-push that rewrites history is caught); and a certificate number
that the ref's history ever had is never used for another certificate (REG-ID). Git itself is asked
(blob hashes, ancestry, history), so nothing in the working tree can make a change look like none.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..problems import Problem

RULE = "REG-APPEND"


def _git(repo: Path, *args: str, text: bool = True, check: bool = True):
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=text, check=False)
    except OSError as exc:
        raise UsageError(f"git is not available: {exc}") from None
    if check and result.returncode != 0:
        err = result.stderr if text else result.stderr.decode("utf-8", "replace")
        raise UsageError(f"git {' '.join(args)}: {err.strip()}")
    return result


def where(registry: Path) -> tuple[Path, str]:
    """The git work tree holding ``registry``, and the registry's path inside it ('' at the top)."""
    registry = registry.resolve()
    top = _git(registry, "rev-parse", "--show-toplevel").stdout.strip()
    rel = registry.relative_to(Path(top).resolve()).as_posix()
    return Path(top), "" if rel == "." else rel


def _commit(repo: Path, ref: str) -> str:
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if found.returncode != 0:
        raise UsageError(f"no git ref {ref!r} in {repo} (fetch it first, e.g. `git fetch origin main`)")
    return found.stdout.strip()


def published_files(repo: Path, commit: str, rel: str) -> dict[str, str]:
    """Path (inside the repository) -> blob hash of every record file under the registry at ``commit``."""
    folder = f"{rel}/certificates" if rel else "certificates"
    out = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", folder)
    files = {}
    for entry in out.stdout.split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            files[path] = meta.split()[2]
    return files


def base_commit(registry: Path, ref: str) -> tuple[str, str | None]:
    """The commit to compare with for ``ref``: ``ref`` itself when HEAD contains it, else the commit HEAD's branch
    started from (their merge base), with the problem of a HEAD that does not contain the published ref."""
    repo, _ = where(registry)
    commit = _commit(repo, ref)
    if _git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise UsageError(f"{repo} is a shallow clone: REG-APPEND needs the whole history (git fetch --unshallow)")
    head = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False).stdout.strip()
    if not head or _git(repo, "merge-base", "--is-ancestor", commit, head, check=False).returncode == 0:
        return commit, None
    fork = _git(repo, "merge-base", commit, head, check=False).stdout.strip()
    return (fork or commit), (f"HEAD does not contain {ref}: merge it first (git merge {ref}); if {ref} is the "
                              "published history, it has been rewritten (a force-push, a rebase), and published "
                              "records are changed only by new records")


@dataclass
class Against:
    """The working tree against a published ref: its REG-APPEND and REG-ID problems, and the overdue actions the
    published registry already had (path inside the registry, rule), which a change is not blamed for."""

    problems: list[Problem] = field(default_factory=list)
    overdue_before: set = field(default_factory=set)


def append_only(registry: Path, ref: str, as_of, checked=None) -> Against:
    """REG-APPEND (and REG-ID) problems of the working tree against the published ``ref``: records deleted,
    altered or made links, published announcements renumbered, history rewritten, numbers reused. ``checked``:
    the working tree's registry already checked as of ``as_of`` (with its histories), if the caller has it."""
    repo, rel = where(registry)
    commit, behind = base_commit(registry, ref)
    problems = [Problem(registry, "error", RULE, behind)] if behind else []
    published = published_files(repo, commit, rel)
    paths = sorted(published)
    # the working tree's blob hashes, all at once (records are kept byte for byte: .gitattributes, -text)
    existing = [p for p in paths if (repo / p).is_file() and not (repo / p).is_symlink()]
    now = {}
    if existing:
        result = subprocess.run(["git", "-C", str(repo), "hash-object", "--no-filters", "--stdin-paths"],
                                input="\n".join(existing) + "\n", capture_output=True, text=True, check=True)
        now = dict(zip(existing, result.stdout.split(), strict=True))
    for path in paths:
        file = repo / path
        if file.is_symlink():
            problems.append(Problem(file, "error", RULE, "published as a file and now a link: a published record "
                                                         "stays the file it was", 1, 1))
        elif path not in now:
            problems.append(Problem(file, "error", RULE, f"published in {ref} and deleted: a published record is "
                                                         "never deleted; a mistake is corrected by a new decision "
                                                         "(a change with corrects: FILE)", 1, 1))
        elif now[path] != published[path]:
            problems.append(Problem(file, "error", RULE, f"published in {ref} and altered: a published record is "
                                                         "never rewritten; restore it (git checkout "
                                                         f"{commit[:12]} -- {path}) and record the correction as a "
                                                         "new decision (a change with corrects: FILE)", 1, 1))
    problems += _reused_numbers(repo, rel, commit, published, registry)
    against = Against(problems)
    _compare_published(registry, commit, as_of, against, checked)
    return against


def _compare_published(registry: Path, commit: str, as_of, against: Against, checked=None) -> None:
    """REG-APPEND: a published announcement's number keeps naming the same decision (a decision recorded late
    for a day that has announcements would shift their ranks); and the overdue actions published already."""
    from ..publish.public import announcements
    from ..rules.validate import check_registry

    with tempfile.TemporaryDirectory(prefix="certreg-base-") as tmp:
        root = registry_at(registry, commit, Path(tmp))
        published = check_registry(root, as_of)
        before = announcements(published.histories, as_of)
        against.overdue_before = {(p.path.resolve().relative_to(root.resolve()).as_posix(), p.rule)
                                  for p in published.report.problems if p.overdue}
    histories = (checked or check_registry(registry, as_of)).histories
    now = {a.number: a for a in announcements(histories, as_of)}
    problems = against.problems
    for a in before:
        b = now.get(a.number)
        if b is not None and (b.certificate, b.record) != (a.certificate, a.record):
            path = registry / "certificates" / b.certificate / "decisions" / b.record
            problems.append(Problem(path, "error", RULE, f"announcement {a.number} was published for {a.certificate} "
                                                         f"{a.record}; with this decision it would name "
                                                         f"{b.certificate} {b.record}: a decision recorded late for "
                                                         "a day with published announcements renumbers them", 1, 1))


def _reused_numbers(repo: Path, rel: str, commit: str, published: dict, registry: Path) -> list[Problem]:
    """REG-ID: a certificate that is new against ``commit`` may not take a number its history ever had."""
    base = f"{rel}/certificates" if rel else "certificates"
    out = _git(repo, "-c", "core.quotePath=false", "log", "-z", "--no-renames", "--format=", "--name-only",
               "--diff-filter=A", commit, "--", base).stdout
    ever = [p.strip() for p in out.split("\0") if p.strip()]
    numbers_ever = {Path(p).parts[-2] for p in ever if p.endswith("/certificate.yml")}
    numbers_now = {Path(p).parts[-2] for p in published if p.endswith("/certificate.yml")}
    problems = []
    folder = registry / "certificates"
    for cert in sorted(folder.glob("*/certificate.yml")) if folder.is_dir() else []:
        number = cert.parent.name
        if number in numbers_ever and number not in numbers_now:
            problems.append(Problem(cert, "error", "REG-ID", f"the number {number} was used before (in the history "
                                                             "of the published registry); a number is never reused, "
                                                             "not even after revocation or cancellation", 1, 1))
    return problems


def registry_at(registry: Path, ref: str, dest: Path) -> Path:
    """The registry as it is at ``ref``, extracted into ``dest``; returns its folder there."""
    repo, rel = where(registry)
    commit = _commit(repo, ref)
    archive = _git(repo, "archive", "--format=tar", commit, "--", rel or ".", text=False).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / rel if rel else dest
