"""The build report's media: the loudness curve and stem levels, measured by one
cached action (``report_media``) from the master's sound and the stems, and a
thumbnail per shot, which each master segment's render already took.

It is an action, not work done while delivering, so it is keyed like
everything else: a no-op build stays a no-op, an edit that leaves the sound
alone (a title) does not measure it again, and `reel verify` compares it. The
run's own record (what ran, what was cached, timings) cannot be an input of
an action that is part of the run, so ``compiler/report.py`` joins the two,
and the thumbnails, into ``report.html`` where the set is delivered.
"""

from __future__ import annotations

from ..actions import ActionInput, make
from .context import Context
from .produced import Produced
from .sound import STEMS

ACTION = "report"


def rule(ctx: Context) -> Produced:
    # The master's sound is the master loudness pass's, packet for packet (QC checks it).
    inputs = {"audio.m4a": ActionInput("loudness", "audio.m4a")}
    for output, _ in STEMS:
        inputs[output] = ActionInput("mix", output)
    action = make(
        "report_media",
        ACTION,
        {},
        inputs,
        description="the build report's loudness curve and stem levels",
    )
    return Produced([action], {ACTION: ACTION}, {})


def thumbnail_action(shot_id: str) -> str:
    """The action whose ``thumb.jpg`` is a shot's thumbnail: the middle frame
    of the shot's master segment, taken as it was rendered (ffmpeg/detect.py)."""
    return f"segment/{shot_id}"
