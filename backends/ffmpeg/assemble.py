"""Assembly: the cheap actions after the per-shot renders.

* ``tail_frame``: the last frame of a segment, as the source of the next
  shot's crossfade.
* ``concat``: the segments joined by stream copy: the picture alone (no
  re-encode: the segments share codec parameters by construction).
* ``join``: per-shot files and a sound track into one MP4 by stream copy: the
  master (from the segments) and each rendition and proxy (from its pieces).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from ..kind import Kind
from . import stream_copy
from .encode import FROM_BT709, MOVFLAGS
from .toolchain import BITEXACT_OUT, Commands, run_ffmpeg


def tail_frame_commands(params: dict[str, Any]) -> Commands:
    last = params["frames"] - 1
    # The segment is BT.709 (see encode.TO_BT709), or BT.2020 in an HLG
    # deliverable (``matrix``): decode it with that matrix.
    matrix = f"in_color_matrix={params['matrix']}:in_range=tv" if "matrix" in params else FROM_BT709
    return [
        [
            "-i",
            "segment.mp4",
            "-vf",
            f"select=eq(n\\,{last}),scale={matrix},format=rgb24",
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


def _listed(sandbox: Path) -> list[str]:
    """The file names in list.txt, in order (the list ``concat_list`` wrote)."""
    lines = (sandbox / "list.txt").read_text().splitlines()
    return [line.removeprefix("file '").removesuffix("'") for line in lines if line]


# The concat demuxer reading list.txt (names relative to the sandbox).
CONCAT_INPUT = ["-f", "concat", "-safe", "0", "-i", "list.txt"]
SOUND = ["-i", "audio.m4a", "-map", "0:v:0", "-map", "1:a:0"]


def join_files(sandbox: Path, output: str, sound: bool) -> None:
    """The files in list.txt, joined by stream copy into ``output``, with
    audio.m4a as its sound when ``sound``.

    Reel's own segments are laid end to end by ``stream_copy`` in one pass;
    files it cannot join (B-frames, another codec) go through ffmpeg's concat
    demuxer, which probes every file."""
    paths = [sandbox / name for name in _listed(sandbox)]
    heard = sandbox / "audio.m4a" if sound else None
    try:
        stream_copy.join(paths, sandbox / output, heard)
    except stream_copy.NotJoinable:
        (sandbox / output).unlink(missing_ok=True)
        picture = [*CONCAT_INPUT, *(SOUND if sound else ["-map", "0:v"])]
        run_ffmpeg([*picture, "-c", "copy", *MOVFLAGS, *BITEXACT_OUT, output], sandbox)


def concat_run(sandbox: Path, params: dict[str, Any]) -> None:
    join_files(sandbox, "video.mp4", sound=False)


def join_run(sandbox: Path, params: dict[str, Any]) -> None:
    join_files(sandbox, "joined.mp4", sound=True)


class _TailOptions(TypedDict, total=False):
    matrix: str  # scale's name of a non-BT.709 segment's matrix (bt2020: an HLG deliverable)


class TailParams(_TailOptions):
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
    run=concat_run,
    links_inputs=True,
    libraries=("av",),  # stream_copy muxes with PyAV's libavformat
    about="segments joined by stream copy: the picture alone",
)
JOIN = Kind(
    name="join",
    params=NoParams,
    inputs=("list.txt", "piece-*.mp4", "audio.m4a"),
    outputs=("joined.mp4",),
    run=join_run,
    links_inputs=True,
    libraries=("av",),  # stream_copy muxes with PyAV's libavformat
    about="per-shot pieces (or segments) and their sound, streams copied",
)
