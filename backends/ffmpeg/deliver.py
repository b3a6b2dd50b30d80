"""Deliverables made from shared work, without re-rendering a shot.

* ``podcast``: the episode's audio, normalised on its own (by the caller's
  loudness action), with a chapter at each scene start.
* ``finish_shot``: one shot of a deliverable re-encoded with what it draws
  on the picture: the review proxy's scale, scene/shot label and burned-in
  timecode, and burned captions (that shot's cut of the ASS, drawn with the
  packaged fonts). Pieces join by stream copy (``assemble.join``), so an edit
  re-encodes only the shots it touched.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ..kind import Kind
from . import detect
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


def timecode(frame: int, fps: list[int]) -> str:
    """A frame number as non-drop SMPTE timecode at the rate's nominal whole rate."""
    base = round(fps[0] / fps[1])
    seconds, frames = divmod(frame, base)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours % 24:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def finish_shot_commands(params: dict[str, Any]) -> Commands:
    """One shot of a deliverable, re-encoded with what is drawn on it: scaled to
    the deliverable's size, its scene/shot label, burned-in timecode from the
    shot's place in the episode, and its own cut of the captions."""
    enc = params["encoder"]
    w, h = params["width"], params["height"]
    num, den = params["fps"]
    size = max(10, round(h * 0.045))
    if params["scale"]:
        chain = [_scale(w, h, enc)]
    else:
        chain = [f"scale={FROM_BT709}:out_color_matrix=bt709:out_range=tv"]
    if params["label"]:
        chain.append(
            f"drawtext=textfile=label.txt:fontfile=font-regular.ttf:fontsize={size}:"
            f"fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4:x=8:y=8:expansion=none"
        )
    if params["timecode"] is not None:
        start = params["timecode"].replace(":", "\\:")
        chain.append(
            f"drawtext=fontfile=font-regular.ttf:fontsize={size}:fontcolor=white:box=1:"
            f"boxcolor=black@0.6:boxborderw=4:x=w-tw-8:y=8:timecode='{start}':"
            f"rate={num}/{den}"
        )
    if params["captions"]:
        chain.append("ass=captions.ass:fontsdir=fonts")
    chain.append(TO_BT709)
    hardware = enc["codec"] == VIDEOTOOLBOX
    device = ["-init_hw_device", "videotoolbox=vt", "-filter_hw_device", "vt"]
    return [
        [
            "-filter_threads",
            "1",
            "-filter_complex_threads",
            "1",
            *(device if hardware and params["scale"] else []),
            *(["-hwaccel", "videotoolbox"] if hardware else []),
            "-i",
            "segment.mp4",
            # The frames encoded are the frames QC measures (see detect).
            "-filter_complex",
            f"[0:v]{','.join(chain)},split[piece][qc];[qc]{detect.detector_chain()}[measured]",
            "-map",
            "[piece]",
            *video_args(enc),
            "-fps_mode",
            "passthrough",
            "-video_track_timescale",
            str(num),
            *MOVFLAGS,
            *BITEXACT_OUT,
            "piece.mp4",
            *detect.detector_output("measured"),
        ]
    ]


class PodcastParams(TypedDict):
    chapters: list[dict[str, Any]]  # title, start_ms


class FinishShotParams(TypedDict):
    width: int
    height: int
    fps: list[int]
    encoder: dict[str, Any]
    scale: bool  # resize to width x height (else the shot's own size)
    label: bool  # draw label.txt (scene / shot) at the top left
    timecode: str | None  # burn timecode starting here (the shot's place), or not
    captions: bool  # burn captions.ass (this shot's cut, see captions.shot_file)


PODCAST = Kind(
    name="podcast",
    params=PodcastParams,
    inputs=("audio.m4a", "chapters.txt"),
    outputs=("podcast.m4a",),
    commands=podcast_commands,
    about="the episode's sound with a chapter per scene",
)
FINISH_SHOT = Kind(
    name="finish_shot",
    params=FinishShotParams,
    inputs=("segment.mp4", "label.txt", "font-regular.ttf", "captions.ass", "fonts/*"),
    outputs=("piece.mp4", detect.LOG),
    commands=finish_shot_commands,
    about="one shot of a deliverable: scaled, labelled, timecoded, captions burned",
)
