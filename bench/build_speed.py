"""Full, no-op and one-scene-edit builds, on the pilot and on a generated
60-scene episode. Prints figures; asserts nothing.

    python bench/build_speed.py [--scenes 60] [--runs 5] [--jobs N]

Each figure is the wall time of the real `reel build` command, start-up
included. The cache and output tree live in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PILOT = REPO / "examples" / "pilot"


def generated_episode(folder: Path, scenes: int) -> Path:
    """A long episode in the pilot's format, using the pilot's assets."""
    folder.mkdir(parents=True)
    shutil.copytree(PILOT / "assets", folder / "assets")
    images = ["maya.png", "cafe.png", "office.png", "alarm.png"]
    parts = [
        'load "std/templates"',
        "episode long {",
        '  title "Sixty Scenes"',
        "  format 1280x720 @ 24fps",
        '  voice host = tts "en-us" rate 170',
        "}",
        'cast { character host "Host" age 40 }',
    ]
    for n in range(scenes):
        image = images[n % len(images)]
        parts.append(
            f"scene s{n:03d} {{\n"
            f'  use hook("PART {n + 1}", length: 1s)\n'
            f"  shot medium {{\n"
            f'    plate image "assets/{image}"\n'
            f"    move push_in 1.1\n"
            f'    say host "This is part {n + 1} of a long episode about building video."\n'
            f"  }}\n}}"
        )
    (folder / "long.episode").write_text("\n".join(parts) + "\n")
    return folder


def reel_build(path: Path, out: Path, cache: Path, jobs: int | None) -> float:
    args = [
        sys.executable,
        "-m",
        "reel.cli",
        "build",
        str(path),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
    ]
    if jobs:
        args += ["-j", str(jobs)]
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr}")
    return elapsed


def edit_one_scene(path: Path, scene_file: str, old: str, new: str) -> None:
    target = path / scene_file
    target.write_text(target.read_text().replace(old, new, 1))


def measure(
    name: str,
    project: Path,
    scene_file: str,
    old: str,
    new: str,
    runs: int,
    jobs: int | None,
    work: Path,
) -> None:
    out, cache = work / f"{name}-out", work / f"{name}-cache"
    full = reel_build(project, out, cache, jobs)
    noop = [reel_build(project, out, cache, jobs) for _ in range(runs)]
    edits = []
    for i in range(runs):
        edit_one_scene(project, scene_file, old, f"{new} {i}")  # inside the quotes
        edits.append(reel_build(project, out, cache, jobs))
        old = f"{new} {i}"
    med_noop, med_edit = statistics.median(noop), statistics.median(edits)
    print(f"{name}:")
    print(f"  full build          {full:8.2f} s")
    print(
        f"  no-op build         {med_noop * 1000:8.0f} ms  (median of {runs}, best "
        f"{min(noop) * 1000:.0f} ms)"
    )
    print(f"  one-scene edit      {med_edit:8.2f} s   (median of {runs})")
    print(f"  full / edit         {full / med_edit:8.1f} x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; jobs: {args.jobs or os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pilot = work / "pilot"
        shutil.copytree(PILOT, pilot)
        measure(
            "pilot (9 scenes, 22 shots, 62.5 s)",
            pilot,
            "scenes/act2.episode",
            "Canal Street",
            "Canal Street, take",
            args.runs,
            args.jobs,
            work,
        )
        long = generated_episode(work / "long", args.scenes)
        measure(
            f"generated ({args.scenes} scenes, {2 * args.scenes} shots)",
            long,
            "long.episode",
            "PART 30",
            "PART THIRTY",
            args.runs,
            args.jobs,
            work,
        )


if __name__ == "__main__":
    main()
