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

from ..gates import is_publish
from ..qc import qc_actions
from . import captions, deliver, picture, report, sound
from .context import Context
from .produced import Lowered, Produced, merge

Rule = Callable[[Context], Produced]
RULES: tuple[Rule, ...] = (
    picture.rule,
    sound.rule,
    picture.master,
    captions.rule,
    deliver.rule,
    report.rule,
)


def lower(context: Context) -> Lowered:
    """Every rule, in a fixed order, merged into the episode's actions."""
    merged = merge([rule(context) for rule in RULES])
    # QC measures what the rules deliver, so it follows them (compiler/qc.py).
    published = frozenset(d.name for d in context.episode.deliverables if is_publish(d))
    merged.actions += qc_actions(merged.actions, merged.delivers, context.fps_pair, published)
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
