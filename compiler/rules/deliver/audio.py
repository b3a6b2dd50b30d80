"""An audio deliverable (a podcast): the mix at its own loudness, with a
chapter at each scene start."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from reel.backends.ffmpeg import deliver as deliver_backend
from reel.lang import ir

from ... import roles
from ...actions import ActionInput, BlobInput, make
from ..context import Context
from ..produced import Produced
from ..sound import loudness

PODCAST_LOUDNESS = -16.0  # LUFS: the usual target of podcast platforms
PODCAST_TRUE_PEAK = -1.0
PODCAST_BITRATE = 128


def chapters(ctx: Context) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for shot in ctx.shots:
        if shot.scene_id not in seen:
            seen.add(shot.scene_id)
            out.append(
                {
                    "title": shot.scene_id.replace("_", " "),
                    "start_ms": round(Fraction(shot.start_frame) / ctx.fps * 1000),
                }
            )
    return out


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    props = roles.props(deliverable)
    settings = {
        "target_lufs": float(props.get("loudness", PODCAST_LOUDNESS)),
        "true_peak_dbtp": float(props.get("true_peak", PODCAST_TRUE_PEAK)),
        "bitrate_kbps": int(props.get("audio_bitrate", PODCAST_BITRATE)),
    }
    level = loudness(f"loudness/{name}", settings, f"loudness for {name}", deliverable)
    marks = chapters(ctx) if props.get("chapters", True) else []
    total_ms = round(Fraction(ctx.plan.shotlist.total_frames) / ctx.fps * 1000)
    podcast = make(
        "podcast",
        f"podcast/{name}",
        {"chapters": marks},
        {
            "audio.m4a": ActionInput(level.id, "audio.m4a"),
            "chapters.txt": BlobInput(deliver_backend.chapters_metadata(marks, total_ms)),
        },
        description=f"{name}: audio with chapters",
    )
    return Produced(
        [level, podcast],
        {name: podcast.id},
        {podcast.id: [("podcast.m4a", f"{name}.m4a")]},
    )
