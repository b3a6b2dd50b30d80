"""Beat grids: declared from a bpm, or detected from the music itself.

Detection is numpy onset analysis: a spectral-flux onset envelope, its
autocorrelation over 60-200 bpm for the tempo, then the phase that lines the
grid up with the strongest onsets. Deterministic, and cached by the music
file's digest by the caller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 22050
HOP = 256
FRAME = 1024


def decode_mono(path: Path, rate: int = RATE) -> np.ndarray:
    """Decode any audio file to mono float at ``rate`` with PyAV (in process)."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)


def onset_envelope(samples: np.ndarray) -> np.ndarray:
    """Half-wave rectified spectral flux, one value per hop. Linear magnitudes,
    so a kick drum's energy outweighs a hi-hat's breadth."""
    if len(samples) < FRAME:
        return np.zeros(1)
    count = 1 + (len(samples) - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(count)[:, None]
    spectra = np.abs(np.fft.rfft(samples[index] * np.hanning(FRAME), axis=1))
    flux = np.maximum(0.0, np.diff(spectra, axis=0)).sum(axis=1)
    return np.concatenate([[0.0], flux - flux.mean()])


def detect(samples: np.ndarray, rate: int = RATE) -> tuple[float, float]:
    """(bpm, offset in seconds of the first beat)."""
    env = onset_envelope(samples)
    fps = rate / HOP
    corr = np.correlate(env, env, mode="full")[len(env) - 1 :]
    lags = np.arange(len(corr))
    bpm_of = np.where(lags > 0, 60 * fps / np.maximum(lags, 1), 0)
    valid = (bpm_of >= 60) & (bpm_of <= 200)
    if not valid.any():
        return 120.0, 0.0
    lag = int(lags[valid][np.argmax(corr[valid])])
    # Refine to a fractional lag: parabolic interpolation around the peak.
    if 0 < lag < len(corr) - 1:
        a, b, c = corr[lag - 1], corr[lag], corr[lag + 1]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    else:
        shift = 0.0
    period = lag + shift
    beats = np.arange(0, (len(env) - lag) / period) * period
    phases = [env[np.round(p + beats).astype(int)].sum() for p in range(lag)]
    # A flux frame sees an onset as soon as its window reaches it: half a
    # window before its centre. Correct for that latency.
    offset = int(np.argmax(phases)) / fps + (FRAME / 2) / rate
    return float(round(60 * fps / period, 2)), float(round(offset % (period / fps), 4))


def grid(bpm: float, offset: float, until: float) -> list[float]:
    """Beat times from ``offset`` every 60/bpm seconds up to ``until``."""
    period = 60.0 / bpm
    count = int((until - offset) / period) + 1
    return [round(offset + i * period, 6) for i in range(max(0, count))]
