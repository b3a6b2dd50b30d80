"""Assembly: the cheap actions after the per-shot renders.

* ``tail_frame``: the last frame of a segment, as the source of the next
  shot's crossfade.
* ``concat``: the segments joined by the concat demuxer with stream copy
  (no re-encode: the segments share codec parameters by construction).
* ``mux``: picture and sound into the MP4 master, streams copied.
"""

from __future__ import annotations

from typing import Any

from .encode import FROM_BT709, MOVFLAGS
from .toolchain import BITEXACT_OUT, Commands


def tail_frame_commands(params: dict[str, Any]) -> Commands:
    last = params["frames"] - 1
    return [
        [
            "-i",
            "segment.mp4",
            "-vf",
            # The segment is BT.709 (see encode.TO_BT709): decode it with that matrix.
            f"select=eq(n\\,{last}),scale={FROM_BT709},format=rgb24",
            "-frames:v",
            "1",
            "-fps_mode",
            "passthrough",
            *BITEXACT_OUT,
            "tail.png",
        ]
    ]


def concat_list(names: list[str]) -> bytes:
    return "".join(f"file '{name}'\n" for name in names).encode()


def concat_commands(params: dict[str, Any]) -> Commands:
    return [
        [
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            "list.txt",
            "-map",
            "0:v",
            "-c",
            "copy",
            *MOVFLAGS,
            *BITEXACT_OUT,
            "video.mp4",
        ]
    ]


def mux_args(output: str) -> list[str]:
    """Picture and sound into one MP4, both streams copied."""
    return [
        "-i",
        "video.mp4",
        "-i",
        "audio.m4a",
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        *MOVFLAGS,
        *BITEXACT_OUT,
        output,
    ]


def mux_commands(params: dict[str, Any]) -> Commands:
    return [mux_args("master.mp4")]
