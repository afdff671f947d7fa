"""What a build takes from the published site instead of making it again: every file whose inputs are unchanged.

Each file certreg writes into the site has a *key*: the sha256 of everything it is made from (the record's
public view, the templates and the code that fill them, the shell page, the date it is built as of...). The site
keeps, in ``.certreg/manifest.tsv``, each file's key and what the file system said of it once written (size,
modification time, inode). A new build hard-links into its new folder every file whose key is unchanged and whose
published copy is still the one the manifest describes (one ``stat``: a file edited or replaced since is made
again), and makes the rest. The new folder is then checked and exchanged with the published one as a whole, as
before: reusing never writes into the published site, and a file is never written through a link (``write``
removes the link first), so that the published site never changes under a build.

The manifest is a file of the site itself, so that it is exchanged with the site in the same step and always
describes it; it is under ``.certreg/``, which uploads and the public need not see (publish/upload.py skips it).
It lists every file of the site, those the site engine wrote too (with no key: they are never linked by key).

The site a build replaces is kept beside the published one (build.py: ``.OUT.spare``) as the next build's starting
folder: most of its files are the published files themselves (links), and its folders are there. That build
``Reuse``s it as ``base``: a file it already has from the same inputs, linked to the same published file, is left
as it is; the rest is linked or made in its place, and what the new site no longer has is removed (``prune``). So
a build after one decision creates and removes folders and links by the change, not by the size of the registry
(this file system takes about 0.3 ms a folder made or removed: 20,000 certificate pages took 12 s both ways).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import CertregError

FOLDER = ".certreg"
MANIFEST = f"{FOLDER}/manifest.tsv"
FORMAT = "certreg-manifest/3"  # (/1 did not list the engine's files, /2 the folders: neither is started from)
FOLDER_KEY = "/"  # the key of a folder's line (its path ends in /): its modification time and inode
WRITTEN = "-"  # the key of a file written by the caller, not made from a key (the engine's, the sitemaps)


# (one encoder for every digest: json.dumps with options makes a new one at each call, half the time of a key)
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(*parts) -> str:
    """The sha256 of ``parts``: each one's kind and length, then its bytes (text in UTF-8, bytes as they are, any
    other JSON-able value as canonical JSON). (Text is not encoded as JSON: most parts of a key are text, digests
    of other inputs among them, and a build after one decision finds tens of thousands of keys.)"""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            data, kind = part.encode(), b"s"
        elif isinstance(part, bytes):
            data, kind = part, b"b"
        else:
            data, kind = _CANONICAL.encode(part).encode(), b"j"
        h.update(kind + len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class Reuse:
    """Writes files into the new site ``into``, linking those the published site ``published`` has already."""

    def __init__(self, published: Path | None, into: Path, base: dict | None = None):
        """``base``: the manifest of what ``into`` holds already (a site kept from an earlier build), if anything."""
        self.published, self.into = published, into
        self.old: dict[str, tuple[str, int, int, int]] = read_manifest(published) if published else {}
        self.new: dict[str, tuple[str, int, int, int]] = {}
        self.base: dict[str, tuple[str, int, int, int]] = base or {}
        self.linked = 0
        self.written = 0
        self.pruned = 0
        # (paths as text: a build links tens of thousands of files, and pathlib would take longer than the links)
        self._from = str(published) if published is not None else None
        self._into = str(into)
        # the folders that are there: those of the files of the base (until ``prune``)
        self._folders: set[str] = {f"{self._into}/{p.rpartition('/')[0]}".rstrip("/") for p in self.base}

    def _folder(self, path: Path) -> None:
        self._folder_of(str(path))

    def _folder_of(self, target: str) -> None:
        parent = target.rpartition("/")[0]
        if parent not in self._folders:
            os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)

    def _link_current(self, path: str, key: str) -> bool:
        """Link ``path`` from the published site into the new one if it is ``current``; whether it did. (A hard
        link is the published file itself: its manifest entry holds for the new site, with no ``stat``.)"""
        if not self.current(path, key):
            return False
        source, target = f"{self._from}/{path}", f"{self._into}/{path}"
        entry = self.old[path]
        # (the base lists the same file there: it is still there, as whole_site found every folder of the base as the
        # build that made it left it, and so every name in them naming the file it named)
        if self.base.get(path) != entry:
            self._folder_of(target)
            try:
                os.link(source, target)
            except FileExistsError:
                os.unlink(target)
                os.link(source, target)
        self.new[path] = entry
        self.linked += 1
        return True

    def current(self, path: str, key: str) -> bool:
        """Whether the published site has ``path`` made from ``key``, unchanged since."""
        entry = self.old.get(path)
        if entry is None or entry[0] != key or self._from is None:
            return False
        try:
            st = os.stat(f"{self._from}/{path}", follow_symlinks=False)
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns, st.st_ino) == entry[1:]

    def put(self, path: str, key: str, make: Callable[[], bytes]) -> bool:
        """The file ``path`` of the new site, made from ``key``: linked from the published site if it has it
        (True), else ``make()`` written (False)."""
        if self._link_current(path, key):
            return True
        target = self.into / path
        self._folder(target)
        write(target, make())
        self.written += 1
        self.record(path, key)
        return False

    def put_all(self, items: list[tuple[str, str, Callable[[], bytes]]], jobs: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> None:
        """``put`` each of ``items`` (path, key, make): the files to make are made by ``jobs`` processes (default:
        one per core), forked from this one (``make`` runs in them as it would here)."""
        import multiprocessing

        todo = []
        for path, key, make in items:
            if not self._link_current(path, key):
                todo.append((path, key, make))
        done = len(items) - len(todo)
        jobs = jobs or os.cpu_count() or 1
        if jobs == 1 or len(todo) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
            for path, key, make in todo:
                self.put(path, key, make)
                done += 1
                if progress:
                    progress(done, len(items))
            return
        _WORK["todo"], _WORK["into"] = todo, self.into
        size = max(20, min(200, len(todo) // (jobs * 8)))
        chunks = [(i, min(i + size, len(todo))) for i in range(0, len(todo), size)]
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for first, last in pool.imap_unordered(_make_chunk, chunks):
                    for path, key, _make in todo[first:last]:
                        self.record(path, key)
                    self.written += last - first
                    done += last - first
                    if progress:
                        progress(done, len(items))
        finally:
            _WORK.clear()

    def record(self, path: str, key: str) -> None:
        """Note ``path`` (written into the new site by the caller) as made from ``key``."""
        st = os.stat(self.into / path, follow_symlinks=False)
        self.new[path] = (key, st.st_size, st.st_mtime_ns, st.st_ino)

    def note(self, path: str) -> None:
        """Note ``path``, written into the new site by the caller (not made from a key), so that the manifest
        lists it: the site engine's files, the sitemaps."""
        self.record(path, WRITTEN)

    def prune(self) -> None:
        """Remove from the new site what the base had and the new site has not (files, then the folders they
        leave empty)."""
        folders = set()
        for path in self.base.keys() - self.new.keys():
            try:
                os.unlink(f"{self._into}/{path}")
            except FileNotFoundError:
                pass
            self.pruned += 1
            parent = path.rpartition("/")[0]
            while parent:
                folders.add(parent)
                parent = parent.rpartition("/")[0]
        for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):  # (the deepest first)
            try:
                os.rmdir(f"{self._into}/{folder}")
            except OSError:  # (not empty: it holds a file of the new site)
                continue
            self._folders.discard(f"{self._into}/{folder}")

    def save(self) -> None:
        odd = sorted(p for p in self.new if "\t" in p or "\n" in p)
        if odd:  # (the manifest is one line per file, its fields apart by tabs)
            raise CertregError(f"the site would have a file whose name holds a tab or a line break, {odd[0]!r}: "
                               "rename it (nothing was published)")
        lines = [f"# {FORMAT}"] + [f"{p}\t{k}\t{s}\t{m}\t{i}" for p, (k, s, m, i) in sorted(self.new.items())]
        # each folder's modification time and inode, as the last file was written (the manifest's own folder, which
        # it changes, aside): a file or folder put into one since changes its time (whole_site)
        (self.into / FOLDER).mkdir(exist_ok=True)
        folders = {""}
        for path in self.new:
            parent = path.rpartition("/")[0]
            while parent not in folders:
                folders.add(parent)
                parent = parent.rpartition("/")[0]
        for folder in sorted(folders):
            st = os.stat(f"{self._into}/{folder}")
            lines.append(f"{folder}/\t{FOLDER_KEY}\t0\t{st.st_mtime_ns}\t{st.st_ino}")
        write(self.into / MANIFEST, ("\n".join(lines) + "\n").encode())


PARALLEL_FROM = 400  # files to make: fewer are made here (forking costs more than it saves)
_WORK: dict = {}  # what forked workers make: set just before forking (fork copies it; nothing is pickled)


def _make_chunk(span: tuple[int, int]) -> tuple[int, int]:
    first, last = span
    into = _WORK["into"]
    for path, _key, make in _WORK["todo"][first:last]:
        write(into / path, make())
    return span


def whole_site(folder: Path) -> dict | None:
    """The manifest of ``folder`` (a site an earlier build made, as the starting folder of a new one) if it lists
    every file there and no other, else None: then the folder is not to be started from (a file put there since,
    which no manifest names, would be published again). Every file or folder added to or removed from a folder
    changes that folder's modification time, and the manifest has each folder's as the build left it: one ``stat``
    of each folder tells (as git's untracked cache does), where listing them would take ten times as long."""
    if not folder.is_dir() or folder.is_symlink():
        return None
    listed, folders = _read(folder)
    if not listed or "/" not in folders:
        return None
    try:  # (the manifest's own folder, whose time its writing changes: nothing but the manifest in it)
        if os.listdir(folder / FOLDER) != [MANIFEST.rpartition("/")[2]] or (folder / FOLDER).is_symlink():
            return None
    except OSError:
        return None
    for path, (_key, _size, mtime, ino) in folders.items():
        try:
            st = os.stat(f"{folder}/{path}", follow_symlinks=False)
        except OSError:
            return None
        if (st.st_mtime_ns, st.st_ino) != (mtime, ino):
            return None
    return listed


def read_manifest(site: Path) -> dict[str, tuple[str, int, int, int]]:
    """The files of the manifest of ``site`` (empty if it has none, one of another format or a damaged one: then
    nothing is taken from that site, and a starting folder with no manifest is not started from: ``whole_site``)."""
    return _read(site)[0]


def _read(site: Path) -> tuple[dict, dict]:
    """The manifest of ``site``: its files and its folders (path with a final /)."""
    try:
        text = (site / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}, {}
    lines = text.split("\n")  # (not splitlines: a file name may hold a character it would break a line at)
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != f"# {FORMAT}":
        return {}, {}
    files, folders = {}, {}
    try:
        for line in lines[1:]:
            path, key, size, mtime, ino = line.split("\t")
            if not (size.isdigit() and mtime.isdigit() and ino.isdigit()):
                raise ValueError(line)
            if path.endswith("/") and key == FOLDER_KEY:
                folders[path] = (key, int(size), int(mtime), int(ino))
            else:
                files[path] = (key, int(size), int(mtime), int(ino))
    except ValueError:  # (not five fields, or not numbers where they are)
        return {}, {}  # damaged: trust none of it
    return files, folders


def write(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` as a new file: a link there (to a published file) is removed first, never
    written through."""
    if os.path.lexists(path):
        os.unlink(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as f:
        f.write(data)
