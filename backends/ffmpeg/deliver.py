"""Deliverables made from shared work, without re-rendering a shot.

* ``podcast``: the episode's audio, normalised on its own (by the caller's
  loudness action), with a chapter at each scene start.
* ``review_proxy``: the joined picture scaled down, with burned-in timecode,
  a scene/shot label per shot and the captions (ASS, drawn with the packaged
  fonts), muxed with the master's sound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .toolchain import BITEXACT_OUT, run_ffmpeg


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


def podcast(sandbox: Path, params: dict[str, Any]) -> None:
    run_ffmpeg(
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
        ],
        sandbox,
    )


def reencode(video_filter: str, preset: str, crf: int, gop: int, output: str) -> list[str]:
    """Picture re-encoded through ``video_filter`` with the segments' fixed x264
    settings, the master's sound copied alongside."""
    return [
        "-filter_threads",
        "1",
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
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-threads",
        "2",
        "-g",
        str(gop),
        "-bf",
        "0",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "copy",
        "-movflags",
        "+faststart",
        *BITEXACT_OUT,
        output,
    ]


def review_proxy(sandbox: Path, params: dict[str, Any]) -> None:
    w, h = params["width"], params["height"]
    num, den = params["fps"]
    size = max(10, round(h * 0.045))
    chain = [f"scale={w}:{h}"]
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
    chain.append("format=yuv420p")
    run_ffmpeg(
        reencode(",".join(chain), "veryfast", params["crf"], params["gop"], "review.mp4"), sandbox
    )


def finish_rendition(sandbox: Path, params: dict[str, Any]) -> None:
    """Picture and master sound into one file; captions burned in when asked."""
    if params["burn_captions"]:
        run_ffmpeg(
            reencode(
                "ass=captions.ass:fontsdir=fonts,format=yuv420p",
                params["preset"],
                params["crf"],
                params["gop"],
                "rendition.mp4",
            ),
            sandbox,
        )
    else:
        run_ffmpeg(
            [
                "-i",
                "video.mp4",
                "-i",
                "audio.m4a",
                "-map",
                "0:v",
                "-map",
                "1:a",
                "-c",
                "copy",
                "-movflags",
                "+faststart",
                *BITEXACT_OUT,
                "rendition.mp4",
            ],
            sandbox,
        )
