"""The cache directory: a content-addressed store, an action cache, a digest memo.

Layout under the cache directory (``.reel/`` by default):

    cas/ab/<hex>          blobs, named by their xxh3-128 digest
    ac/<key>.json         action key -> {output name: digest}, hermetic actions only:
                          the entries a shared (remote) cache may hold
    ac-local/<key>.json   the same for non-hermetic actions (VideoToolbox encodes):
                          their bytes differ run to run and machine to machine, so
                          they are reused on this machine but never shared
    explain/<id>.json     what the last run of an action was keyed on (for --explain)
    memo/digests.json     path -> (size, mtime_ns, inode, digest) for source files
    tmp/                  sandboxes of running actions

Every write is atomic (temporary file + rename), so a build killed at any
point leaves the store consistent: an action-cache entry is written only
after all of its blobs are in the CAS.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from reel.lang.diagnostics import Diagnostics, GateError

from .hashing import PREFIX, hash_file
from .jsonio import write_atomic, write_json

CACHE_ENV = "REEL_CACHE_DIR"
DEFAULT_CACHE = ".reel"


class CacheDirError(GateError):
    pass


def _hex(digest: str) -> str:
    return digest.removeprefix(PREFIX)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo_lock = threading.Lock()
        try:
            for sub in ("cas", "ac", "ac-local", "explain", "memo", "tmp"):
                (root / sub).mkdir(parents=True, exist_ok=True)
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
        """Move ``path`` into the CAS; return its digest."""
        digest = hash_file(path)
        target = self.blob_path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o444)
            os.replace(path, target)
        return digest

    def materialise(self, digest: str, dest: Path) -> None:
        """Place a blob at ``dest`` atomically: a hard link when possible, else a copy."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.reel-tmp")
        if tmp.exists():
            tmp.unlink()
        try:
            os.link(self.blob_path(digest), tmp)
        except OSError:
            shutil.copyfile(self.blob_path(digest), tmp)
        os.replace(tmp, dest)

    # ---- action cache ---------------------------------------------------------
    def _ac_path(self, key: str, hermetic: bool) -> Path:
        return self.root / ("ac" if hermetic else "ac-local") / f"{_hex(key)}.json"

    def get_action(self, key: str, hermetic: bool = True) -> dict[str, str] | None:
        path = self._ac_path(key, hermetic)
        try:
            outputs = json.loads(path.read_text())["outputs"]
        except (OSError, ValueError, KeyError):
            return None
        if all(self.has_blob(d) for d in outputs.values()):
            return outputs
        return None  # a blob was evicted or lost: rebuild

    def put_action(self, key: str, outputs: dict[str, str], hermetic: bool = True) -> None:
        write_json(self._ac_path(key, hermetic), {"outputs": outputs})

    # ---- explain records --------------------------------------------------------
    def _explain_path(self, action_id: str) -> Path:
        from .hashing import hash_bytes

        return self.root / "explain" / f"{_hex(hash_bytes(action_id.encode()))}.json"

    def last_run(self, action_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._explain_path(action_id).read_text())
        except (OSError, ValueError):
            return None

    def record_run(self, action_id: str, record: dict[str, Any]) -> None:
        write_json(self._explain_path(action_id), record)

    # ---- source digests, memoised by stat ------------------------------------------
    def _load_memo(self) -> dict[str, list[Any]]:
        try:
            return json.loads((self.root / "memo" / "digests.json").read_text())
        except (OSError, ValueError):
            return {}

    def file_digest(self, path: Path) -> str:
        """Digest of a source file. The memo is keyed by the file's identity and
        stat; it only saves re-reading unchanged files, the digest is still of
        the content."""
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        key = str(path)
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit and hit[:3] == stamp:
                return hit[3]
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
