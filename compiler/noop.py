"""The no-op fast path: is the last successful build still up to date?

Like ninja, a build that has nothing to do should cost milliseconds. After a
successful build we record the digest of every input it read (the loaded
`.episode` files, every media file, fonts, the speech library, the ffmpeg
binary, and Reel's own code), every file it looked for and did not find (a
missing image is a placeholder until it appears), and every output it
delivered. The next
`reel build` with the same entry, targets, profile and output tree first
re-checks those digests, through the stat-keyed memo, so unchanged files are
not even read; if all match it replays the record and stops, before the
compiler, pydantic, numpy or ffmpeg-python are imported.

This module must stay light: it imports only the store and the hashing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .hashing import hash_value
from .jsonio import write_json
from .store import Store, is_digest, read_json_dict

PACKAGE = Path(__file__).resolve().parent.parent
RECORD_VERSION = 2


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


def _digest_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and is_digest(v) for k, v in value.items()
    )


def _well_formed(data: dict[str, Any]) -> bool:
    """The record has the shape `remember` writes; anything else is a miss."""
    missing = data.get("missing")
    return (
        all(_digest_map(data.get(s)) for s in ("inputs", "outputs", "code"))
        and isinstance(missing, list)
        and all(isinstance(p, str) for p in missing)
        and isinstance(data.get("replay"), dict)
    )


def up_to_date(store: Store, record: Path) -> dict[str, Any] | None:
    """The recorded build, if every input and output still has its digest and
    no file it looked for in vain has appeared."""
    data = read_json_dict(record)
    if data is None or not _well_formed(data):
        return None
    if any(Path(p).exists() for p in data["missing"]):
        return None
    for section in ("inputs", "outputs"):
        now = _digests(store, [Path(p) for p in data[section]])
        if now is None or now != data[section]:
            return None
    if _digests(store, code_files()) != data["code"]:
        return None
    store.save_memo()
    return data


def remember(
    store: Store,
    record: Path,
    inputs: list[Path],
    outputs: list[Path],
    replay: dict[str, Any],
    missing: list[Path],
) -> None:
    """Record a successful build for the next no-op check."""
    ins, outs, code = (
        _digests(store, sorted(set(inputs))),
        _digests(store, outputs),
        _digests(store, code_files()),
    )
    if ins is None or outs is None or code is None:
        return
    gone = sorted({str(p) for p in missing})
    write_json(
        record, {"inputs": ins, "outputs": outs, "code": code, "missing": gone, "replay": replay}
    )
    store.save_memo()
