"""A captions-only deliverable: the shared captions, as NAME.srt and NAME.vtt."""

from __future__ import annotations

from reel.lang import ir

from ..captions import SIDECARS
from ..context import Context
from ..produced import Produced


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    own = [("captions.srt", f"{name}.srt"), ("captions.vtt", f"{name}.vtt")]
    return Produced([], {name: "captions"}, {"captions": [*SIDECARS, *own]})
