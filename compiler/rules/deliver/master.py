"""The master: the segments and the master's sound, joined (``picture.master``),
delivered under the deliverable's name."""

from __future__ import annotations

from reel.lang import ir

from ..context import Context
from ..produced import Produced


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    return Produced([], {name: "mux"}, {"mux": [("joined.mp4", f"{name}.mp4")]})
