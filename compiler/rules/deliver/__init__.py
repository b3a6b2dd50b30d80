"""Each `deliver NAME = PRESET` is its own target, built from shared work.

A deliverable's role (``roles.role``: master, rendition, review_proxy, audio,
captions, timeline) finds its rule here. The master picture and the mix are
made once by the base rules; a deliverable's rule adds only what is its own,
so changing one deliverable's fields changes only its own actions' keys.
The preset fields each kind of deliverable reads are declared in
``roles.READS``; a field no rule reads is an input error.
"""

from __future__ import annotations

from collections.abc import Callable

from reel.lang import ir

from ... import roles
from ..context import Context
from ..produced import Produced, merge
from . import audio, master, proxy, rendition, sidecar, timeline

DeliverableRule = Callable[[Context, ir.Deliverable], Produced]
ROLES: dict[str, DeliverableRule] = {
    "master": master.rule,
    "rendition": rendition.rule,
    "review_proxy": proxy.rule,
    "audio": audio.rule,
    "captions": sidecar.rule,
    "timeline": timeline.rule,
}


def rule(ctx: Context) -> Produced:
    """Every declared deliverable's actions, in declaration order."""
    return merge([ROLES[roles.role(d, ctx.episode)](ctx, d) for d in ctx.episode.deliverables])
