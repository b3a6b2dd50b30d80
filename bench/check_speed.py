"""How long `reel check` and `reel build --stage plan` take on the example.

Prints figures (wall time of the real command, start-up included, median and
best of N runs), never asserts: speed goals are read, not tested.

    python bench/check_speed.py [--runs 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PILOT = REPO / "examples" / "pilot"


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - started


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:<34} median {statistics.median(samples) * 1000:7.1f} ms   "
        f"best {min(samples) * 1000:7.1f} ms   ({len(samples)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    reel = shutil.which("reel") or "reel"
    timed([reel, "check", str(PILOT)])  # warm the grammar cache and the OS file cache
    report("reel --version (start-up)", [timed([reel, "--version"]) for _ in range(args.runs)])
    report(
        "reel check examples/pilot", [timed([reel, "check", str(PILOT)]) for _ in range(args.runs)]
    )
    with tempfile.TemporaryDirectory() as out:
        report(
            "reel build examples/pilot (plan)",
            [
                timed([reel, "build", str(PILOT), "--stage", "plan", "--out", out])
                for _ in range(args.runs)
            ],
        )

    from reel.compiler.session import Session

    samples = []
    for _ in range(args.runs):
        started = time.perf_counter()
        _ = Session(PILOT, None).plan
        samples.append(time.perf_counter() - started)
    report("in-process analysis (no start-up)", samples)


if __name__ == "__main__":
    main()
