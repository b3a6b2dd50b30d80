"""`reel direct apply RUN`: carry out a planned run (tier 1), or the
destructive actions that waited for a yes (tier 2 or 3)."""

from __future__ import annotations

from typing import Any

from . import contract as c
from .run import DirectError, Director, Outcome, Project
from .trace import Trace
from .validate import Footage


def pending(status: dict[str, Any], plan: c.ActionPlan) -> list[int]:
    """The actions of a run not applied yet."""
    if status["state"] == "awaiting_apply":
        return list(range(len(plan.actions)))
    if status["state"] == "awaiting_confirmation":
        return list(status["waiting"])
    raise DirectError(f"run {status['run']} has nothing to apply (it is {status['state']})")


def apply_run(director: Director, run: str, yes: bool) -> Outcome:
    project: Project = director.project
    status = project.status(run)
    plan = c.ActionPlan.model_validate_json(
        (project.run_folder(run) / "plan.json").read_text(encoding="utf-8")
    )
    now, waiting = director.choose(plan, pending(status, plan), yes)
    skeleton = (project.run_folder(run) / "before.episode.txt").read_text(encoding="utf-8")
    footage = Footage(status["clips"], status["dailies"])
    trace = Trace(project.folder / "traces" / f"{run}-apply.jsonl")
    trace.event("inputs", run=run, actions=now, waiting=waiting)
    applied = director.apply(run, plan, now, footage, skeleton, trace) if now else 0
    status["applied"] = sorted({*status.get("applied", []), *now})
    status["waiting"] = waiting
    status["state"] = "awaiting_confirmation" if waiting else "applied"
    project.save_status(run, status)
    trace.event("outcome", state=status["state"], applied=now, waiting=waiting)
    director.echo(f"applied {applied} action(s) of {run}")
    if waiting:
        director.echo(f"{len(waiting)} destructive action(s) still wait: add --yes")
    return Outcome(run, status["state"], applied, len(waiting))
