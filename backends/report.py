"""The build report's pictures and curves.

One cached action (``report_media``) writes ``report.json``: the master's
short-term loudness every 100 ms (ffmpeg's ``ebur128``, the meter the
loudness pass checks with) and each stem's level over time. It is keyed like
every action, so a no-op build runs nothing and ``reel verify`` compares it.

Cost: nothing here decodes a picture. The report's thumbnails are taken by
each shot's render, from the frames it encodes (``ffmpeg/detect.py``); the
loudness curve decodes the master's sound (the
loudness pass's AAC, which the master carries packet for packet); stem levels
are numpy over the WAVs. An edit of a title re-runs nothing here.
"""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path
from typing import TypedDict

import numpy as np

from .audio.voice import read_frames
from .ffmpeg.toolchain import ffmpeg_report
from .kind import Kind
from .thumbnail import THUMB_WIDTH

STEM_WINDOW = 0.5  # seconds per stem level point
STEMS = ("voice", "music", "effects")
SILENT_DB = -70.0  # the floor a curve is drawn down to (EBU R128's absolute gate)

_SHORT_TERM = re.compile(r"t:\s*([\d.]+)\s+TARGET:.*?S:\s*(-?[\d.]+|-inf|nan)")


class ReportParams(TypedDict):
    pass


def short_term_loudness(path: str, cwd: Path) -> list[list[float]]:
    """[seconds, LUFS] every 100 ms: ebur128's short-term (3 s) loudness."""
    text = ffmpeg_report(["-i", path, "-vn", "-af", "ebur128", "-f", "null", "-"], cwd)
    points = []
    for t, s in _SHORT_TERM.findall(text):
        value = float(s) if s not in ("-inf", "nan") else SILENT_DB
        points.append([round(float(t), 2), round(max(value, SILENT_DB), 1)])
    return points


def stem_levels(path: Path) -> list[float]:
    """RMS level in dBFS per ``STEM_WINDOW`` (both channels), floored at SILENT_DB.
    Read one window at a time: a 10-minute stem read whole as float64 took
    550 MB, more than the rest of a build together."""
    levels = []
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:  # pragma: no cover - the mix writes 16-bit PCM
            return []
        step = int(w.getframerate() * STEM_WINDOW)
        while len(block := read_frames(w, step)):
            rms = float(np.sqrt(np.mean(block * block)))
            db = 20 * np.log10(rms) if rms > 0 else SILENT_DB
            levels.append(round(max(float(db), SILENT_DB), 1))
    return levels


def report_media(sandbox: Path, params: ReportParams) -> None:
    stems = {
        name: stem_levels(sandbox / f"{name}-stem.wav")
        for name in STEMS
        if (sandbox / f"{name}-stem.wav").exists()
    }
    media = {
        "thumb_width": THUMB_WIDTH,
        "loudness": short_term_loudness("audio.m4a", sandbox),
        "stem_window": STEM_WINDOW,
        "stems": stems,
    }
    text = json.dumps(media, sort_keys=True, separators=(",", ":"))
    (sandbox / "report.json").write_text(text, encoding="utf-8")


REPORT_MEDIA = Kind(
    name="report_media",
    params=ReportParams,
    inputs=("audio.m4a", "*-stem.wav"),
    outputs=("report.json",),
    run=report_media,
    about="the build report's loudness curve and stem levels",
)
