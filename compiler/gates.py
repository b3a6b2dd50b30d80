"""Quality gates over the locked timeline (seed 003 §15).

A gate failure names the gate, the target and the fix, and exits 1.
"""

from __future__ import annotations

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError

from .timing import Timeline


def runtime_gate(episode: ir.Episode, timeline: Timeline) -> None:
    """The episode's runtime must lie in its declared window."""
    out = Diagnostics()
    total = timeline.total_frames
    seconds = timeline.seconds(total)
    low, high = episode.runtime_min, episode.runtime_max
    if low is not None and total < low.frames(episode.fps):
        out.error(
            f"runtime gate: '{episode.id}' runs {seconds:.2f}s, shorter than its window "
            f"{low}..{high}",
            episode.span,
            "add shots or lines, lengthen shots, or lower the runtime's minimum",
        )
    if high is not None and total > high.frames(episode.fps):
        out.error(
            f"runtime gate: '{episode.id}' runs {seconds:.2f}s, longer than its window "
            f"{low}..{high}",
            episode.span,
            "cut shots, shorten them, or raise the runtime's maximum",
        )
    if out.has_errors():
        raise GateError(out.errors)
