"""How sharp the picture is: the variance of its Laplacian.

A focused picture has strong edges, so its Laplacian (the 4-neighbour second
difference of luma) varies a lot; a soft one varies little. The measure is
the mean over a few frames spread across the take; frames that are nearly
black are left out (a black frame has no edges, and is reported as black,
not as blurry). The threshold is on a 0-255 luma scale at the frame's own
size, the usual rule of thumb (100) for "probably out of focus".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decode import grey_frames

SAMPLES = 5
BLURRY_BELOW = 100.0
DARK_MEAN = 20.0  # mean luma below this: too dark to judge focus


@dataclass(frozen=True)
class Sharpness:
    value: float | None  # None: no frame bright enough to judge
    frames: int

    @property
    def blurry(self) -> bool:
        return self.value is not None and self.value < BLURRY_BELOW


def laplacian_variance(frame: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a 2-D luma array."""
    f = frame.astype(np.float64)
    lap = f[1:-1, :-2] + f[1:-1, 2:] + f[:-2, 1:-1] + f[2:, 1:-1] - 4 * f[1:-1, 1:-1]
    return float(lap.var())


def sharpness(path: Path, duration_s: float, width: int, height: int) -> Sharpness:
    """Mean Laplacian variance of ``SAMPLES`` frames at evenly spaced times."""
    times = [duration_s * (i + 0.5) / SAMPLES for i in range(SAMPLES)]
    frames = [f for f in grey_frames(path, times, width, height) if f.mean() >= DARK_MEAN]
    if not frames:
        return Sharpness(None, 0)
    return Sharpness(round(float(np.mean([laplacian_variance(f) for f in frames])), 1), len(frames))
