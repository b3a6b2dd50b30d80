"""Loudness: two-pass EBU R128 normalisation, linear where it can be, measured after.

Pass one measures the mix with ffmpeg's ebur128 filter (integrated loudness
and 4x-oversampled true peak, to 0.1 dB: the same meter that checks the
result, and about seven times faster than loudnorm's analysis pass, which
matters because every edit of a line re-runs each deliverable's pass); the
gain that brings it to the target is applied as a plain linear gain; the
result is encoded to AAC and measured again with the same filter.

When that gain would push the true peak over its ceiling, a true-peak limiter
(run at 4x the rate, like the voices' chain) holds the peaks under it, as
loudness normalisers do (the seed's ``ffmpeg-normalize``, EBU R128 practice).
It is never silent: ``loudness.json`` records how many dB it took
(``limiter_db``), and it takes at most ``MAX_LIMIT_DB``; beyond that the
shortfall is reported instead (the build warns), because squashing a mix's
dynamics further is a choice for its author, not for a build tool.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, TypedDict

from ..ffmpeg.toolchain import BITEXACT_OUT, ffmpeg_report, run_ffmpeg
from ..kind import Kind

CODEC_MARGIN_DB = 0.5  # AAC can overshoot the PCM true peak; keep this much under the ceiling
SILENCE_LUFS = -70.0  # EBU R128's absolute gate: anything quieter measures as silence
MAX_LIMIT_DB = 3.0  # the most peak reduction the limiter may do before the target gives way


def _finite(figures: dict[str, float]) -> dict[str, float]:
    """Silence measures -inf; record it as the gate's floor so the report stays JSON."""
    return {k: v if math.isfinite(v) else SILENCE_LUFS for k, v in figures.items()}


def measure_ebur128(path: str, cwd: Path) -> dict[str, float]:
    """An independent measurement with the ebur128 filter (true peak on)."""
    text = ffmpeg_report(["-i", path, "-af", "ebur128=peak=true", "-f", "null", "-"], cwd)
    summary = text[text.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    lra = float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return {"integrated": integrated, "range": lra, "true_peak": peak}


def normalise(sandbox: Path, params: dict[str, Any]) -> None:
    target, ceiling = params["target_lufs"], params["true_peak_dbtp"]
    measured = _finite(measure_ebur128("mix.wav", sandbox))
    if measured["integrated"] <= SILENCE_LUFS:
        wanted = allowed = 0.0  # a silent mix (no voice, no music): no gain makes it loud
    else:
        wanted = target - measured["integrated"]
        allowed = ceiling - CODEC_MARGIN_DB - measured["true_peak"]
    limiter_db = min(max(0.0, wanted - allowed), MAX_LIMIT_DB)
    gain = min(wanted, allowed + limiter_db)
    chain = f"volume={gain:.4f}dB"
    if limiter_db > 0:
        peak = 10 ** ((ceiling - CODEC_MARGIN_DB) / 20)
        chain += (
            ",aresample=192000,"
            f"alimiter=limit={peak:.6f}:attack=5:release=50:level=false:latency=true,"
            "aresample=48000"
        )
    run_ffmpeg(
        [
            "-i",
            "mix.wav",
            "-af",
            chain,
            "-c:a",
            "aac",
            "-b:a",
            f"{params['bitrate_kbps']}k",
            "-ar",
            "48000",
            "-ac",
            "2",
            *BITEXACT_OUT,
            "audio.m4a",
        ],
        sandbox,
    )
    result = _finite(measure_ebur128("audio.m4a", sandbox))
    report = {
        "target": {"integrated": target, "true_peak": ceiling},
        "input": measured,
        "gain_db": round(gain, 4),
        "limiter_db": round(limiter_db, 4),
        "output": result,
        "linear": limiter_db == 0,
        "reached": abs(result["integrated"] - target) <= 1.0,
        "limited_by_true_peak": wanted > allowed + limiter_db,
    }
    (sandbox / "loudness.json").write_text(json.dumps(report, sort_keys=True, indent=2))


class LoudnessParams(TypedDict):
    target_lufs: float
    true_peak_dbtp: float
    bitrate_kbps: int


LOUDNESS = Kind(
    name="loudness",
    params=LoudnessParams,
    inputs=("mix.wav",),
    outputs=("audio.m4a", "loudness.json"),
    run=normalise,
    about="two-pass EBU R128 loudness: linear gain, a true-peak limiter where needed, AAC",
)
