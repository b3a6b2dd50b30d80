"""What a rule returns, and how the results of many rules become one."""

from __future__ import annotations

from dataclasses import dataclass, field

from reel.lang.diagnostics import Diagnostic

from ..actions import Action


@dataclass
class Produced:
    """What one rule made: actions, target labels, and the files they deliver."""

    actions: list[Action] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)  # label -> action id
    delivers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)  # e.g. captions over a title


@dataclass
class Lowered:
    actions: list[Action]
    targets: dict[str, str]  # label -> action id
    delivers: dict[str, list[tuple[str, str]]]  # action id -> [(output, path in the tree)]
    default_targets: list[str]
    warnings: list[Diagnostic] = field(default_factory=list)

    def by_id(self) -> dict[str, Action]:
        return {x.id: x for x in self.actions}


def merge(parts: list[Produced]) -> Produced:
    """One result from many, in order; an action made twice must be made the same."""
    out = Produced()
    seen: dict[str, Action] = {}
    for part in parts:
        for action in part.actions:
            if action.id in seen:
                if seen[action.id] != action:  # pragma: no cover - lowering bug
                    raise ValueError(f"two rules made different actions named {action.id}")
                continue
            seen[action.id] = action
            out.actions.append(action)
        out.targets.update(part.targets)
        out.delivers.update(part.delivers)
        out.warnings.extend(part.warnings)
    return out
