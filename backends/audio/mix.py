"""The mix: voice, music, effects and camera sound (video plates' own) placed
sample-exactly, music ducked under voice, written as stems and a mix.

Done in numpy rather than an ffmpeg filter graph because placement must be
exact to the sample (a line starts within a frame of its ShotList place) and
ducking must follow the known line intervals, not a signal detector: both
are deterministic arithmetic here.
"""

from __future__ import annotations

import contextlib
import wave
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..ffmpeg.toolchain import PCM_OUT, Commands
from ..kind import Kind
from .voice import RATE, pcm16, read_frames, read_wav


def music_bed_commands(params: dict[str, Any]) -> Commands:
    """The bed looped or trimmed to the episode, with a fade in and out."""
    seconds = params["seconds"]
    fade_out = max(0.0, seconds - params["fade_out"])
    chain = (
        f"aresample={RATE},volume={params['gain_db']}dB,afade=t=in:d={params['fade_in']},"
        f"afade=t=out:st={fade_out:.6f}:d={params['fade_out']}"
    )
    return [
        [
            "-stream_loop",
            "-1",
            "-i",
            "music",
            "-af",
            chain,
            "-t",
            f"{seconds:.6f}",
            "-ac",
            "2",
            *PCM_OUT,
            "music.wav",
        ]
    ]


def decode_effect_commands(params: dict[str, Any]) -> Commands:
    return [["-i", "effect", "-ar", str(RATE), "-ac", "2", *PCM_OUT, "effect.wav"]]


# Samples per block (about 5.5 s): the mix holds a few blocks at a time, so its
# memory stays flat however long the episode (a whole 10-minute mix in
# float64 stems took over a gigabyte). Blocks of 22 s held about 160 MB, as
# much as a third encoder beside the two renders of `-j 2`; 5.5 s blocks hold
# a quarter of that, with the same bytes (each block's values are the whole
# mix's, see duck_envelope) and a faster mix (the blocks stay in cache).
BLOCK = 1 << 18


def duck_envelope(
    total: int,
    intervals: list[tuple[int, int]],
    gain_db: float,
    attack: int,
    release: int,
    lo: int = 0,
    hi: int | None = None,
) -> np.ndarray:
    """Gain per sample over ``[lo, hi)`` (the whole episode by default): 1 in
    the clear, 10^(gain/20) under speech, with linear ramps of ``attack``
    samples before each line and ``release`` after. Each ramp is computed
    whole and sliced, so a block's values are those of the whole envelope."""
    hi = total if hi is None else hi
    low = 10 ** (gain_db / 20)
    depth = np.zeros(hi - lo)  # 0: no ducking, 1: full ducking

    def ramp(a: int, b: int, values: np.ndarray) -> None:
        x0, x1 = max(a, lo), min(b, hi)
        if x1 > x0:
            depth[x0 - lo : x1 - lo] = np.maximum(depth[x0 - lo : x1 - lo], values[x0 - a : x1 - a])

    for start, end in intervals:
        a0 = max(0, start - attack)
        if a0 >= hi or min(total, end + release) <= lo:
            continue  # a line that does not reach this block: its ramps are not made
        if start > a0:
            ramp(a0, start, np.linspace(0, 1, start - a0, endpoint=False))
        x0, x1 = max(start, lo), min(end, hi)
        if x1 > x0:
            depth[x0 - lo : x1 - lo] = 1.0
        r1 = min(total, end + release)
        if r1 > end:
            ramp(end, r1, np.linspace(1, 0, r1 - end, endpoint=False))
    return 1.0 - depth * (1.0 - low)


Clip = tuple[int, np.ndarray, float]  # start sample, samples x channels, gain


def _block(clips: list[Clip], lo: int, hi: int) -> np.ndarray:
    """The clips placed on ``[lo, hi)`` of a track, added in order."""
    track = np.zeros((hi - lo, 2))
    for start, clip, gain in clips:
        x0, x1 = max(start, lo), min(start + len(clip), hi)
        if x1 <= x0:
            continue
        part = clip[x0 - start : x1 - start]
        if part.shape[1] == 1:
            part = np.repeat(part, 2, axis=1)
        track[x0 - lo : x1 - lo] += part * gain
    return track


class _WavBlocks:
    """A 16-bit WAV written block by block (the header is patched on close)."""

    def __init__(self, path: Path) -> None:
        self.handle = wave.open(str(path), "wb")
        self.handle.setnchannels(2)
        self.handle.setsampwidth(2)
        self.handle.setframerate(RATE)

    def write(self, samples: np.ndarray) -> None:
        self.handle.writeframes(pcm16(samples).tobytes())


def mix(sandbox: Path, params: dict[str, Any]) -> None:
    """Placed and ducked block by block; every sample's arithmetic is the same
    as over whole tracks, so the bytes do not depend on the block size."""
    total = params["samples"]
    voices: list[Clip] = []
    intervals = []
    for line in params["voices"]:
        clip = read_wav(sandbox / line["file"])
        voices.append((line["start"], clip, 1.0))
        intervals.append((line["start"], line["start"] + len(clip)))
    effects: list[Clip] = [
        (cue["start"], read_wav(sandbox / cue["file"]), 10 ** (cue["gain_db"] / 20))
        for cue in params["effects"]
    ]
    duck = params["duck"]
    # Camera sound: each shot's own, at its gain, ducked under the lines if
    # its plate says so (at its own depth, with the music's attack and release).
    camera = [
        (cue["start"], read_wav(sandbox / cue["file"]), 10 ** (cue["gain_db"] / 20), cue["duck"])
        for cue in params.get("camera", [])
    ]
    names = ("voice-stem.wav", "music-stem.wav", "effects-stem.wav", "mix.wav")
    if "camera" in params:
        names += ("camera-stem.wav",)
    with contextlib.ExitStack() as stack:
        writers = [_WavBlocks(sandbox / name) for name in names]
        for writer in writers:
            stack.callback(writer.handle.close)
        bed = (
            stack.enter_context(wave.open(str(sandbox / "music.wav"), "rb"))
            if params["music"]
            else None
        )
        for lo in range(0, total, BLOCK):
            hi = min(total, lo + BLOCK)
            voice, fx = _block(voices, lo, hi), _block(effects, lo, hi)
            music = np.zeros((hi - lo, 2))
            if bed is not None:
                music = _block([(lo, read_frames(bed, hi - lo), 1.0)], lo, hi)
                envelope = duck_envelope(
                    total,
                    intervals,
                    duck["gain_db"],
                    int(duck["attack"] * RATE),
                    int(duck["release"] * RATE),
                    lo,
                    hi,
                )
                music *= envelope[:, None]
            cam = np.zeros((hi - lo, 2))
            for start, clip, gain, depth in camera:
                part = _block([(start, clip, gain)], lo, hi)
                if depth is not None:
                    part *= duck_envelope(
                        total,
                        intervals,
                        depth,
                        int(duck["attack"] * RATE),
                        int(duck["release"] * RATE),
                        lo,
                        hi,
                    )[:, None]
                cam += part
            tracks = (voice, music, fx, voice + music + fx + cam, cam)
            for writer, samples in zip(writers, tracks[: len(writers)], strict=True):
                writer.write(samples)


class MusicBedParams(TypedDict):
    seconds: float
    gain_db: float
    fade_in: float
    fade_out: float


class DecodeParams(TypedDict):
    pass


class _MixParamsOptional(TypedDict, total=False):
    """Parameters given only when there is camera sound, so other episodes keep their keys."""

    camera: list[dict[str, Any]]  # file, start, gain_db, duck (dB or None)


class MixParams(_MixParamsOptional):
    samples: int
    voices: list[dict[str, Any]]  # file, start (sample)
    effects: list[dict[str, Any]]  # file, gain_db, start (sample)
    music: bool
    duck: dict[str, float]  # gain_db, attack, release


MUSIC_BED = Kind(
    name="music_bed",
    params=MusicBedParams,
    inputs=("music",),
    outputs=("music.wav",),
    commands=music_bed_commands,
    about="the music bed fitted to the episode",
)
DECODE_EFFECT = Kind(
    name="decode_effect",
    params=DecodeParams,
    inputs=("effect",),
    outputs=("effect.wav",),
    commands=decode_effect_commands,
    about="a sound effect decoded to the mix's rate",
)
MIX = Kind(
    name="mix",
    params=MixParams,
    inputs=("voice-*.wav", "effect-*.wav", "music.wav", "camera-*.wav"),
    outputs=("mix.wav", "voice-stem.wav", "music-stem.wav", "effects-stem.wav", "camera-stem.wav"),
    run=mix,
    toolchain=False,
    about="voice, music and effects placed to the sample; music ducked under voice",
)
