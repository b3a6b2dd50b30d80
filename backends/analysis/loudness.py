"""How loud a take is: ffmpeg's ebur128 filter (ITU-R BS.1770 / EBU R128).

Integrated loudness (LUFS, gated) and true peak (dBTP, 4× oversampled), as
ffmpeg's filter reports them in its summary: the same meter the build's
loudness gates use, so a take measured here measures the same in the cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .decode import ffmpeg_log

_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf|nan)\s*LUFS", re.S)
_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf|nan)\s*dBFS", re.S)


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float | None  # None: silence below the absolute gate
    true_peak_dbtp: float | None  # None: digital silence


def _number(match: re.Match[str] | None) -> float | None:
    if match is None or match.group(1) in ("-inf", "nan"):
        return None
    return round(float(match.group(1)), 1)


def loudness(path: Path) -> Loudness:
    """Measure the first audio stream (the summary ffmpeg prints at its end)."""
    log = ffmpeg_log(
        ["-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"]
    )
    summary = log[log.rfind("Summary:") :]
    lufs = _number(_INTEGRATED.search(summary))
    if lufs is not None and lufs <= -70.0:  # the absolute gate: nothing was loud enough
        lufs = None
    return Loudness(lufs, _number(_PEAK.search(summary)))
