"""Assembly: the cheap actions after the per-shot renders.

* ``tail_frame``: the last frame of a segment, as the source of the next
  shot's crossfade.
* ``concat``: the segments joined by the concat demuxer with stream copy
  (no re-encode: the segments share codec parameters by construction).
* ``mux``: picture and sound into the MP4 master, streams copied.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ..kind import Kind
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


# The concat demuxer reading list.txt (names relative to the sandbox).
CONCAT_INPUT = ["-f", "concat", "-safe", "0", "-i", "list.txt"]


def concat_commands(params: dict[str, Any]) -> Commands:
    return [[*CONCAT_INPUT, "-map", "0:v", "-c", "copy", *MOVFLAGS, *BITEXACT_OUT, "video.mp4"]]


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


def join_commands(params: dict[str, Any]) -> Commands:
    """Per-shot pieces joined by stream copy and muxed with their sound in one step."""
    return [
        [
            *CONCAT_INPUT,
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
            "joined.mp4",
        ]
    ]


class TailParams(TypedDict):
    frames: int  # the segment's length: its last frame is frames - 1


class NoParams(TypedDict):
    pass


TAIL_FRAME = Kind(
    name="tail_frame",
    params=TailParams,
    inputs=("segment.mp4",),
    outputs=("tail.png",),
    commands=tail_frame_commands,
    about="a segment's last frame, which the next shot crossfades from",
)
CONCAT = Kind(
    name="concat",
    params=NoParams,
    inputs=("list.txt", "seg-*.mp4"),
    outputs=("video.mp4",),
    commands=concat_commands,
    about="segments joined by stream copy",
)
MUX = Kind(
    name="mux",
    params=NoParams,
    inputs=("video.mp4", "audio.m4a"),
    outputs=("master.mp4",),
    commands=mux_commands,
    about="picture and sound into the MP4 master, streams copied",
)
JOIN = Kind(
    name="join",
    params=NoParams,
    inputs=("list.txt", "piece-*.mp4", "audio.m4a"),
    outputs=("joined.mp4",),
    commands=join_commands,
    about="a deliverable's per-shot pieces and its sound, streams copied",
)
