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
from collections.abc import Mapping
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
    published: set = field(default_factory=set)  # records published as they are now (resolved paths)

    def keeps(self, p: Problem) -> bool:
        """Whether ``p`` still stands against the published ref: a published record is never told to give up
        its announcement number to a new record that took the same one."""
        return not (p.rule == "REG-ANNOUNCE" and p.path.resolve() in self.published
                    and "is also the number of" in p.message)


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
    base = _published_registry(registry, commit, as_of)
    for path in paths:
        file = repo / path
        if path in now and now[path] != published[path] and _numbered(repo, commit, path, base.legacy.get(path)):
            continue  # a record published before numbers were recorded, given the number it was published under
        if file.is_symlink():
            problems.append(Problem(file, "error", RULE, "published as a file and now a link: a published record "
                                                         "stays the file it was", 1, 1))
        elif path not in now:
            problems.append(Problem(file, "error", RULE, f"published in {ref} and deleted: a published record is "
                                                         "never deleted; a mistake is corrected by a new decision "
                                                         "(a change with corrects: FILE)", 1, 1))
        elif now[path] != published[path]:
            once = (f"; the one change it may take, once, is its announcement number as it was published, "
                    f"announcement: {base.legacy[path]}, as its last line") if path in base.legacy else ""
            problems.append(Problem(file, "error", RULE, f"published in {ref} and altered: a published record is "
                                                         "never rewritten; restore it (git checkout "
                                                         f"{commit[:12]} -- {path}) and record the correction as a "
                                                         f"new decision (a change with corrects: FILE){once}", 1, 1))
    problems += _reused_numbers(repo, rel, commit, published, registry)
    against = Against(problems)
    # a number two records share: the published one keeps it, only the new one is told to take the next
    against.published = {(repo / p).resolve() for p in paths if now.get(p) == published[p]}
    against.overdue_before = base.overdue
    _compare_published(registry, as_of, base, against, checked)
    return against


@dataclass
class _Base:
    """What the published registry says: its announcements (numbered as they were published), the numbers of
    those published before numbers were recorded (path in the repository -> number), and its overdue actions."""

    announcements: list
    legacy: dict
    overdue: set


def _published_registry(registry: Path, commit: str, as_of) -> _Base:
    from ..publish.public import announcements
    from ..rules.validate import check_registry

    repo, rel = where(registry)
    with tempfile.TemporaryDirectory(prefix="certreg-base-") as tmp:
        root = registry_at(registry, commit, Path(tmp))
        published = check_registry(root, as_of, cache=True)
        overdue = {(p.path.resolve().relative_to(root.resolve()).as_posix(), p.rule)
                   for p in published.report.problems if p.overdue}
    before = announcements(published.histories, as_of)
    legacy = {}
    if not before:  # a registry published before announcement numbers were recorded: the numbers it published
        folder = f"{rel}/certificates" if rel else "certificates"
        for a in legacy_announcements(published.histories, as_of):
            before.append(a)
            legacy[f"{folder}/{a.certificate}/decisions/{a.record}"] = a.number
    return _Base(before, legacy, overdue)


def legacy_announcements(histories: Mapping, as_of) -> list:
    """The announcements of a registry whose records carry no numbers, numbered as certreg published them then:
    YYYYMMDD-N, N the rank among that day's announced decisions by (certificate, record)."""
    from ..publish.public import Announcement
    from ..status import ANNOUNCED

    found = []
    for number, h in histories.items():
        for e in h.timeline(as_of):
            d = e.decision
            if d is None or "announcement" in d.data:
                continue
            if e.action in ANNOUNCED or any(s.decision is d for s in h.suspensions):
                found.append((e.date, number, d.name, e, h.cert.scheme))
    found.sort(key=lambda t: t[:3])
    out, day, rank = [], None, 0
    for date, number, record, e, scheme in found:
        rank = rank + 1 if date == day else 1
        day = date
        out.append(Announcement(f"{date:%Y%m%d}-{rank}", date, number, scheme.key, e.action, e.status, e.version,
                                record, None, None, []))
    return out


def _numbered(repo: Path, commit: str, path: str, number: str | None) -> bool:
    """Whether the working tree's ``path`` is the published record with only its announcement number added:
    ``announcement: NUMBER`` as its last line, NUMBER the one it was published under (the one change a record
    published before numbers were recorded may take, once)."""
    if number is None:
        return False
    old = _git(repo, "cat-file", "blob", f"{commit}:{path}", text=False).stdout
    if not old.endswith(b"\n"):
        old += b"\n"
    try:
        new = (repo / path).read_bytes()
    except OSError:
        return False
    return new == old + f"announcement: {number}\n".encode()


def _compare_published(registry: Path, as_of, base: _Base, against: Against, checked=None) -> None:
    """REG-APPEND: a published announcement's number keeps naming the same decision."""
    from ..publish.public import announcements
    from ..rules.validate import check_registry

    histories = (checked or check_registry(registry, as_of)).histories
    now = {a.number: a for a in announcements(histories, as_of)}
    problems = against.problems
    for a in base.announcements:
        b = now.get(a.number)
        if b is not None and (b.certificate, b.record) != (a.certificate, a.record):
            path = registry / "certificates" / b.certificate / "decisions" / b.record
            problems.append(Problem(path, "error", RULE, f"announcement {a.number} was published for {a.certificate} "
                                                         f"{a.record}; with this decision it would name "
                                                         f"{b.certificate} {b.record}: a published number names one "
                                                         "decision for ever; take the next number free that day", 1,
                                    1))


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
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")  # (no link may point out of the folder, no device is made)
    except tarfile.TarError as exc:  # a published registry holding what the registry refuses (REG-LAYOUT)
        raise UsageError(f"{ref} cannot be read as a registry: {exc}") from None
    return dest / rel if rel else dest
