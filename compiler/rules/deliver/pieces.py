"""A deliverable's picture as per-shot pieces: each shot's segment re-encoded
with what the deliverable draws on it (its size, labels, timecode, burned
captions), then joined by stream copy. An edit re-encodes only the pieces of
the shots it touched; every other piece is a cache hit.
"""

from __future__ import annotations

from typing import Any

from reel.backends.ffmpeg import deliver as deliver_backend
from reel.backends.ffmpeg import segment
from reel.backends.fonts import font_file
from reel.lang import ir

from ... import roles
from ...actions import Action, ActionInput, BlobInput, Input, Label, SourceInput, make, where
from ..captions import captions_action
from ..context import Context
from ..picture import caption_fonts
from ..produced import Produced


def captions_for(
    ctx: Context, deliverable: ir.Deliverable, frame: tuple[int, int] | None
) -> tuple[str, Produced]:
    """The captions action whose per-shot ASS a deliverable burns in: the shared
    one when the frame and the caption style are the episode's, else its own
    (with the warnings of its layout)."""
    style = roles.props(deliverable).get("caption_style") or ctx.episode.caption_style
    if frame is None and style == ctx.episode.caption_style:
        return "captions", Produced()
    action, warnings = captions_action(ctx, f"captions@{deliverable.name}", frame, style)
    return action.id, Produced([action], warnings=warnings)


def finish(
    ctx: Context,
    deliverable: ir.Deliverable,
    bases: list[str],
    *,
    size: tuple[int, int],
    scale: bool,
    label: bool = False,
    timecode: bool = False,
    captions: str | None = None,
) -> list[Action]:
    """One ``finish_shot`` per shot over ``bases`` (the segment actions, in
    shot order), named ``piece@NAME/SHOT``."""
    name = deliverable.name
    encoder = ctx.encoder(ctx.deliverable_encoder(name))
    at = where(deliverable.span)
    out = []
    for base, shot in zip(bases, ctx.shots, strict=True):
        labels = {
            "encoder": Label(f"the encoder settings of deliverable {name}", at),
            "width": Label(f"the size of deliverable {name}", at),
            "height": Label(f"the size of deliverable {name}", at),
            "label": Label(f"the labels field of deliverable {name}", at),
            "captions": Label(f"the captions field of deliverable {name}", at),
            "timecode": Label(f"where shot {shot.id} starts in the episode (its burned timecode)"),
            "label.txt": Label(f"the scene or id of shot {shot.id} (its burned label)"),
            "captions.ass": Label(f"the captions of shot {shot.id} ({captions})"),
        }
        inputs: dict[str, Input] = {"segment.mp4": ActionInput(base, segment.OUTPUT)}
        if label or timecode:
            inputs["font-regular.ttf"] = SourceInput(font_file(None, False))
        if label:
            inputs["label.txt"] = BlobInput(f"{shot.scene_id} / {shot.id}".encode())
        if captions is not None:
            inputs["captions.ass"] = ActionInput(captions, f"captions-{shot.id}.ass")
            inputs.update(caption_fonts())
        params: dict[str, Any] = {
            "width": size[0],
            "height": size[1],
            "fps": ctx.fps_pair,
            "encoder": encoder,
            "scale": scale,
            "label": label,
            # Burned timecode is the shot's place in the episode: the one parameter
            # of a piece that moves when an earlier shot's length changes.
            "timecode": deliver_backend.timecode(shot.start_frame, ctx.fps_pair)
            if timecode
            else None,
            "captions": captions is not None,
        }
        out.append(
            make(
                "finish_shot",
                f"piece@{name}/{shot.id}",
                params,
                inputs,
                hermetic=ctx.hermetic_video,
                deterministic=ctx.hermetic_video,
                resources=ctx.video_hardware,
                origin=ctx.origin(shot.id),
                scene=shot.scene_id,
                description=f"{name}: shot {shot.id}",
                labels=labels,
            )
        )
    return out
