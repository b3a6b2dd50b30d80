"""The edit loop: what one edit costs against an up-to-date cache.

Builds the bundled pilot (all its deliverables) and a generated 60-scene
episode, and prints for each a table of scenarios:

    full build (cold cache), no-op rebuild, one title edited, one line of
    dialogue edited, one shot's duration changed, one deliverable's field
    changed (the review proxy's `timecode`), and the line of dialogue again
    with only the master built (`reel build PATH:master`)

with the wall time of the real `reel build` command (start-up included, with
Python's bytecode cache on as installed: ``bench/as_installed.py``), the
actions that ran and were cached (read from the build's run_summary.json), the
ids that ran summarised by prefix (and, for an edit, the slowest actions with
their own seconds), and the ratio to the full build. Prints figures; asserts
nothing.

    python bench/edit_loop.py [--episode pilot|generated|both] [--jobs N]
                              [--scenes 60] [--size 640x360] [--server]
                              [--keep DIR] [--json FILE]

With --server every build goes through a build server (`reel server start`,
in the work folder), as a user who keeps one running works: each command
then skips Python's start-up and Reel's imports.

Each episode is copied into a work folder and built there once from a cold
cache (`--out` and `--cache-dir` in the work folder). Each edit is then a text
edit of the `.episode` source, the kind a user makes (a title string, a `say`
line, a shot duration such as `2s`, a field of a `deliver` block); it is
built, reverted byte for byte, and the reverted episode is built again (all
cached: printed as "restore", not timed in the table), so every scenario
measures one edit against the full build's outputs and an up-to-date cache.
"""

from __future__ import annotations

import argparse
import colorsys
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from as_installed import reel_environment

REPO = Path(__file__).resolve().parent.parent
PILOT = REPO / "examples" / "pilot"

# What the pilot's edits touch: a scene in the middle of the episode.
PILOT_SCENE = "the_street"


class BenchError(Exception):
    """A failure the bench reports in one sentence and stops on."""


# --------------------------------------------------------------------------
# Finding things in .episode source


def mask_comments(text: str) -> str:
    """`text` with every comment blanked out (same length, same offsets), so a
    search never matches inside a comment; strings are kept as they are."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        else:
            i += 1
    return "".join(out)


def block_end(masked: str, open_brace: int) -> int:
    """The offset just past the `}` that closes the `{` at `open_brace`."""
    depth, i, n = 0, open_brace, len(masked)
    while i < n:
        c = masked[i]
        if c == '"':
            i += 1
            while i < n and masked[i] != '"':
                i += 2 if masked[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise BenchError(f"unbalanced braces after offset {open_brace}")


def episode_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.episode"))


@dataclass
class Edit:
    """One text edit of one file, and how to undo it."""

    file: Path
    original: bytes
    description: str

    def revert(self) -> None:
        self.file.write_bytes(self.original)


def find_scene(folder: Path, scene: str) -> tuple[Path, str, int, int]:
    """The file holding `scene NAME { … }`, its text, and the block's span."""
    head = re.compile(rf"(?m)^[ \t]*scene[ \t]+{re.escape(scene)}\b[^{{]*\{{")
    for path in episode_files(folder):
        text = path.read_bytes().decode("utf-8")
        masked = mask_comments(text)
        found = head.search(masked)
        if found:
            return path, text, found.start(), block_end(masked, found.end() - 1)
    names = ", ".join(p.relative_to(folder).as_posix() for p in episode_files(folder))
    raise BenchError(f"no `scene {scene} {{ … }}` in any .episode file of {folder} ({names})")


def edit_in_scene(
    folder: Path,
    scene: str,
    pattern: str,
    what: str,
    change: Callable[[re.Match[str]], str],
) -> Edit:
    """Replace group 1 of the first match of `pattern` inside scene `scene`
    with `change(match)`; fail naming the scene, the file and the pattern."""
    path, text, start, end = find_scene(folder, scene)
    masked = mask_comments(text)
    found = re.compile(pattern).search(masked, start, end)
    if found is None:
        line = text.count("\n", 0, start) + 1
        raise BenchError(
            f"cannot edit {what}: scene {scene} ({path.relative_to(folder)}:{line}) has no "
            f"match for /{pattern}/ outside comments; point the bench at a scene that has one"
        )
    old = text[found.start(1) : found.end(1)]
    new = change(found)
    edited = text[: found.start(1)] + new + text[found.end(1) :]
    original = path.read_bytes()
    path.write_bytes(edited.encode("utf-8"))
    line = text.count("\n", 0, found.start(1)) + 1
    return Edit(path, original, f"{path.relative_to(folder)}:{line}: {old} -> {new}")


STRING = r'"((?:[^"\\\n]|\\.)*)"'


def edit_title(folder: Path, scene: str) -> Edit:
    """One title's text (a `title` or `kinetic` line) gets two more words."""
    return edit_in_scene(
        folder,
        scene,
        rf"\b(?:title|kinetic)\s+{STRING}",
        "a title",
        lambda m: m.group(1) + " (take 2)",
    )


def edit_dialogue(folder: Path, scene: str, sentence: str = "Really.") -> Edit:
    """One `say WHO "…"` line gets one more sentence (another `sentence` for an
    edit the cache must not already hold)."""
    return edit_in_scene(
        folder,
        scene,
        rf"\bsay\s+\w+\s+{STRING}",
        "a line of dialogue",
        lambda m: f"{m.group(1)} {sentence}",
    )


def longer(value: str, unit: str) -> str:
    """A shot duration half a second (or 12 frames) longer, as a user types it."""
    if unit == "f":
        return f"{int(value) + 12}f"
    ms = float(value) * (1000 if unit == "s" else 1)
    return f"{round(ms) + 500}ms"


def edit_duration(folder: Path, scene: str) -> Edit:
    """The first shot with a written duration (`shot wide 3s`) gets 0.5 s longer."""
    return edit_in_scene(
        folder,
        scene,
        r"\bshot\s+\w+\s+(\d+(?:\.\d+)?(?:ms|s|f))(?=[\s{])",
        "a shot's duration",
        lambda m: longer(*re.fullmatch(r"([\d.]+)(ms|s|f)", m.group(1)).groups()),  # type: ignore[union-attr]
    )


def edit_deliverable(folder: Path) -> Edit:
    """The review proxy's `timecode` turned off (or flipped, if it is written)."""
    pattern = re.compile(r"(?m)^[ \t]*deliver\s+(\w+)\s*=\s*review_proxy\b(\s*\{[^}]*\})?")
    for path in episode_files(folder):
        text = path.read_bytes().decode("utf-8")
        found = pattern.search(mask_comments(text))
        if found is None:
            continue
        block = found.group(2)
        if block is None:
            start = end = found.end()
            old, new = "", " { timecode false }"
        else:
            start, end = found.span(2)
            old = text[start:end]
            flag = re.search(r"\btimecode\s+(true|false)\b", old)
            if flag:
                flipped = "false" if flag.group(1) == "true" else "true"
                new = old[: flag.start(1)] + flipped + old[flag.end(1) :]
            else:
                new = old[: old.rindex("}")] + " timecode false }"
        original = path.read_bytes()
        path.write_bytes((text[:start] + new + text[end:]).encode("utf-8"))
        line = text.count("\n", 0, found.start()) + 1
        shown = f"deliver {found.group(1)} = review_proxy{old.strip() and ' '}{old.strip()}"
        return Edit(
            path,
            original,
            f"{path.relative_to(folder)}:{line}: {shown} -> "
            f"deliver {found.group(1)} = review_proxy {new.strip()}",
        )
    raise BenchError(
        f"cannot edit a deliverable: no `deliver NAME = review_proxy` in any .episode file "
        f"of {folder}; add one (the bench turns its timecode off)"
    )


# --------------------------------------------------------------------------
# The generated episode


LINES = [
    "Part {n} starts with a question nobody asked.",
    "In part {n} we rebuild the plan, one shot at a time.",
    "Nothing in part {n} should render twice.",
    "The cache remembers part {n}, even when the eye forgets.",
    "Part {n} cuts on the beat, or close to it.",
    "This is where the story turns, in part {n}.",
]


def colour(n: int, shift: float, value: float) -> str:
    """A colour of its own for each scene (so no two scenes share a plate)."""
    red, green, blue = colorsys.hsv_to_rgb((n * 0.137 + shift) % 1.0, 0.55, value)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def generated_episode(folder: Path, scenes: int, size: tuple[int, int]) -> str:
    """Write a `scenes`-scene episode into `folder`; return the scene the
    edits touch (a three-shot scene in the middle).

    Scene n has 1 + n % 3 shots on generated plates (gradient, solid): a title
    card with a written duration, then one or two `say` lines with the default
    TTS (shots timed by their lines), a push-in and a crossfade on the third.
    Every scene's colours and lines are its own, so no action is shared.
    Deliverables and stdlib loads follow the pilot; the vertical rendition is
    the episode's size turned on its side. Music: the pilot's bed.
    """
    if scenes < 3:
        raise BenchError("--scenes must be at least 3 (the edits need a three-shot scene)")
    width, height = size
    folder.mkdir(parents=True)
    (folder / "assets").mkdir()
    shutil.copyfile(PILOT / "assets" / "music" / "bed.flac", folder / "assets" / "bed.flac")
    parts = [
        f"# Generated by bench/edit_loop.py: {scenes} scenes at {width}x{height}.",
        'load "std/templates"',
        'load "std/deliverables"',
        "",
        "episode generated {",
        '  title   "The Long Cut"',
        f"  format  {width}x{height} @ 24fps",
        '  voice   host  = tts "en-us" rate 175 pitch 50',
        '  voice   guest = tts "en" rate 170 pitch 40',
        '  music   "assets/bed.flac" bpm 96 gain -6dB license "generated_local"',
        "  captions standard",
        "}",
        "",
        "cast {",
        '  character host  "The Host"  age 40 role "narrator"',
        '  character guest "The Guest" age 35 role "guest"',
        "}",
        "",
        'asset "assets/bed.flac" { license_type "generated_local" '
        'provider_or_model "reel make_assets.py" redistributable true }',
        "",
    ]
    for n in range(scenes):
        top, bottom, solid = colour(n, 0.0, 0.2), colour(n, 0.3, 0.85), colour(n, 0.6, 0.6)
        first = LINES[n % len(LINES)].format(n=n + 1)
        second = LINES[(n + 3) % len(LINES)].format(n=n + 1)
        shots = 1 + n % 3
        body = [f"scene s{n:03d} {{"]
        if shots == 1:
            body += [
                "  shot wide {",
                f'    plate gradient "{top}" "{bottom}" angle {(n * 37) % 180}',
                f'    title "Chapter {n + 1}" style lower_third',
                f'    say host "{first}"',
                "  }",
            ]
        else:
            body += [
                "  shot wide 2s {",
                f'    plate gradient "{top}" "{bottom}" angle {(n * 37) % 180}',
                f'    title "Chapter {n + 1}" style title',
                "  }",
                "  shot medium {",
                f'    plate solid "{solid}"',
                f'    say host "{first}"',
                "  }",
            ]
        if shots == 3:
            body += [
                "  shot close {",
                f'    plate gradient "{bottom}" "{top}"',
                "    move push_in 1.05",
                f'    say guest "{second}"',
                "    transition crossfade 6f",
                "  }",
            ]
        parts += [*body, "}", ""]
    parts += [
        f"deliver master = youtube_1080p {{ resolution {width}x{height} }}",
        "deliver podcast = podcast_audio",
        "deliver subtitles = captions_only",
        "deliver review = review_proxy",
        "deliver timeline = resolve_timeline",
        f"deliver shorts = shorts_vertical {{ resolution {height}x{width} }}",
    ]
    (folder / "generated.episode").write_text("\n".join(parts) + "\n")
    middle = scenes // 2
    return f"s{max(n for n in range(scenes) if n % 3 == 2 and n <= max(middle, 2)):03d}"


# --------------------------------------------------------------------------
# Running `reel build`


@dataclass
class Run:
    """One `reel build`: its wall time and what its run_summary.json says."""

    wall_s: float
    ran: int
    cached: int
    total: int
    ran_ids: list[str]
    ran_seconds: dict[str, float]
    up_to_date: bool
    stages_ms: dict[str, float]
    load_before: float | None
    episode: dict[str, Any] = field(default_factory=dict)


BUILT = re.compile(
    r"^built (?P<id>\S+): (?P<scenes>\d+) scenes, (?P<shots>\d+) shots, (?P<seconds>[\d.]+)s",
    re.M,
)


UP_TO_DATE = re.compile(r"up to date: 0 action\(s\) ran, (?P<cached>\d+) cached")


def reel_command() -> str:
    """The `reel` script of the interpreter running the bench (the venv's)."""
    beside = Path(sys.executable).parent / "reel"
    if beside.is_file():
        return str(beside)
    found = shutil.which("reel")
    if found is None:
        raise BenchError("no `reel` command: run `pip install -e .` in this environment")
    return found


def read_summary(out: Path, episode_id: str, started: float) -> dict[str, Any]:
    path = out / episode_id / "run_summary.json"
    if not path.is_file() or path.stat().st_mtime < started - 1:
        raise BenchError(f"the build wrote no fresh run_summary.json at {path}")
    return json.loads(path.read_text())


def counts(summary: dict[str, Any]) -> tuple[int, int, int, list[str]]:
    """(ran, cached, total, ids that ran) of a run summary. The voices run in
    planning, before the main graph (where they are then cached), so a voice
    that ran is counted as run once, and not as cached."""
    actions = summary.get("actions", {})
    total = int(actions.get("total", 0))
    ids = {r["action"] for r in summary.get("ran", [])}
    voices = summary.get("voices") or {}
    ids |= set(voices.get("ran", []))
    ran = max(len(ids), int(actions.get("ran", 0)))
    not_cached = ran + int(actions.get("failed", 0)) + int(actions.get("skipped", 0))
    return ran, max(total - not_cached, 0), total, sorted(ids)


# With --server: the build server's folder; every `reel` command of the bench
# then goes through the server (started before the first build).
SERVER: dict[str, Path] = {}


def bench_environment() -> dict[str, str]:
    env = reel_environment()
    if "dir" in SERVER:
        env["REEL_SERVER_DIR"] = str(SERVER["dir"])
    return env


def server(*args: str) -> str:
    """`reel server ARGS` in the bench's environment; what it printed."""
    proc = subprocess.run(
        [reel_command(), "server", *args], capture_output=True, text=True, env=bench_environment()
    )
    if args[0] == "start" and proc.returncode != 0:
        raise BenchError(f"`reel server start` failed:\n{proc.stderr}")
    return proc.stdout.strip()


def reel_build(
    project: Path, out: Path, cache: Path, jobs: int | None, target: str | None = None
) -> Run:
    """One `reel build` of the project, or of one of its targets (`PATH:master`)."""
    label = f"{project}:{target}" if target else str(project)
    args = [reel_command(), "build", label, "--out", str(out), "--cache-dir", str(cache)]
    if jobs:
        args += ["-j", str(jobs)]
    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    started_wall = time.time()
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=bench_environment())
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(
            f"`{' '.join(args)}` exited {proc.returncode}:\n{proc.stderr.strip()}\n"
            f"{proc.stdout.strip()}"
        )
    built = BUILT.search(proc.stdout)
    if built is None:
        raise BenchError(f"cannot read the build's summary line in:\n{proc.stdout}")
    noop = UP_TO_DATE.search(proc.stdout)
    if noop is not None:
        # The no-op fast path leaves run_summary.json (the last real build's) alone.
        cached_n = int(noop["cached"])
        summary = {
            "up_to_date": True,
            "actions": {"total": cached_n, "ran": 0, "cached": cached_n},
            "stages_ms": {"total": round(wall * 1000, 1)},
        }
    else:
        summary = read_summary(out, built["id"], started_wall)
    ran, cached, total, ids = counts(summary)
    return Run(
        wall_s=wall,
        ran=ran,
        cached=cached,
        total=total,
        ran_ids=ids,
        ran_seconds={r["action"]: r["seconds"] for r in summary.get("ran", [])},
        up_to_date=bool(summary.get("up_to_date")),
        stages_ms=summary.get("stages_ms", {}),
        load_before=load,
        episode={
            "id": built["id"],
            "scenes": int(built["scenes"]),
            "shots": int(built["shots"]),
            "seconds": float(built["seconds"]),
        },
    )


def by_prefix(ids: list[str]) -> str:
    """`segment/*: 2, segment@shorts/*: 2, proxy/review, concat`: a group of
    one is shown by its id."""
    groups: dict[str, list[str]] = {}
    for action in ids:
        head = action.split("/", 1)[0] + "/*" if "/" in action else action
        groups.setdefault(head, []).append(action)
    order = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return ", ".join(
        members[0] if len(members) == 1 else f"{head}: {len(members)}" for head, members in order
    )


# --------------------------------------------------------------------------
# Scenarios


@dataclass
class Scenario:
    name: str
    wall_s: float
    ratio: float
    ran: int
    cached: int
    total: int
    ran_ids: list[str]
    ran_by_prefix: dict[str, int]
    ran_seconds: dict[str, float] = field(default_factory=dict)
    edit: str | None = None
    stages_ms: dict[str, float] = field(default_factory=dict)
    load_before: float | None = None
    restore_s: float | None = None
    restore_ran: int | None = None
    note: str | None = None


def scenario(name: str, run: Run, full: float, **extra: Any) -> Scenario:
    prefixes = Counter(a.split("/", 1)[0] + "/*" if "/" in a else a for a in run.ran_ids)
    return Scenario(
        name=name,
        wall_s=round(run.wall_s, 3),
        ratio=round(run.wall_s / full, 4),
        ran=run.ran,
        cached=run.cached,
        total=run.total,
        ran_ids=run.ran_ids,
        ran_by_prefix=dict(sorted(prefixes.items())),
        ran_seconds=run.ran_seconds,
        stages_ms=run.stages_ms,
        load_before=run.load_before,
        **extra,
    )


def measure(
    label: str,
    project: Path,
    scene: str,
    work: Path,
    jobs: int | None,
    noop_runs: int,
) -> dict[str, Any]:
    """Every scenario on one episode; returns its figures."""
    out, cache = work / "out", work / "cache"

    def say(text: str) -> None:
        print(f"[{label}] {text}", flush=True)

    def line(run: Run) -> str:
        return f"{run.wall_s:8.2f} s  {run.ran} ran, {run.cached} cached (load {run.load_before})"

    say("full build (cold cache) ...")
    full = reel_build(project, out, cache, jobs)
    say(f"  {line(full)}")
    rows = [scenario("full build (cold cache)", full, full.wall_s)]

    noops = []
    for i in range(noop_runs):
        say(f"no-op rebuild {i + 1}/{noop_runs} ...")
        noops.append(reel_build(project, out, cache, jobs))
        say(f"  {line(noops[-1])}{'' if noops[-1].up_to_date else '  (not the fast path)'}")
    noop = sorted(noops, key=lambda r: r.wall_s)[len(noops) // 2]
    noop.wall_s = statistics.median(r.wall_s for r in noops)
    rows.append(
        scenario(
            f"no-op rebuild (median of {noop_runs})" if noop_runs > 1 else "no-op rebuild",
            noop,
            full.wall_s,
            note=None if all(r.up_to_date for r in noops) else "not the no-op fast path",
        )
    )

    # The last: the same line edited, building only the master (`PATH:master`), as
    # a user does while working on timing; every deliverable's loudness pass and
    # the proxy's later shots wait for the full build after it.
    edits: list[tuple[str, Callable[[], Edit], str | None]] = [
        ("one title edited", lambda: edit_title(project, scene), None),
        ("one line of dialogue edited", lambda: edit_dialogue(project, scene), None),
        ("one shot's duration changed", lambda: edit_duration(project, scene), None),
        ("review proxy's timecode changed", lambda: edit_deliverable(project), None),
        (
            "dialogue edited, master only",
            lambda: edit_dialogue(project, scene, "Truly."),
            "master",
        ),
    ]
    for name, make, target in edits:
        edit = make()
        say(f"{name}: {edit.description}")
        try:
            run = reel_build(project, out, cache, jobs, target)
        finally:
            edit.revert()
        say(f"  {line(run)}  [{by_prefix(run.ran_ids)}]")
        say("  restore (edit reverted) ...")
        restore = reel_build(project, out, cache, jobs)
        say(f"  {line(restore)}")
        rows.append(
            scenario(
                name,
                run,
                full.wall_s,
                edit=edit.description,
                restore_s=round(restore.wall_s, 3),
                restore_ran=restore.ran,
                note=None
                if restore.ran == 0
                else f"the restore build ran {by_prefix(restore.ran_ids)}",
            )
        )
    return {"name": label, **full.episode, "scenarios": [asdict(r) for r in rows]}


def table(result: dict[str, Any]) -> str:
    head = (
        f"{result['name']}: {result['scenes']} scenes, {result['shots']} shots, "
        f"{result['seconds']:.2f} s of video"
    )
    cols = f"  {'scenario':<34} {'wall':>9} {'x full':>7} {'ran':>5} {'cached':>7}"
    cols += "  actions that ran"
    lines = [head, cols, "  " + "-" * (len(cols) - 2)]
    indent = 2 + 34 + 1 + 9 + 1 + 7 + 1 + 5 + 1 + 7 + 2
    for row in result["scenarios"]:
        ids = by_prefix(row["ran_ids"]) or "-"
        wrapped = textwrap.wrap(ids, width=max(40, 150 - indent)) or ["-"]
        lines.append(
            f"  {row['name']:<34} {row['wall_s']:>7.2f} s {row['ratio']:>7.3f} "
            f"{row['ran']:>5} {row['cached']:>7}  {wrapped[0]}"
        )
        lines += [" " * indent + more for more in wrapped[1:]]
        if row["ratio"] < 1 and row["ran_seconds"]:
            slowest = sorted(row["ran_seconds"].items(), key=lambda kv: -kv[1])[:4]
            shown = ", ".join(f"{action} {seconds:.1f} s" for action, seconds in slowest)
            lines.append(" " * indent + f"slowest: {shown}")
        if row.get("note"):
            lines.append(" " * indent + f"note: {row['note']}")
    return "\n".join(lines)


def parse_size(text: str) -> tuple[int, int]:
    found = re.fullmatch(r"(\d+)x(\d+)", text)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not WxH, e.g. 640x360")
    width, height = int(found[1]), int(found[2])
    if width % 2 or height % 2 or min(width, height) < 64:
        raise argparse.ArgumentTypeError(f"{text}: sizes must be even and at least 64")
    return width, height


def git_commit() -> str | None:
    proc = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return proc.stdout.strip() or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", choices=["pilot", "generated", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=None, help="reel build -j (default: cores)")
    parser.add_argument("--scenes", type=int, default=60, help="scenes of the generated episode")
    parser.add_argument(
        "--size", type=parse_size, default=(640, 360), help="generated episode's WxH"
    )
    parser.add_argument("--noop-runs", type=int, default=3, help="no-op builds (median shown)")
    parser.add_argument("--keep", type=Path, help="work in DIR (new or empty) and leave it")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to FILE")
    parser.add_argument(
        "--server",
        action="store_true",
        help="run every build through `reel server` (started first, in the work folder)",
    )
    args = parser.parse_args()

    if args.keep is not None:
        if args.keep.exists() and (not args.keep.is_dir() or any(args.keep.iterdir())):
            sys.exit(f"edit_loop: --keep {args.keep} is not empty; name a new or empty folder")
        args.keep.mkdir(parents=True, exist_ok=True)
        root = args.keep.resolve()
    else:
        root = Path(tempfile.mkdtemp(prefix="reel-edit-loop-"))
    machine = {
        "cores": os.cpu_count(),
        "jobs": args.jobs or os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "commit": git_commit(),
        "server": args.server,
    }
    print(
        f"machine: {machine['cores']} cores, load {machine['load_average']}; "
        f"jobs: {machine['jobs']}; work folder: {root}"
        + ("; every build through `reel server`" if args.server else ""),
        flush=True,
    )
    results = []
    try:
        if args.server:
            SERVER["dir"] = root / "server"
            print(server("start", "--max-idle", "3600"), flush=True)
        if args.episode in ("pilot", "both"):
            project = root / "pilot" / "src"
            shutil.copytree(PILOT, project)
            results.append(
                measure("pilot", project, PILOT_SCENE, root / "pilot", args.jobs, args.noop_runs)
            )
            print(table(results[-1]), flush=True)
        if args.episode in ("generated", "both"):
            project = root / "generated" / "src"
            scene = generated_episode(project, args.scenes, args.size)
            width, height = args.size
            label = f"generated ({args.scenes} scenes, {width}x{height})"
            results.append(
                measure(label, project, scene, root / "generated", args.jobs, args.noop_runs)
            )
            print(table(results[-1]), flush=True)
    except BenchError as error:
        sys.exit(f"edit_loop: {error}")
    finally:
        if SERVER:
            print(server("status"), flush=True)  # how many builds it served
            server("stop")
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"work folder kept: {root}")
    print()
    for result in results:
        print(table(result))
        print()
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": machine, "episodes": results}, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
