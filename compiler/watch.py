"""`reel watch`: rebuild an episode each time one of its files is saved.

What is watched: the episode's folder (everything in it a build may read:
blueprints, images, sounds, fonts) and the files the last good build loaded
from outside it (an imported blueprint or a picture in a sibling folder),
read from the no-op record that build wrote (``noop.remember``). Never the
output tree or the cache (the build writes there: watching them would loop),
nor what a Python environment or an editor keeps (``watchfiles``' defaults:
``.venv``, ``.git``, swap and backup files), nor Reel's toolchain (ffmpeg,
the speech library and voices live under the Python installation).

A burst of saves (an editor writing a file in steps, a ``git checkout``) is
one rebuild: changes are gathered until none has come for ``step`` ms. A
save during a build is noticed by the watcher meanwhile and starts the next
build as soon as this one ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from .store import read_json_dict

# A save is taken as finished once no other change has come for this long (ms);
# a steady stream of changes still rebuilds after DEBOUNCE_MS.
STEP_MS = 300
DEBOUNCE_MS = 1600
# How often the watcher looks up while nothing changes (ms).
IDLE_MS = 200


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def loaded_files(record: Path, root: Path) -> set[Path]:
    """The files outside ``root`` that the build recorded at ``record`` read or
    looked for in vain, without the toolchain's (under the Python
    installation, as ffmpeg, the speech library and the voices are)."""
    data = read_json_dict(record) or {}
    inputs = data.get("inputs")
    missing = data.get("missing")
    names = [*(inputs if isinstance(inputs, dict) else {}), *(missing or [])]
    installed = {Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}}
    package = Path(__file__).resolve().parent.parent
    files = set()
    for name in names:
        if not isinstance(name, str):
            continue
        path = Path(name).resolve()
        if _under(path, root) or _under(path, package):
            continue
        if any(_under(path, folder) for folder in installed):
            continue
        files.add(path)
    return files


class Watched:
    """The folders to watch and which changes in them count."""

    def __init__(self, root: Path, ignored: list[Path]) -> None:
        from watchfiles import DefaultFilter

        self.root = root.resolve()
        self.ignored = [p.resolve() for p in ignored]
        self.files: set[Path] = set()
        self._default = DefaultFilter(ignore_paths=[str(p) for p in self.ignored])

    def folders(self) -> list[Path]:
        """The episode's folder, and the folder of each file it loads from
        outside it (the nearest existing one, for a file not there yet)."""
        folders = {self.root}
        for path in self.files:
            folder = path.parent
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
            if not any(_under(folder, f) for f in folders):
                folders.add(folder)
        return sorted(folders)

    def __call__(self, change: object, name: str) -> bool:
        path = Path(name).resolve()
        if any(_under(path, p) for p in self.ignored):
            return False
        if _under(path, self.root):
            return self._default(change, name)  # type: ignore[arg-type]
        return path in self.files


def changes(watched: Watched, *, step: int = STEP_MS) -> Iterator[list[Path]]:
    """The files changed, a batch per burst of saves, until Ctrl-C
    (KeyboardInterrupt); an empty batch now and then while nothing changes
    (the watcher is running by the first). Restarts the watcher when the
    folders change."""
    from watchfiles import watch

    while True:
        folders = watched.folders()
        for batch in watch(
            *folders,
            watch_filter=watched,
            debounce=DEBOUNCE_MS,
            step=step,
            raise_interrupt=True,
            rust_timeout=IDLE_MS,
            yield_on_timeout=True,
        ):
            yield sorted({Path(name) for _change, name in batch})
            if watched.folders() != folders:
                break  # the last build loads a file from a folder not watched yet
        else:
            return


def run(
    watched: Watched,
    build_once: Callable[[], Path | None],
    say: Callable[[str], None],
    *,
    step: int = STEP_MS,
    shown: Callable[[Path], str] = str,
) -> None:
    """Build, then build again after each burst of saves. ``build_once``
    returns the no-op record of a good build (its loaded files are watched
    from then on), None after a failed one (the files watched stay). "waiting"
    is said once the watcher runs: a save after it is never missed."""

    def once() -> None:
        record = build_once()
        if record is not None:
            watched.files = loaded_files(record, watched.root)

    once()
    waiting = False
    for changed in changes(watched, step=step):
        if not changed:
            if not waiting:
                say(f"watch: waiting for changes in {shown(watched.root)} (Ctrl-C to stop)")
                waiting = True
            continue
        # An editor's or sed's temporary file, gone by now, is not worth naming.
        named = [p for p in changed if p.exists()] or changed
        names = ", ".join(shown(p) for p in named[:5])
        more = f" and {len(named) - 5} more" if len(named) > 5 else ""
        say(f"watch: changed: {names}{more}; building")
        once()
        waiting = False
