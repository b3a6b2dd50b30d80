"""Check every action of a plan against the blueprint as it will be when the
action runs, before anything is written.

An action is valid when: the clip it names is one of the dailies, its range
lies inside the clip, the ids it adds are new and those it names exist (the
edit can be made), and the blueprint after it still parses, resolves and
passes the canon gate, as `reel check` would judge it. The plan is checked in
order, each action against the text the earlier ones leave, so a plan that
is valid as a whole is applied as a whole or not at all.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from reel.compiler import pipeline
from reel.lang.diagnostics import Diagnostics, ReelError

from . import contract as c
from .edits import EditError, TextEdit, edit_for

FRAME_SLACK_S = 0.05  # an out point may sit this far past a clip's probed end


@dataclass(frozen=True)
class Checked:
    """One action, where its clip path is written from the blueprint's folder,
    its edit (with its inverse) or why it cannot run."""

    index: int
    action: c.Action
    edit: TextEdit | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class Checking:
    """The result of checking a plan: each action, and the text after all the
    valid ones (a plan with any invalid action is applied not at all)."""

    before: str
    after: str
    checked: list[Checked] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(x.ok for x in self.checked)

    def problems(self) -> list[str]:
        return [
            f"action {x.index + 1} ({x.action.kind}): {x.problem}" for x in self.checked if not x.ok
        ]


@dataclass(frozen=True)
class Footage:
    """The dailies a plan may cut from: each clip's length, by its path
    relative to the dailies folder, and where that folder is seen from the
    blueprint's folder."""

    durations: dict[str, float]
    prefix: str  # e.g. "dailies"

    def in_blueprint(self, clip: str) -> str:
        return posixpath.join(self.prefix, clip) if self.prefix else clip


def footage_for(dailies: Path, blueprint: Path, durations: dict[str, float]) -> Footage:
    prefix = os.path.relpath(dailies.resolve(), blueprint.resolve().parent)
    prefix = "" if prefix == "." else Path(prefix).as_posix()
    return Footage(durations, prefix)


def _clip_problem(action: c.Action, footage: Footage) -> str | None:
    clip = getattr(action, "clip", None)
    if clip is None:
        return None
    if clip not in footage.durations:
        known = ", ".join(sorted(footage.durations)[:8]) or "none"
        return f"there is no clip {clip} in the dailies (clips: {known})"
    length = footage.durations[clip]
    in_s, out_s = action.in_s, action.out_s  # type: ignore[union-attr]
    if out_s <= in_s:
        return f"the out point {out_s:.3f} s is not after the in point {in_s:.3f} s"
    if out_s > length + FRAME_SLACK_S:
        return f"the out point {out_s:.3f} s is past the clip's end ({length:.3f} s)"
    return None


def _as_written(action: c.Action, footage: Footage) -> c.Action:
    clip = getattr(action, "clip", None)
    if clip is None:
        return action
    return action.model_copy(update={"clip": footage.in_blueprint(clip)})


def still_checks(text: str, path: Path) -> str | None:
    """Why ``text`` as the blueprint at ``path`` would not check, or None.
    Parsed from a hidden sibling file (relative paths and loads resolve as
    they will), removed at once."""
    probe = path.with_name(f".{path.stem}.direct-check.episode")
    probe.write_text(text, encoding="utf-8", newline="")
    try:
        diags = Diagnostics()
        episode = pipeline.analysed(probe, diags)
        pipeline.scripted(episode)
    except ReelError as exc:
        errors = [d for d in exc.diagnostics if d.severity == "error"]
        first = errors[0] if errors else None
        if first is None:
            return "the blueprint would not check"
        where = f" (line {first.span.line})" if getattr(first, "span", None) else ""
        return f"the blueprint would not check: {first.message}{where}"
    finally:
        probe.unlink(missing_ok=True)
    return None


def check_plan(plan: c.ActionPlan, text: str, path: Path, footage: Footage) -> Checking:
    """Check each action in order; the text moves on only past valid ones.

    Whether the blueprint still checks is judged on the text after the whole
    plan (a new scene is empty until the next action gives it a shot); if it
    does not, the fault is the first action from which that error stands."""
    result = Checking(before=text, after=text)
    current = text
    texts: list[tuple[int, str]] = []
    for index, action in enumerate(plan.actions):
        problem = _clip_problem(action, footage)
        written = _as_written(action, footage)
        edit = None
        if problem is None:
            try:
                edit = edit_for(current, written, path)
            except EditError as exc:
                problem = str(exc)
        if edit is not None:
            current = edit.apply(current)
            texts.append((index, current))
        result.checked.append(Checked(index, written, edit, problem))
    result.after = current
    if texts and result.ok:
        final = still_checks(current, path)
        if final is not None:
            culprit = next(
                (i for i, t in texts if _same(still_checks(t, path), final)), texts[-1][0]
            )
            bad = result.checked[culprit]
            result.checked[culprit] = Checked(bad.index, bad.action, None, final)
    return result


def _same(found: str | None, final: str) -> bool:
    """The same error, wherever its line moved."""
    strip = re.compile(r" \(line \d+\)$")
    return found is not None and strip.sub("", found) == strip.sub("", final)
