"""Assembly: the cheap actions after the per-shot renders.

* ``tail_frame``: the last frame of a segment, as the source of the next
  shot's crossfade.
* ``concat``: the segments joined by the concat demuxer with stream copy
  (no re-encode: the segments share codec parameters by construction).
* ``audio_track``: one continuous AAC track for the whole episode, the music
  bed looped or trimmed to length with fades, or silence.
* ``mux``: picture and sound into the MP4 master, streams copied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .toolchain import BITEXACT_OUT, run_ffmpeg

AUDIO_RATE = 48000


def tail_frame(sandbox: Path, params: dict[str, Any]) -> None:
    last = params["frames"] - 1
    run_ffmpeg(
        [
            "-i",
            "segment.mp4",
            "-vf",
            f"select=eq(n\\,{last})",
            "-frames:v",
            "1",
            "-fps_mode",
            "passthrough",
            *BITEXACT_OUT,
            "tail.png",
        ],
        sandbox,
    )


def concat_list(names: list[str]) -> bytes:
    return "".join(f"file '{name}'\n" for name in names).encode()


def concat(sandbox: Path, params: dict[str, Any]) -> None:
    run_ffmpeg(
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
            "-movflags",
            "+faststart",
            *BITEXACT_OUT,
            "video.mp4",
        ],
        sandbox,
    )


def audio_track(sandbox: Path, params: dict[str, Any]) -> None:
    seconds = f"{params['seconds']:.6f}"
    bitrate = f"{params['bitrate_kbps']}k"
    encode = [
        "-c:a",
        "aac",
        "-b:a",
        bitrate,
        "-ar",
        str(AUDIO_RATE),
        "-ac",
        "2",
        "-t",
        seconds,
        *BITEXACT_OUT,
        "audio.m4a",
    ]
    if params.get("music"):
        fade_out = max(0.0, params["seconds"] - 2.0)
        gain = params.get("music_gain_db", 0.0)
        chain = (
            f"aresample={AUDIO_RATE},volume={gain}dB,afade=t=in:d=0.5,"
            f"afade=t=out:st={fade_out:.6f}:d=2"
        )
        run_ffmpeg(["-stream_loop", "-1", "-i", "music", "-af", chain, *encode], sandbox)
    else:
        run_ffmpeg(["-f", "lavfi", "-i", f"anullsrc=r={AUDIO_RATE}:cl=stereo", *encode], sandbox)


def mux(sandbox: Path, params: dict[str, Any]) -> None:
    run_ffmpeg(
        [
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
            "-movflags",
            "+faststart",
            *BITEXACT_OUT,
            "master.mp4",
        ],
        sandbox,
    )
