"""Planners are plug-ins: each turns the analysis and the blueprint into an
Action Plan. Built in: ``heuristic`` (always works, offline) and any
OpenAI-compatible endpoint (``--planner http://127.0.0.1:8080``). Others
register under the ``reel.planners`` entry-point group: an object with
``plan(analysis: dict, blueprint: str) -> ActionPlan``.

Degrading by design: a plan from anything but the heuristic planner is
checked like any other (director/validate.py); if the planner is missing,
fails, or its plan does not check, the heuristic planner plans instead and
the run says why (``fallback``), in its output, explanation and trace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import contract as c
from ..validate import Checking, Footage, check_plan
from . import heuristic
from .endpoint import EndpointPlanner, PlannerError


@dataclass
class Planned:
    plan: c.ActionPlan
    planner: str
    checking: Checking
    fallback: list[str] = field(default_factory=list)  # why the asked-for planner was not used
    rejected: dict[str, Any] | None = None  # the plan that failed its checks, as it came


def _from_file(path: Path) -> c.ActionPlan:
    try:
        return c.ActionPlan.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise PlannerError([f"{path} is not an Action Plan: {exc}"]) from None


def _plugin(name: str) -> Any:
    for point in entry_points(group="reel.planners"):
        if point.name == name:
            return point.load()
    raise PlannerError([f"there is no planner {name} (built in: heuristic, or an http:// URL)"])


def make_plan(
    planner: str,
    model: str | None,
    plan_file: Path | None,
    analysis: Any,
    blueprint_text: str,
    footage: Footage,
    blueprint: Path,
    script: list[str] | None = None,
) -> Planned:
    """Plan with the planner asked for, falling back to the heuristic one."""
    fallback: list[str] = []
    rejected = None
    if plan_file is not None or planner != heuristic.NAME:
        name = f"plan file {plan_file.name}" if plan_file is not None else planner
        try:
            if plan_file is not None:
                proposed = _from_file(plan_file)
            elif planner.startswith(("http://", "https://")):
                proposed = EndpointPlanner(planner, model).plan(
                    analysis.model_dump(mode="json"), blueprint_text, script
                )
            else:
                proposed = _plugin(planner).plan(analysis.model_dump(mode="json"), blueprint_text)
            checking = check_plan(proposed, blueprint_text, blueprint, footage)
            if checking.ok:
                return Planned(proposed, name, checking)
            rejected = proposed.model_dump(mode="json")
            fallback = [f"the plan from {name} does not check", *checking.problems()]
        except PlannerError as exc:
            fallback = [f"{name} gave no plan", *exc.reasons]
    plan = heuristic.plan(analysis, blueprint_text, script=script)
    checking = check_plan(plan, blueprint_text, blueprint, footage)
    return Planned(plan, heuristic.NAME, checking, fallback, rejected)
