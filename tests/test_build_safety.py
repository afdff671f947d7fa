"""`certreg build` when things go wrong: killed at any moment, two at once, a full disk, a read-only folder,
a mount point, a site left aside by a build killed between its two renames.

Whatever happens, the published folder holds a whole site, the old one or the new one, compared by the hashes
of every file with the two sites built in full (`old`: as of the sample's date; `new`: as of 2027-01-15, when
statuses have changed). The sites are built without PDFs, to keep the builds short (about 2 s each).

Faults that need a file system of their own (a full disk, a read-only one, a mount point) use a small tmpfs
mounted for the test where the test may mount one (root with CAP_SYS_ADMIN); elsewhere they are simulated in the
process: a full disk by making the opening of a file for writing in the staging folder fail with ENOSPC, a mount
point by os.path.ismount, a read-only folder by chmod (which does not stop root).
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from conftest import REGISTRY, SAMPLE_AS_OF, site_config

CERTREG = Path(sys.executable).with_name("certreg")
DATES = {"old": SAMPLE_AS_OF, "new": dt.date(2027, 1, 15)}  # suspensions outlive their limits in between
NOT_FOLLOWED = "CEC-ZWL-2026-0001"  # a certificate no other one follows: a registry without it is still valid


def manifest(folder: Path) -> dict[str, str]:
    """Each file's sha256, but the build's own manifest (it holds the file system's inode numbers and times)."""
    from certreg.publish.reuse import MANIFEST

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST}


def leftovers(out: Path) -> list[str]:
    """What a build left beside the site (staging folder, old site, lock file), but the site it replaced, kept as
    the next build's starting folder (.site.spare), if that is a whole site its manifest describes."""
    spare = out.parent / f".{out.name}.spare"
    if spare.is_dir():
        assert described(spare), f"{spare} is not what its manifest says"
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and p != spare)


def described(site: Path) -> bool:
    """Whether the manifest of ``site`` lists every file in it and no other (the next build removes what it lists
    and the new site has not)."""
    from certreg.publish.reuse import MANIFEST, read_manifest

    found = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()} - {MANIFEST}
    return bool(found) and set(read_manifest(site)) == found


def build_cmd(sites, out: Path, when: str, *extra) -> list[str]:
    return [str(CERTREG), "build", "--no-pdfs", "--config", str(sites.config), "--as-of", DATES[when].isoformat(),
            "--out", str(out), *extra]


def build(sites, out: Path, when: str, *extra, obey_permissions=False) -> subprocess.CompletedProcess:
    """``obey_permissions``: run as root without the capabilities that let it ignore file permissions (Debian's
    setpriv, util-linux), so that a folder's mode binds the build as it binds any other user."""
    cmd = build_cmd(sites, out, when, *extra)
    if obey_permissions and os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, cwd=sites.root, capture_output=True, text=True, timeout=120)


def timed_build(sites, out: Path, when: str, *extra) -> tuple[subprocess.CompletedProcess, float, float]:
    """A build, and when (seconds after its start) the site at ``out`` was replaced, and when the build ended."""
    def inode():
        with contextlib.suppress(OSError):
            return os.stat(out).st_ino
        return None

    before, swap = inode(), None
    start = time.monotonic()
    with subprocess.Popen(build_cmd(sites, out, when, *extra), cwd=sites.root, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        while proc.poll() is None:
            if swap is None and inode() != before:
                swap = time.monotonic() - start
            time.sleep(0.005)
        stdout, stderr = proc.communicate()
    end = time.monotonic() - start
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), swap or end, end


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """A copy of the sample registry, its mkdocs.yml, and the two complete sites (as of `old` and `new`), with
    the hashes of their files and how long a build of the new one over the old one takes."""
    from certreg.records.load import load_schemes
    from certreg.records.schemasync import write_schemas

    root = tmp_path_factory.mktemp("safety")
    registry = root / "registry"
    shutil.copytree(REGISTRY, registry)
    # (the JSON Schemas are written afresh: their freshness is test_schemas's business, not the build's safety's)
    write_schemas(registry, load_schemes(registry, []))
    ns = SimpleNamespace(root=root, config=site_config(root, registry), manifests={})
    reference = root / "reference"
    for when in ("old", "new"):
        done, ns.swap, ns.duration = timed_build(ns, reference, when)  # (the last: new over old, as the fault test)
        assert done.returncode == 0, done.stderr
        ns.manifests[when] = manifest(reference)
        shutil.copytree(reference, root / when)
    assert ns.manifests["old"] != ns.manifests["new"]
    ns.old, ns.new = root / "old", root / "new"
    return ns


def which(sites, out: Path) -> str | None:
    """'old' or 'new' if ``out`` is that complete site, else None."""
    if not ((out / "index.html").is_file() and (out / "data" / "certificates.json").is_file()):
        return None
    found = manifest(out)
    return next((when for when, m in sites.manifests.items() if m == found), None)


def publish(sites, parent: Path, when: str = "old") -> Path:
    out = parent / "site"
    shutil.copytree(sites.old if when == "old" else sites.new, out)
    return out


def assert_clean_failure(result_text: str, returncode: int, *words: str):
    assert returncode == 1, result_text
    assert "Traceback" not in result_text, result_text
    for word in words:
        assert word in result_text, result_text


# --- killed at any moment -------------------------------------------------------------------------------------


def test_a_build_killed_at_any_moment_leaves_a_whole_site_and_the_next_build_works(sites, tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    # 6 kills spread over the whole build (one in each sixth of it), 4 around the moment the site is replaced
    # (from 0.25 s before it to 0.1 s after it), measured again at each full build (the machine's speed varies)
    plan = [("spread", (i + rng.random()) / 6) for i in range(6)] + [("swap", rng.uniform(-0.25, 0.1))
                                                                       for _ in range(4)]
    rng.shuffle(plan)
    swap, duration = sites.swap, sites.duration
    out = publish(sites, tmp_path)
    current, seen = "old", []
    for kind, x in plan:
        delay = max(0.0, x * duration if kind == "spread" else swap + x)
        for _ in range(4):  # (a build quicker than the last one measured ended first: it is killed earlier)
            target = "new" if current == "old" else "old"
            proc = subprocess.Popen(build_cmd(sites, out, target), cwd=sites.root, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            found = which(sites, out)
            context = (f"seed {seed}: killed after {delay:.2f} s a build of {target} over {current} (a build takes "
                       f"{duration:.2f} s, replaces the site after {swap:.2f} s)")
            assert found in (current, target), f"{context}: {out} is not a whole site ({leftovers(out)} beside it)"
            killed = proc.returncode == -signal.SIGKILL
            seen.append((kind, f"{delay / duration:.2f}", "killed" if killed else "ended", found))
            if killed:  # the next build puts things right and publishes
                again, swap, duration = timed_build(sites, out, target)
                assert again.returncode == 0 and "Traceback" not in again.stderr, f"{context}: {again.stderr}"
            assert which(sites, out) == target, context
            assert leftovers(out) == [], context
            current = target
            if killed:
                break
            delay *= 0.7
    print(f"seed {seed}; (kill, at what fraction of the build, outcome, site found): {seen}")
    assert sum(outcome == "killed" for *_, outcome, _ in seen) == len(plan), seen  # every kill hit a running build


def test_a_site_left_aside_between_the_two_renames_is_put_back_and_compared_with(sites, tmp_path):
    """A build killed between `site -> .site.old` and `.site.building -> site` left no site: the next build puts
    it back and still refuses a site that loses a certificate (REG-APPEND), instead of publishing it."""
    out = tmp_path / "site"
    shutil.copytree(sites.old, tmp_path / ".site.old")
    (tmp_path / ".site.building" / "certificates").mkdir(parents=True)  # a half-made new site, too
    registry = tmp_path / "registry"
    shutil.copytree(sites.root / "registry", registry)
    shutil.rmtree(registry / "certificates" / NOT_FOLLOWED)
    done = build(sites, out, "old", "--registry", str(registry))
    text = done.stdout + done.stderr
    assert_clean_failure(text, done.returncode, f"error REG-APPEND certificate {NOT_FOLLOWED} is published",
                         "back in its place")
    assert which(sites, out) == "old"
    assert leftovers(out) == []


def test_the_two_renames_where_there_is_no_exchange(tmp_path, monkeypatch):
    """The fallback swap (not Linux, an old kernel): the new site in place and no .old left; if the second rename
    fails, the old site goes back in its place."""
    from certreg.publish import build as b

    monkeypatch.setattr(b, "_exchange", lambda a, c: False)
    out, staging, old = tmp_path / "site", tmp_path / ".site.building", tmp_path / ".site.old"
    for folder, text in ((out, "old"), (staging, "new")):
        folder.mkdir()
        (folder / "index.html").write_text(text)
    b._swap(staging, out, old, print)
    assert (out / "index.html").read_text() == "new" and not old.exists()
    assert (staging / "index.html").read_text() == "old"  # (the site replaced, as the exchange leaves it)
    shutil.rmtree(staging)
    staging.mkdir()
    (staging / "index.html").write_text("newer")
    rename = os.rename

    def failing(src, dst):
        if Path(src) == staging:
            raise OSError(errno.ENOSPC, "No space left on device", str(src))
        rename(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(OSError):
        b._swap(staging, out, old, print)
    assert (out / "index.html").read_text() == "new" and not old.exists()


def test_the_exchange_swaps_in_one_step(tmp_path):
    from certreg.publish import build as b

    if b._renameat2() is None:
        pytest.skip("no renameat2 here: the two renames are used")
    a, c = tmp_path / "a", tmp_path / "c"
    a.mkdir()
    c.mkdir()
    (a / "x").touch()
    assert b._exchange(a, c) is True
    assert (c / "x").exists() and not (a / "x").exists()


# --- two at once ---------------------------------------------------------------------------------------------------


def test_two_builds_at_once_wait_for_each_other(sites, tmp_path):
    """8 pairs of builds into one folder, each pair started together; two pairs at a time, into two folders
    (to use both cores: the builds of a pair run one after the other)."""
    rng = random.Random()
    outs = [publish(sites, tmp_path / lane) for lane in ("a", "b")]
    waited = 0
    for wave in range(4):
        procs = []
        for lane, out in enumerate(outs):
            pair = 2 * wave + lane
            for when in (("new", "old") if pair % 2 == 0 else ("old", "new")):
                procs.append((pair, out, when, subprocess.Popen(build_cmd(sites, out, when), cwd=sites.root,
                                                                 text=True, stdout=subprocess.PIPE,
                                                                 stderr=subprocess.PIPE)))
                time.sleep(rng.uniform(0, 0.2))
        texts: dict = {}
        for pair, out, when, proc in procs:
            stdout, stderr = proc.communicate(timeout=120)
            text = texts.setdefault((pair, out), {})[when] = stdout + stderr
            assert proc.returncode == 0, f"pair {pair}, build of {when}: {text}"
            assert "Traceback" not in text
        for (pair, out), by_when in texts.items():
            waiting = [when for when, text in by_when.items() if "waiting for it to finish (at most 10 min)" in text]
            waited += len(waiting)
            found = which(sites, out)
            assert found is not None, f"pair {pair}: not a whole site"
            if len(waiting) == 1:  # the one that waited published last
                assert found == waiting[0], f"pair {pair}: {by_when}"
            assert leftovers(out) == []
    assert waited >= 4, "the builds hardly overlapped: the test proved little"


def test_a_build_gives_up_after_waiting_its_time(sites, tmp_path):
    out = publish(sites, tmp_path)
    with open(tmp_path / ".site.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        done = build(sites, out, "new", "--wait", "1")
    assert_clean_failure(done.stderr, done.returncode, "another certreg build (process 4242) was still writing the "
                         f"site {out} after 1 s: this build gave up and changed nothing")
    assert which(sites, out) == "old"


def test_builds_into_two_sites_render_into_one_pdfs_folder_in_turn(sites, tmp_path):
    """The PDFs folder (mkdocs.yml's pdfs:, certs/ beside it) is locked too: a build into another site waits."""
    out = publish(sites, tmp_path)
    pdfs = sites.root / "certs"
    with open(sites.root / ".certs.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        cmd = [c for c in build_cmd(sites, out, "new", "--wait", "0.5") if c != "--no-pdfs"]
        done = subprocess.run(cmd, cwd=sites.root, capture_output=True, text=True, timeout=120)
    assert_clean_failure(done.stderr, done.returncode, f"was still writing the PDFs in {pdfs} after 0.5 s")
    assert which(sites, out) == "old"
    assert leftovers(out) == []


# --- a full disk, a read-only folder, a mount point ---------------------------------------------------------------


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory):
    point = tmp_path_factory.mktemp("mount")
    if os.geteuid() != 0:
        return False
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "certreg-test", str(point)],
                      capture_output=True).returncode != 0:
        return False
    subprocess.run(["umount", str(point)], check=True)
    return True


@contextlib.contextmanager
def tmpfs(point: Path, size: str):
    point.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "certreg-test", str(point)], check=True)
    try:
        yield point
    finally:
        if subprocess.run(["umount", str(point)]).returncode != 0:
            subprocess.run(["umount", "-l", str(point)])


def in_process(sites, out: Path, when: str, monkeypatch, *patches):
    """certreg build run in this process (for faults simulated by monkeypatching): (output, exit code)."""
    from certreg.cli import main

    for patch in patches:
        monkeypatch.setattr(*patch)
    result = CliRunner().invoke(main, build_cmd(sites, out, when)[1:])
    monkeypatch.undo()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        return "Traceback\n" + "".join(traceback.format_exception(result.exception)), result.exit_code
    return result.output, result.exit_code


def test_a_full_disk_is_one_error_line_and_the_site_stays(sites, tmp_path, can_mount, monkeypatch):
    if can_mount:  # a real one: room for the published site and a third of another
        pages = sum(-(-p.stat().st_size // 4096) + 1 for p in sites.old.rglob("*"))
        with tmpfs(tmp_path / "disk", f"{pages * 4 * 4 // 3}k") as disk:
            out = publish(sites, disk)
            done = build(sites, out, "new")
            text, code = done.stdout + done.stderr, done.returncode
            assert which(sites, out) == "old"
            assert leftovers(out) == []
    else:  # simulated: opening a file for writing in the staging folder fails as a full disk would
        out = publish(sites, tmp_path)
        real_open, count = builtins.open, [0]

        def full_open(file, mode="r", *args, **kwargs):
            if any(m in mode for m in "wax") and f"/.{out.name}.building/" in os.fspath(file):
                count[0] += 1
                if count[0] > 20:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))
            return real_open(file, mode, *args, **kwargs)

        text, code = in_process(sites, out, "new", monkeypatch, (builtins, "open", full_open),
                                (io, "open", full_open))
        assert which(sites, out) == "old"
        assert leftovers(out) == []
    assert_clean_failure(text, code, "cannot build the site: ", "No space left on device (ENOSPC)",
                         f"{out} was not changed")
    assert len(text.strip().splitlines()) == 1, text


def test_a_read_only_parent_is_one_error_line_and_the_site_stays(sites, tmp_path, can_mount):
    if os.geteuid() != 0 or not can_mount:  # (as root: without the capability to ignore the folder's mode)
        parent = tmp_path / "pub"
        parent.mkdir()
        out = publish(sites, parent)
        done = build_read_only(sites, parent, out)
        expected = "Permission denied (EACCES)"
    else:  # a read-only file system
        parent = tmp_path / "pub"
        with tmpfs(parent, "16m"):
            out = publish(sites, parent)
            subprocess.run(["mount", "-o", "remount,ro", str(parent)], check=True)
            done = build(sites, out, "new")
            assert which(sites, out) == "old"
            assert leftovers(out) == []
        expected = "Read-only file system (EROFS)"
        shutil.copytree(sites.old, out)  # (for the checks below: the tmpfs is gone)
    assert_clean_failure(done.stdout + done.stderr, done.returncode, f"cannot build the site: {parent}/.site.lock: "
                         f"{expected}; {out} was not changed")
    assert which(sites, out) == "old"
    assert leftovers(out) == []


def build_read_only(sites, folder: Path, out: Path) -> subprocess.CompletedProcess:
    """A build into ``out`` while ``folder`` (the output folder or its parent) may not be written to."""
    folder.chmod(0o555)
    try:
        return build(sites, out, "new", obey_permissions=True)
    finally:
        folder.chmod(0o755)


def test_a_read_only_site_folder_is_refused(sites, tmp_path):
    out = publish(sites, tmp_path)
    done = build_read_only(sites, out, out)
    assert_clean_failure(done.stderr, done.returncode, f"{out} is read-only")
    assert which(sites, out) == "old"
    assert leftovers(out) == []


def test_a_file_where_a_folder_should_be_is_one_error_line(sites, tmp_path):
    file = tmp_path / "file"
    file.write_text("not a folder")
    for out, expected in ((file / "site", f"{file} is not a folder"),
                          (file / "www" / "site", f"{file / 'www'}: Not a directory (ENOTDIR)")):  # an OSError
        done = build(sites, out, "new")
        assert_clean_failure(done.stderr, done.returncode, f"cannot build the site: {expected}")
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_site_folder_that_is_a_mount_point_is_refused(sites, tmp_path, can_mount, monkeypatch):
    checks = []
    if can_mount:
        with tmpfs(tmp_path / "site", "16m") as out:  # another file system
            shutil.copytree(sites.old, out, dirs_exist_ok=True)
            done = build(sites, out, "new")
            checks.append((out, done.stdout + done.stderr, done.returncode, which(sites, out), leftovers(out)))
        bound, out = tmp_path / "bound", tmp_path / "site2"  # a bind mount of a folder of the same file system
        shutil.copytree(sites.old, bound)
        out.mkdir()
        subprocess.run(["mount", "--bind", str(bound), str(out)], check=True)
        try:
            done = build(sites, out, "new")
            checks.append((out, done.stdout + done.stderr, done.returncode, which(sites, out), leftovers(out)))
        finally:
            subprocess.run(["umount", str(out)], check=True)
    else:
        out = publish(sites, tmp_path)
        real = os.path.ismount
        text, code = in_process(sites, out, "new", monkeypatch,
                                (os.path, "ismount", lambda p: Path(p) == out or real(p)))
        checks.append((out, text, code, which(sites, out), leftovers(out)))
    for out, text, code, found, left in checks:
        assert_clean_failure(text, code, f"{out} is a mount point", f"--out {out}/www")
        assert found == "old" and left == []
