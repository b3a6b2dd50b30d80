"""The cache directory: a content-addressed store, an action cache, a digest memo.

Layout under the cache directory (``.reel/`` by default):

    CACHEDIR.TAG          marks the folder as a cache (backup tools skip it), and
                          as Reel's: `reel clean --cache` empties only such a folder
    cas/ab/<hex>          blobs, named by their xxh3-128 digest
    ac/<key>.json         action key -> {output name: digest}, hermetic actions only:
                          the entries a shared (remote) cache may hold
    ac-local/<key>.json   the same for non-hermetic actions (VideoToolbox encodes):
                          their bytes differ run to run and machine to machine, so
                          they are reused on this machine but never shared
    explain/<id>.json     what the last run of an action was keyed on (for --explain)
    memo/digests.json     path -> (size, mtime_ns, ctime_ns, inode, digest) for sources
    probe/, beats/        media probes and detected tempi by digest (self-checking)
    noop/                 the no-op record of each build
    tmp/                  sandboxes of running actions

Every write is atomic (temporary file + rename), so a build killed at any
point leaves the store consistent: an action-cache entry is written only
after all of its blobs are in the CAS.

The store trusts nothing it reads back. A blob is re-hashed whenever it is
used (copied into a sandbox or an output, or read), and a damaged one is
evicted, so its action runs again; any record that does not parse, or does
not have the shape Reel writes, is a miss, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reel.lang.diagnostics import Diagnostics, GateError

from .files import DigestMismatch, place_verified
from .hashing import PREFIX, hash_bytes, hash_file, hash_value
from .jsonio import write_atomic, write_json

CACHE_ENV = "REEL_CACHE_DIR"
DEFAULT_CACHE = ".reel"
# analysis: the Director's per-take analysis (director/analysis.py), by file digest
SUBDIRS = (
    "cas",
    "ac",
    "ac-local",
    "explain",
    "memo",
    "probe",
    "beats",
    "noop",
    "tmp",
    "analysis",
)
# The Cache Directory Tagging Specification (bford.info/cachedir): backup tools
# skip a folder holding this file, and Reel empties no folder without it.
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by Reel (a build system for video).\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_DIGEST = re.compile(re.escape(PREFIX) + "[0-9a-f]{32}")


class CacheDirError(GateError):
    pass


class BlobDamaged(Exception):
    """A blob's bytes no longer have its digest (it was evicted): the action
    that made it must run again."""

    def __init__(self, digest: str, detail: str = "") -> None:
        super().__init__(f"cache blob {digest} is damaged{detail}")
        self.digest = digest


def is_digest(value: object) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def read_json_dict(path: Path) -> dict[str, Any] | None:
    """A JSON object from a cache record, or None for anything else."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_checked(path: Path, value: Any) -> None:
    """A derived record (a probe, a detected tempo) with its own checksum, so
    that a damaged or hand-edited one reads back as a miss."""
    write_json(path, {"value": value, "check": hash_value(value)})


def read_checked(path: Path) -> Any | None:
    record = read_json_dict(path)
    if record is None or "value" not in record:
        return None
    value = record["value"]
    try:
        return value if hash_value(value) == record.get("check") else None
    except ValueError:  # NaN or the like: never written by Reel
        return None


def _hex(digest: str) -> str:
    return digest.removeprefix(PREFIX)


def _memo_entry_ok(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 5
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[:4])
        and is_digest(value[4])
    )


def _refuse_foreign(root: Path) -> None:
    """Reel fills (and `reel clean --cache` empties) only a folder that is its
    cache already, or empty: never ``/``, the home folder, or a folder of
    the user's files."""
    problem = None
    resolved = root.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        problem = f"refusing to use {resolved} as the cache directory"
    elif root.is_dir() and not (root / "CACHEDIR.TAG").is_file():
        try:
            foreign = sorted(p.name for p in root.iterdir() if p.name not in SUBDIRS)
        except OSError:
            foreign = []
        if foreign:
            problem = (
                f"{root} holds files that are not Reel's ({', '.join(foreign[:3])}); "
                "Reel will not use it as its cache"
            )
    if problem is not None:
        diags = Diagnostics()
        diags.error(
            problem, None, "give an empty or new folder with --cache-dir or $REEL_CACHE_DIR"
        )
        raise CacheDirError(diags.errors)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo_lock = threading.Lock()
        self.repairs: list[str] = []  # damaged blobs found and evicted, for warnings
        # A shared cache (remote.RemoteCache) behind ac/: asked on a local miss,
        # told of each hermetic result. None: this machine only.
        self.remote: Any = None
        _refuse_foreign(root)
        try:
            for sub in SUBDIRS:
                (root / sub).mkdir(parents=True, exist_ok=True)
            tag = root / "CACHEDIR.TAG"
            if not tag.is_file():
                write_atomic(tag, CACHEDIR_TAG.encode())
            probe = tempfile.NamedTemporaryFile(dir=root / "tmp", delete=True)
            probe.close()
        except OSError as exc:
            diags = Diagnostics()
            diags.error(
                f"cannot use the cache directory {root}: {exc.strerror or exc}",
                None,
                f"choose a writable folder with --cache-dir or ${CACHE_ENV}",
            )
            raise CacheDirError(diags.errors) from None
        self._memo: dict[str, list[Any]] = self._load_memo()
        self._memo_dirty = False

    # ---- CAS ----------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        hexd = _hex(digest)
        return self.root / "cas" / hexd[:2] / hexd[2:]

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def put_file(self, path: Path) -> str:
        """Move ``path`` into the CAS; return its digest. A blob already there
        is kept only if it still has its digest: a damaged one is replaced."""
        digest = hash_file(path)
        target = self.blob_path(digest)
        if target.exists() and not self.blob_ok(digest):
            self.evict(digest, "replaced by a fresh copy")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o444)
            os.replace(path, target)
        return digest

    def blob_ok(self, digest: str) -> bool:
        try:
            return hash_file(self.blob_path(digest)) == digest
        except OSError:
            return False

    def evict(self, digest: str, what: str) -> None:
        with contextlib.suppress(OSError):
            self.blob_path(digest).unlink()
        with self._memo_lock:
            self.repairs.append(f"cache blob {digest} was damaged: {what}")

    def copy_blob(self, digest: str, dest: Path, mode: int = 0o644) -> None:
        """Place a copy (or reflink) of a blob at ``dest``, checking its digest
        on the way; a damaged blob is evicted and BlobDamaged raised."""
        try:
            place_verified(self.blob_path(digest), dest, digest, mode)
        except DigestMismatch:
            self.evict(digest, "evicted; the action that made it runs again")
            raise BlobDamaged(digest) from None
        except FileNotFoundError:
            raise BlobDamaged(digest, " (missing)") from None

    def link_blob(self, digest: str, dest: Path) -> None:
        """Place a blob at ``dest`` as a hard link to the cache's own file (for a
        reader that never writes it), checking its digest as copy_blob does; a
        copy where no link can be made (another file system)."""
        try:
            os.link(self.blob_path(digest), dest)
        except FileNotFoundError:
            raise BlobDamaged(digest, " (missing)") from None
        except OSError:
            self.copy_blob(digest, dest)
            return
        if hash_file(dest) != digest:
            dest.unlink()
            self.evict(digest, "evicted; the action that made it runs again")
            raise BlobDamaged(digest)

    def read_blob(self, digest: str) -> bytes:
        """A (small) blob's bytes, checked against its digest."""
        try:
            data = self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobDamaged(digest, " (missing)") from None
        if hash_bytes(data) != digest:
            self.evict(digest, "evicted; the action that made it runs again")
            raise BlobDamaged(digest)
        return data

    # ---- action cache ---------------------------------------------------------
    def _ac_path(self, key: str, hermetic: bool) -> Path:
        return self.root / ("ac" if hermetic else "ac-local") / f"{_hex(key)}.json"

    def get_local_action(
        self, key: str, hermetic: bool = True, names: Iterable[str] | None = None
    ) -> dict[str, str] | None:
        """The outputs recorded for ``key``, if the record is well formed, names
        exactly the outputs ``names`` (when given), and every blob is present."""
        record = read_json_dict(self._ac_path(key, hermetic))
        outputs = record.get("outputs") if record is not None else None
        if not isinstance(outputs, dict) or not outputs:
            return None
        if names is not None and set(outputs) != set(names):
            return None
        if not all(isinstance(n, str) and is_digest(d) for n, d in outputs.items()):
            return None
        if all(self.has_blob(d) for d in outputs.values()):
            return outputs
        return None  # a blob was evicted or lost: rebuild

    def get_action(
        self, key: str, hermetic: bool = True, names: Iterable[str] | None = None
    ) -> dict[str, str] | None:
        """As get_local_action; on a miss, a hermetic action is looked up in the
        remote cache (if any), whose outputs are downloaded and checked."""
        hit = self.get_local_action(key, hermetic, names)
        if hit is None and hermetic and self.remote is not None:
            hit = self.remote.fetch(self, key, names)
        return hit

    def put_action(
        self, key: str, outputs: dict[str, str], hermetic: bool = True, share: bool = True
    ) -> None:
        """Record an action's outputs (their blobs are in the CAS already). A
        hermetic one is also sent to the remote cache, unless ``share`` is
        False (it came from there)."""
        write_json(self._ac_path(key, hermetic), {"outputs": outputs})
        if hermetic and share and self.remote is not None:
            self.remote.push(self, key, outputs)

    # ---- explain records --------------------------------------------------------
    def _explain_path(self, action_id: str) -> Path:
        return self.root / "explain" / f"{_hex(hash_bytes(action_id.encode()))}.json"

    def last_run(self, action_id: str) -> dict[str, Any] | None:
        record = read_json_dict(self._explain_path(action_id))
        if record is None:
            return None
        for name in ("params", "inputs"):
            if not isinstance(record.get(name, {}), dict):
                return None
        return record

    def record_run(self, action_id: str, record: dict[str, Any]) -> None:
        write_json(self._explain_path(action_id), record)

    # ---- source digests, memoised by stat ------------------------------------------
    def _load_memo(self) -> dict[str, list[Any]]:
        memo = read_json_dict(self.root / "memo" / "digests.json") or {}
        return {k: v for k, v in memo.items() if _memo_entry_ok(v)}

    def file_digest(self, path: Path) -> str:
        """Digest of a source file. The memo is keyed by the file's identity and
        stat, ctime included: a file rewritten in place with its size and
        mtime restored still has a new ctime, which no user call can set back.
        The memo only saves re-reading unchanged files; the digest is of the
        content."""
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        key = str(path)
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit and hit[:4] == stamp:
                return hit[4]
        digest = hash_file(path)
        with self._memo_lock:
            self._memo[key] = [*stamp, digest]
            self._memo_dirty = True
        return digest

    def save_memo(self) -> None:
        with self._memo_lock:
            if self._memo_dirty:
                data = json.dumps(self._memo, sort_keys=True).encode()
                write_atomic(self.root / "memo" / "digests.json", data)
                self._memo_dirty = False

    def sandbox(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="action-", dir=self.root / "tmp"))


def resolve_cache_dir(flag: Path | None) -> Path:
    if flag is not None:
        return flag
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(DEFAULT_CACHE)
