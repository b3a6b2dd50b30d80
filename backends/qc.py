"""QC measurements: what a delivered file is, decoded, with no opinion on it.

A cached action (``qc``) decodes a delivered video or audio file whole and
writes ``qc.json`` (a file joined from per-shot pieces is measured from its
pieces instead, in the same shape: ``qc_joined.py``): the stream facts as
PyAV reads them (``probe.probe``: size, rate, frame count, colour tags, audio
layout and rate), the frames
ffmpeg decoded, the spans ``blackdetect``, ``freezedetect`` and
``silencedetect`` found, and the integrated loudness and true peak (the
``ebur128`` meter the loudness pass itself uses, ``loudness.measure_ebur128``).

It measures and never judges: which black span is an intended dip, which
freeze is a held still and what the loudness target is are the plan's facts,
which the compiler (``compiler/qc.py``) holds. Keeping the verdict out of the
action means its key is the file's bytes (and the toolchain) alone: a plan
edit that leaves the file's bytes alone re-judges the same measurements for
free, and a no-op build measures nothing.

The detectors run in one decode of the file; the loudness meter decodes the
audio again (cheap next to the picture) so that QC and the loudness pass read
the very same meter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypedDict

from .audio.loudness import _finite, measure_ebur128
from .ffmpeg.detect import (
    BLACK_MIN_SECONDS,
    BLACK_PICTURE,
    BLACK_PIXEL,
    FREEZE_MIN_SECONDS,
    FREEZE_NOISE_DB,
)
from .ffmpeg.toolchain import ffmpeg_report
from .kind import Kind
from .probe import ProbeError, probe

# The picture detectors' settings are shared with the renders that run them
# (a piece is measured as it is made): see ffmpeg/detect.py.
# silencedetect: under -50 dBFS for 0.3 s (longer than the pauses inside a sentence).
SILENCE_NOISE_DB = -50
SILENCE_MIN_SECONDS = 0.3

FRAME_LOG = re.compile(r"frame=\s*(\d+)")
BLACK_LOG = re.compile(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)")
# Each event as the detector logs it (``freeze_start: 1.5``) or as the
# ``metadata`` filter prints it (``lavfi.freezedetect.freeze_start=1.5``).
_START = {
    "black": re.compile(r"black_start[:=]\s*([\d.]+)"),
    "freeze": re.compile(r"freeze_start[:=]\s*([\d.]+)"),
    "silence": re.compile(r"silence_start[:=]\s*(-?[\d.]+)"),
}
_END = {
    "black": re.compile(r"black_end[:=]\s*([\d.]+)"),
    "freeze": re.compile(r"freeze_end[:=]\s*([\d.]+)"),
    "silence": re.compile(r"silence_end[:=]\s*(-?[\d.]+)"),
}

# The stream facts a check reads (probe.probe reports more).
FACTS = (
    "duration",
    "video_duration",
    "audio_duration",
    "frames",
    "width",
    "height",
    "fps",
    "codec",
    "pix_fmt",
    "colour_primaries",
    "colour_transfer",
    "colour_matrix",
    "colour_range",
    "audio_codec",
    "sample_rate",
    "channels",
    "audio_layout",
)


class QCParams(TypedDict):
    media: str  # "video" or "audio": what the file is meant to hold


def logged_spans(text: str, what: str, end_of_file: float, digits: int = 3) -> list[list[float]]:
    """Start/end pairs in the order the detector logged them, rounded to
    ``digits``; a span still open when the file ended closes at its end."""
    events = sorted(
        [(m.start(), "start", float(m.group(1))) for m in _START[what].finditer(text)]
        + [(m.start(), "end", float(m.group(1))) for m in _END[what].finditer(text)]
    )
    spans: list[list[float]] = []
    opened: float | None = None
    for _, event, seconds in events:
        if event == "start":
            opened = max(seconds, 0.0)
        elif opened is not None:
            spans.append([round(opened, digits), round(seconds, digits)])
            opened = None
    if opened is not None:
        spans.append([round(opened, digits), round(end_of_file, digits)])
    return spans


def detect_spans(path: str, cwd: Path, video: bool, audio: bool, end: float) -> dict[str, Any]:
    """One decode with blackdetect and freezedetect on the picture and
    silencedetect on the sound: the spans each found, and the frames decoded.
    A span still open at the end of the file closes at ``end``."""
    chains, maps = [], []
    if video:
        chains.append(
            f"[0:v:0]blackdetect=d={BLACK_MIN_SECONDS}:pic_th={BLACK_PICTURE}:"
            f"pix_th={BLACK_PIXEL},freezedetect=n={FREEZE_NOISE_DB}dB:d={FREEZE_MIN_SECONDS}[v]"
        )
        maps += ["-map", "[v]"]
    if audio:
        chains.append(f"[0:a:0]silencedetect=n={SILENCE_NOISE_DB}dB:d={SILENCE_MIN_SECONDS}[a]")
        maps += ["-map", "[a]"]
    args = ["-i", path, "-filter_complex", ";".join(chains), *maps]
    text = ffmpeg_report([*args, "-f", "null", "-"], cwd)
    frames = FRAME_LOG.findall(text)
    return {
        "frames_decoded": int(frames[-1]) if video and frames else None,
        "black": [[round(float(a), 3), round(float(b), 3)] for a, b in BLACK_LOG.findall(text)],
        "freeze": logged_spans(text, "freeze", end) if video else [],
        "silence": logged_spans(text, "silence", end) if audio else [],
    }


def measure(path: Path) -> dict[str, Any]:
    """Everything QC knows of one file: stream facts, detector spans, loudness.
    Raises ProbeError when the file cannot be read as media."""
    info = probe(path)
    facts = {key: info.get(key) for key in FACTS}
    video, audio = bool(info.get("has_video")), bool(info.get("has_audio"))
    duration = facts.get("duration") or 0.0
    spans = detect_spans(path.name, path.parent, video, audio, round(duration, 3))
    out: dict[str, Any] = {
        "has_video": video,
        "has_audio": audio,
        **facts,
        **spans,
        "loudness": None,
    }
    if audio:
        figures = _finite(measure_ebur128(path.name, path.parent))
        out["loudness"] = {k: round(v, 2) for k, v in sorted(figures.items())}
    return out


def run_qc(sandbox: Path, params: QCParams) -> None:
    media = next(p for p in sorted(sandbox.iterdir()) if p.name.startswith("media."))
    try:
        result = measure(media)
    except ProbeError as exc:
        result = {"unreadable": str(exc)}
    result["media"] = params["media"]
    (sandbox / "qc.json").write_text(json.dumps(result, sort_keys=True, indent=2))


QC = Kind(
    name="qc",
    params=QCParams,
    inputs=("media.*",),
    outputs=("qc.json",),
    run=run_qc,
    about="decode a delivered file: stream facts, black/frozen/silent spans, loudness",
)


def caption_cues(path: Path) -> list[tuple[float, float]]:
    """Each cue's start and end in seconds, read with pysubs2 (SRT, WebVTT, ASS).
    Raises ValueError when the file is not captions."""
    import pysubs2

    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not text or text == "WEBVTT":  # an episode without lines has no cues to check
        return []
    try:
        subs = pysubs2.load(str(path), encoding="utf-8")
    except (pysubs2.exceptions.Pysubs2Error, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not a caption file: {exc}") from None
    return [(event.start / 1000, event.end / 1000) for event in subs if not event.is_comment]
