"""QC's picture detectors, run where a piece is rendered, and what they log.

A piece of a joined deliverable (a shot's segment, a review shot) is measured
as it is made: its filter graph splits its last frames, the very frames it
encodes, into ``blackdetect`` and ``freezedetect`` next to the encoder (and,
for a master segment, into the report's middle-frame thumbnail). Decoding
each piece again afterwards cost as much CPU as a fifth of the render (0.6 s
per 3 s shot at 1080p), which made a clean build 1.2x one hand-written ffmpeg
command. What a draft gives up is the decode itself: that the coded pictures
turn back into these frames. A deliverable marked ``publish true`` still has
each piece decoded and measured (the ``measure_piece`` kind,
``backends/qc_joined.py``, which also reads the log), and the tests compare
both ways on real builds.

The detectors' settings and the graphs that run them live here, in one small
module, because a render's key follows the backend modules it imports: QC's
own code (the log's reader, the judge) can change without re-rendering a
shot; these numbers cannot.
"""

from __future__ import annotations

from typing import Any

from ..thumbnail import JPEG_QUALITY, THUMB_WIDTH

# blackdetect: a frame is black when 98% of its pixels are under 10% luma;
# spans of 2 frames at 24 fps or more are reported (a black gap is seldom one frame).
BLACK_MIN_SECONDS = 0.08
BLACK_PICTURE = 0.98
BLACK_PIXEL = 0.10
# freezedetect: a frame that differs from the last by under -60 dB is frozen;
# spans of half a second or more are reported.
FREEZE_NOISE_DB = -60
FREEZE_MIN_SECONDS = 0.5

LOG = "measure.log"  # the detectors' findings: one ``metadata`` print per frame
SEEN = "reel.seen"  # a key every frame the detectors see carries: the log counts them
THUMB = "thumb.jpg"  # the middle frame, for the build report

# A piece's detectors, in order. Black runs of any length are logged (d=0),
# because a run that crosses a cut is one span of the joined file; the judge's
# minimum is applied after the pieces are laid end to end
# (qc_joined.merge_black). blackdetect ends a run still open at the end of its
# input at the last frame's time, the same time as a run broken by that last
# frame: one white frame after the piece tells them apart, so a run black to
# the piece's end ends at its end.
DETECTORS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("metadata", {"mode": "add", "key": SEEN, "value": 1}),
    ("freezedetect", {"n": f"{FREEZE_NOISE_DB}dB", "d": FREEZE_MIN_SECONDS}),
    ("tpad", {"stop": 1, "stop_mode": "add", "color": "white"}),
    ("blackdetect", {"d": 0, "pic_th": BLACK_PICTURE, "pix_th": BLACK_PIXEL}),
    ("metadata", {"mode": "print", "file": LOG}),
)
THUMB_SCALE = {"flags": "bicubic+accurate_rnd+full_chroma_int"}


def detector_chain() -> str:
    """The detectors as filtergraph text (its values need no escaping)."""
    return ",".join(
        f"{name}=" + ":".join(f"{k}={v}" for k, v in opts.items()) for name, opts in DETECTORS
    )


def detector_output(label: str) -> list[str]:
    """ffmpeg output arguments that run ``[label]`` through to nothing: its
    filters have logged what they found."""
    return ["-map", f"[{label}]", "-f", "null", "-"]


def detected(stream: Any) -> Any:
    """An ffmpeg-python stream through the detectors."""
    for name, opts in DETECTORS:
        stream = stream.filter(name, **opts)
    return stream


def thumbnail(stream: Any, frames: int) -> Any:
    """An ffmpeg-python stream's frames up to the middle one at the report's
    size; the output writes each over the last (``THUMB_OPTIONS``), so the
    middle frame is what stays. Selecting that one frame alone starved the
    branch until the middle of the shot, and the filter graph ran ahead for it
    while the encoder's frames queued: 110 MB more per 1080p shot."""
    stream = stream.filter("trim", end_frame=frames // 2 + 1)
    stream = stream.filter("scale", THUMB_WIDTH, -2, **THUMB_SCALE)
    return stream.filter("format", "yuvj420p")


# ffmpeg output options of the thumbnail (one file, rewritten) and of the detectors' run
# (nothing written: the metadata filter has logged what they found).
THUMB_OPTIONS = {"update": 1, "c:v": "mjpeg", "q:v": JPEG_QUALITY, "threads": 1}
NULL_OPTIONS = {"f": "null"}
