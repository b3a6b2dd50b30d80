"""A video deliverable other than the master: the picture at its size, crf
and framing, with its captions.

At the episode's own size and framing the master's segments are reused (as
they are when the crf is the master's; re-encoded per shot at the
deliverable's crf when captions are burned in); at any other size, crf or
framing every shot is rendered again at the deliverable's settings
(``segment@NAME/SHOT``), its captions burned in as it renders, so an edited
shot is encoded once per deliverable. Captions are laid out for the
deliverable's frame and burned in shot by shot when the preset says so.
"""

from __future__ import annotations

from reel.lang import ir
from reel.lang.diagnostics import Diagnostic

from ... import roles
from ...actions import Action, ActionInput
from ..context import Context
from ..picture import join, segments
from ..produced import Produced
from ..sound import loudness_of
from .pieces import captions_for, finish


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    episode = ctx.episode
    size = roles.size(deliverable, episode)
    encoder = ctx.deliverable_encoder(name)
    burn = roles.burns_captions(deliverable)
    reframe = str(roles.props(deliverable).get("reframe", "focus"))
    audio, actions = loudness_of(ctx, deliverable)
    # The master's segments serve only a deliverable in its colour space and
    # codec: an HLG deliverable renders every shot in HLG (see ffmpeg.tonemap).
    same_space = encoder.video_codec == ctx.plan.render_plan.encoder.video_codec
    shared = size == ctx.size and reframe == ctx.reframe and same_space
    captions = None
    warnings: list[Diagnostic] = []
    if burn:
        captions, made = captions_for(ctx, deliverable, None if size == ctx.size else size)
        actions += made.actions
        warnings = made.warnings
    pieces: list[str]
    if shared and (burn or encoder.crf == ctx.plan.render_plan.encoder.crf):
        bases = [f"segment/{shot.id}" for shot in ctx.shots]
        pieces = bases
        if captions is not None:
            finished: list[Action] = finish(
                ctx, deliverable, bases, size=size, scale=False, captions=captions
            )
            actions += finished
            pieces = [p.id for p in finished]
    else:
        # Rendered at its own settings, with its captions burned in as it renders.
        suffix = f"@{name}"
        actions += segments(ctx, *size, suffix, encoder=encoder, reframe=reframe, captions=captions)
        bases = pieces = [f"segment{suffix}/{shot.id}" for shot in ctx.shots]
    outputs = {base: "segment.mp4" for base in bases}
    joined = join(
        ctx,
        f"rendition/{name}",
        [ActionInput(p, outputs.get(p, "piece.mp4")) for p in pieces],
        audio,
        f"{name}: {size[0]}x{size[1]} rendition",
    )
    actions.append(joined)
    delivers = {joined.id: [("joined.mp4", f"{name}.mp4")]}
    return Produced(actions, {name: joined.id}, delivers, warnings)
