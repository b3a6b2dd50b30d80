"""Ask the file system about a path a blueprint named, without crashing.

``Path.is_file()`` answers False for a missing file but raises for a name that
cannot exist at all: a component longer than the file system allows
(ENAMETOOLONG), a NUL byte (ValueError), a permission problem on the way. A
blueprint may name such a path; for Reel it is simply not a file, and the
caller reports it as missing, with its position.
"""

from __future__ import annotations

from pathlib import Path


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
