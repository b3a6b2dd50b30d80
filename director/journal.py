"""The record of the Director's applied edits, newest last, so that
`reel direct undo [N]` can take back the last N byte for byte.

Each entry is one action's text edit with the blueprint's SHA-256 before and
after it. Undo applies the inverse edits newest first, and only if the file
is exactly as the Director left it: if a person edited it since, undo refuses
rather than lose their work (they can undo their own edit, or edit by hand).
Creating the blueprint is an entry too; its inverse removes the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reel.compiler.jsonio import dumps, write_atomic

from .edits import TextEdit

ABSENT = None  # the digest of a file that does not exist


def digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_text(path: Path) -> str | None:
    """The blueprint as text, exactly (no newline translation), or None."""
    return path.read_bytes().decode("utf-8") if path.exists() else None


def write_text(path: Path, text: str | None) -> None:
    """Write (atomically) or, for None, remove the blueprint."""
    if text is None:
        path.unlink(missing_ok=True)
        return
    write_atomic(path, text.encode("utf-8"))


@dataclass(frozen=True)
class Entry:
    run: str
    index: int  # the action's place in its plan; -1 for the Director's own steps
    kind: str
    summary: str
    file: str  # the blueprint, relative to the project folder
    edit: TextEdit
    before: str | None  # SHA-256 of the file before the edit (None: it did not exist)
    after: str

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "index": self.index,
            "kind": self.kind,
            "summary": self.summary,
            "file": self.file,
            "edit": self.edit.to_json(),
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            data["run"],
            int(data["index"]),
            data["kind"],
            data["summary"],
            data["file"],
            TextEdit.from_json(data["edit"]),
            data["before"],
            data["after"],
        )


class UndoError(RuntimeError):
    """Undo cannot proceed without losing something; nothing was changed."""


class Journal:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "journal.json"

    def entries(self) -> list[Entry]:
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return [Entry.from_json(x) for x in data["entries"]]

    def save(self, entries: list[Entry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"schema_version": "1.0.0", "entries": [e.to_json() for e in entries]}
        write_atomic(self.path, dumps(body).encode("utf-8"))

    def record(self, new: list[Entry]) -> None:
        self.save([*self.entries(), *new])

    def undo(self, project: Path, count: int) -> list[Entry]:
        """Take back the last ``count`` edits; return them, newest first."""
        entries = self.entries()
        if count < 1:
            raise UndoError("give a number of edits to undo, 1 or more")
        if count > len(entries):
            raise UndoError(f"there are {len(entries)} Director edit(s) to undo, not {count}")
        undone = list(reversed(entries[-count:]))
        texts: dict[str, str | None] = {}
        for entry in undone:
            if entry.file not in texts:
                texts[entry.file] = read_text(project / entry.file)
            current = texts[entry.file]
            if digest(current) != entry.after:
                raise UndoError(
                    f"{entry.file} changed since the Director's edit '{entry.summary}' "
                    f"(run {entry.run}); undoing it would lose those changes. Undo or "
                    "revert your own edit first"
                )
            restored = None if entry.before is ABSENT else entry.edit.inverse().apply(current or "")
            if digest(restored) != entry.before:
                raise UndoError(f"the journal does not match {entry.file}; nothing was undone")
            texts[entry.file] = restored
        for name, text in texts.items():
            write_text(project / name, text)
        self.save(entries[:-count])
        return undone
