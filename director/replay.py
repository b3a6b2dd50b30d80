"""`reel direct replay TRACE`: a trace as a regression test.

The trace holds the blueprint as it was, the analysis and the plan. Replay
plans again from the recorded analysis (when the heuristic planner made the
plan: a model's plan is taken as recorded), checks the recorded plan against
the recorded blueprint, and compares the edits with those the run applied.
It writes nothing to the blueprint; it says "same" or what differs.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from .analysis import DailiesAnalysis
from .contract import ActionPlan
from .planners import heuristic
from .trace import every, first, read_trace
from .validate import Footage, check_plan


def replay(trace_path: Path) -> list[str]:
    """What differs between the trace and a replay of it (empty: the same)."""
    events = read_trace(trace_path)
    inputs, planned = first(events, "inputs"), first(events, "plan")
    analysed = first(events, "analysis")
    if inputs is None or planned is None or analysed is None:
        return [f"{trace_path} is not the trace of a Director run (no inputs, analysis or plan)"]
    project = trace_path.resolve().parent.parent
    blueprint = project / inputs["blueprint"]
    text = inputs["blueprint_text"]
    analysis = DailiesAnalysis.model_validate(analysed["analysis"])
    plan = ActionPlan.model_validate(planned["plan"])
    differences = []
    if planned["planner"] == heuristic.NAME:
        again = heuristic.plan(analysis, text, script=inputs.get("script"))
        if again != plan:
            differences.append("the heuristic planner now makes another plan from this analysis")
    prefix = posixpath.relpath(inputs["dailies"], posixpath.dirname(inputs["blueprint"]) or ".")
    footage = Footage(
        {t.clip: t.duration_s for t in analysis.takes}, "" if prefix == "." else prefix
    )
    recorded = {e["index"]: e["edit"] for e in every(events, "edit")}
    # The run applied these actions (all, or those that did not wait for a
    # yes), checked together against the blueprint as it was.
    indices = sorted(recorded) or list(range(len(plan.actions)))
    chosen = ActionPlan(actions=[plan.actions[i] for i in indices])
    checking = check_plan(chosen, text, blueprint, footage)
    if recorded:
        differences += checking.problems()
    for checked in checking.checked:
        index = indices[checked.index]
        if index in recorded and (
            checked.edit is None or checked.edit.to_json() != recorded[index]
        ):
            differences.append(f"action {index + 1} ({checked.action.kind}) edits differently")
    return differences
