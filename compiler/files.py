"""Placing files so that no wrong byte is ever served and no user file is touched.

Three operations the store and the delivery of outputs share:

* ``place_verified``: copy a file (a reflink when the filesystem can share
  blocks, else a plain copy) and check its digest in the same pass. A cache
  blob or a source that no longer has the digest the build was keyed on is
  refused instead of handed on. Never a hard link: an output a user edits in
  place, or an action that writes to its input, must not reach the store.
* ``exchange``: swap two folders atomically (Linux ``renameat2`` with
  ``RENAME_EXCHANGE``), so a delivered set of outputs is replaced by the next
  one in a single step, with a two-rename fallback where the kernel or the
  filesystem cannot.
* ``regular_file``: whether a path is a regular file, without following it
  into a FIFO or a device (opening a FIFO blocks forever); ``is_file`` and
  ``is_dir`` answer False instead of raising for a name that cannot exist.

Python's standard library has no reflink and no ``renameat2``; both are one
system call, so they are called here through ``fcntl`` and ``ctypes``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import stat
import tempfile
from pathlib import Path

import xxhash

from .hashing import PREFIX

_CHUNK = 1 << 20
_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


class DigestMismatch(Exception):
    """The bytes read do not have the digest they were expected to have."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(f"{path}: expected {expected}, read {actual}")
        self.path = path
        self.expected = expected
        self.actual = actual


def is_file(path: Path) -> bool:
    """``Path.is_file()``, but False (not a crash) for a name that cannot exist
    at all: a component longer than the file system allows (ENAMETOOLONG), a
    NUL byte, a permission problem on the way. A blueprint may name such a
    path; for Reel it is simply not a file, reported as missing."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _reflink(src_fd: int, dst_fd: int) -> bool:
    try:
        fcntl.ioctl(dst_fd, _FICLONE, src_fd)
    except OSError:
        return False
    return True


def _hash_fd(fd: int) -> str:
    digest = xxhash.xxh3_128()
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, _CHUNK):
        digest.update(chunk)
    return PREFIX + digest.hexdigest()


def _copy_hashing(src_fd: int, dst_fd: int) -> str:
    digest = xxhash.xxh3_128()
    while chunk := os.read(src_fd, _CHUNK):
        digest.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst_fd, view) :]
    return PREFIX + digest.hexdigest()


def place_verified(src: Path, dest: Path, expected: str | None, mode: int = 0o644) -> str:
    """Copy ``src`` to ``dest`` atomically (a unique temporary name, then a
    rename) and return the digest of the bytes placed. With ``expected``, a
    different digest raises DigestMismatch and ``dest`` is left as it was."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name[:64]}.", suffix=".reel-tmp", dir=dest.parent)
    try:
        with open(src, "rb") as source:
            if _reflink(source.fileno(), fd):
                actual = _hash_fd(fd)
            else:
                actual = _copy_hashing(source.fileno(), fd)
        os.close(fd)
        fd = -1
        if expected is not None and actual != expected:
            raise DigestMismatch(src, expected, actual)
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return actual


def _libc_renameat2() -> ctypes._CFuncPtr | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        func = ctypes.CDLL(name, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_RENAMEAT2 = _libc_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one step; False if this system
    cannot (the caller then falls back to two renames)."""
    if _RENAMEAT2 is None:
        return False
    result = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(errno, os.strerror(errno), str(a))
