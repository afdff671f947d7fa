"""Registry input that cannot hurt: regular files and folders only, never a link, never too big.

A registry is a folder of small text files that anyone can propose changes to. A symbolic link among
them could make certreg read ``/dev/zero`` (memory), print ``/etc/passwd`` (in an error message), list
a system folder, or publish a file from outside the registry; a FIFO would make it wait for ever. So
every entry of the registry is looked at with ``lstat`` (a link is never followed), anything that is
not a regular file or a folder is refused (REG-LAYOUT) by its own path, without opening it, and a file
is read only through ``read_regular``: opened with O_NOFOLLOW|O_NONBLOCK, checked again with ``fstat``
(a regular file, the one looked at, under its size limit) and read up to that limit, no further.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import CertregError

RULE = "REG-LAYOUT"
MAX_ARTWORK_BYTES = 512 * 1024  # an SVG mark or seal is a few kilobytes; this is a mistake, or an attack

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotSafe(CertregError):
    """The entry is not a regular file or a folder (a link, a FIFO, a socket, a device): a REG-LAYOUT problem.

    ``message`` says what the entry is and what to do (the problem names the path); never where a link
    points, nor what is in it. The exception's text starts with the path, when it is known.
    """

    def __init__(self, message: str, path=None):
        super().__init__(f"{path} {message}" if path is not None else message)
        self.message = message
        self.path = path


class TooBig(CertregError):
    """The file is larger than the limit for its kind."""

    def __init__(self, size: int, limit: int, path=None):
        super().__init__(f"{f'{path} ' if path is not None else ''}is {size:,} bytes; at most {limit:,} are read")
        self.size = size
        self.limit = limit


_ONLY = "the registry holds regular files and folders only"


def refusal(mode: int) -> str | None:
    """Why an entry of this ``st_mode`` is refused, or None for a regular file or a folder."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return (f"is a symbolic link: {_ONLY}, never links (a link could point outside the registry); "
                "put the file or folder itself here")
    if stat.S_ISFIFO(mode):
        return f"is a named pipe (FIFO), not a file: {_ONLY}; delete it"
    if stat.S_ISSOCK(mode):
        return f"is a socket, not a file: {_ONLY}; delete it"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"is a device, not a file: {_ONLY}; delete it"
    return f"is not a regular file or folder: {_ONLY}; delete it"  # pragma: no cover - no other kinds on Linux


def kind(path) -> str | None:
    """``"file"``, ``"dir"`` or None (nothing there); NotSafe for anything else. Never follows a link."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    why = refusal(mode)
    if why:
        raise NotSafe(why, path)
    return "dir" if stat.S_ISDIR(mode) else "file"


def entry_kind(entry: os.DirEntry) -> str:
    """``"file"`` or ``"dir"`` of a folder's entry (from the listing: usually no system call); NotSafe else."""
    if entry.is_file(follow_symlinks=False):
        return "file"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    found = kind(entry.path)  # a link, a FIFO, a socket, a device (or an entry of unknown type: lstat)
    if found is None:
        raise NotSafe("vanished while the registry was read; run the command again")
    return found


def is_dir(path) -> bool:
    """True for a real folder (not a link to one); NotSafe for a link, FIFO, socket or device."""
    return kind(path) == "dir"


def read_regular(path, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    NotSafe if it is a link, FIFO, socket or device (it is then never opened); TooBig if larger than
    ``limit``; OSError if it cannot be read (missing, a folder: IsADirectoryError).
    """
    path = os.fspath(path)
    before = os.lstat(path)
    why = refusal(before.st_mode)
    if why:
        raise NotSafe(why, path)
    if stat.S_ISDIR(before.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if before.st_size > limit:
        raise TooBig(before.st_size, limit, path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EMLINK):  # made a link or a socket since lstat
            raise NotSafe("changed while the registry was read; run the command again", path) from None
        raise
    try:
        st = os.fstat(fd)
        why = refusal(st.st_mode)
        if why:
            raise NotSafe(why, path)
        if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise NotSafe("changed while the registry was read; run the command again", path)
        if st.st_size > limit:
            raise TooBig(st.st_size, limit, path)
        chunks = []
        left = limit + 1  # one byte more than allowed tells a file that grew after fstat
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 16))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise TooBig(len(data), limit, path)
    return data


def check_regular(path, limit: int) -> None:
    """That ``path`` is a regular file of at most ``limit`` bytes, without opening it (NotSafe, TooBig, OSError)."""
    st = os.lstat(path)
    why = refusal(st.st_mode)
    if why:
        raise NotSafe(why, path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if st.st_size > limit:
        raise TooBig(st.st_size, limit, path)


def inside(root: Path, relative: str | Path) -> Path:
    """``root / relative`` after checking that every folder on the way is a real folder inside ``root``.

    NotSafe (its ``path`` the part) for a link, FIFO, socket or device on the way, or a path that leaves ``root``
    (``..``, an absolute path); FileNotFoundError or NotADirectoryError if a part is missing or a file.
    """
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise NotSafe("is not a path inside the registry", relative)
    path = Path(root)
    for part in rel.parts[:-1]:
        path = path / part
        try:
            found = kind(path)
        except NotSafe as exc:
            raise NotSafe(exc.message, path) from None
        if found is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        if found != "dir":
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    return path / rel.parts[-1] if rel.parts else path
