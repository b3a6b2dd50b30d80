"""A shared remote cache speaking the protocol of Bazel's HTTP cache.

    GET/PUT <url>/cas/<sha256 hex of the bytes>   a blob
    GET/PUT <url>/ac/<64 hex>                     an action's outputs, as JSON

Reel names blobs by their xxh3-128 digest; over the wire they are named by
their SHA-256, so a server that checks CAS content (bazel-remote does) accepts
them. An action-cache entry is stored under the SHA-256 of Reel's action key
and lists, for each output, its xxh3 digest and its SHA-256:

    {"key": "xxh3-128:...", "outputs": {"segment.mp4": {"digest": ..., "sha256": ...}}}

Only hermetic results are shared (the store's ``ac/``; ``ac-local/`` never
leaves the machine). Nothing read from the server is trusted: every blob is
hashed with both digests while it downloads and used only if both match; a
damaged or truncated one is a miss with a warning, so the action runs here.

The cache is an optimisation, never a reason for a build to fail: a request
that times out or meets a server error is retried with backoff, and if the
server stays unreachable the remote cache is switched off for the rest of the
build, with one warning.

The standard library's ``urllib.request`` is enough for plain GET/PUT/HEAD
and adds no dependency (requests or httpx would add one for no gain here).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xxhash

from .files import DigestMismatch
from .hashing import PREFIX

if TYPE_CHECKING:
    from .store import Store

REMOTE_ENV = "REEL_REMOTE_CACHE"
TIMEOUT = 5.0  # seconds for a connection or a read to make progress
RETRIES = 2  # further tries after the first, on a timeout or a server error
BACKOFF = 0.25  # seconds before the first retry, doubled each time
_CHUNK = 1 << 20
_HEX64 = frozenset("0123456789abcdef")


class Unavailable(Exception):
    """The server could not be reached or kept failing."""


def wire_key(key: str) -> str:
    """The 64-hex name of Reel's action key on the server."""
    return hashlib.sha256(key.encode()).hexdigest()


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX64


def sha256_file(path: Path) -> str:
    return hash_both(path)[0]


def hash_both(path: Path) -> tuple[str, str]:
    """The SHA-256 (hex) and Reel's xxh3 digest of a file, in one read."""
    sha, xxh = hashlib.sha256(), xxhash.xxh3_128()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            sha.update(chunk)
            xxh.update(chunk)
    return sha.hexdigest(), PREFIX + xxh.hexdigest()


def check_url(url: str) -> str | None:
    """Why ``url`` cannot name a remote cache, or None if it can."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"'{url}' is not an http:// or https:// URL (e.g. http://cache.local:8080)"
    return None


class RemoteCache:
    def __init__(self, url: str, *, upload: bool = True, timeout: float = TIMEOUT) -> None:
        problem = check_url(url)
        if problem is not None:
            raise ValueError(problem)
        self.url = url.rstrip("/")
        self.upload = upload
        self.timeout = timeout
        self.warnings: list[str] = []
        self.downloaded = 0  # action results taken from the server
        self.uploaded = 0  # action results sent to it
        self._lock = threading.Lock()
        self._down = False

    # ---- transport ------------------------------------------------------------------
    def _request(
        self, method: str, path: str, body: Path | bytes | None = None, sink: Any = None
    ) -> int:
        """One request, retried on a timeout, a dropped connection or a 5xx;
        returns the status (404 and other 4xx are answers, not failures).
        ``sink`` receives a 200 response's body (``sink.reset()`` before each
        try, so a retry after a cut-off download starts afresh). Unavailable
        when the server stays unreachable."""
        if self._down:
            raise Unavailable
        error: Exception | None = None
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(BACKOFF * 2 ** (attempt - 1))
            if sink is not None:
                sink.reset()
            try:
                return self._once(method, path, body, sink)
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return exc.code
                error = exc
            except (OSError, http.client.HTTPException) as exc:  # refused, timeout, reset
                error = exc
        self._give_up(f"{method} {path}: {error}")
        raise Unavailable

    def _once(self, method: str, path: str, body: Path | bytes | None, sink: Any) -> int:
        headers = {}
        data: Any = body
        if isinstance(body, Path):
            headers["Content-Length"] = str(body.stat().st_size)
            headers["Content-Type"] = "application/octet-stream"
        handle = body.open("rb") if isinstance(body, Path) else contextlib.nullcontext()
        with handle as opened:
            if opened is not None:
                data = opened
            request = urllib.request.Request(
                f"{self.url}/{path}", data=data, method=method, headers=headers
            )
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if sink is not None:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        sink.write(chunk)
                else:
                    response.read()
                return int(response.status)

    def _give_up(self, why: str) -> None:
        with self._lock:
            if not self._down:
                self._down = True
                self.warnings.append(
                    f"the remote cache {self.url} is unavailable ({why}); "
                    "the build goes on with the local cache only"
                )

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    # ---- download -------------------------------------------------------------------
    def fetch(self, store: Store, key: str, names: Iterable[str] | None) -> dict[str, str] | None:
        """The outputs the server has for ``key``, downloaded into ``store``
        and checked; None (a miss) for anything else."""
        try:
            return self._fetch(store, key, names)
        except Unavailable:
            return None

    def _fetch(self, store: Store, key: str, names: Iterable[str] | None) -> dict[str, str] | None:
        body = _Body()
        if self._request("GET", f"ac/{wire_key(key)}", sink=body) != 200:
            return None
        try:
            record = json.loads(bytes(body.data))
        except ValueError:
            record = None
        outputs = record.get("outputs") if isinstance(record, dict) else None
        if (
            not isinstance(outputs, dict)
            or not outputs
            or record.get("key") != key  # type: ignore[union-attr]
            or (names is not None and set(outputs) != set(names))
            or not all(
                isinstance(o, dict)
                and isinstance(o.get("digest"), str)
                and o["digest"].startswith(PREFIX)
                and _is_sha256(o.get("sha256"))
                for o in outputs.values()
            )
        ):
            self._warn(f"the remote cache's entry for action key {key} is malformed; ignored")
            return None
        for name, entry in outputs.items():
            if not store.has_blob(entry["digest"]) and not self._download(store, name, entry):
                return None
        result = {name: entry["digest"] for name, entry in outputs.items()}
        store.put_action(key, result, hermetic=True, share=False)
        with self._lock:
            self.downloaded += 1
        return result

    def _download(self, store: Store, name: str, entry: dict[str, str]) -> bool:
        """Stream one blob into a temporary file, hashing it both ways, and move
        it into the CAS only if both digests match."""
        fd, tmp = tempfile.mkstemp(prefix="remote-", dir=store.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                blob = _Download(out)
                status = self._request("GET", f"cas/{entry['sha256']}", sink=blob)
            if status != 200:
                return False
            if blob.sha.hexdigest() != entry["sha256"] or blob.digest() != entry["digest"]:
                self._warn(
                    f"the remote cache's blob for {name} ({entry['digest']}) does not have "
                    "its digest (damaged or truncated); not used, the action runs here"
                )
                return False
            target = store.blob_path(entry["digest"])
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def fetch_blob(self, store: Store, digest: str, sha256: str, name: str = "a blob") -> bool:
        """Put the blob ``digest`` (named ``sha256`` on the server) into ``store``,
        downloaded and checked both ways unless it is there already. False if the
        server lacks it, it was damaged, or the server is down."""
        if store.has_blob(digest):
            return True
        if not _is_sha256(sha256):
            return False
        try:
            return self._download(store, name, {"digest": digest, "sha256": sha256})
        except Unavailable:
            return False

    # ---- upload ---------------------------------------------------------------------
    def send_blob(self, path: Path, digest: str) -> str:
        """Make sure the server has the bytes of ``path``, which must have the
        xxh3 ``digest`` (checked in the same pass as the SHA-256 that names
        them there; DigestMismatch if not, and nothing is sent). Return the
        SHA-256. Unavailable if they cannot be sent."""
        sha, actual = hash_both(path)
        if actual != digest:
            raise DigestMismatch(path, digest, actual)
        if self._request("HEAD", f"cas/{sha}") != 200:
            self._put(f"cas/{sha}", path)
        return sha

    def push(self, store: Store, key: str, outputs: dict[str, str]) -> None:
        """Send an action's blobs, then its entry (so a reader never finds an
        entry whose blobs are not there yet)."""
        if not self.upload:
            return
        try:
            entries = {
                name: {"digest": digest, "sha256": self.send_blob(store.blob_path(digest), digest)}
                for name, digest in outputs.items()
            }
            self.put_entry(key, entries)
        except Unavailable:
            return
        except DigestMismatch as exc:  # damaged here since it was made: never shared
            store.evict(exc.expected, "evicted; not uploaded to the remote cache")
            return
        except OSError as exc:  # the local blob vanished: nothing to share
            self._warn(f"not uploaded to the remote cache: {exc}")
            return
        with self._lock:
            self.uploaded += 1

    def put_entry(self, key: str, entries: dict[str, dict[str, str]]) -> None:
        """Write the action-cache entry for ``key`` (its blobs sent already):
        ``entries`` maps each output to its ``digest`` and ``sha256``."""
        record = json.dumps({"key": key, "outputs": entries}, sort_keys=True).encode()
        self._put(f"ac/{wire_key(key)}", record)

    def _put(self, path: str, body: Path | bytes) -> None:
        status = self._request("PUT", path, body)
        if status >= 300:
            self._give_up(f"PUT {path} answered {status}")
            raise Unavailable


class _Body:
    """A small response body (an action-cache entry), kept in memory."""

    def __init__(self) -> None:
        self.data = bytearray()

    def reset(self) -> None:
        self.data.clear()

    def write(self, chunk: bytes) -> None:
        self.data.extend(chunk)


class _Download:
    """A blob being downloaded: written to ``out`` and hashed both ways."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.reset()

    def reset(self) -> None:
        self.out.seek(0)
        self.out.truncate()
        self.sha = hashlib.sha256()
        self.xxh = xxhash.xxh3_128()

    def write(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.xxh.update(chunk)
        self.out.write(chunk)

    def digest(self) -> str:
        return PREFIX + self.xxh.hexdigest()
