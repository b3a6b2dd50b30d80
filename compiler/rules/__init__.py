"""Rules: each part of the episode lowered to actions by a function of a
read-only ``Context``.

``picture`` (per-shot segments, joined), ``sound`` (voices, effects, music,
mix, loudness), ``captions`` and ``master`` are always lowered; each
`deliver` adds the actions of its role, found in ``deliver.ROLES``. A rule
returns what it made (``Produced``) and never edits another rule's result;
two rules may make the same action (a deliverable and the master sharing a
loudness pass), which is merged when it is identical and a lowering bug when
it is not.
"""

from __future__ import annotations

from collections.abc import Callable

from ..actions import Action
from ..executor import GUESS_SECONDS
from ..qc import qc_actions
from . import captions, deliver, picture, report, sound
from .context import Context
from .produced import Lowered, Produced, merge

Rule = Callable[[Context], Produced]

# Seconds of work per second of the episode's sound, on a 2-core machine, of the
# kinds that process all of it (a clean build of a 72 s episode: the loudness
# pass 2.6 s, its meter 0.6 s, the mix 0.3 s, the report's levels 0.3 s).
SOUND_COST = {"loudness": 0.04, "measure_audio": 0.01, "mix": 0.005, "report_media": 0.005}
RULES: tuple[Rule, ...] = (
    picture.rule,
    sound.rule,
    picture.master,
    captions.rule,
    deliver.rule,
    report.rule,
)


def guess_sound_costs(actions: list[Action], seconds: float) -> None:
    """What the schedule expects of each action over the whole sound before it
    ever ran: without it, a clean build started the loudness pass (a guess of
    half a second) after every shot, and waited 2.6 s for it at the end."""
    for action in actions:
        if action.kind in SOUND_COST:
            action.guess_seconds = GUESS_SECONDS + SOUND_COST[action.kind] * seconds


def lower(context: Context) -> Lowered:
    """Every rule, in a fixed order, merged into the episode's actions."""
    merged = merge([rule(context) for rule in RULES])
    # QC measures what the rules deliver, so it follows them (compiler/qc.py).
    published = frozenset(
        d.name for d in context.episode.deliverables if dict(d.props).get("publish") is True
    )
    merged.actions += qc_actions(merged.actions, merged.delivers, context.fps_pair, published)
    guess_sound_costs(merged.actions, context.seconds(context.plan.shotlist.total_frames))
    targets = dict(merged.targets)
    for action in merged.actions:
        targets.setdefault(action.id, action.id)
    named = [d.name for d in context.episode.deliverables if d.name in targets]
    defaults = [*named, "captions"] if named else ["master", "captions"]
    # The build report's pictures come with every default build that makes the master
    # (see rules/report.py); an audio-only episode's build renders no picture for it.
    if "mux" in (targets.get(label) for label in defaults):
        defaults.append(report.ACTION)
    return Lowered(merged.actions, targets, merged.delivers, defaults, merged.warnings)


__all__ = ["RULES", "Context", "Lowered", "Produced", "lower", "merge"]
