"""What checking each certificate found, kept between runs and keyed by the bytes it was found from.

A certificate's own checks (stage 1 for its folder, and ``check_certificate``: its rules, its history, its facts
for the rules between certificates) depend only on its folder's files, the schemes, the registry's settings, the
date judged on and the code. ``CheckCache`` keeps each folder's result under the sha256 of all of these, so that a
run after a change loads and checks only the folders whose files changed: ``certreg decide`` and ``certreg new``
check the one certificate a record adds to, and take every other's result (and its facts, for the rules between
certificates, which run on all of them every time) from the cache. A folder with anything but regular files and
folders in it is never taken from the cache (its layout problems are found afresh).

The cache is an SQLite file in the user's cache folder ($CERTREG_CACHE, or $XDG_CACHE_HOME/certreg, or
~/.cache/certreg): ``checks.sqlite``; CERTREG_CACHE=off turns it off. Its results hold paths relative to the
registry, so one cache serves a registry wherever it lies (and the scratch copy certreg decide checks a record
in). A damaged cache is set aside and rebuilt: it can make a run slower, never change its verdict.
"""

from __future__ import annotations

import contextlib
import contextvars
import copyreg
import functools
import hashlib
import io
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path, PosixPath, PurePath, PurePosixPath, PureWindowsPath, WindowsPath

SCHEMA = 3
KEEP_DAYS = 30  # a result unused this long is dropped
# A file changed this recently may change again within its file system's time resolution without its times
# showing it: its folder's stat is not kept (it is hashed again next time), as git treats "racily clean" files.
RACY_SECONDS = 2


def enabled() -> bool:
    return os.environ.get("CERTREG_CACHE") != "off"


def folder() -> Path:
    own = os.environ.get("CERTREG_CACHE")
    if own:
        return Path(own)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "certreg"


def code_identity() -> str:
    """The sha256 of the code that loads and judges a certificate (the package's modules but the publishing ones)
    and of the Python that runs it."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256(sys.version.encode())
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.startswith(("publish/", "staff/")) or rel == "cli.py":
            continue
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


class CheckCache:
    """The results of one kind of run (``context``: the date, whether records are kept...) of the registry at
    ``root``, by folder."""

    def __init__(self, root: Path, context: tuple, path: Path | None = None, *, settings: str | None = None):
        """``settings``: the digest of the registry's settings and schemes (``settings``), if read already."""
        self.given = Path(root)  # (results are given back with the paths of the registry as the caller names it)
        self.root = self.given.resolve()
        if settings is None:
            h = hashlib.sha256()
            for rel in ("registry.yml", *sorted(f"schemes/{p.name}" for p in (self.root / "schemes").glob("*.yml"))):
                with contextlib.suppress(OSError):
                    h.update(rel.encode() + b"\0" + (self.root / rel).read_bytes() + b"\0")
            settings = h.hexdigest()
        self.settings = settings
        self.context = hashlib.sha256(repr((SCHEMA, code_identity(), context, settings)).encode()).hexdigest()
        self.path = path or folder() / "checks.sqlite"
        self.hits = 0
        self.misses = 0
        self._digests: dict[Path, str | None] = {}

    def sibling(self, context: tuple) -> CheckCache:
        """The cache of another kind of run of the same registry, sharing the folders' digests found so far and the
        settings and schemes as this one read them (a later stage's results are made from what this run loaded)."""
        other = CheckCache(self.given, context, self.path, settings=self.settings)
        other._digests = self._digests
        return other

    # --- keys ---

    def key(self, cert_folder: Path) -> str | None:
        """The key of a certificate folder's result: its name and every file's path and bytes, with the
        context; None if it holds anything but regular files and folders (or cannot be read)."""
        return self._keyed(self._digest_all([cert_folder]))[cert_folder]

    def keys(self, folders: list[Path]) -> dict[Path, str | None]:
        """``key`` of each of ``folders``, found once in the life of this object (and its siblings): it serves one
        run. A folder whose entries have the same sizes, times and inodes as when its bytes were last hashed (the
        ``seen`` table, by the folder's path) is not read again: the digest found then is taken, as git takes its
        index's hash of a file whose stat has not changed."""
        todo = [f for f in folders if f not in self._digests]
        self._digests.update(self._digest_all(todo))
        return self._keyed({f: self._digests[f] for f in folders})

    def _keyed(self, digests: dict[Path, str | None]) -> dict[Path, str | None]:
        return {f: (None if d is None else self.key_of(d)) for f, d in digests.items()}

    def key_of(self, digest: str) -> str:
        """The key of a result made from what ``digest`` names, in this cache's context (a folder's files, or
        anything else a run keeps a result of)."""
        return hashlib.sha256(f"{self.context}\0{digest}".encode()).hexdigest()

    def _digest_all(self, folders: list[Path]) -> dict[Path, str | None]:
        """The sha256 of each folder's name, files and their bytes (no context); None as for ``key``."""
        out: dict[Path, str | None] = {}
        stats = {f: _signature(f) for f in folders}
        where = {f: os.path.abspath(f) for f in folders}
        seen = self._seen([where[f] for f, s in stats.items() if s is not None])
        fresh = []
        for f in folders:
            stat = stats[f]
            kept = seen.get(where[f])
            if stat is not None and kept is not None and kept[0] == stat.value:
                out[f] = kept[1]
                continue
            h = hashlib.sha256(f.name.encode() + b"\0")
            try:
                ok = self._hash_tree(f, "", h, depth=0)
            except OSError:
                ok = False
            digest = h.hexdigest() if ok else None
            out[f] = digest
            if digest is not None and stat is not None and not stat.racy:
                fresh.append((where[f], stat.value, digest))
        self._remember(fresh)
        return out

    def _hash_tree(self, path: Path, rel: str, h, depth: int) -> bool:
        if depth > 1:
            return False  # (a certificate folder holds certificate.yml and decisions/: deeper is a layout problem)
        with os.scandir(path) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            name = f"{rel}{entry.name}"
            if entry.is_symlink():
                return False
            if entry.is_dir(follow_symlinks=False):
                h.update(b"D" + name.encode() + b"\0")
                if not self._hash_tree(Path(entry.path), name + "/", h, depth + 1):
                    return False
            elif entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as f:
                    data = f.read()
                h.update(b"F" + name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
            else:
                return False
        return True

    # --- storage ---

    def _connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:  # (an older layout: started again)
            db.executescript("DROP TABLE IF EXISTS results; DROP TABLE IF EXISTS seen; "
                             f"PRAGMA user_version = {SCHEMA};")
        db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB, used INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS seen (folder TEXT PRIMARY KEY, stat BLOB, digest TEXT)")
        return db

    def _seen(self, folders: list[str]) -> dict[str, tuple[bytes, str]]:
        """The kept (stat, digest) of each of ``folders`` that has one."""
        found: dict[str, tuple[bytes, str]] = {}
        if not folders:
            return found
        try:
            with contextlib.closing(self._connect()) as db:
                found.update((f, (stat, digest)) for f, stat, digest in _select_in(
                    db, "SELECT folder, stat, digest FROM seen WHERE folder", folders))
        except sqlite3.DatabaseError:
            self._set_aside()
            return {}
        return found

    def _remember(self, rows: list[tuple[str, bytes, str]]) -> None:
        if not rows:
            return
        try:
            with contextlib.closing(self._connect()) as db:
                db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?)", rows)
                db.commit()
        except sqlite3.DatabaseError:
            self._set_aside()

    def get(self, keys: list[str]) -> dict[str, object]:
        """The results kept under ``keys`` (those it has)."""
        found: dict[str, object] = {}
        if not keys:
            return found
        try:
            with contextlib.closing(self._connect()) as db:
                rows = _select_in(db, "SELECT key, value FROM results WHERE key", keys)
                with _paths_inside(self.given):
                    for key, value in rows:
                        try:
                            found[key] = pickle.loads(value)
                        except Exception:  # noqa: BLE001 (an entry that cannot be read is made again)
                            continue
                today = int(time.time() // 86400)
                db.executemany("UPDATE results SET used = ? WHERE key = ? AND used < ?",
                               [(today, k, today) for k in found])
                db.commit()
        except sqlite3.DatabaseError:
            self._set_aside()
            return {}
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put(self, results: dict[str, object]) -> None:
        """Keep ``results`` (key -> result); drop those unused for KEEP_DAYS."""
        if not results:
            return
        today = int(time.time() // 86400)
        rows = []
        token = _DUMPING.set((self.root, self.given))
        try:
            for key, value in results.items():
                buffer = io.BytesIO()
                _Pickler(buffer, self.root, self.given).dump(value)
                rows.append((key, buffer.getvalue(), today))
        finally:
            _DUMPING.reset(token)
        try:
            with contextlib.closing(self._connect()) as db:
                db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", rows)
                db.execute("DELETE FROM results WHERE used < ?", (today - KEEP_DAYS,))
                db.commit()
        except sqlite3.DatabaseError:
            self._set_aside()

    def _set_aside(self) -> None:
        """A damaged cache file goes (renamed aside for a look, replacing the last one set aside)."""
        with contextlib.suppress(OSError):
            os.replace(self.path, self.path.with_name(self.path.name + ".damaged"))


def _select_in(db, select: str, values: list[str]) -> list[tuple]:
    """The rows of ``select`` (ending in the column compared) IN ``values``, asked 500 at a time (SQLite's limit on
    parameters)."""
    rows: list[tuple] = []
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        rows += db.execute(f"{select} IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    return rows


def relocated(value, source: Path, target: Path):
    """``value`` with every path inside ``source`` moved to the same place inside ``target`` (as the cache gives a
    result back for a registry wherever it lies). Schemes are given back as ``records.model.Scheme.loaded`` has
    them."""
    buffer = io.BytesIO()
    _Pickler(buffer, source).dump(value)
    with _paths_inside(target):
        return pickle.loads(buffer.getvalue())


class Deferred:
    """A part of a result that the cache keeps as a pickle of its own inside the result's, and reads only when asked
    for (``get``): a run reads every certificate's result, but a build without PDFs needs the records and history
    of the certificates that changed alone (at 10,000 certificates, unpickling them all took 0.6 s of a build after
    one decision; a build with PDFs, or certreg validate --base, reads them all). It is read with the registry
    path and the schemes (records.model.Scheme.loaded) its result was read with. Given to another process, or moved
    to another registry (``relocated``), it is the value itself."""

    __slots__ = ("_value", "_blob", "_root", "_schemes")

    def __init__(self, value=None):
        self._value = value
        self._blob: bytes | None = None
        self._root: Path | None = None
        self._schemes: dict | None = None

    def get(self):
        if self._blob is not None:
            from .records.model import Scheme

            # (read against the registry and the schemes its result was read with: another registry may have been
            # loaded since, as certreg validate --base loads the published one)
            was, Scheme.loaded = Scheme.loaded, self._schemes or {}
            try:
                with _paths_inside(self._root):
                    self._value = pickle.loads(self._blob)
            except Exception as exc:  # noqa: BLE001 (read after its result was: too late to make it again)
                from .errors import CertregError

                raise CertregError(f"the check cache in {folder()} is damaged ({exc}): remove it (or run with "
                                   "CERTREG_CACHE=off) and run again; a damaged cache never changes a verdict, "
                                   "and this run stopped before it could") from None
            finally:
                Scheme.loaded = was
            self._blob = self._root = self._schemes = None
        return self._value

    def __reduce__(self):
        into = _DUMPING.get()
        if into is None:
            return Deferred, (self.get(),)
        buffer = io.BytesIO()
        _Pickler(buffer, *into).dump(self.get())
        return _deferred, (buffer.getvalue(),)


def _deferred(blob: bytes) -> Deferred:
    root = _REGISTRY.get()
    if root is None:
        raise pickle.UnpicklingError("a registry path read without the registry it is inside")
    from .records.model import Scheme

    kept = Deferred()
    kept._blob, kept._root, kept._schemes = blob, root, Scheme.loaded
    return kept


class Deferreds(Mapping):
    """key -> item ``at`` of the value of each Deferred of ``kept`` (a mapping of Deferreds, shared by views of its
    items), each read when it is first looked up."""

    def __init__(self, kept: dict, at: int):
        self._kept, self._at = kept, at

    def __getitem__(self, key):
        return self._kept[key].get()[self._at]

    def __iter__(self):
        return iter(self._kept)

    def __len__(self) -> int:
        return len(self._kept)

    def __contains__(self, key) -> bool:
        return key in self._kept


# While a CheckCache puts results: the registry they are kept relative to (Deferred pickles itself there).
_DUMPING: contextvars.ContextVar[tuple[Path, Path] | None] = contextvars.ContextVar("certreg_cache_dumping",
                                                                                     default=None)


class _Stat:
    __slots__ = ("value", "racy")

    def __init__(self, value: bytes, racy: bool):
        self.value = value
        self.racy = racy


def _signature(cert_folder: Path) -> _Stat | None:
    """What ``os.stat`` says of a certificate folder's entries (names, kinds; each file's size, times, inode and
    device), as far down as ``_hash_tree`` reads; None where it would refuse the folder, or cannot list it."""
    parts: list[str] = []
    newest = 0
    try:
        stack = [(cert_folder, "", 0)]
        while stack:
            path, rel, depth = stack.pop()
            if depth > 1:
                return None
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
            for entry in entries:
                if entry.is_symlink():
                    return None
                if entry.is_dir(follow_symlinks=False):
                    parts.append(f"D{rel}{entry.name}")
                    stack.append((Path(entry.path), f"{rel}{entry.name}/", depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
                    parts.append(f"F{rel}{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
                                 f"\0{st.st_ino}\0{st.st_dev}")
                else:
                    return None
    except OSError:
        return None
    value = hashlib.sha256("\n".join(parts).encode()).digest()
    return _Stat(value, newest > time.time_ns() - RACY_SECONDS * 10**9)


class _Pickler(pickle.Pickler):
    """Paths inside the registry are kept relative to it: absolute ones inside ``root``, and relative ones inside
    ``given`` (the registry as the caller named it, when that is a relative path).

    (By a reducer for the path types in the pickler's dispatch table, which the pickler looks up in C by an
    object's exact type: a ``persistent_id`` is a call into Python for every object pickled, a third of the time
    a check spends keeping its results.)"""

    def __init__(self, file, root: Path, given: Path | None = None):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        # (the registry's own path, and the prefix of a path inside it; "" for a registry named ".")
        inside = [(str(root), f"{root}/")]
        if given is not None and not given.is_absolute():
            inside.append((str(given), "" if str(given) == "." else f"{given}/"))
        # The reducer holds ``inside``, never the pickler: a pickler in a cycle would outlive its ``dump`` with
        # everything it pickled (its memo) and its buffer, as long as the collector is off (a check turns it off).
        reduce = functools.partial(_reduce_path, tuple(inside))
        table = copyreg.dispatch_table.copy()
        for kind in (PosixPath, PurePosixPath, WindowsPath, PureWindowsPath):
            table[kind] = reduce
        self.dispatch_table = table


def _reduce_path(inside: tuple[tuple[str, str], ...], obj: PurePath):
    text = str(obj)
    if isinstance(obj, PurePosixPath):
        for own, prefix in inside:
            if text == own:
                return _registry_path, (".",)
            if text.startswith(prefix) and (prefix or not obj.is_absolute()):
                return _registry_path, (text[len(prefix):],)
    return obj.__reduce__()


# The registry that the results being unpickled lie in: a path kept relative to it is made under it. (Unpickled by
# the C unpickler itself, with no subclass: one per result, whose memo would hold the method it gives for this, and
# so itself, in a cycle, was 19 us a result to make and kept every result's pickled bytes and intermediate objects
# alive until the collector ran, which a check turns off.)
_REGISTRY: contextvars.ContextVar[Path | None] = contextvars.ContextVar("certreg_cache_registry", default=None)


@contextlib.contextmanager
def _paths_inside(root: Path):
    token = _REGISTRY.set(root)
    try:
        yield
    finally:
        _REGISTRY.reset(token)


def _registry_path(rel: str) -> Path:
    """A path kept relative to the registry (by ``_reduce_path``), under the registry being read (``_paths_inside``);
    an error outside it (a result read without the registry it is inside is not read: the cache makes it again)."""
    root = _REGISTRY.get()
    if root is None:
        raise pickle.UnpicklingError("a registry path read without the registry it is inside")
    return root / rel
