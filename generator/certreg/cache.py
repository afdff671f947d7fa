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
import hashlib
import io
import os
import pickle
import sqlite3
import sys
import time
from pathlib import Path, PurePath

SCHEMA = 1
KEEP_DAYS = 30  # a result unused this long is dropped


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

    def __init__(self, root: Path, context: tuple, path: Path | None = None):
        self.root = Path(root).resolve()
        h = hashlib.sha256(repr((SCHEMA, code_identity(), context)).encode())
        for rel in ("registry.yml", *sorted(f"schemes/{p.name}" for p in (self.root / "schemes").glob("*.yml"))):
            with contextlib.suppress(OSError):
                h.update(rel.encode() + b"\0" + (self.root / rel).read_bytes() + b"\0")
        self.context = h.hexdigest()
        self.path = path or folder() / "checks.sqlite"
        self.hits = 0
        self.misses = 0

    # --- keys ---

    def key(self, cert_folder: Path) -> str | None:
        """The key of a certificate folder's result: its name and every file's path and bytes, with the
        context; None if it holds anything but regular files and folders (or cannot be read)."""
        h = hashlib.sha256(self.context.encode() + b"\0" + cert_folder.name.encode() + b"\0")
        try:
            if not self._hash_tree(cert_folder, "", h, depth=0):
                return None
        except OSError:
            return None
        return h.hexdigest()

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
        db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB, used INTEGER)")
        return db

    def get(self, keys: list[str]) -> dict[str, object]:
        """The results kept under ``keys`` (those it has)."""
        found: dict[str, object] = {}
        if not keys:
            return found
        try:
            with contextlib.closing(self._connect()) as db:
                for i in range(0, len(keys), 500):
                    chunk = keys[i:i + 500]
                    rows = db.execute(f"SELECT key, value FROM results WHERE key IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall()
                    for key, value in rows:
                        with contextlib.suppress(Exception):  # (an entry that cannot be read is made again)
                            found[key] = _Unpickler(io.BytesIO(value), self.root).load()
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
        for key, value in results.items():
            buffer = io.BytesIO()
            _Pickler(buffer, self.root).dump(value)
            rows.append((key, buffer.getvalue(), today))
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


class _Pickler(pickle.Pickler):
    """Paths inside the registry are kept relative to it."""

    def __init__(self, file, root: Path):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.root = root

    def persistent_id(self, obj):
        if isinstance(obj, PurePath) and obj.is_absolute() and obj.is_relative_to(self.root):
            return ("registry-path", obj.relative_to(self.root).as_posix())
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, root: Path):
        super().__init__(file)
        self.root = root

    def persistent_load(self, pid):
        kind, rel = pid
        if kind != "registry-path":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        return self.root / rel
