"""The review proxy: the master's shots scaled down, each with its scene/shot
label, burned-in timecode and captions, joined with the deliverable's sound."""

from __future__ import annotations

from reel.lang import ir
from reel.lang.diagnostics import Diagnostic

from ... import roles
from ...actions import ActionInput
from ..context import Context
from ..picture import join
from ..produced import Produced
from ..sound import loudness_of
from .pieces import captions_for, finish


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    props = roles.props(deliverable)
    size = roles.size(deliverable, ctx.episode)
    audio, actions = loudness_of(ctx, deliverable)
    captions = None
    warnings: list[Diagnostic] = []
    if roles.burns_captions(deliverable):
        # Drawn after scaling: libass scales the episode-sized ASS to the proxy.
        captions, made = captions_for(ctx, deliverable, None)
        actions += made.actions
        warnings = made.warnings
    pieces = finish(
        ctx,
        deliverable,
        [f"segment/{shot.id}" for shot in ctx.shots],
        size=size,
        scale=True,
        label=bool(props.get("labels")),
        timecode=bool(props.get("timecode")),
        captions=captions,
    )
    actions += pieces
    joined = join(
        ctx,
        f"proxy/{name}",
        [ActionInput(p.id, "piece.mp4") for p in pieces],
        audio,
        f"{name}: review proxy",
    )
    actions.append(joined)
    delivers = {joined.id: [("joined.mp4", f"{name}.mp4")]}
    return Produced(actions, {name: joined.id}, delivers, warnings)
