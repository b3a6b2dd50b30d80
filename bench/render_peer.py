"""A peer benchmark: one episode rendered by one hand-written ffmpeg command, by
Reel from a clean cache and by MoviePy 2.x, side by side, in one run.

Reel renders each shot as its own cached action, joins the segments by stream
copy and normalises loudness in two passes: that pays off on an edit, and this
bench shows what it costs on a full render next to the plainest way a competent
user does the same work (and next to a popular Python library). The episode is
generated here, nothing is downloaded: N stills (Pillow: gradient, shapes and
grain, different per shot, so the encoder has real work) with a slow eased
push-in and a centred title each, and a music bed (numpy chords, looped).

    python bench/render_peer.py [--shots 24] [--size 1920x1080] [--seconds 3]
                                [--jobs 2] [--no-moviepy] [--keep DIR] [--json FILE]
    python bench/render_peer.py --minutes 1 5 10   # Reel's peak memory by length

Every renderer gets the same frames (count, size, rate), the same x264 preset and
crf (read from Reel's RenderPlan.json) and AAC 192k. Figures: wall time, and peak
memory of the whole process tree, polled at 20 Hz, two ways and the same rule for
each renderer: the RSS of the process and all its descendants summed (a page
that two processes map counts twice: the pinned ffmpeg binary's 35 MB of code,
for one, in each of Reel's two concurrent renders), and their PSS summed (each
shared page divided among the processes that map it, so it counts once: the
memory the tree holds, as `smem` reports it). Each output is probed (PyAV) for
its frames, durations and size, so the rows compare like with like. (At one crf
the files still differ: Reel encodes its segments without B-frames, a keyframe
every 2 s and no scene-cut detection, so they join by stream copy; the
hand-written command keeps x264's defaults.)
Then one shot's title is edited and Reel rebuilds: the edit loop's figure;
then edited again with a build server running (`reel server start`), which
saves Python's start-up and Reel's imports, as Bazel's server does. Beside
them, the floor: the hand-written command for that one shot alone, after its
edit (x264's defaults, its sound too): what re-encoding the shot costs on the
machine at hand, whatever renders it.
Reel's QC measures every frame it delivers (as each shot's render encodes it;
a `publish true` deliverable's pieces are decoded); the row "ffmpeg + check"
adds a decode of the hand-written command's file with the same detectors, to
show what checking by decoding costs. The goal's ratio is Reel / the command
alone. `reel` runs as installed, with Python's bytecode cache on, whatever the
shell says (``bench/as_installed.py``).
Asserts nothing; exits 1 only if a renderer fails (its output's tail is printed).
"""

from __future__ import annotations

import argparse
import colorsys
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import av
import numpy as np
from as_installed import reel_environment
from PIL import Image, ImageDraw

FPS = 24
RATE = 48000  # the bed's sample rate, and every renderer's audio rate
BED_SECONDS = 8.0  # shorter than any episode: every renderer loops it
PUSH_IN = 1.1  # `move push_in 1.1`: the zoom at the shot's last frame
TITLE_PX = 72  # std/styles `title`: 72 px bold at 1080p (scaled by the shorter side)
POLL_S = 0.05  # 20 Hz
INSTALL = "pip install -e '.[bench]'"


@dataclass(frozen=True)
class Case:
    """What every renderer makes: `shots` stills of `frames` frames each."""

    shots: int
    width: int
    height: int
    frames: int  # per shot

    @property
    def seconds(self) -> float:
        return self.shots * self.frames / FPS


@dataclass
class Row:
    """One renderer's figures, and what its output holds."""

    renderer: str
    wall_s: float
    peak_mb: float  # RSS summed over the tree
    peak_pss_mb: float = 0.0  # PSS summed over the tree: a shared page counts once
    frames: int = 0
    video_s: float = 0.0
    audio_s: float = 0.0
    picture: str = ""
    size_mb: float = 0.0  # the file: at one crf, x264's GOP and B-frame settings still differ
    failed: bool = False


# --------------------------------------------------------------------------
# The generated episode


def make_stills(folder: Path, count: int, width: int, height: int) -> list[str]:
    """PNG stills, one look per shot: a two-colour gradient at its own angle,
    shapes, and grain (a flat card would make the encoder's work trivial)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    names = []
    for n in range(count):
        hue = n / max(count, 1)
        first = np.array(colorsys.hsv_to_rgb(hue, 0.7, 0.9), np.float32) * 255
        second = np.array(colorsys.hsv_to_rgb((hue + 0.4) % 1, 0.8, 0.25), np.float32) * 255
        angle = rng.uniform(0, math.pi)
        ramp = xx * math.cos(angle) + yy * math.sin(angle)
        ramp = ((ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0))[..., None]
        pixels = first * (1 - ramp) + second * ramp + rng.normal(0, 6, (height, width, 3))
        picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(picture)
        for _ in range(10):
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            r = rng.uniform(0.03, 0.15) * height
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape((x - r, y - r, x + r, y + r), fill=fill, outline=(255, 255, 255), width=3)
        names.append(f"still{n:02d}.png")
        picture.save(folder / names[-1], compress_level=1)
    return names


def make_bed(path: Path) -> int:
    """A few seconds of chords (I-vi-IV-V), 48 kHz 16-bit stereo; returns its
    length in samples (ffmpeg's aloop needs it)."""
    chords = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9)]
    t = np.arange(int(RATE * BED_SECONDS / len(chords))) / RATE
    envelope = np.minimum(1, t / 0.02) * np.exp(-0.6 * t)
    mono = np.concatenate([sum(np.sin(2 * np.pi * f * t) for f in c) * envelope for c in chords])
    mono *= 0.25 / len(chords[0])
    samples = (np.stack([mono, 0.9 * mono], axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return len(mono)


def titles_for(shots: int) -> list[str]:
    """Plain ASCII (descenders included), so the ffmpeg command needs no escaping."""
    return [f"Shot {n + 1:02d} - going deeper" for n in range(shots)]


def write_episode(folder: Path, case: Case, stills: list[str], titles: list[str]) -> Path:
    """The episode: one scene, a shot per title (stills reused in turn)."""
    lines = [
        'load "std/deliverables"',
        "",
        "episode peer {",
        '  title "Render peer"',
        f"  format {case.width}x{case.height} @ {FPS}fps",
        '  music "bed.wav"',
        "}",
        "",
        "scene peer {",
    ]
    for n, title in enumerate(titles):
        lines += [
            f"  shot wide {case.frames}f {{",
            f'    plate image "{stills[n % len(stills)]}"',
            f"    move push_in {PUSH_IN}",
            f'    title "{title}"',
            "  }",
        ]
    lines += [
        "}",
        "",
        f"deliver master = youtube_1080p {{ resolution {case.width}x{case.height} }}",
    ]
    path = folder / "peer.episode"
    path.write_text("\n".join(lines) + "\n")
    return path


def project(folder: Path, pool: Path, case: Case) -> tuple[Path, list[str], int]:
    """A project folder: stills (reused from `pool`, made there once), the bed
    and the episode. Returns the episode file, the titles and the bed's samples."""
    pool.mkdir(parents=True, exist_ok=True)
    have = sorted(p.name for p in pool.glob("still*.png"))
    stills = have if have else make_stills(pool, min(case.shots, 24), case.width, case.height)
    folder.mkdir(parents=True)
    for name in stills:
        shutil.copyfile(pool / name, folder / name)
    bed_samples = make_bed(folder / "bed.wav")
    titles = titles_for(case.shots)
    return write_episode(folder, case, stills, titles), titles, bed_samples


# --------------------------------------------------------------------------
# Running and measuring


class TreePeak(threading.Thread):
    """Polls processes and all their descendants, summing their RSS and their
    PSS; keeps the max of each. More than one root: a served build runs in the
    server's fork, not under the client that asked for it."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.peak_pss, self.done = pids, 0, 0, threading.Event()

    def run(self) -> None:
        import psutil

        try:
            roots = [psutil.Process(pid) for pid in self.pids]
        except psutil.NoSuchProcess:
            return
        while not self.done.is_set():
            tree: dict[int, psutil.Process] = {}
            for root in roots:
                try:
                    tree |= {p.pid: p for p in [root, *root.children(recursive=True)]}
                except psutil.NoSuchProcess:
                    continue
            if not tree:
                return
            total = total_pss = 0
            for proc in tree.values():
                try:
                    memory = proc.memory_full_info()  # rss, and pss from smaps_rollup
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += memory.rss
                total_pss += memory.pss
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, total_pss)
            self.done.wait(POLL_S)


def measure(
    name: str,
    args: list[str],
    cwd: Path,
    log: Path,
    env: dict[str, str] | None = None,
    also: tuple[int, ...] = (),
) -> Row:
    """Run one renderer to the end: wall time, peak memory of its tree (and of
    the trees of ``also``, processes that do its work); on a failure, print the
    tail of what it wrote."""
    print(f"  {name}: running ...", flush=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env or reel_environment()
        )
        sampler = TreePeak([proc.pid, *also])
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    row = Row(
        name,
        round(wall, 2),
        round(sampler.peak / 2**20, 1),
        round(sampler.peak_pss / 2**20, 1),
        failed=code != 0,
    )
    if code != 0:
        tail = "\n    ".join(log.read_text(errors="replace").splitlines()[-20:])
        print(f"  {name}: FAILED (exit {code}); last lines of {log}:\n    {tail}", flush=True)
    else:
        print(
            f"  {name}: {row.wall_s:.1f} s, peak {row.peak_mb:.0f} MB "
            f"(PSS {row.peak_pss_mb:.0f} MB)",
            flush=True,
        )
    return row


def checked_row(rendered: Row, output: Path, root: Path) -> Row:
    """The hand-written command followed by the decode Reel's QC makes of every
    frame (the same detectors, one process): not the goal's baseline, which is
    the command alone, but what a user who checks their render would run. It
    shows what part of Reel's time is QC rather than rendering."""
    from reel.backends.ffmpeg.toolchain import ffmpeg_exe
    from reel.backends.qc import BLACK_PICTURE, BLACK_PIXEL, FREEZE_MIN_SECONDS, FREEZE_NOISE_DB

    detectors = (
        f"blackdetect=d=0:pic_th={BLACK_PICTURE}:pix_th={BLACK_PIXEL},"
        f"freezedetect=n={FREEZE_NOISE_DB}dB:d={FREEZE_MIN_SECONDS}"
    )
    check = [str(ffmpeg_exe()), "-v", "error", "-i", str(output), "-vf", detectors]
    decoded = measure("ffmpeg: decode check", [*check, "-f", "null", "-"], root, root / "check.log")
    return Row(
        "ffmpeg + check",
        round(rendered.wall_s + decoded.wall_s, 2),
        max(rendered.peak_mb, decoded.peak_mb),
        max(rendered.peak_pss_mb, decoded.peak_pss_mb),
        failed=decoded.failed,
    )


def probe(row: Row, path: Path, case: Case) -> None:
    """Frames (packets counted, nothing decoded), durations and picture format."""
    if row.failed:
        return
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        row.frames = sum(1 for p in container.demux(video) if p.size)
        row.video_s = round(float(video.duration * video.time_base), 3) if video.duration else 0
        audio = container.streams.audio
        if audio and audio[0].duration:
            row.audio_s = round(float(audio[0].duration * audio[0].time_base), 3)
        ctx = video.codec_context
        row.picture = f"{ctx.width}x{ctx.height} {ctx.pix_fmt}"
    row.size_mb = round(path.stat().st_size / 1e6, 1)
    ok = row.frames == case.shots * case.frames and row.picture.startswith(
        f"{case.width}x{case.height} "
    )
    print(
        f"  {row.renderer}: {row.frames} frames, video {row.video_s} s, audio {row.audio_s} s, "
        f"{row.picture}, {row.size_mb} MB{'' if ok else '  <-- NOT THE EXPECTED FRAMES OR SIZE'}",
        flush=True,
    )


def reel_cmd() -> list[str]:
    beside = Path(sys.executable).parent / "reel"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "reel.cli"]


def reel_build(episode: Path, out: Path, cache: Path, jobs: int, *extra: str) -> list[str]:
    where = ["--out", str(out), "--cache-dir", str(cache)]
    return [*reel_cmd(), "build", str(episode), *where, "-j", str(jobs), *extra]


def master_encoder(plan: Path) -> dict[str, Any]:
    """The master deliverable's encoder settings, exactly as Reel runs them."""
    data = json.loads(plan.read_text())
    masters = [d for d in data.get("deliverables", []) if d.get("role") == "master"]
    return masters[0]["encoder"] if masters else data["encoder"]


def where_reel_spends(summary: Path) -> str:
    """Reel's own account: action seconds summed by kind, and its stages."""
    data = json.loads(summary.read_text())
    kinds: dict[str, list[float]] = {}
    for ran in data.get("ran", []):
        kinds.setdefault(ran["action"].split("/")[0], []).append(ran["seconds"])
    spent = sorted(kinds.items(), key=lambda kv: -sum(kv[1]))
    parts = [f"{k} {sum(s):.1f} s" + (f" ({len(s)})" if len(s) > 1 else "") for k, s in spent]
    stages = ", ".join(f"{k} {v / 1000:.1f} s" for k, v in data.get("stages_ms", {}).items())
    return f"action time: {', '.join(parts)}\n    stages: {stages}"


# --------------------------------------------------------------------------
# The peers


def ffmpeg_command(
    exe: str,
    case: Case,
    stills: list[str],
    titles: list[str],
    bed: int,
    encoder: dict[str, Any],
    font: str,
    out: Path,
) -> list[str]:
    """One command, as written by hand: each still decoded once, converted to
    BT.709 4:2:0 and expanded to its frames by zoompan (the push-in, with Reel's
    smoothstep easing), a centred drawtext title, concat, the bed looped by
    aloop and trimmed, faded and turned down, libx264 and AAC 192k."""
    w, h, f = case.width, case.height, case.frames
    scale = min(w, h) / 1080
    p = f"min(on/{max(1, f - 1)},1)"
    zoom = f"1+{PUSH_IN - 1:.6f}*{p}*{p}*(3-2*{p})"
    shadow = max(1, round(3 * scale))
    args = [exe, "-hide_banner", "-y"]
    chains = []
    for n, title in enumerate(titles):
        args += ["-i", stills[n % len(stills)]]
        chains.append(
            f"[{n}:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},"
            "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
            f"zoompan=z='{zoom}':x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2':d={f}:s={w}x{h}:fps={FPS},"
            f"drawtext=fontfile='{font}':text='{title}':fontsize={round(TITLE_PX * scale)}:"
            f"fontcolor=white:shadowcolor=black@0.667:shadowx={shadow}:shadowy={shadow}:"
            f"x=(w-text_w)/2:y=(h-text_h)/2[v{n}]"
        )
    n = len(titles)
    chains.append("".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]")
    chains.append(
        f"[{n}:a]aloop=loop=-1:size={bed},atrim=duration={case.seconds:.6f},afade=t=in:d=0.5,"
        f"afade=t=out:st={max(0, case.seconds - 2):.6f}:d=2,volume=-3dB[a]"
    )
    args += ["-i", "bed.wav", "-filter_complex", ";".join(chains), "-map", "[v]", "-map", "[a]"]
    args += ["-c:v", "libx264", "-preset", encoder["preset"], "-crf", str(encoder["crf"])]
    args += ["-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709"]
    args += ["-color_trc", "bt709", "-c:a", "aac", "-b:a", "192k", "-ar", str(RATE)]
    return [*args, "-movflags", "+faststart", str(out)]


def moviepy_worker(spec_file: str) -> None:
    """MoviePy 2.x, run in a child process so its tree is measured alone: a
    resize-over-time push-in per still, centred in the frame under a TextClip
    title, concatenated, the bed looped, libx264 at the same preset and crf."""
    from moviepy import (
        AudioFileClip,
        CompositeVideoClip,
        ImageClip,
        TextClip,
        afx,
        concatenate_videoclips,
    )

    spec = json.loads(Path(spec_file).read_text())
    w, h, seconds = spec["width"], spec["height"], spec["frames"] / FPS
    font_px = round(TITLE_PX * min(w, h) / 1080)

    def zoom(t: float) -> float:
        p = min(t * FPS / max(1, spec["frames"] - 1), 1.0)
        return 1 + (PUSH_IN - 1) * p * p * (3 - 2 * p)

    shots = []
    for n, title in enumerate(spec["titles"]):
        plate = ImageClip(spec["stills"][n % len(spec["stills"])], duration=seconds)
        text = TextClip(font=spec["font"], text=title, font_size=font_px, color="white")
        shots.append(
            CompositeVideoClip(
                [
                    plate.resized(zoom).with_position("center"),
                    text.with_duration(seconds).with_position("center"),
                ],
                size=(w, h),
            )
        )
    video = concatenate_videoclips(shots)
    bed = AudioFileClip("bed.wav").with_effects(
        [afx.AudioLoop(duration=video.duration), afx.AudioFadeIn(0.5), afx.AudioFadeOut(2)]
    )
    video.with_audio(bed.with_volume_scaled(0.7)).write_videofile(
        spec["out"],
        fps=FPS,
        codec="libx264",
        preset=spec["preset"],
        ffmpeg_params=["-crf", str(spec["crf"])],
        audio_codec="aac",
        audio_bitrate="192k",
        audio_fps=RATE,
        threads=2,
        logger=None,
    )


def moviepy_caveat() -> str | None:
    """MoviePy 2.2.1's TextClip crops titles (descenders) with Pillow 11.2 and later."""
    try:
        mp, pil = version("moviepy"), version("pillow")
    except PackageNotFoundError:
        return None
    numbers = [tuple(int(x) for x in re.findall(r"\d+", v)[:3]) for v in (mp, pil)]
    if numbers[0] <= (2, 2, 1) and numbers[1] >= (11, 2):
        return f"MoviePy {mp} crops titles with Pillow >= 11.2 (Pillow {pil} here)"
    return None


# --------------------------------------------------------------------------
# The runs


def peer_run(root: Path, case: Case, jobs: int, use_moviepy: bool) -> dict[str, Any]:
    """Every renderer on one case, then a one-title edit in Reel."""
    from reel.backends.ffmpeg.toolchain import ffmpeg_exe
    from reel.backends.fonts import font_file

    print(f"making {case.shots} stills at {case.width}x{case.height} and a bed ...", flush=True)
    src = root / "src"
    episode, titles, bed = project(src, root / "pool", case)
    stills = sorted(p.name for p in src.glob("still*.png"))
    check = subprocess.run(
        [*reel_cmd(), "check", str(episode), "--cache-dir", str(root / "check-cache")],
        capture_output=True,
        text=True,
    )
    plan = subprocess.run(
        reel_build(episode, root / "plan", root / "plan-cache", jobs, "--stage", "plan"),
        capture_output=True,
        text=True,
    )
    if check.returncode or plan.returncode:
        said = "".join(p.stdout + p.stderr for p in (check, plan))
        sys.exit(f"render_peer: the generated episode does not build:\n{said}")
    encoder = master_encoder(root / "plan" / "peer" / "RenderPlan.json")
    font = str(font_file(None, True))
    print(check.stdout.strip(), flush=True)

    rows, outputs = [], {}
    outputs["ffmpeg (one)"] = root / "ffmpeg.mp4"
    command = ffmpeg_command(
        str(ffmpeg_exe()), case, stills, titles, bed, encoder, font, outputs["ffmpeg (one)"]
    )
    (root / "ffmpeg-command.sh").write_text(shlex.join(command) + "\n")  # to read or rerun
    rows.append(measure("ffmpeg (one)", command, src, root / "ffmpeg.log"))
    if not rows[-1].failed:
        rows.append(checked_row(rows[-1], outputs["ffmpeg (one)"], root))

    out, cache = root / "out", root / "cache"
    outputs["reel (clean)"] = out / "peer" / "master.mp4"
    build = reel_build(episode, out, cache, jobs)
    rows.append(measure("reel (clean)", build, root, root / "reel.log"))
    edit_s = served_s = floor_s = None
    if not rows[-1].failed:
        built = master_encoder(out / "peer" / "RenderPlan.json")
        if (built["crf"], built["preset"]) != (encoder["crf"], encoder["preset"]):
            print(f"  note: the build's encoder differs from its plan's: {built}", flush=True)
        print(f"    {where_reel_spends(out / 'peer' / 'run_summary.json')}", flush=True)
        at = len(titles) // 2
        middle = titles[at]
        retitled = f"{middle} (take 2)"
        # The floor: the edited shot, after its edit, by the hand-written command
        # alone (one still, its push-in and title, its 3 s of bed, the same preset
        # and crf): what re-encoding the shot costs on the machine at hand, which
        # a goal for Reel's edit in seconds is read against (not the same job to
        # the frame: x264's defaults here, Reel's fixed GOP and threads there).
        one = Case(1, case.width, case.height, case.frames)
        still = [stills[at % len(stills)]]
        out_shot = root / "shot.mp4"
        floor = ffmpeg_command(command[0], one, still, [retitled], bed, encoder, font, out_shot)
        shot = measure("ffmpeg: that shot alone", floor, src, root / "shot.log")
        floor_s = None if shot.failed else shot.wall_s
        if shot.failed:
            rows.append(shot)
        original = episode.read_text()
        episode.write_text(original.replace(f'"{middle}"', f'"{retitled}"', 1))
        try:
            edit = measure("reel: one title edited", build, root, root / "reel-edit.log")
        finally:
            episode.write_text(original)
        edit_s = None if edit.failed else edit.wall_s
        if edit.failed:
            rows.append(edit)
        else:
            print(f"    {where_reel_spends(out / 'peer' / 'run_summary.json')}", flush=True)
            served = served_edit(root, episode, middle, build)
            served_s = None if served.failed else served.wall_s
            if served.failed:
                rows.append(served)

    caveat = None
    # One untimed import in a child: is MoviePy there? (and its bytecode compiled)
    probe_import = [sys.executable, "-c", "import moviepy"]
    if not use_moviepy:
        print("  moviepy: skipped (--no-moviepy)")
    elif subprocess.run(probe_import, capture_output=True).returncode:
        print(f"  MoviePy not installed ({INSTALL})", flush=True)
    else:
        caveat = moviepy_caveat()
        outputs["moviepy"] = root / "moviepy.mp4"
        spec = root / "moviepy.json"
        spec.write_text(
            json.dumps(
                {"stills": stills, "titles": titles, "font": font, "out": str(outputs["moviepy"])}
                | {"width": case.width, "height": case.height, "frames": case.frames}
                | {"crf": encoder["crf"], "preset": encoder["preset"]}
            )
        )
        worker = [sys.executable, str(Path(__file__).resolve()), "--moviepy-worker", str(spec)]
        rows.append(measure("moviepy", worker, src, root / "moviepy.log"))

    for row in rows:
        if row.renderer in outputs:
            probe(row, outputs[row.renderer], case)
    return {
        "encoder": encoder,
        "rows": rows,
        "edit_s": edit_s,
        "served_s": served_s,
        "floor_s": floor_s,
        "caveat": caveat,
    }


def served_edit(root: Path, episode: Path, title: str, build: list[str]) -> Row:
    """The same edit again (another take of the title) with `reel server`
    running, as a user who keeps one running between edits would wait for it.
    The server is started, and its count of commands served checked, by the
    real CLI in the environment the builds run in."""
    env = {**reel_environment(), "REEL_SERVER_DIR": str(root / "server")}
    server = [*reel_cmd(), "server"]
    started = subprocess.run(
        [*server, "start", "--max-idle", "600"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"pid (\d+)", started.stdout)  # "reel server: started, pid N (...)"
    daemon = (int(found.group(1)),) if found else ()
    original = episode.read_text()
    episode.write_text(original.replace(f'"{title}"', f'"{title} (take 3)"', 1))
    try:
        name = "reel: the same, server running"
        row = measure(name, build, root, root / "served.log", env, also=daemon)
        status = subprocess.run([*server, "status"], env=env, capture_output=True, text=True)
        print(f"    {status.stdout.strip()}", flush=True)
        if "1 command(s) served" not in status.stdout:
            print("    note: the server did not run that build", flush=True)
            row.failed = True
        return row
    finally:
        episode.write_text(original)
        subprocess.run([*server, "stop"], env=env, capture_output=True)


def memory_run(
    root: Path, minutes: list[float], size: tuple[int, int], frames: int, jobs: int
) -> list[dict[str, Any]]:
    """Reel alone, clean cache, episodes of growing length: is its peak flat?"""
    results = []
    for length in minutes:
        case = Case(max(1, round(length * 60 * FPS / frames)), *size, frames)
        print(f"{length:g} min: {case.shots} shots ...", flush=True)
        folder = root / f"{length:g}min"
        episode, _, _ = project(folder / "src", root / "pool", case)
        build = reel_build(episode, folder / "out", folder / "cache", jobs)
        row = measure(f"reel {length:g} min", build, folder, folder / "reel.log")
        results.append({"minutes": length, "shots": case.shots} | asdict(row))
    print(f"\nReel's peak memory (tree), {size[0]}x{size[1]}, -j {jobs} (goal: <= 500 MB, flat)")
    print(f"  {'length':>8} {'shots':>6} {'wall':>9} {'RSS sum':>9} {'PSS sum':>9}")
    for r in results:
        rss = "FAILED" if r["failed"] else f"{r['peak_mb']:6.0f} MB"
        pss = "" if r["failed"] else f"{r['peak_pss_mb']:6.0f} MB"
        print(f"  {r['minutes']:>6g} m {r['shots']:>6} {r['wall_s']:>7.1f} s {rss:>9} {pss:>9}")
    for key, what in (("peak_mb", "RSS"), ("peak_pss_mb", "PSS")):
        peaks = [r[key] for r in results if not r["failed"]]
        if len(peaks) > 1 and peaks[0]:
            print(f"  {what}: peak of the longest / of the shortest: {peaks[-1] / peaks[0]:.2f}")
    return results


def report(case: Case, result: dict[str, Any], load: tuple[float, ...]) -> dict[str, Any]:
    """The side-by-side table; returns its figures for --json."""
    rows: list[Row] = result["rows"]
    enc = result["encoder"]
    base = next((r.wall_s for r in rows if r.renderer == "ffmpeg (one)" and not r.failed), 0)
    print(
        f"\ncase: {case.shots} shots x {case.frames / FPS:g} s, {case.width}x{case.height} "
        f"@ {FPS} fps, crf {enc['crf']} {enc['preset']}, {os.cpu_count()} cores, load {load}"
    )
    print(f"{'renderer':<16}{'wall':>9}   {'peak RSS / PSS (tree)':<22} {'x ffmpeg':<10} file")
    for r in rows:
        ratio = "-" if r.failed or not base else f"{r.wall_s / base:.2f}"
        wall = "FAILED" if r.failed else f"{r.wall_s:.1f} s"
        memory = f"{r.peak_mb:.0f} / {r.peak_pss_mb:.0f} MB"
        print(
            f"{r.renderer:<16}{wall:>9}   {memory:<22} {ratio:<10} "
            + (f"{r.size_mb} MB" if r.size_mb else "-")
        )
    if result["edit_s"] is not None:
        print(f"reel: one title edited  {result['edit_s']:.2f} s  (goal <= 2 s)")
    if result["served_s"] is not None:
        print(
            f"reel: the same, with `reel server` running  {result['served_s']:.2f} s  (goal <= 2 s)"
        )
    if result["floor_s"] is not None:
        print(
            f"ffmpeg: that shot alone, hand-written  {result['floor_s']:.2f} s  "
            "(the floor: what re-encoding the shot costs here)"
        )
    if result["caveat"]:
        print(f"note: {result['caveat']}")
    return {
        "case": asdict(case),
        "encoder": enc,
        "rows": [asdict(r) for r in rows],
        "reel_title_edit_s": result["edit_s"],
        "reel_title_edit_served_s": result["served_s"],
        "ffmpeg_shot_alone_s": result["floor_s"],
    }


def parse_size(text: str) -> tuple[int, int]:
    found = re.fullmatch(r"(\d+)x(\d+)", text)
    if not found or int(found[1]) % 2 or int(found[2]) % 2 or min(map(int, found.groups())) < 64:
        raise argparse.ArgumentTypeError(f"{text!r}: give WxH, even, each at least 64")
    return int(found[1]), int(found[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=24)
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), help="WxH")
    parser.add_argument("--seconds", type=float, default=3.0, help="each shot's length")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="reel build -j")
    parser.add_argument("--minutes", type=float, nargs="+", help="memory mode: Reel only")
    parser.add_argument("--no-moviepy", action="store_true")
    parser.add_argument("--keep", type=Path, help="work in DIR (new or empty) and leave it")
    parser.add_argument("--json", type=Path, help="also write the figures to FILE")
    parser.add_argument("--moviepy-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.moviepy_worker:
        return moviepy_worker(args.moviepy_worker)
    try:
        import psutil  # noqa: F401
    except ImportError:
        sys.exit(f"render_peer: psutil is not installed ({INSTALL})")
    if args.keep is not None:
        if args.keep.exists() and (not args.keep.is_dir() or any(args.keep.iterdir())):
            sys.exit(f"render_peer: --keep {args.keep} is not empty; name a new or empty folder")
        args.keep.mkdir(parents=True, exist_ok=True)
    root = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="reel-peer-"))
    frames = max(1, round(args.seconds * FPS))
    load = tuple(round(x, 2) for x in os.getloadavg())
    figures: dict[str, Any] = {"cores": os.cpu_count(), "load": load, "jobs": args.jobs}
    try:
        if args.minutes:
            figures["memory"] = memory_run(root, args.minutes, args.size, frames, args.jobs)
            failed = any(r["failed"] for r in figures["memory"])
        else:
            case = Case(args.shots, *args.size, frames)
            result = peer_run(root, case, args.jobs, not args.no_moviepy)
            figures |= report(case, result, load)
            failed = any(r.failed for r in result["rows"])
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"work folder kept: {root}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {args.json}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
