"""Which file a PATH on the command line means. Kept free of the parser so the
no-op fast path can find the entry without importing lark."""

from __future__ import annotations

from pathlib import Path

from .diagnostics import Diagnostics, InputError
from .limits import MAX_SOURCE_BYTES
from .source import Refused, display_path, open_regular, regular_size

SUFFIX = ".episode"


def find_entry(path: Path) -> Path:
    """The entry file for PATH: the file itself, or the one file in a folder
    that declares an ``episode``."""
    if not path.exists():
        raise InputError(
            [
                _plain_error(
                    f"no such file or folder: {display_path(path)}",
                    "give an .episode file or a folder that holds one",
                )
            ]
        )
    if not path.is_dir():
        try:
            regular_size(path, display_path(path))
        except Refused as refused:
            raise InputError([_plain_error(refused.message, refused.help)]) from None
        if path.suffix != SUFFIX:
            raise InputError(
                [
                    _plain_error(
                        f"{display_path(path)} is not an {SUFFIX} file",
                        f"blueprints are text files ending in {SUFFIX}",
                    )
                ]
            )
        return path
    candidates = sorted(path.glob(f"*{SUFFIX}"))
    entries = [p for p in candidates if _declares_episode(p)]
    if len(entries) == 1:
        return entries[0]
    if not entries:
        raise InputError(
            [
                _plain_error(
                    f"no episode in {display_path(path)}",
                    f"one {SUFFIX} file in the folder must declare `episode NAME {{ ... }}`",
                )
            ]
        )
    names = ", ".join(display_path(p) for p in entries)
    raise InputError(
        [
            _plain_error(
                f"more than one episode in {display_path(path)}: {names}",
                "build one of the files directly, or move the others"
                if find_series(path) is None
                else f"this folder is a series: build `{display_path(path)}:"
                f"{entries[0].stem}` for one episode (`reel build` builds them all)",
            )
        ]
    )


def find_series(path: Path) -> Path | None:
    """The series file PATH means, if it means one: PATH itself when it declares
    ``series``, or the one file in the folder PATH that does. Cheap (no parser):
    the no-op fast path asks it first."""
    if path.is_dir():
        found = [p for p in sorted(path.glob(f"*{SUFFIX}")) if _declares(p, "series ")]
        return found[0] if len(found) == 1 else None
    if path.suffix == SUFFIX and path.is_file() and _declares(path, "series "):
        return path
    return None


def _declares_episode(path: Path) -> bool:
    return _declares(path, "episode ")


def _declares(path: Path, keyword: str) -> bool:
    """Whether a line of the file begins with ``keyword``. Only regular files are
    opened (a named pipe called ``x.episode`` would block a read forever), and no
    more than the source size limit is read: a larger file that declares an
    episode is picked and then refused by the loader with its size."""
    try:
        with open_regular(path, path.name) as handle:
            text = handle.read(MAX_SOURCE_BYTES).decode("utf-8", errors="replace")
    except (Refused, OSError):
        return False
    return any(line.lstrip().startswith(keyword) for line in text.splitlines())


def _plain_error(message: str, help_: str) -> object:
    diags = Diagnostics()
    diags.error(message, None, help_)
    return diags.items[0]


def split_label(label: str) -> tuple[Path, str | None]:
    """`examples/pilot:master` → (examples/pilot, 'master')."""
    if ":" in label:
        path, _, target = label.partition(":")
        return Path(path or "."), target or None
    return Path(label), None
