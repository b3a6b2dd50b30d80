"""Decoded samples and frames of a media file, by the pinned ffmpeg.

Why a pipe and not PyAV: the analyses need resampled audio (16 kHz mono for
pocketsphinx) and scaled grey frames, and ffmpeg's own resampler and scaler
give the same numbers as the filters the rest of the analysis runs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from reel.backends.ffmpeg.toolchain import COMMON_ARGS, HERMETIC_ENV, ToolError, ffmpeg_exe

GREY = ("-f", "rawvideo", "-pix_fmt", "gray", "-")
SPEECH_RATE = 16000  # pocketsphinx's acoustic model and its Vad expect 16 kHz


def ffmpeg_stdout(args: list[str]) -> bytes:
    """Run the pinned ffmpeg and return what it wrote to stdout."""
    argv = [str(ffmpeg_exe()), *COMMON_ARGS, *args]
    proc = subprocess.run(argv, env=HERMETIC_ENV, capture_output=True)
    if proc.returncode != 0:
        log = proc.stderr.decode("utf-8", "replace")
        raise ToolError(["ffmpeg", *argv[1:]], proc.returncode, log)
    return proc.stdout


def ffmpeg_log(args: list[str]) -> str:
    """Run the pinned ffmpeg at log level info and return its log: how the
    measuring filters (ebur128, blackdetect, showinfo) report."""
    argv = [str(ffmpeg_exe()), "-hide_banner", "-nostdin", "-v", "info", *args]
    proc = subprocess.run(argv, env=HERMETIC_ENV, capture_output=True)
    log = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise ToolError(["ffmpeg", *argv[1:]], proc.returncode, log)
    return log


def speech_pcm(path: Path) -> bytes:
    """The first audio stream as 16 kHz mono signed 16-bit little-endian samples."""
    return ffmpeg_stdout(
        ["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(SPEECH_RATE), "-f", "s16le", "-"]
    )


def native_samples(path: Path) -> np.ndarray:
    """The first audio stream at its own rate and channels as float32 in [-1, 1],
    shape (samples, channels): clipping is judged on the samples as recorded,
    never after a resampler has smoothed the flat tops."""
    import av

    with av.open(str(path)) as container:
        channels = container.streams.audio[0].codec_context.channels
    raw = ffmpeg_stdout(["-i", str(path), "-map", "0:a:0", "-f", "f32le", "-c:a", "pcm_f32le", "-"])
    data = np.frombuffer(raw, dtype="<f4")
    return data[: len(data) - len(data) % channels].reshape(-1, channels)


def grey_frames(path: Path, times: list[float], width: int, height: int) -> list[np.ndarray]:
    """Luma frames (uint8, height × width) nearest to ``times`` (seconds)."""
    frames = []
    for t in times:
        raw = ffmpeg_stdout(
            ["-ss", f"{t:.3f}", "-i", str(path), "-map", "0:v:0", "-frames:v", "1", *GREY]
        )
        if len(raw) >= width * height:
            picture = np.frombuffer(raw[: width * height], dtype=np.uint8)
            frames.append(picture.reshape(height, width))
    return frames
