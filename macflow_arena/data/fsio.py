"""Durable file operations: every byte goes through ``os.write`` on a file descriptor.

Shards are written to a temp file in the dataset folder, fsynced, renamed and
the folder fsynced; manifest lines are appended with one ``os.write`` call
sequence and fsynced. On failure (e.g. ``ENOSPC``) the partial temp file or
manifest tail is removed and the original ``OSError`` is re-raised.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:  # pragma: no cover - os.write raises rather than returning 0
            raise OSError(errno.EIO, "os.write wrote nothing")
        view = view[n:]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(final_name: str) -> str:
    return f".{final_name}.{os.getpid()}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def atomic_write(folder: Path, name: str, data: bytes, *, replace: bool = False) -> Path:
    """Write ``folder/name`` atomically: temp file, fsync, rename, fsync folder.

    With ``replace=False`` an existing final file is an error (shards are immutable).
    """
    folder = Path(folder)
    final = folder / name
    tmp = folder / temp_name(name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if not replace and final.exists():
            raise FileExistsError(errno.EEXIST, f"{final} exists; shards are never overwritten")
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(folder)
    return final


def append_durable(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` and fsync; on failure cut the file back to its old size."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        try:
            write_all(fd, data)
            os.fsync(fd)
        except BaseException:
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


def read_regular(path: Path, max_bytes: int | None = None) -> bytearray:
    """Read a regular file without ever blocking (a FIFO or device is refused)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"{path} is not a regular file")
        size = st.st_size
        if max_bytes is not None and size > max_bytes:
            size = max_bytes
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            n = os.readv(fd, [view[got:]])
            if n == 0:
                break
            got += n
        if got < size:
            del buf[got:]
        return buf
    finally:
        os.close(fd)


class FileLock:
    """An exclusive, non-blocking ``flock`` on ``path`` (released when the process dies)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        write_all(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
