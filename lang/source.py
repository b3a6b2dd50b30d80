"""Source files and spans: where every diagnostic and AST node points."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
