"""The loudness action on mixes made here: linear gain where it reaches the target,
a true-peak limiter (at most MAX_LIMIT_DB) where linear gain would cross the
ceiling. Every figure is ffmpeg's ebur128 meter on the encoded AAC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reel.backends.audio.loudness import MAX_LIMIT_DB, measure_ebur128, normalise
from reel.backends.audio.voice import RATE, write_wav

PARAMS = {"target_lufs": -14.0, "true_peak_dbtp": -1.0, "bitrate_kbps": 192}


def mix(tmp_path: Path, clicks_db: float) -> Path:
    """Ten seconds of a soft tone with a short loud burst each second: a mix whose
    peaks stand ``clicks_db`` above the tone, so its peak-to-loudness ratio is high."""
    t = np.arange(10 * RATE) / RATE
    tone = 0.05 * np.sin(2 * np.pi * 220 * t)
    burst = (t % 1.0) < 0.004
    signal = tone + burst * 0.05 * 10 ** (clicks_db / 20) * np.sin(2 * np.pi * 1000 * t)
    write_wav(tmp_path / "mix.wav", np.stack([signal, signal], axis=1) * 0.9)
    return tmp_path


def run(folder: Path) -> tuple[dict, dict]:
    normalise(folder, PARAMS)
    report = json.loads((folder / "loudness.json").read_text())
    return report, measure_ebur128("audio.m4a", folder)


def test_a_mix_with_headroom_gets_linear_gain_only(tmp_path: Path) -> None:
    report, measured = run(mix(tmp_path, clicks_db=3))
    assert report["limiter_db"] == 0 and report["reached"] and report["linear"]
    assert abs(measured["integrated"] - -14.0) <= 0.5 and measured["true_peak"] <= -1.0


def test_peaks_over_the_ceiling_are_limited_to_reach_the_target(tmp_path: Path) -> None:
    report, measured = run(mix(tmp_path, clicks_db=12))
    assert 0 < report["limiter_db"] <= MAX_LIMIT_DB
    assert report["reached"] and not report["limited_by_true_peak"] and not report["linear"]
    assert abs(measured["integrated"] - -14.0) <= 0.5, measured
    assert measured["true_peak"] <= -1.0, measured  # the ceiling holds after AAC


@pytest.mark.parametrize("clicks_db", [20])
def test_the_limiter_takes_at_most_its_share_and_says_so(tmp_path: Path, clicks_db: int) -> None:
    report, measured = run(mix(tmp_path, clicks_db))
    assert report["limiter_db"] == MAX_LIMIT_DB and report["limited_by_true_peak"]
    assert measured["true_peak"] <= -1.0, measured
    assert measured["integrated"] < -14.5  # the target gives way, not the ceiling
