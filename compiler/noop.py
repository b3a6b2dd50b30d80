"""The no-op fast path: is the last successful build still up to date?

Like ninja, a build that has nothing to do should cost milliseconds. After a
successful build we record the digest of every input it read (the loaded
`.episode` files, every media file, fonts, the speech library, the ffmpeg
binary, and Reel's own code) and of every output it delivered. The next
`reel build` with the same entry, targets, profile and output tree first
re-checks those digests, through the stat-keyed memo, so unchanged files are
not even read; if all match it replays the record and stops, before the
compiler, pydantic, numpy or ffmpeg-python are imported.

This module must stay light: it imports only the store and the hashing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .hashing import hash_value
from .jsonio import write_json
from .store import Store

PACKAGE = Path(__file__).resolve().parent.parent
RECORD_VERSION = 1


CODE_DIRS = ("lang", "compiler", "backends")


def code_files() -> list[Path]:
    """Reel's own code and data: a change to any of them invalidates the record.
    Only the package's folders are listed: in an editable install the package
    root is the repository, and walking .git or a virtualenv would cost more
    than the build it saves."""
    files = list(PACKAGE.glob("*.py"))
    for folder in CODE_DIRS:
        files += PACKAGE.joinpath(folder).rglob("*.py")
    files += [PACKAGE / "grammar.lark", *PACKAGE.joinpath("stdlib").glob("*.episode")]
    return sorted(p for p in files if p.is_file())


def record_path(
    store: Store, entry: Path, out: Path, target: str | None, profile: str, backend: str
) -> Path:
    key = hash_value(
        {
            "v": RECORD_VERSION,
            "entry": str(entry.resolve()),
            "out": str(out.resolve()),
            "target": target,
            "profile": profile,
            "backend": backend,
        }
    )
    return store.root / "noop" / f"{key.split(':')[1]}.json"


def _digests(store: Store, paths: list[Path]) -> dict[str, str] | None:
    out = {}
    for path in paths:
        try:
            out[str(path)] = store.file_digest(path)
        except OSError:
            return None
    return out


def up_to_date(store: Store, record: Path) -> dict[str, Any] | None:
    """The recorded build, if every input and output still has its digest."""
    try:
        data = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    for section in ("inputs", "outputs"):
        paths = [Path(p) for p in data.get(section, {})]
        now = _digests(store, paths)
        if now is None or now != data[section]:
            return None
    if _digests(store, code_files()) != data.get("code"):
        return None
    store.save_memo()
    return data


def remember(
    store: Store, record: Path, inputs: list[Path], outputs: list[Path], replay: dict[str, Any]
) -> None:
    """Record a successful build for the next no-op check."""
    ins, outs, code = (
        _digests(store, sorted(set(inputs))),
        _digests(store, outputs),
        _digests(store, code_files()),
    )
    if ins is None or outs is None or code is None:
        return
    write_json(record, {"inputs": ins, "outputs": outs, "code": code, "replay": replay})
    store.save_memo()
