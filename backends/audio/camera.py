"""A video plate's own sound (camera sound), cut and fitted to its shot.

The sound is decoded from the same in point and for the same length as the
picture (``-ss``/``-t`` on the input, as the segment reads it), resampled to
the mix's rate, and fitted to the shot the way the picture is: held (silence
after the clip ends), looped or played forward then backward over exactly the
picture's cycle of whole frames, or retimed with the picture (``speed``:
``atempo``, which keeps the pitch, so speech slowed to fill a shot is still
speech). The result is exactly the shot's length, so the mix and the
timeline place it at the shot's first sample and nothing else.

Dialogue on camera can be cleaned as a recorded line is (``clean light`` or
``strong``: see ``cleanup``), before it is fitted; off by default, because a
clip's sound is as often its place (wind, a street) as it is speech, and the
vocal chain would compress a place's sound like a voice.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..ffmpeg.toolchain import PCM_OUT, run_commands
from ..kind import Kind
from . import cleanup
from .voice import RATE, VOCAL_CHAIN, read_wav, write_wav

CLIP = "plate-video"  # the clip, as the segment names it
DECODED = "decoded.wav"
OUTPUT = "camera.wav"
MIN_TEMPO = 0.5  # atempo's smallest factor; slower is a chain of them


def _tempo_chain(tempo: float) -> list[str]:
    """``atempo`` filters whose product is ``tempo`` (each within its range)."""
    chain = []
    while tempo < MIN_TEMPO:
        chain.append(f"atempo={MIN_TEMPO}")
        tempo /= MIN_TEMPO
    while tempo > 100.0:
        chain.append("atempo=100")
        tempo /= 100.0
    chain.append(f"atempo={tempo:.9f}")
    return chain


def decode_args(params: dict[str, Any]) -> list[str]:
    """The ffmpeg arguments that decode the part of the clip the shot uses."""
    args = []
    if params["in_s"]:
        args += ["-ss", f"{params['in_s']:.6f}"]
    filters = [f"aresample={RATE}"]
    if params["extend"] == "speed":
        filters += _tempo_chain(params["clip_s"] / (params["samples"] / RATE))
    return [
        *args,
        "-t",
        f"{params['clip_s']:.6f}",
        "-i",
        CLIP,
        "-map",
        "0:a:0",
        "-af",
        ",".join(filters),
        "-ac",
        "2",
        "-ar",
        str(RATE),
        *PCM_OUT,
        DECODED,
    ]


def fit(clip: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The clip's samples over the whole shot, following the picture."""
    total, extend = params["samples"], params["extend"]
    if extend in ("loop", "pingpong") and len(clip):
        k = params["cycle_frames"]
        num, den = params["fps"]
        # each frame's first sample, as the mix places a shot's
        frame = [round(Fraction(i * den * RATE, num)) for i in range(k + 1)]
        cycle = clip[: frame[k]]
        if extend == "pingpong" and k > 2:
            # forward 0..k-1, then back over frames k-2..1, as the picture does
            cycle = np.concatenate([cycle, clip[frame[1] : frame[k - 1]][::-1]])
        if len(cycle):
            clip = np.tile(cycle, (total // len(cycle) + 1, 1))
    out = np.zeros((total, 2))
    n = min(total, len(clip))
    out[:n] = clip[:n]
    return out


def clean(sandbox: Path, decoded: Path, level: str) -> np.ndarray:
    """The decoded clip, cleaned at ``level`` (as it is, for ``off``)."""
    samples = read_wav(decoded)
    if level == "off":
        return samples
    floor = cleanup.noise_floor_db(samples.mean(axis=1), RATE)
    filters = cleanup.chain(level, floor, VOCAL_CHAIN)
    cleaned = sandbox / "cleaned.wav"
    run_commands([["-i", DECODED, "-af", filters, "-ac", "2", *PCM_OUT, cleaned.name]], sandbox)
    out = read_wav(cleaned)
    cleaned.unlink()
    return cleanup.realign(out, len(samples))


def camera_sound(sandbox: Path, params: dict[str, Any]) -> None:
    run_commands([decode_args(params)], sandbox)
    decoded = sandbox / DECODED
    samples = fit(clean(sandbox, decoded, params.get("clean", "off")), params)
    decoded.unlink()
    write_wav(sandbox / OUTPUT, samples)


class CameraParams(TypedDict):
    in_s: float | None  # where the picture starts reading the clip
    clip_s: float  # how much of it the picture reads
    samples: int  # the shot's length
    extend: str  # hold | loop | pingpong | speed, as the picture
    fps: list[int]  # the episode's rate: where each frame of a loop starts
    cycle_frames: int  # loop/pingpong: the whole frames of the clip the picture repeats
    clean: str  # cleanup.LEVELS; "off" by default for camera sound


CAMERA_SOUND = Kind(
    name="camera_sound",
    params=CameraParams,
    inputs=(CLIP,),
    outputs=(OUTPUT,),
    run=camera_sound,
    about="a video plate's own sound, cut and fitted to its shot like its picture",
)
