"""Content hashing: xxh3-128 over bytes and over canonical JSON.

One function per input shape, so every hash in Reel is computed the same way:
canonical JSON (sorted keys, no whitespace, UTF-8) for structured values and
raw bytes for files. Never paths, mtimes or wall-clock time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import xxhash

PREFIX = "xxh3-128:"
_CHUNK = 1 << 20


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def hash_bytes(data: bytes) -> str:
    return PREFIX + xxhash.xxh3_128_hexdigest(data)


def hash_value(value: Any) -> str:
    return hash_bytes(canonical_json(value))


def hash_file(path: Path) -> str:
    digest = xxhash.xxh3_128()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return PREFIX + digest.hexdigest()
