"""The mix: voice, music and effects placed sample-exactly, music ducked under
voice, written as stems and a mix.

Done in numpy rather than an ffmpeg filter graph because placement must be
exact to the sample (a line starts within a frame of its ShotList place) and
ducking must follow the known line intervals, not a signal detector: both
are deterministic arithmetic here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..ffmpeg.toolchain import PCM_OUT, Commands
from ..kind import Kind
from .voice import RATE, read_wav, write_wav


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


def duck_envelope(
    total: int, intervals: list[tuple[int, int]], gain_db: float, attack: int, release: int
) -> np.ndarray:
    """Gain per sample: 1 in the clear, 10^(gain/20) under speech, with linear
    ramps of ``attack`` samples before each line and ``release`` after."""
    low = 10 ** (gain_db / 20)
    depth = np.zeros(total)  # 0: no ducking, 1: full ducking
    for start, end in intervals:
        a0 = max(0, start - attack)
        if start > a0:
            depth[a0:start] = np.maximum(
                depth[a0:start], np.linspace(0, 1, start - a0, endpoint=False)
            )
        depth[start:end] = 1.0
        r1 = min(total, end + release)
        if r1 > end:
            depth[end:r1] = np.maximum(depth[end:r1], np.linspace(1, 0, r1 - end, endpoint=False))
    return 1.0 - depth * (1.0 - low)


def _place(track: np.ndarray, clip: np.ndarray, start: int, gain: float = 1.0) -> None:
    if start >= len(track):
        return
    end = min(len(track), start + len(clip))
    if clip.shape[1] == 1 and track.shape[1] == 2:
        clip = np.repeat(clip, 2, axis=1)
    track[start:end] += clip[: end - start] * gain


def mix(sandbox: Path, params: dict[str, Any]) -> None:
    total = params["samples"]
    voice = np.zeros((total, 2))
    effects = np.zeros((total, 2))
    intervals = []
    for line in params["voices"]:
        clip = read_wav(sandbox / line["file"])
        _place(voice, clip, line["start"])
        intervals.append((line["start"], line["start"] + len(clip)))
    for cue in params["effects"]:
        _place(effects, read_wav(sandbox / cue["file"]), cue["start"], 10 ** (cue["gain_db"] / 20))
    music = np.zeros((total, 2))
    if params["music"]:
        bed = read_wav(sandbox / "music.wav")
        _place(music, bed, 0)
        duck = params["duck"]
        envelope = duck_envelope(
            total,
            intervals,
            duck["gain_db"],
            int(duck["attack"] * RATE),
            int(duck["release"] * RATE),
        )
        music *= envelope[:, None]
    write_wav(sandbox / "voice-stem.wav", voice)
    write_wav(sandbox / "music-stem.wav", music)
    write_wav(sandbox / "effects-stem.wav", effects)
    write_wav(sandbox / "mix.wav", voice + music + effects)


class MusicBedParams(TypedDict):
    seconds: float
    gain_db: float
    fade_in: float
    fade_out: float


class DecodeParams(TypedDict):
    pass


class MixParams(TypedDict):
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
    inputs=("voice-*.wav", "effect-*.wav", "music.wav"),
    outputs=("mix.wav", "voice-stem.wav", "music-stem.wav", "effects-stem.wav"),
    run=mix,
    toolchain=False,
    about="voice, music and effects placed to the sample; music ducked under voice",
)
