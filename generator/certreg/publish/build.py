"""Stage 5, build: the public site (pages, PDFs, feeds, open data) into a folder, in one go.

The registry is checked, the PDFs rendered, the hand-written pages built by the site engine (mkdocs or Zensical,
from mkdocs.yml) and certreg's own pages written around them (``layer``), into a new folder. That folder replaces
the published one only when it is complete and loses nothing the published one had (REG-APPEND: every
certificate is still there, every announcement keeps its number); otherwise what was published stays.

What keeps the published site whole, whatever happens to a build:

- one build at a time into a folder: a build holds an OS lock (flock) on ``.OUT.lock`` beside it, and on
  ``.PDFS.lock`` beside the PDFs folder it renders into; a second build waits for the first (at most ``wait``
  seconds, saying so), then compares with what the first published. The OS lets go of a lock when its
  process ends, however it ends.
- the new site is made in ``.OUT.building`` beside the published one and put in its place by one rename that
  exchanges the two folders (Linux's renameat2 RENAME_EXCHANGE), or, where there is none, by two renames
  (OUT → ``.OUT.old``, staging → OUT). A build that finds OUT missing and ``.OUT.old`` there (one was
  killed between the two renames) puts the published site back first, so REG-APPEND is never skipped;
  what an interrupted build left behind is removed.
- the site replaced is kept beside the published one, as ``.OUT.spare``, and is the next build's starting folder
  (renamed to ``.OUT.building``, then brought up to date by its manifest: publish/reuse.py), so that a build
  after one decision makes and removes folders by the change, not by the size of the registry. Only a build
  renames it, and only if its manifest lists every file in it and no other (reuse.whole_site, by the folders'
  modification times: a file put into the published site by hand, which becomes the spare, makes the next build
  start afresh and so is not published again); a build killed while bringing it up to date leaves
  ``.OUT.building``, which the next build removes (it then starts from the engine's output).
- a mount point cannot be renamed: a site folder that is one is refused before anything is built.
- an OSError (a full disk, a read-only folder) is one line naming the path; nothing published changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import filecmp
import json
import os
import re
import shutil
import sys
import time
from functools import cache
from pathlib import Path

from ..collector import freeze, kept_whole
from ..errors import CertregError

WAIT = 600  # seconds a build waits for another one into the same folder, or rendering into the same PDFs folder


class BuildError(CertregError):
    """Raised by ``build_site``: the registry, the PDFs or the site engine refused to build, or the build would lose
    something published (the reasons are in the message)."""


def build_site(config_file: Path, out: Path, as_of: dt.date, *, pdfs: bool = True, pdf_dir: Path | None = None,
               registry: Path | None = None, progress=None, wait: float = WAIT, say=None, engine: str = "mkdocs",
               timings=None, report=None) -> list:
    """Build the site of ``config_file`` (mkdocs.yml) into ``out`` as of ``as_of``, strictly.

    The registry is ``registry``, or registry/ beside ``config_file``. The PDFs are rendered into ``pdf_dir``,
    or certs/ beside ``config_file``; none with ``pdfs=False``. ``engine`` builds the hand-written pages
    (layer.ENGINES). Returns what was published anyway: the registry's warnings and its overdue actions (errors
    with ``overdue`` set). ``say`` is told (one line of text) what the build does besides building: waiting for
    another build, putting back a site that an interrupted build left aside (default: standard error).
    ``progress``, if given, makes the callable told (done, total) of each long piece of work from its label;
    ``timings``, if given, is told (stage, seconds) as each stage ends: check (loading and judging the
    records), pdfs, publish (the public view), engine (the hand-written pages), pages (certreg's pages),
    certificates (certificate.json and PDFs of each), data (open data, feeds, sitemaps), append (REG-APPEND),
    swap, cleanup (the site replaced kept as the next build's starting folder). ``report``, if given, is told
    the layer's ``Assembled``: what was linked from the published site and what was made. Any failure is a
    BuildError, and leaves the published site as it was.
"""
    say = say or _stderr
    out = out.resolve()
    staging, old, source = _beside(out, "building"), _beside(out, "old"), _beside(out, "source")
    try:
        if _is_mount_point(out):
            raise BuildError(f"{out} is a mount point: a build puts the new site in place of the old one by renaming "
                             "folders, and a mount point cannot be renamed. Build into a folder inside it (--out "
                             f"{out / 'www'}) and serve that folder; nothing was built")
        for folder in (out, out.parent):
            if os.path.lexists(folder) and not folder.is_dir():
                raise BuildError(f"cannot build the site: {folder} is not a folder; nothing was built")
        out.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as locks:
            locks.enter_context(_locked(_beside(out, "lock"), f"the site {out}", wait, say))
            _recover(out, staging, old, source, say)
            if out.is_dir() and not os.access(out, os.W_OK):
                raise BuildError(f"{out} is read-only: once replaced, it is the next build's starting folder, "
                                 "which that build updates; make it writable (chmod -R u+w) or build elsewhere; "
                                 "nothing was built")
            # (the records, as loaded, and their public view are kept out of the cycle collector's scans until the
            # build ends: certreg.collector)
            locks.enter_context(kept_whole())
            return _build(config_file, out, staging, old, source, _beside(out, "spare"), as_of, pdfs=pdfs,
                          pdf_dir=pdf_dir, registry=registry, progress=progress, wait=wait, say=say, locks=locks,
                          engine=engine, timings=timings or (lambda stage, seconds: None),
                          report=report or (lambda done: None))
    except BuildError:
        raise
    except CertregError as exc:  # the site_url, a template, the site engine: one message, nothing published
        raise BuildError(str(exc)) from None
    except OSError as exc:
        where = exc.filename if exc.filename is not None else f"writing into {staging}"
        if exc.filename2 is not None:
            where = f"{where} -> {exc.filename2}"
        name = errno.errorcode.get(exc.errno or 0)
        unchanged = f"; {out} was not changed" if out.exists() else ""
        raise BuildError(f"cannot build the site: {where}: {exc.strerror or exc}{f' ({name})' if name else ''}"
                         f"{unchanged}") from None


def _build(config_file, out, staging, old, source, spare, as_of, *, pdfs, pdf_dir, registry, progress, wait, say, locks,
           engine, timings, report) -> list:
    """build_site's work, once it holds the lock of ``out`` and the published site is in its place."""
    from ..problems import FORMATTERS
    from ..rules.validate import check_registry
    from .layer import assemble, files_of, run_engine
    from .layer import source as engine_source
    from .pdf import render, site_url
    from .preflight import with_preflight
    from .public import publish
    from .reuse import whole_site
    from .site import Site

    clock = _Clock(timings)
    config_file = config_file.resolve()
    base_url = site_url(config_file)  # the public address: the QR codes and the open data name it
    registry = (registry or config_file.parent / "registry").resolve()
    # what certreg validate refuses, with the same messages: the records, the rules, and the preflight (a character
    # the font lacks, unusable artwork), before anything is rendered
    checked = with_preflight(check_registry(registry, as_of, cache=True))
    clock.stage("check")
    errors = [p for p in checked.report.problems if p.level == "error"]
    blocking = [p for p in errors if not p.overdue]
    if blocking:
        raise BuildError(f"certreg: the registry has {len(blocking)} error(s); nothing was published:\n"
                         + FORMATTERS["text"](blocking))
    # Actions now due (ZCF-12.1.2, ZWL-7.4, ZWL-6.1, ZWL-6.3) hold nothing back: the pages say what is due.
    notices = [p for p in checked.report.problems if p.overdue or p.level == "warning"]
    pdf_folder = None
    if pdfs:
        pdf_folder = (pdf_dir or config_file.parent / "certs").resolve()
        pdf_folder.parent.mkdir(parents=True, exist_ok=True)
        # two builds into different sites render into the same PDFs folder one at a time
        locks.enter_context(_locked(_beside(pdf_folder, "lock"), f"the PDFs in {pdf_folder}", wait, say))
        # the PDFs as issued that the published site has are the archive: published again, never rendered
        archived = frozenset(p.name for p in out.glob("certificates/*/issued/*.pdf"))
        done = render(checked, pdf_folder, base_url=base_url, archived=archived,
                      progress=progress("rendering PDFs") if progress else None)
        if done.failed:
            raise BuildError("certreg: PDFs failed:\n" + "\n".join(done.failed))
        clock.stage("pdfs")
    pub = publish(checked, base_url, pdfs=pdf_folder is not None)
    site = Site(pub, schemes=checked.registry.schemes)
    freeze()  # (the public view too, alive until the build ends, out of the collector's scans: certreg.collector)
    clock.stage("publish")
    schemas = registry / "schemas"
    mark = None
    if checked.registry.settings.get("mark"):  # its bytes, read as a regular file inside the registry (REG-LAYOUT)
        from ..records.safefile import MAX_ARTWORK_BYTES, read_regular

        path = registry / checked.registry.settings["mark"]
        mark = (path.name, read_regular(path, MAX_ARTWORK_BYTES))
    try:
        config = engine_source(config_file, source, site, mark=mark, data_paths=site.data_paths(schemas))
        from ..cache import enabled, folder

        built = run_engine(engine, config, kept=folder() / "engine" if enabled() else None)
        engine_files = files_of(built)
        base = whole_site(spare)
        if base is not None:  # the site replaced by the last build: brought up to date (publish/reuse.py)
            os.rename(spare, staging)
            _merge(built, staging, engine_files)
            # (the engine's files are now where the base's of the same paths were: the base no longer holds those)
            engine_paths = set(engine_files)
            base = {path: entry for path, entry in base.items() if path not in engine_paths}
        else:
            if os.path.lexists(spare):
                _discard(spare, say)
            os.rename(built, staging)
        _discard(source, say)
        clock.stage("engine")
        assembled = assemble(staging, site, schemas, pdf_dir=pdf_folder, published=out if out.is_dir() else None,
                             engine_files=engine_files, base=base, progress=progress, stage=clock.stage)
        report(assembled)
        lost = losses(out, staging)
        clock.stage("append")
        if lost:
            raise BuildError("\n".join(lost + ["the site was not published: a correction is a new record, and "
                                               "nothing published is removed or renumbered"]))
        _swap(staging, out, old, say)
        clock.stage("swap")
        if os.path.lexists(staging):  # the site replaced: the next build's starting folder (if it can be put there)
            try:
                os.rename(staging, spare)
            except OSError:  # (a spare the last build could not remove is in the way: published all the same)
                pass
    finally:
        for leftover in (source, staging):  # a failed build's
            if os.path.lexists(leftover):
                _discard(leftover, say)
    clock.stage("cleanup")
    return notices


def _merge(built: Path, into: Path, files: list[str]) -> None:
    """Move the engine's output ``built`` (its ``files``) into ``into``, in place of the files there of the same
    path (a file that is the same one already, a link to the engine's kept output, stays)."""
    made = set()
    for rel in files:
        source, target = f"{built}/{rel}", f"{into}/{rel}"
        try:
            if os.path.samestat(os.stat(source, follow_symlinks=False), os.stat(target, follow_symlinks=False)):
                continue
        except FileNotFoundError:
            parent = target.rpartition("/")[0]
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
        os.replace(source, target)  # (a new name for the engine's file: what was at target is not written to)


class _Clock:
    """Tells ``timings`` (stage, seconds) the time since the last stage ended."""

    def __init__(self, timings):
        self.timings, self.last = timings, time.perf_counter()

    def stage(self, name: str) -> None:
        now = time.perf_counter()
        self.timings(name, now - self.last)
        self.last = now


def _beside(path: Path, what: str) -> Path:
    """The hidden file or folder ``.NAME.what`` beside ``path``: the build's staging folder, lock..."""
    return path.with_name(f".{path.name}.{what}")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _is_mount_point(path: Path) -> bool:
    """Whether ``path`` is a mount point: another file system's (os.path.ismount), or a bind mount of a folder
    of the same file system, which only the kernel's table of mounts tells."""
    if os.path.ismount(path):
        return True
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as table:
            points = [line.split()[4] for line in table if len(line.split()) > 4]
    except OSError:
        return False
    unescape = re.compile(r"\\([0-7]{3})")  # mountinfo writes a space as \040, a backslash as \134...
    return str(path) in (unescape.sub(lambda m: chr(int(m[1], 8)), p) for p in points)


@contextlib.contextmanager
def _locked(path: Path, what: str, wait: float, say):
    """Hold an exclusive flock on the file ``path`` (made if need be) for the block, waiting for another build
    that holds it (at most ``wait`` seconds); the file is removed as the lock is let go."""
    fd = _lock(path, what, wait, say)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while it is still held: a build that then locks the removed file sees it and retries
        os.close(fd)


def _lock(path: Path, what: str, wait: float, say) -> int:
    deadline = time.monotonic() + wait
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                if time.monotonic() >= deadline:
                    raise BuildError(f"another certreg build{holder} was still writing {what} after "
                                     f"{_duration(wait)}: this build gave up and changed nothing") from None
                if not told:
                    say(f"another certreg build{holder} is writing {what}: waiting for it to finish "
                        f"(at most {_duration(wait)})")
                    told = True
                os.close(fd)
                fd = -1
                time.sleep(0.1)
                continue
            try:  # the build that held the lock may have removed the file as it let go: then lock the new one
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                with contextlib.suppress(OSError):  # who holds it, for the message of a build that waits
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                return fd
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        os.close(fd)


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f" (process {int(os.pread(fd, 32, 0))})"
    return ""


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _recover(out: Path, staging: Path, old: Path, source: Path, say) -> None:
    """Undo what an interrupted build left (the lock is held: no build is running). Killed between its two
    renames, a build leaves no site at ``out`` and the published one at ``old``: it is put back, so that the
    new site is compared with it (REG-APPEND). A half-made staging folder, or an old site partly removed, goes."""
    if not os.path.lexists(out) and old.is_dir():
        os.rename(old, out)
        say(f"{out} was missing and {old} held the site published before an interrupted build: "
            "it is back in its place")
    for leftover in (staging, old, source):
        if os.path.lexists(leftover):
            _remove(leftover)
            say(f"removed {leftover}, left by an interrupted build")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _discard(path: Path, say) -> None:
    """Remove ``path`` (a failed build's staging folder, or a kept site that is not to be started from); if that
    fails, say so: the next build removes it."""
    try:
        _remove(path)
    except OSError as exc:
        say(f"warning: {path} could not be removed ({exc.strerror or exc}); the next build removes it")


# renameat2(2) (Linux 3.15, glibc 2.28): RENAME_EXCHANGE swaps two paths in one step.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 1 << 1


@cache
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # no glibc, or one older than 2.28
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one step; False where the system cannot (then nothing happened)."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # an older kernel, or a file system without it
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap(staging: Path, out: Path, old: Path, say) -> None:
    """Put the complete new site ``staging`` in place of ``out``.

    Why RENAME_EXCHANGE: two renames (out → old, staging → out) leave, between them, no site at ``out``: a
    visitor gets a 404, and a build killed there leaves the site aside (``_recover`` puts it back). The exchange
    is one step of the file system: at every instant ``out`` is the whole old site or the whole new one. The old
    one ends up at ``staging``, which the caller keeps (or removes). Where it is missing (not Linux, a kernel before
    3.15, a file system without it), the two renames, with the old site put back if the second fails, and then
    moved to ``staging`` too.
    """
    if not os.path.lexists(out):
        os.rename(staging, out)
    elif not _exchange(staging, out):
        if os.path.lexists(old):
            _remove(old)
        os.rename(out, old)
        try:
            os.rename(staging, out)
        except BaseException:
            os.rename(old, out)
            raise
        try:
            os.rename(old, staging)
        except OSError:
            _discard(old, say)


def losses(published: Path, new: Path) -> list[str]:
    """REG-APPEND: what the site in ``new`` would lose of the site in ``published`` (certificates that are
    gone, announcements whose number now names another decision)."""
    lost = []
    new_certs = set(_numbers(new))
    for number in _numbers(published):
        if number not in new_certs:
            lost.append(f"error REG-APPEND certificate {number} is published but would disappear (its records "
                        "were removed, or the site is built as of a date before its issue)")
    for kept in sorted(published.glob("certificates/*/issued/*.pdf")):  # the archive (ZCF-11.3), byte for byte
        again = new / kept.relative_to(published)
        if not again.is_file() or not (os.path.samefile(kept, again) or filecmp.cmp(kept, again, shallow=False)):
            lost.append(f"error REG-APPEND the PDF as issued {kept.relative_to(published)} is published and would "
                        f"{'disappear' if not again.is_file() else 'change'} (ZCF-11.3: it is the record; a build "
                        "without PDFs cannot replace a site that publishes them)")
    lost += _record_losses(published, new)
    new_anns = {a["number"]: a for a in _read(new / "data" / "announcements.json", "announcements")}
    for a in _read(published / "data" / "announcements.json", "announcements"):
        b = new_anns.get(a["number"])
        if b is None or (b["certificate"], b["record"]) != (a["certificate"], a["record"]):
            now = f"now names {b['certificate']} {b['record']}" if b else "would disappear"
            lost.append(f"error REG-APPEND announcement {a['number']} ({a['certificate']} {a['record']}) is published "
                        f"and {now}: a decision recorded late for a day that already has published announcements "
                        "would change their ranks that day")
    return lost


_KINDS = {"certificate": "certificate version", "decision": "decision", "announcement": "announcement"}


def _record_losses(published: Path, new: Path) -> list[str]:
    """REG-APPEND at the level of records: every record the live site publishes (data/records.json: each
    certificate version, decision and announcement, with the hash of its public fields) is still published,
    unchanged. A site published before records.json existed has nothing to compare here."""
    path = published / "data" / "records.json"
    if not path.exists():
        maker = _generator(published / "data" / "certificates.json")
        if maker is not None and maker >= RECORDS_SINCE:
            return [f"error REG-APPEND the published site was made by certreg {'.'.join(map(str, maker))}, which "
                    "publishes data/records.json, but it has none (not fetched?): REG-APPEND cannot be checked"]
        return []  # (a site published before records.json existed: the certificates and announcements are compared)
    old, now = _records(path), _records(new / "data" / "records.json")
    lost = []
    for key, digest in old.items():
        kind, _, name = key.partition("/")
        what = f"{_KINDS.get(kind, kind)} {name}"
        if key not in now:
            lost.append(f"error REG-APPEND the {what} is published and would disappear (its record was deleted, or "
                        "the site is built as of a date before it)")
        elif now[key] != digest:
            lost.append(f"error REG-APPEND the {what} is published and its public fields would change (a published "
                        "record was edited, or a change recorded for an earlier day would renumber its versions); "
                        "a correction is a new decision (a change with corrects:)")
    return lost


RECORDS_SINCE = (0, 2, 0)  # the first certreg that publishes data/records.json


def _generator(path: Path) -> tuple | None:
    """The version of certreg that made the published open data at ``path`` (None if there is none)."""
    if not path.exists():
        return None
    try:
        made = json.loads(path.read_text(encoding="utf-8")).get("generated_by", "")
        return tuple(int(x) for x in made.removeprefix("certreg ").split("."))
    except (OSError, ValueError, AttributeError) as exc:
        raise BuildError(f"{path}: the published open data cannot be read ({exc}); REG-APPEND cannot be "
                         "checked") from None


def _records(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data["records"]
        if data.get("format") != "certreg-records/1" or not isinstance(records, dict):
            raise ValueError(f"format {data.get('format')!r}, which this certreg does not know")
        return records
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(f"{path}: the published records cannot be read ({exc}); REG-APPEND cannot be "
                         "checked") from None


def _numbers(site: Path) -> list[str]:
    """The number of every certificate ``site`` publishes: from its look-up index (data/lookup.json: a twentieth
    of the size of certificates.json, the same certificates), else from data/certificates.json (a site published
    without the index, or the open data alone, as the workflow fetches them)."""
    path = site / "data" / "lookup.json"
    if not path.exists():
        return [c["number"] for c in _read(site / "data" / "certificates.json", "certificates")]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        at = data["fields"].index("number")
        return [row[at] for row in data["rows"]]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise BuildError(f"{path}: the published look-up index cannot be read ({exc}); REG-APPEND cannot be "
                         "checked") from None


def _read(path: Path, key: str) -> list:
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))[key]
    except (ValueError, KeyError) as exc:
        raise BuildError(f"{path}: the published open data cannot be read ({exc}); REG-APPEND cannot be "
                         "checked") from None
