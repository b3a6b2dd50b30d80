"""Whether a take clips: runs of samples at full scale, counted with numpy.

Why numpy on the decoded samples and not ffmpeg's astats: astats counts the
samples at the take's own peak ("Peak count"), whatever that peak is, and
knows nothing of runs; a clean take peaking at -6 dBFS has a peak count too.
A clipped recording shows flat tops: several consecutive samples pinned at
full scale. So a sample counts when it is within ``NEAR_FULL_SCALE_DB`` of
full scale and belongs to a run of at least ``MIN_RUN`` such samples in its
channel; a lone full-scale sample (a legitimate peak) does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR_FULL_SCALE_DB = 0.01
MIN_RUN = 3
THRESHOLD = 10 ** (-NEAR_FULL_SCALE_DB / 20)  # 0.99885 of full scale
CLIPPING_SAMPLES = 1  # any run counts: a flat top is audible distortion


@dataclass(frozen=True)
class Clipping:
    clipped_samples: int
    runs: int

    @property
    def clipping(self) -> bool:
        return self.clipped_samples >= CLIPPING_SAMPLES


def clipping(samples: np.ndarray) -> Clipping:
    """Count samples (float, shape (n, channels)) in full-scale runs."""
    total = runs = 0
    for channel in np.atleast_2d(samples.T):
        hot = np.abs(channel) >= THRESHOLD
        if not hot.any():
            continue
        edges = np.diff(np.concatenate(([0], hot.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = ends - starts
        long = lengths[lengths >= MIN_RUN]
        total += int(long.sum())
        runs += len(long)
    return Clipping(total, runs)
