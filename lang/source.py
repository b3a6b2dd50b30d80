"""Source files and spans: where every diagnostic and AST node points; and the
rules for which files Reel agrees to read at all.

Every file a blueprint names (a load, a plate, a sound, an asset) must resolve,
after symlinks, inside the project (the folder of the entry ``.episode``) or the
bundled standard library, and must be a regular file: a blueprint is shared and
built by other people, so it must not be able to read ``/etc/passwd`` into an
error message, or hang a build on a named pipe.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .limits import describe_bytes

STDLIB_DIR = Path(__file__).resolve().parent.parent / "stdlib"


@dataclass(frozen=True)
class SourceFile:
    """One loaded `.episode` file.

    ``path`` is the real location; ``display`` is what messages print (relative
    to the working directory where possible, so errors never leak machine paths
    unnecessarily); ``key`` is the path relative to the episode root, the only
    form allowed to reach an artifact.
    """

    path: Path
    text: str
    display: str
    key: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


@dataclass(frozen=True)
class Span:
    """A 1-based, end-exclusive region of a source file."""

    file: SourceFile
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file.display}:{self.line}:{self.column}"

    def __repr__(self) -> str:
        return f"Span({self})"


def display_path(path: Path) -> str:
    """A path as a user should see it: relative to the cwd when under it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - different drive on Windows
        return str(path)


class Refused(Exception):
    """A path Reel will not read: what is wrong (``message``) and how to fix it (``help``).

    Callers turn it into a diagnostic at the span of the string that named the path.
    """

    def __init__(self, message: str, help_: str) -> None:
        super().__init__(message)
        self.message = message
        self.help = help_


_CONTROL = {chr(c) for c in range(0x20)} | {"\x7f"}
_OUTSIDE_HELP = (
    "a project reads only files inside its folder (where the entry .episode is) "
    "and the standard library; copy the file into the project and name it from there"
)


def check_path_text(text: str) -> None:
    """Refuse characters no portable file name holds. A NUL would otherwise reach
    the OS and fail as an internal error; other control characters are typos."""
    bad = next((c for c in text if c in _CONTROL), None)
    if bad is not None:
        what = "a NUL byte" if bad == "\0" else f"the control character U+{ord(bad):04X}"
        raise Refused(
            f'the path "{text.encode("unicode_escape").decode()}" holds {what}',
            "file names may not hold control characters; retype the path",
        )


def confine(text: str, base: Path, roots: tuple[Path, ...], shown: str | None = None) -> Path:
    """``text`` (a relative path) resolved against ``base``, following symlinks;
    raise :class:`Refused` unless the result lies inside one of ``roots``
    (resolved folders). The file itself is never opened, so nothing outside the
    roots can leak into a message, not even whether it exists. Messages quote
    ``shown`` (the path as the user wrote it), or ``text``."""
    shown = text if shown is None else shown
    check_path_text(shown)
    check_path_text(text)
    try:
        real = (base / text).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise Refused(
            f'"{shown}" cannot be resolved: {getattr(exc, "strerror", None) or exc}',
            "check the path and any symbolic links along it",
        ) from None
    if any(real.is_relative_to(root) for root in roots):
        return real
    lexical = Path(os.path.normpath(base / text))
    if any(lexical.is_relative_to(root) for root in roots):
        raise Refused(f'"{shown}" is a symbolic link to a file outside the project', _OUTSIDE_HELP)
    raise Refused(f'"{shown}" is outside the project', _OUTSIDE_HELP)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(shown: str, mode: int) -> Refused:
    return Refused(
        f'"{shown}" is {_kind(mode)}, not a regular file',
        "name a regular file; Reel never opens pipes, devices or folders as sources",
    )


def regular_size(path: Path, shown: str) -> int | None:
    """The size of ``path`` if it is a regular file, None if it does not exist.
    Raise :class:`Refused` for anything else (a FIFO, a device, a folder, an
    unreadable path). Uses ``stat`` only: nothing is opened."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise Refused(
            f'cannot read "{shown}": {exc.strerror or exc}',
            "check that the file exists and is readable",
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(shown, info.st_mode)
    return info.st_size


def open_regular(
    path: Path, shown: str, limit: int | None = None, kind: str = "this kind of file"
) -> BinaryIO:
    """Open a regular file for reading, refusing anything else without blocking.

    ``stat`` first, so a FIFO or device is never opened; then open with
    ``O_NONBLOCK`` and check again with ``fstat``, so a file swapped for a pipe in
    between cannot hang the open either. With ``limit``, a larger file is refused
    from its size, before a byte is read.
    """
    size = regular_size(path, shown)
    if size is None:
        raise Refused(f'cannot read "{shown}": no such file', "check the path")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise Refused(
            f'cannot read "{shown}": {exc.strerror or exc}',
            "check that the file exists and is readable",
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _not_regular(shown, info.st_mode)
    if limit is not None and info.st_size > limit:
        os.close(fd)
        raise Refused(
            f'"{shown}" is {describe_bytes(info.st_size)}, over the limit of '
            f"{describe_bytes(limit)} for {kind}",
            "split it into smaller files, or check that it is the file you meant",
        )
    return os.fdopen(fd, "rb")
