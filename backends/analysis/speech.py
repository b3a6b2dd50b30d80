"""Where a take's speech is: pocketsphinx's voice-activity detector.

``pocketsphinx.Vad`` is the WebRTC detector (a Gaussian mixture over band
energies, 30 ms frames) built into pocketsphinx: no model file, no torch,
the same answer for the same samples. Regions closer than ``MERGE_GAP_S``
are one region (the pauses between words of a sentence); a gap longer than
``DEAD_AIR_S`` between regions is dead air an editor would cut.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .decode import SPEECH_RATE

MERGE_GAP_S = 0.3
DEAD_AIR_S = 1.0
# Five frames. Shorter blips are clicks, not words; and the detector, adapting
# to the take's noise floor, calls the first three or four frames of a take
# speech (measured: 0.03-0.12 s on room tone alone).
MIN_REGION_S = 0.15
# Aggressiveness 0-3. Measured on the generated dailies: 3 (the most aggressive)
# splits a hard-clipped line into fragments with a false gap of dead air;
# 2 keeps it whole and still leaves -60 dBFS room tone alone.
VAD_MODE = 2


@dataclass(frozen=True)
class Speech:
    """Speech regions (start, end seconds), the silences around them, dead air."""

    duration_s: float
    regions: tuple[tuple[float, float], ...]
    dead_air: tuple[tuple[float, float], ...]

    @property
    def start_s(self) -> float | None:
        return self.regions[0][0] if self.regions else None

    @property
    def end_s(self) -> float | None:
        return self.regions[-1][1] if self.regions else None

    @property
    def leading_silence_s(self) -> float:
        return self.regions[0][0] if self.regions else self.duration_s

    @property
    def trailing_silence_s(self) -> float:
        return round(self.duration_s - self.regions[-1][1], 3) if self.regions else 0.0


def frames(pcm: bytes) -> tuple[list[bool], float]:
    """The detector's verdict per frame, and the frame length in seconds."""
    from pocketsphinx import Vad

    vad = Vad(VAD_MODE, SPEECH_RATE)
    size, length = vad.frame_bytes, vad.frame_length
    verdicts = [vad.is_speech(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size)]
    return verdicts, length


def merge(spans: list[tuple[float, float]], gap: float = MERGE_GAP_S) -> list[tuple[float, float]]:
    """Join spans whose gap is shorter than ``gap``."""
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start - out[-1][1] < gap:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def speech(pcm: bytes) -> Speech:
    """Speech regions of 16 kHz mono s16 samples, rounded to the millisecond."""
    verdicts, length = frames(pcm)
    spans: list[tuple[float, float]] = []
    for i, voiced in enumerate(verdicts):
        if not voiced:
            continue
        if spans and abs(spans[-1][1] - i * length) < 1e-9:
            spans[-1] = (spans[-1][0], (i + 1) * length)
        else:
            spans.append((i * length, (i + 1) * length))
    merged = [s for s in merge(spans) if s[1] - s[0] >= MIN_REGION_S]
    regions = tuple((round(a, 3), round(b, 3)) for a, b in merged)
    dead = tuple((a[1], b[0]) for a, b in itertools.pairwise(regions) if b[0] - a[1] > DEAD_AIR_S)
    duration = round(len(pcm) / 2 / SPEECH_RATE, 3)
    return Speech(duration, regions, dead)
