"""Shot changes inside a take: ffmpeg's scene score.

``select='gt(scene,THRESHOLD)'`` passes the frames whose difference from the
previous frame (ffmpeg's scene score, 0-1) is above the threshold, and
showinfo prints their times. Motion within a shot scores well below 0.3; a
cut to a different picture scores above it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .decode import ffmpeg_log

THRESHOLD = 0.3
FILTER = f"select='gt(scene,{THRESHOLD})',showinfo"
_PTS = re.compile(r"\[Parsed_showinfo[^\]]*\].*?pts_time:\s*([\d.]+)")


def shot_changes(path: Path) -> tuple[float, ...]:
    """Times (seconds) of the frames that start a new shot."""
    log = ffmpeg_log(["-i", str(path), "-map", "0:v:0", "-vf", FILTER, "-f", "null", "-"])
    return tuple(round(float(t), 3) for t in _PTS.findall(log))
