"""Deliverables made from shared work, without re-rendering a shot.

* ``podcast``: the episode's audio, normalised on its own (by the caller's
  loudness action), with a chapter at each scene start.
* ``review_proxy``: the joined picture scaled down, with burned-in timecode,
  a scene/shot label per shot and the captions (ASS, drawn with the packaged
  fonts), muxed with the master's sound.
"""

from __future__ import annotations

from typing import Any

from .assemble import mux_args
from .encode import FROM_BT709, MOVFLAGS, TO_BT709, VIDEOTOOLBOX, video_args
from .toolchain import BITEXACT_OUT, Commands


def chapters_metadata(chapters: list[dict[str, Any]], total_ms: int) -> bytes:
    """FFMETADATA1 with one chapter per scene."""
    lines = [";FFMETADATA1"]
    for i, chapter in enumerate(chapters):
        end = chapters[i + 1]["start_ms"] if i + 1 < len(chapters) else total_ms
        title = chapter["title"].replace("=", "\\=").replace(";", "\\;").replace("#", "\\#")
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={chapter['start_ms']}",
            f"END={end}",
            f"title={title}",
        ]
    return ("\n".join(lines) + "\n").encode()


def podcast_commands(params: dict[str, Any]) -> Commands:
    return [
        [
            "-i",
            "audio.m4a",
            "-i",
            "chapters.txt",
            "-map",
            "0:a",
            "-map_chapters",
            "1",
            "-c",
            "copy",
            "-fflags",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            "-movflags",
            "+faststart",
            "podcast.m4a",
        ]
    ]


def reencode(
    video_filter: str, enc: dict[str, Any], output: str, gpu_filters: bool = False
) -> list[str]:
    """Picture re-encoded through ``video_filter`` with the backend's encoder,
    the deliverable's sound copied alongside. ``gpu_filters``: the filter chain
    uploads frames to a VideoToolbox device (see ``_scale``). The chain must end
    in ``TO_BT709``: the encoder is told the picture is BT.709."""
    hardware = enc["codec"] == VIDEOTOOLBOX
    device = ["-init_hw_device", "videotoolbox=vt", "-filter_hw_device", "vt"]
    return [
        "-filter_threads",
        "1",
        *(device if hardware and gpu_filters else []),
        *(["-hwaccel", "videotoolbox"] if hardware else []),
        "-i",
        "video.mp4",
        "-i",
        "audio.m4a",
        "-vf",
        video_filter,
        "-map",
        "0:v",
        "-map",
        "1:a",
        *video_args(enc),
        "-c:a",
        "copy",
        *MOVFLAGS,
        *BITEXACT_OUT,
        output,
    ]


def _scale(w: int, h: int, enc: dict[str, Any]) -> str:
    """Downscale on the GPU with VideoToolbox's scale_vt where the backend has it
    (frames go up to the GPU and come back for the CPU text filters after it)."""
    if enc["codec"] == VIDEOTOOLBOX:
        return (
            f"format=nv12,hwupload,scale_vt=w={w}:h={h}:color_matrix=bt709:"
            "color_primaries=bt709:color_transfer=bt709,hwdownload,format=nv12"
        )
    # Y'CbCr to Y'CbCr at the same matrix: the picture is only resized.
    return f"scale={w}:{h}:{FROM_BT709}:out_color_matrix=bt709:out_range=tv"


def review_proxy_commands(params: dict[str, Any]) -> Commands:
    w, h = params["width"], params["height"]
    num, den = params["fps"]
    size = max(10, round(h * 0.045))
    chain = [_scale(w, h, params["encoder"])]
    for i, label in enumerate(params["labels"]):
        chain.append(
            f"drawtext=textfile=label-{i}.txt:fontfile=font-regular.ttf:fontsize={size}:"
            f"fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4:x=8:y=8:expansion=none:"
            f"enable='between(t,{label['start']:.6f},{label['end']:.6f})'"
        )
    if params["timecode"]:
        chain.append(
            f"drawtext=fontfile=font-regular.ttf:fontsize={size}:fontcolor=white:box=1:"
            f"boxcolor=black@0.6:boxborderw=4:x=w-tw-8:y=8:timecode='00\\:00\\:00\\:00':"
            f"rate={num}/{den}"
        )
    if params["captions"]:
        chain.append("ass=captions.ass:fontsdir=fonts")
    chain.append(TO_BT709)
    return [reencode(",".join(chain), params["encoder"], "review.mp4", gpu_filters=True)]


def finish_rendition_commands(params: dict[str, Any]) -> Commands:
    """Picture and master sound into one file; captions burned in when asked."""
    if params["burn_captions"]:
        chain = f"scale={FROM_BT709}:out_color_matrix=bt709:out_range=tv,"
        chain += f"ass=captions.ass:fontsdir=fonts,{TO_BT709}"
        return [reencode(chain, params["encoder"], "rendition.mp4")]
    return [mux_args("rendition.mp4")]
