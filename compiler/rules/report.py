"""The build report's media: thumbnails, loudness curve and stem levels, taken
from the master and the stems by one cached action (``report_media``).

It is an action, not work done while delivering, so it is keyed like
everything else (the master's and the stems' digests, each shot's time): a
no-op build stays a no-op, an edit that leaves the master's bytes alone
(early cutoff) does not measure it again, and `reel verify` compares it. The
run's own record (what ran, what was cached, timings) cannot be an input of
an action that is part of the run, so ``compiler/report.py`` joins the two
into ``report.html`` where the set is delivered.
"""

from __future__ import annotations

from fractions import Fraction

from ..actions import ActionInput, Label, make
from .context import Context
from .produced import Produced
from .sound import STEMS

ACTION = "report"


def rule(ctx: Context) -> Produced:
    shots = []
    for shot in ctx.shots:
        # The middle frame's middle: a seek lands inside it whatever the rounding.
        middle = shot.start_frame + shot.duration_frames // 2
        seconds = float((Fraction(middle) + Fraction(1, 2)) / ctx.fps)
        shots.append({"id": shot.id, "seconds": round(seconds, 6)})
    inputs = {"master.mp4": ActionInput("mux", "joined.mp4")}
    for output, _ in STEMS:
        inputs[output] = ActionInput("mix", output)
    action = make(
        "report_media",
        ACTION,
        {"shots": shots},
        inputs,
        description="the build report's thumbnails, loudness curve and stem levels",
        labels={"shots": Label("the shots' lengths")},
    )
    return Produced([action], {ACTION: ACTION}, {})
