"""Dialogue cleanup for recorded lines: high-pass, denoise, de-ess, vocal chain.

Why: a recorded line carries its room (rumble, hiss, air conditioning) and
its sibilants, and without the vocal chain its peaks sit far from its
loudness, so it neither sounds nor mixes like a generated line. Cleanup runs
ffmpeg's own filters (no model file to ship):

* ``highpass``: rumble below the voice;
* ``afftdn``: spectral denoise (it delays its output by ``DELAY`` samples, which
  ``realign`` takes back). Its ``nf`` is the noise floor it removes, and
  a fixed value either misses the noise or eats quiet speech, so it is set
  from the recording's own floor (the level of its quietest stretches,
  measured here with numpy: a pure function of the samples);
* ``deesser``: tames sibilants the compressor would push forward;
* then the vocal chain every generated line gets (``VOCAL_CHAIN``).

Measured on espeak-ng speech under pink noise 20 dB below it (tests/test_recorded.py),
after the vocal chain: ``light`` lowers the noise floor by about 5 dB and keeps the
room's air; ``strong`` by about 16 dB, for a noisy location. ``off`` leaves the
recording as it is (a line already mixed elsewhere).
"""

from __future__ import annotations

import numpy as np

LEVELS = ("off", "light", "strong")
DEFAULT = "light"
# level -> (high-pass Hz, afftdn noise reduction dB, nf above the measured floor dB,
# deesser intensity)
SETTINGS: dict[str, tuple[int, int, int, float]] = {
    "light": (80, 24, 10, 0.3),
    "strong": (100, 40, 15, 0.5),
}
# ffmpeg's afftdn delays its output by this many samples at 48 kHz (its analysis
# window; measured: tests/test_camera_lines.py). The chain pads the end by as
# much, and ``realign`` drops as much from the start, so cleaned sound keeps
# its place to the sample: dialogue on camera stays on the lips.
DELAY = 1200
FLOOR_WINDOW = 0.05  # seconds: the unit the noise floor is measured in
FLOOR_QUANTILE = 0.1  # the quietest tenth of the windows is taken as noise


def noise_floor_db(samples: np.ndarray, rate: int) -> float:
    """The recording's noise floor, dBFS RMS: the level of its quietest windows
    (speech has pauses; a line with none has its floor over-estimated, which
    only makes the denoise gentler)."""
    width = max(1, int(FLOOR_WINDOW * rate))
    count = len(samples) // width
    if count == 0:
        return -90.0
    windows = samples[: count * width].reshape(count, width)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    level = float(np.quantile(rms, FLOOR_QUANTILE))
    return 20 * np.log10(max(level, 1e-6))


def chain(level: str, floor_db: float, vocal_chain: str) -> str:
    """The ffmpeg filter chain of one cleanup level for a recording whose noise
    floor is ``floor_db`` (empty for ``off``)."""
    if level == "off":
        return ""
    highpass, reduction, above, intensity = SETTINGS[level]
    nf = round(min(-20.0, max(-80.0, floor_db + above)))
    return (
        f"apad=pad_len={DELAY},highpass=f={highpass},afftdn=nr={reduction}:nf={nf},"
        f"deesser=i={intensity},{vocal_chain}"
    )


def realign(cleaned: np.ndarray, length: int) -> np.ndarray:
    """The output of ``chain`` moved back to its input's place (afftdn's DELAY
    dropped from its start), ``length`` samples long."""
    moved = cleaned[DELAY:]
    pad = [(0, max(0, length - len(moved)))] + [(0, 0)] * (moved.ndim - 1)
    return np.pad(moved, pad)[:length]
