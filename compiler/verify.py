"""`reel verify`: rebuild from clean and compare every digest.

The build is run twice: once with the user's cache, as `reel build` would
(usually all hits), and once from nothing, with a fresh cache in a temporary
folder. Every action whose output is meant to be reproducible must give the
same digests both times; a difference means the cache holds something the
inputs no longer make (a poisoned or stale entry) or an action is not
deterministic. Non-deterministic actions (VideoToolbox encodes) and everything
made from them are left out and listed: their bytes differ run to run by
nature. Non-hermetic but deterministic ones (Piper voices: the same bytes every
run here, perhaps not on another CPU) are compared, since both runs are on this
machine. Neither run writes to the user's output tree.

Recorded digests are not taken on trust: every blob the cached build's
actions produced is hashed again. A damaged blob (found here, or repaired on
the way by the cached build) fails the verification, naming the action.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from reel.lang.diagnostics import Diagnostics, GateError

from .actions import build_graph
from .build import BuildResult, build
from .store import Store


@dataclass
class Mismatch:
    action: str
    output: str
    cached: str
    clean: str


@dataclass
class Verification:
    build: BuildResult
    compared: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not reproducible by design
    mismatches: list[Mismatch] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # cache blobs that failed their digest


class VerifyFailed(GateError):
    """A rebuild from clean gave other bytes (exit 1)."""


def verify(
    path: Path,
    *,
    target: str | None,
    cache_dir: Path,
    jobs: int | None,
    profile: str,
    backend: str,
    diags: Diagnostics,
) -> Verification:
    with tempfile.TemporaryDirectory(prefix="reel-verify-") as tmp:
        options = {"target": target, "jobs": jobs, "profile": profile, "backend": backend}
        cached = build(path, out=Path(tmp) / "cached", cache_dir=cache_dir, diags=diags, **options)
        clean = build(
            path,
            out=Path(tmp) / "clean",
            cache_dir=Path(tmp) / "cache",
            diags=Diagnostics(),  # the same warnings again: said once
            **options,
        )
    graph = build_graph(cached.lowered.actions)
    result = Verification(cached)
    result.damaged = list(cached.repairs) + _rehash(cached, Store(cache_dir))
    for action_id, first in sorted(cached.report.results.items()):
        if not graph.repeatable(action_id):
            result.skipped.append(action_id)
            continue
        second = clean.report.results[action_id]
        result.compared.append(action_id)
        for output, digest in sorted(first.outputs.items()):
            if second.outputs.get(output) != digest:
                result.mismatches.append(
                    Mismatch(action_id, output, digest, second.outputs.get(output, "missing"))
                )
    if result.mismatches or result.damaged:
        errors = Diagnostics()
        for damage in result.damaged:
            errors.error(
                damage,
                None,
                "the damaged blob is evicted: the next `reel build` makes it again; "
                "if this recurs, check the disk that holds the cache",
            )
        for m in result.mismatches:
            errors.error(
                f"{m.action}: {m.output} differs when rebuilt from clean",
                None,
                "the cache holds a result these inputs no longer make, or the action is not "
                "deterministic; `reel clean --cache` and build again, and report it if it recurs",
                notes=(f"cached: {m.cached}", f"clean:  {m.clean}"),
            )
        raise VerifyFailed(errors.errors)
    return result


def _rehash(cached: BuildResult, store: Store) -> list[str]:
    """Hash every blob the build's actions recorded; evict and name the bad ones."""
    damaged = []
    for action_id, res in sorted(cached.report.results.items()):
        for output, digest in sorted(res.outputs.items()):
            if not store.blob_ok(digest):
                store.evict(digest, "evicted")
                damaged.append(f"{action_id}: the cached {output} does not have its digest")
    return damaged
