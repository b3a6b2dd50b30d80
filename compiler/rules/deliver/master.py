"""The master: the shared picture and the master's sound, muxed (``picture.master``),
delivered under the deliverable's name."""

from __future__ import annotations

from reel.lang import ir

from ..context import Context
from ..produced import Produced


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    return Produced([], {name: "mux"}, {"mux": [("master.mp4", f"{name}.mp4")]})
