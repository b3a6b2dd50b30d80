"""Float and log test plates made here (no downloads): EXR files written by
ffmpeg's own EXR encoder through PyAV, and 16-bit PNGs of log code values.

Each plate is a row of vertical patches, one value each, so a test can read a
patch's centre from the rendered master without edge effects."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 320, 180


def patches(values: list[tuple[float, float, float]]) -> np.ndarray:
    """An H×W×3 float32 picture: ``values`` as equal vertical bands, left to right."""
    pixels = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    band = WIDTH // len(values)
    for i, rgb in enumerate(values):
        pixels[:, i * band : (i + 1) * band] = rgb
    return pixels


def patch_centre(i: int, count: int) -> tuple[int, int]:
    """(x, y) of the middle of patch ``i`` of ``count`` at the plate's size."""
    band = WIDTH // count
    return i * band + band // 2, HEIGHT // 2


def write_exr(path: Path, pixels: np.ndarray) -> Path:
    """A float RGB OpenEXR file (NaN and Inf are kept as written)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels, np.float32), "gbrpf32le")
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("exr")
        stream.width, stream.height = pixels.shape[1], pixels.shape[0]
        stream.pix_fmt = "gbrpf32le"
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return path


def write_png16(path: Path, codes: np.ndarray) -> Path:
    """A 16-bit RGB PNG of code values 0..1 (a log plate as a camera would grade it)."""
    data = np.round(np.clip(codes, 0, 1) * 65535).astype(np.uint16)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(data), "rgb48le")
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("png")
        stream.width, stream.height = data.shape[1], data.shape[0]
        stream.pix_fmt = "rgb48be"
        for packet in [*stream.encode(frame.reformat(format="rgb48be")), *stream.encode()]:
            out.mux(packet)
    return path
