"""The output folder: Reel owns only what it wrote, and delivers a build as one set.

``<out>/<episode>/`` always holds the files of exactly one successful build.
A build writes its set in a staging folder beside it
(``<out>/.<episode>.reel-new-XXXX``), then swaps the two folders in one step
(``renameat2(RENAME_EXCHANGE)``) and removes the old set. A build that fails
or is killed never touches the delivered set; a failed build's own files
(the Script the canon gate judged, its run summary) go to
``<out>/<episode>.failed/`` instead.

Every set holds a record, ``.reel-delivered.json``, of the files Reel wrote
and their digests. It is how Reel knows what it owns: ``reel clean`` removes
only the files listed there whose bytes are still Reel's, a folder without a
record is never replaced, and files a user added to a set are carried over
into the next one.

A staging folder is locked (``flock``) while its build lives, so a later
build can tell a dead build's leftovers (swept) from a running one's (left
alone); concurrent builds never share a temporary name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reel.lang.diagnostics import Diagnostics, GateError

from .files import exchange, regular_file
from .hashing import hash_file
from .jsonio import write_json
from .store import Store, is_digest, read_json_dict

RECORD = ".reel-delivered.json"
LOCK = ".reel-lock"
RECORD_VERSION = 1
LOG_FILES = frozenset({"run_summary.json"})  # differs run to run by design: not digest-checked
PACKAGE = Path(__file__).resolve().parent.parent


class OutputFolderError(GateError):
    """The output folder would put a user's files at risk (exit 1)."""


def _refuse(message: str, help_: str, span: Any = None) -> OutputFolderError:
    diags = Diagnostics()
    diags.error(message, span, help_)
    return OutputFolderError(diags.errors)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refuse_system_folder(where: Path) -> None:
    if where == Path(where.anchor) or where == Path.home().resolve():
        raise _refuse(
            f"refusing to use {where} as the output folder",
            "give a folder of its own, e.g. --out reel-out",
        )


def check_output_folder(
    out: Path, episode_id: str, sources: Iterable[Path], cache: Path, span: Any = None
) -> Path:
    """The episode's output folder, if Reel may own it; else a clear error.

    Refused: ``/``, the home folder, the cache (or a folder inside it, or one
    holding it), and an episode folder that holds or is a source folder: Reel
    replaces that folder wholesale, so nothing the user wrote may live there.
    ``span`` (the episode's declaration, which names the folder) positions the
    error.
    """
    where = out.resolve()
    folder = where / episode_id
    cache = cache.resolve()
    _refuse_system_folder(where)
    if _within(where, cache) or _within(cache, folder):
        raise _refuse(
            f"the output folder {out} and the cache {cache} overlap",
            "keep outputs and the cache apart: --out reel-out --cache-dir .reel",
        )
    for source in sorted({*sources, PACKAGE / "stdlib" / "styles.episode"}):
        resolved = source.resolve()
        if _within(resolved.parent, folder):
            raise _refuse(
                f"the output folder {out / episode_id} (named after this episode) holds "
                f"a source of the episode ({resolved.name}); Reel replaces that folder "
                "on every build",
                "choose an --out outside the project's sources (the default is reel-out)",
                span,
            )
    return folder


def read_record(folder: Path) -> dict[str, str | None] | None:
    """The files a set's record lists (name -> digest, None for a log), or None
    if the folder holds no readable record: then Reel did not write it."""
    data = read_json_dict(folder / RECORD)
    files = data.get("files") if data is not None else None
    if not isinstance(files, dict):
        return None
    clean: dict[str, str | None] = {}
    for name, digest in files.items():
        if not isinstance(name, str) or not (digest is None or is_digest(digest)):
            return None
        if Path(name).is_absolute() or ".." in Path(name).parts:
            return None  # a record never points outside its own folder
        clean[name] = digest
    return clean


def _owned(folder: Path) -> bool:
    """Reel may replace ``folder``: it is absent, empty, or a set Reel recorded."""
    if not folder.exists() and not folder.is_symlink():
        return True
    if folder.is_symlink() or not folder.is_dir():
        return False
    return read_record(folder) is not None or not any(folder.iterdir())


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


GRACE_SECONDS = 60  # a staging folder younger than this may still be taking its lock


def _abandoned(staging: Path) -> bool:
    """A staging folder whose build is gone: its lock is free, or it has none
    and is older than a build needs to take one (housekeeping only: this
    clock reading never reaches an output or a hash)."""
    try:
        fd = os.open(staging / LOCK, os.O_RDWR)
    except OSError:
        try:
            return time.time() - staging.stat().st_mtime > GRACE_SECONDS
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def sweep(out: Path, episode_id: str) -> None:
    """Remove what dead builds left beside the set; put back a set that a
    killed two-rename switch had moved aside."""
    folder = out / episode_id
    for leftover in sorted(out.glob(f".{episode_id}.reel-*")):
        if not leftover.is_dir() or leftover.is_symlink() or not _abandoned(leftover):
            continue
        if ".reel-old-" in leftover.name and not folder.exists():
            os.replace(leftover, folder)  # the switch died half way: restore the set
            (folder / LOCK).unlink(missing_ok=True)
            continue
        shutil.rmtree(leftover, ignore_errors=True)


@dataclass
class OutputSet:
    """A build's outputs, staged beside ``folder`` until committed."""

    out: Path
    episode_id: str
    store: Store
    staging: Path = field(init=False)
    files: dict[str, str | None] = field(default_factory=dict)
    _lock_fd: int = field(default=-1, init=False)
    _settled: bool = field(default=False, init=False)  # committed, kept as failed, or discarded

    def __post_init__(self) -> None:
        # The folder as check_output_folder names it (resolved): what the set
        # says it delivered is compared with the build's folder, so a relative
        # --out must not make the same file look like another.
        self.out = self.out.resolve()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            sweep(self.out, self.episode_id)
            prefix = f".{self.episode_id}.reel-new-"
            self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=self.out))
            os.chmod(self.staging, 0o755)
            self._lock_fd = _lock(self.staging / LOCK)
        except OSError as exc:
            raise _refuse(
                f"cannot write the output folder {self.out}: {exc.strerror or exc}",
                "choose a folder you can write to with --out (or $REEL_OUT)",
            ) from None

    @property
    def folder(self) -> Path:
        return self.out / self.episode_id

    def path(self, relative: str) -> Path:
        return self.staging / relative

    def add_blob(self, digest: str, relative: str) -> Path:
        """Copy a blob into the set (checked against its digest on the way)."""
        self.store.copy_blob(digest, self.staging / relative)
        self.files[relative] = digest
        return self.folder / relative

    def add_written(self, relative: str, log: bool = False) -> None:
        """Note a file written into the staging folder by other code."""
        self.files[relative] = None if log else hash_file(self.staging / relative)

    def changed(self) -> set[str]:
        """The staged files (logs aside) that the delivered set does not already
        hold with the same bytes: new, of another digest, or missing or resized
        there since (by its record, and a stat; nothing is read)."""
        recorded = read_record(self.folder) or {}
        out = set()
        for name, digest in self.files.items():
            if digest is None:
                continue
            current = self.folder / name
            try:
                same = (
                    recorded.get(name) == digest
                    and current.stat().st_size == (self.staging / name).stat().st_size
                )
            except OSError:
                same = False
            if not same:
                out.add(name)
        return out

    def _record(self, failed: bool) -> None:
        write_json(
            self.staging / RECORD,
            {
                "reel_set": RECORD_VERSION,
                "failed": failed,
                "files": dict(sorted(self.files.items())),
            },
        )

    def _carry_user_files(self, current: Path) -> None:
        """Files a user put into the delivered set (anywhere in it, e.g. a
        Resolve project beside the timeline) move on with it: they are linked
        (or copied) into the new set, never dropped. A user file where the new
        set has an output of the same name stops the switch instead."""
        recorded = read_record(current) or {}
        for item in sorted(current.rglob("*")):
            if item.is_dir() and not item.is_symlink():
                continue
            name = item.relative_to(current).as_posix()
            if name in (RECORD, LOCK) or name in recorded:
                continue
            if name in self.files:
                raise _refuse(
                    f"{current / name} is not a file Reel delivered, and this build "
                    "delivers a file of that name",
                    "move your file out of the output folder, then build again",
                )
            (self.staging / name).parent.mkdir(parents=True, exist_ok=True)
            _link(item, self.staging / name)

    def commit(self) -> None:
        """Make the staged set the delivered one, in one step."""
        folder = self.folder
        if not _owned(folder):
            raise _refuse(
                f"{folder} exists and was not written by Reel (it has no {RECORD})",
                "move it away or choose another --out: Reel replaces only folders it made",
            )
        if folder.is_dir():
            self._carry_user_files(folder)
        self._record(failed=False)
        if folder.is_dir():
            if not exchange(self.staging, folder):
                aside = Path(tempfile.mkdtemp(prefix=f".{self.episode_id}.reel-old-", dir=self.out))
                os.replace(folder, aside)  # rename over the empty folder mkdtemp made
                os.replace(self.staging, folder)
                self.staging = aside
        else:
            os.replace(self.staging, folder)
            self.staging = folder
        self._release(remove=self.staging != folder)  # the staging path holds the old set
        (folder / LOCK).unlink(missing_ok=True)
        _remove_failed(self.out / f"{self.episode_id}.failed")

    def fail(self) -> Path | None:
        """Keep this failed build's files in ``<episode>.failed/`` (if Reel owns
        that name), leaving the delivered set as it was."""
        failed = self.out / f"{self.episode_id}.failed"
        if not self.files or not _owned(failed):
            self.discard()
            return None
        self._record(failed=True)
        _remove_failed(failed)
        os.replace(self.staging, failed)
        self.staging = failed
        self._release(remove=False)
        return failed

    def discard(self) -> None:
        """Drop the staged files, unless the set was committed or kept."""
        if not self._settled:
            self._release(remove=True)

    def _release(self, remove: bool) -> None:
        self._settled = True
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
        if remove:
            shutil.rmtree(self.staging, ignore_errors=True)
        else:
            (self.staging / LOCK).unlink(missing_ok=True)


def _link(src: Path | str, dest: Path | str) -> None:
    try:
        os.link(src, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dest, follow_symlinks=False)


def _remove_failed(failed: Path) -> None:
    if failed.is_dir() and not failed.is_symlink() and read_record(failed) is not None:
        shutil.rmtree(failed, ignore_errors=True)


# ---- reel clean -------------------------------------------------------------------
@dataclass
class Cleaned:
    removed: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # in a Reel folder, but not Reel's bytes


def clean_set(folder: Path, result: Cleaned) -> None:
    """Remove the files ``folder``'s record lists whose bytes are still the ones
    Reel wrote, then the folders that became empty. Anything else stays."""
    recorded = read_record(folder)
    if recorded is None or folder.is_symlink():
        return
    for name, digest in sorted(recorded.items()):
        path = folder / name
        if not regular_file(path) or path.is_symlink():
            continue
        if digest is not None and hash_file(path) != digest:
            result.kept.append(path)
            continue
        path.unlink()
        result.removed.append(path)
    for sub in sorted({(folder / n).parent for n in recorded}, key=lambda p: -len(p.parts)):
        while sub != folder and _within(sub, folder):
            with contextlib.suppress(OSError):
                sub.rmdir()  # only if empty
            sub = sub.parent
    (folder / RECORD).unlink(missing_ok=True)
    (folder / LOCK).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()
    if folder.exists():
        result.kept.extend(sorted(p for p in folder.rglob("*") if p.is_file()))


def clean_outputs(out: Path, episode_id: str | None) -> Cleaned:
    """``reel clean``: one episode's sets, or every set under ``out``."""
    result = Cleaned()
    _refuse_system_folder(out.resolve())
    if not out.is_dir():
        return result
    if episode_id is not None:
        names = [episode_id, f"{episode_id}.failed"]
    else:
        names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    for name in names:
        clean_set(out / name, result)
    for stem in {n.removesuffix(".failed") for n in names}:
        sweep(out, stem)
    with contextlib.suppress(OSError):
        out.rmdir()  # only if empty
    return result


def clean_cache(cache: Path) -> bool:
    """Empty a cache folder, only if it is Reel's (it holds Reel's CACHEDIR.TAG)."""
    from .store import CACHEDIR_TAG, SUBDIRS

    tag = cache / "CACHEDIR.TAG"
    try:
        ours = tag.read_text() == CACHEDIR_TAG
    except (OSError, UnicodeDecodeError):
        ours = False
    if not ours or cache.resolve() in (Path("/"), Path.home().resolve()):
        raise _refuse(
            f"{cache} is not a Reel cache (no CACHEDIR.TAG written by Reel)",
            "give the folder Reel uses as its cache (--cache-dir, default .reel)",
        )
    for sub in SUBDIRS:
        shutil.rmtree(cache / sub, ignore_errors=True)
    tag.unlink()
    with contextlib.suppress(OSError):
        cache.rmdir()
    return True
