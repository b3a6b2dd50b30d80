"""The build report's pictures and curves, taken from the delivered master.

One cached action (``report_media``) reads the master and the stems and
writes ``report.json``: a small JPEG per shot (its middle frame, as data:
URIs, so the report stays one file), the master's short-term loudness every
100 ms (ffmpeg's ``ebur128``, the meter the loudness pass checks with) and
each stem's level over time. It is keyed like every action (the master's and
stems' digests, the shot times, the toolchain), so a no-op build runs
nothing, an edit re-measures only when the master changed, and ``reel
verify`` compares it (bit-exact JPEG encoding, deterministic meter).

Cost: the thumbnails are one ffmpeg process with one input per shot, each
seeking to its frame (at most one GOP decoded per shot, never the whole
master); the loudness curve decodes the master's AAC once; stem levels are
numpy over the WAVs.
"""

from __future__ import annotations

import base64
import json
import re
import wave
from pathlib import Path
from typing import TypedDict

import numpy as np

from .audio.voice import read_frames
from .ffmpeg.toolchain import BITEXACT_OUT, ffmpeg_report, run_ffmpeg
from .kind import Kind

THUMB_WIDTH = 192  # px; a contact sheet wants many small pictures, not big ones
JPEG_QUALITY = 5  # mjpeg -q:v (2 best .. 31 worst): ~5 KB a thumbnail at 192 px
STEM_WINDOW = 0.5  # seconds per stem level point
STEMS = ("voice", "music", "effects")
SILENT_DB = -70.0  # the floor a curve is drawn down to (EBU R128's absolute gate)

_SHORT_TERM = re.compile(r"t:\s*([\d.]+)\s+TARGET:.*?S:\s*(-?[\d.]+|-inf|nan)")


class ReportShot(TypedDict):
    id: str
    seconds: float  # the middle of the shot, inside a frame


class ReportParams(TypedDict):
    shots: list[ReportShot]


def thumbnail_commands(shots: list[ReportShot]) -> list[str]:
    """One ffmpeg run: an input per shot seeked to its frame (accurate seek from
    the previous keyframe), one JPEG output per input."""
    args: list[str] = []
    for shot in shots:
        args += ["-ss", f"{shot['seconds']:.6f}", "-an", "-i", "master.mp4"]
    for i, _ in enumerate(shots):
        args += [
            "-map",
            f"{i}:v:0",
            "-frames:v",
            "1",
            "-vf",
            f"scale={THUMB_WIDTH}:-2:flags=bicubic+accurate_rnd+full_chroma_int,format=yuvj420p",
            "-c:v",
            "mjpeg",
            "-q:v",
            str(JPEG_QUALITY),
            "-threads",
            "1",
            *BITEXACT_OUT,
            "-y",
            f"thumb-{i:03d}.jpg",
        ]
    return args


def short_term_loudness(path: str, cwd: Path) -> list[list[float]]:
    """[seconds, LUFS] every 100 ms: ebur128's short-term (3 s) loudness."""
    text = ffmpeg_report(["-i", path, "-vn", "-af", "ebur128", "-f", "null", "-"], cwd)
    points = []
    for t, s in _SHORT_TERM.findall(text):
        value = float(s) if s not in ("-inf", "nan") else SILENT_DB
        points.append([round(float(t), 2), round(max(value, SILENT_DB), 1)])
    return points


def stem_levels(path: Path) -> list[float]:
    """RMS level in dBFS per ``STEM_WINDOW`` (both channels), floored at SILENT_DB."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:  # pragma: no cover - the mix writes 16-bit PCM
            return []
        rate, samples = w.getframerate(), read_frames(w, w.getnframes())
    step = int(rate * STEM_WINDOW)
    levels = []
    for lo in range(0, len(samples), step):
        block = samples[lo : lo + step]
        rms = float(np.sqrt(np.mean(block * block))) if len(block) else 0.0
        db = 20 * np.log10(rms) if rms > 0 else SILENT_DB
        levels.append(round(max(float(db), SILENT_DB), 1))
    return levels


def report_media(sandbox: Path, params: ReportParams) -> None:
    shots = params["shots"]
    thumbs: dict[str, str] = {}
    if shots:
        run_ffmpeg(thumbnail_commands(shots), sandbox)
        for i, shot in enumerate(shots):
            data = (sandbox / f"thumb-{i:03d}.jpg").read_bytes()
            thumbs[shot["id"]] = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    stems = {
        name: stem_levels(sandbox / f"{name}-stem.wav")
        for name in STEMS
        if (sandbox / f"{name}-stem.wav").exists()
    }
    media = {
        "thumb_width": THUMB_WIDTH,
        "thumbs": thumbs,
        "loudness": short_term_loudness("master.mp4", sandbox),
        "stem_window": STEM_WINDOW,
        "stems": stems,
    }
    text = json.dumps(media, sort_keys=True, separators=(",", ":"))
    (sandbox / "report.json").write_text(text, encoding="utf-8")


REPORT_MEDIA = Kind(
    name="report_media",
    params=ReportParams,
    inputs=("master.mp4", "*-stem.wav"),
    outputs=("report.json",),
    run=report_media,
    about="the build report's thumbnails, loudness curve and stem levels",
)
