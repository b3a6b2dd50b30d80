"""Black picture: ffmpeg's blackdetect filter.

A frame is black when at least ``PICTURE_THRESHOLD`` of its pixels are darker
than ``PIXEL_THRESHOLD`` (of the luma range); a stretch counts from
``MIN_DURATION_S``. The fraction is of the take's duration, so a take that is
black from end to end reports 1.0 (a lens cap, a camera rolling in its bag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .decode import ffmpeg_log

MIN_DURATION_S = 0.1
PIXEL_THRESHOLD = 0.10
PICTURE_THRESHOLD = 0.98
FILTER = f"blackdetect=d={MIN_DURATION_S}:pix_th={PIXEL_THRESHOLD}:pic_th={PICTURE_THRESHOLD}"
_BLACK = re.compile(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)")


@dataclass(frozen=True)
class Black:
    intervals: tuple[tuple[float, float], ...]
    fraction: float


def black(path: Path, duration_s: float, frame_s: float = 0.0) -> Black:
    """Black stretches of the first video stream and their share of ``duration_s``.

    blackdetect ends a stretch that runs to the end of the file at its last
    frame's start; such a stretch is extended by the last frame (``frame_s``)
    so a take black from end to end is black for all of its duration."""
    log = ffmpeg_log(["-i", str(path), "-map", "0:v:0", "-vf", FILTER, "-f", "null", "-"])
    found = [(float(a), float(b)) for a, b in _BLACK.findall(log)]
    if found and found[-1][1] + frame_s * 1.5 >= duration_s:
        found[-1] = (found[-1][0], duration_s)
    spans = tuple((round(a, 3), round(min(b, duration_s), 3)) for a, b in found)
    total = sum(b - a for a, b in spans)
    fraction = round(min(1.0, total / duration_s), 3) if duration_s > 0 else 0.0
    return Black(spans, fraction)
