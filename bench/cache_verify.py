"""What it costs to check every blob's digest when it is used.

Reel copies a blob into a sandbox or an output and hashes it (xxh3-128) in
the same pass, instead of hard-linking it unchecked. This prints, for blobs of
several sizes (or for every blob of an existing cache with --cache-dir), the
time of a plain copy, of Reel's checked copy, and of a hard link, and the
overhead of the check over the plain copy.

    python bench/cache_verify.py                    # synthetic blobs
    python bench/cache_verify.py --cache-dir .reel  # every blob of a real cache
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reel.compiler.files import place_verified
from reel.compiler.hashing import hash_file


def timed(action: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(blobs: list[Path], work: Path, runs: int) -> tuple[float, float, float, float]:
    """Median seconds to place every blob: plain copy, checked copy, hard link, hash only."""
    digests = [hash_file(b) for b in blobs]
    dest = work / "dest"

    def plain() -> None:
        for blob in blobs:
            shutil.copyfile(blob, dest)

    def checked() -> None:
        for blob, digest in zip(blobs, digests, strict=True):
            place_verified(blob, dest, digest)

    def link() -> None:
        for blob in blobs:
            dest.unlink(missing_ok=True)
            os.link(blob, dest)

    def hashing() -> None:
        for blob in blobs:
            hash_file(blob)

    return tuple(timed(f, runs) for f in (plain, checked, link, hashing))  # type: ignore[return-value]


def report(label: str, blobs: list[Path], work: Path, runs: int) -> None:
    size = sum(b.stat().st_size for b in blobs)
    plain, checked, link, hashing = measure(blobs, work, runs)
    overhead = (checked - plain) / plain * 100 if plain else 0.0
    print(
        f"{label:<28} {len(blobs):>5} blob(s) {size / 1e6:>9.1f} MB | copy {plain * 1e3:8.1f} ms"
        f" | checked copy {checked * 1e3:8.1f} ms ({overhead:+5.1f}%)"
        f" | hard link {link * 1e3:7.1f} ms | hash alone {hashing * 1e3:7.1f} ms"
        f" ({size / 1e9 / hashing if hashing else 0:.1f} GB/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, help="measure every blob of this cache")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reel-bench-") as tmp:
        work = Path(tmp)
        if args.cache_dir is not None:
            blobs = sorted(p for p in (args.cache_dir / "cas").rglob("*") if p.is_file())
            report(f"cache {args.cache_dir}", blobs, work, args.runs)
            return
        for size in (64 << 10, 4 << 20, 64 << 20, 512 << 20):
            blob = work / f"blob-{size}"
            blob.write_bytes(os.urandom(size))
            report(f"one blob of {size >> 10} KiB", [blob], work, args.runs)
            blob.unlink()


if __name__ == "__main__":
    main()
