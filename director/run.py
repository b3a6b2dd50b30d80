"""One Director run, by autonomy tier.

- Tier 0: analyse, plan, write the plan and its explanation; change nothing.
- Tier 1: also the proposed blueprint diff and a preview (the review proxy of
  the proposed cut); `reel direct apply` then applies it.
- Tier 2: apply the low-risk actions; a destructive one (removing a shot or a
  scene) waits for confirmation (`--yes`, a yes at the terminal, or
  `reel direct apply --yes`).
- Tier 3: apply as tier 2, build every deliverable (the QC verifier runs
  inside every build and blocks it on a failure), and wait for
  `reel direct signoff` before anything is released.

The project is the blueprint's folder: the dailies must be inside it (a
blueprint reads nothing outside its folder). Its ``direct/`` folder holds
each run's plan, explanation, diff, preview and state, and the journal that
undo reads; ``traces/`` holds each run's trace.
"""

from __future__ import annotations

import difflib
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reel.compiler.jsonio import dumps, write_atomic
from reel.lang.diagnostics import Diagnostics, ReelError

from . import contract as c
from .analysis import sha256
from .edits import TextEdit, quote
from .journal import Entry, Journal, digest, read_text, write_text
from .planners import Planned, make_plan
from .trace import Trace
from .validate import Checking, Footage, check_plan, footage_for

Echo = Callable[[str], None]
Confirm = Callable[[str], bool]


class DirectError(RuntimeError):
    """A run that cannot go on; ``code`` is the exit code (2: bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Project:
    blueprint: Path

    @property
    def folder(self) -> Path:
        return self.blueprint.parent

    @property
    def state(self) -> Path:
        return self.folder / "direct"

    def run_folder(self, run: str) -> Path:
        return self.state / run

    def journal(self) -> Journal:
        return Journal(self.state)

    def relative(self, path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), self.folder.resolve())).as_posix()

    def runs(self) -> list[str]:
        if not self.state.is_dir():
            return []
        return sorted(p.name for p in self.state.iterdir() if p.name.startswith("run-"))

    def next_run(self) -> str:
        runs = self.runs()
        last = int(runs[-1].removeprefix("run-")) if runs else 0
        return f"run-{last + 1:04d}"

    def status(self, run: str) -> dict[str, Any]:
        path = self.run_folder(run) / "status.json"
        if not path.is_file():
            raise DirectError(f"no Director run {run} in {self.state}", 2)
        return json.loads(path.read_text(encoding="utf-8"))

    def write(self, run: str, name: str, body: str | bytes) -> Path:
        path = self.run_folder(run) / name
        write_atomic(path, body if isinstance(body, bytes) else body.encode("utf-8"))
        return path

    def save_status(self, run: str, status: dict[str, Any]) -> None:
        self.write(run, "status.json", dumps(status))


def skeleton(analysis: Any, title: str) -> str:
    """A new blueprint for a cut of the dailies: the format most takes share."""
    sizes = Counter(
        (t.width, t.height) for t in analysis.takes if t.has_video and t.width and t.height
    )
    width, height = sizes.most_common(1)[0][0] if sizes else (1280, 720)
    rates = Counter(round(t.fps) for t in analysis.takes if t.fps)
    fps = rates.most_common(1)[0][0] if rates else 24
    return (
        f"# A cut of the dailies in {analysis.folder}/, written by `reel direct`.\n"
        "# Edit it as you like: `reel direct undo` takes back only the Director's\n"
        "# edits, and refuses if you changed what one of them wrote.\n"
        'load "std/deliverables"\n'
        "\n"
        "episode cut {\n"
        f"  title    {quote(title)}\n"
        f"  format   {width}x{height} @ {fps}fps\n"
        "  captions standard\n"
        "}\n"
        "\n"
        'cast { character speaker "Speaker" }\n'
        "\n"
        f"deliver master = youtube_1080p {{ resolution {width}x{height} }}\n"
        "deliver review = review_proxy\n"
    )


def explanation(run: str, planned: Planned, checking: Checking) -> str:
    """The plan for a person: the planner's message, then each action."""
    lines = [f"# Director run {run}", "", f"Planner: {planned.planner}."]
    if planned.fallback:
        lines.append(f"Fell back to the heuristic planner: {'; '.join(planned.fallback)}.")
    lines += ["", planned.plan.message or "(no message)", ""]
    if planned.plan.needs_clarification:
        lines += [f"**Needs clarification:** {planned.plan.needs_clarification}", ""]
    for checked in checking.checked:
        action = checked.action
        mark = "ok" if checked.ok else f"INVALID: {checked.problem}"
        risk = " (destructive: asks first)" if action.risk == "destructive" else ""
        lines.append(f"{checked.index + 1}. {action.summary()}{risk} [{mark}]")
        if action.why:
            lines.append(f"   - why: {action.why}")
    return "\n".join(lines) + "\n"


def unified_diff(before: str | None, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}" if before is not None else "/dev/null",
            tofile=f"b/{name}",
        )
    )


@dataclass
class Outcome:
    run: str
    state: str
    applied: int = 0
    waiting: int = 0
    folder: Path | None = None  # the delivered folder (tier 3)
    code: int = 0


class Director:
    """What every tier shares: the project, the run, its trace and output."""

    def __init__(self, project: Project, echo: Echo, confirm: Confirm | None) -> None:
        self.project = project
        self.echo = echo
        self.confirm = confirm

    # -- applying -------------------------------------------------------------
    def apply(
        self,
        run: str,
        plan: c.ActionPlan,
        indices: list[int],
        footage: Footage,
        skeleton_text: str,
        trace: Trace | None,
    ) -> int:
        """Apply the actions ``indices`` of ``plan`` to the blueprint as it is
        now, all or none: they are checked again against the current text
        (a person may have edited it since the plan was made), then written
        at once, each journalled with its inverse. A missing blueprint is
        first created from ``skeleton_text`` (journalled too)."""
        path = self.project.blueprint
        name = self.project.relative(path)
        existing = read_text(path)
        text = skeleton_text if existing is None else existing
        chosen = c.ActionPlan(actions=[plan.actions[i] for i in indices])
        checking = check_plan(chosen, text, path, footage)
        if not checking.ok:
            raise DirectError(
                "the plan no longer applies to "
                + name
                + ": "
                + "; ".join(checking.problems())
                + " (nothing was changed)"
            )
        entries: list[Entry] = []
        if existing is None:
            create = TextEdit(0, "", text)
            entries.append(
                Entry(run, -1, "create", f"create {name}", name, create, None, digest(text))
            )
        for checked in checking.checked:
            assert checked.edit is not None
            index = indices[checked.index]
            before = digest(text)
            text = checked.edit.apply(text)
            entries.append(
                Entry(
                    run,
                    index,
                    checked.action.kind,
                    checked.action.summary(),
                    name,
                    checked.edit,
                    before,
                    digest(text),
                )
            )
            if trace is not None:
                trace.event(
                    "edit",
                    index=index,
                    kind=checked.action.kind,
                    edit=checked.edit.to_json(),
                    inverse=checked.edit.inverse().to_json(),
                )
        write_text(path, text)
        self.project.journal().record(entries)
        return len(checking.checked)

    def choose(
        self, plan: c.ActionPlan, indices: list[int], yes: bool
    ) -> tuple[list[int], list[int]]:
        """Which of the actions ``indices`` run now and which wait: a
        destructive one needs ``yes`` or a yes at the terminal."""
        now, waiting = [], []
        for index in indices:
            action = plan.actions[index]
            sure = action.risk != "destructive" or yes
            if not sure and self.confirm is not None:
                sure = self.confirm(f"apply the destructive action '{action.summary()}'?")
            (now if sure else waiting).append(index)
        return now, waiting


def build(blueprint: Path, out: Path, cache: Path, target: str | None, quiet: bool) -> Any:
    """Build the blueprint as `reel build` does (QC included)."""
    from reel.compiler.build import build as run_build

    diags = Diagnostics()
    return run_build(
        blueprint,
        target=target,
        out=out,
        cache_dir=cache,
        diags=diags,
        progress="quiet" if quiet else "plain",
    )


def direct(
    dailies: Path,
    *,
    tier: int,
    blueprint: Path,
    planner: str,
    model: str | None,
    plan_file: Path | None,
    yes: bool,
    out: Path,
    script: list[str] | None = None,
    cache: Path,
    echo: Echo,
    confirm: Confirm | None,
    quiet: bool = False,
) -> Outcome:
    """Run the Director on ``dailies`` at ``tier``, into ``blueprint``."""
    from .analysis import analyse_dailies

    project = Project(blueprint)
    if not dailies.is_dir():
        raise DirectError(f"no dailies folder {dailies}: give the folder of the camera clips", 2)
    inside = dailies.resolve().is_relative_to(project.folder.resolve())
    if not inside or dailies.resolve() == project.folder.resolve():
        raise DirectError(
            f"the dailies ({dailies}) must be a folder inside the blueprint's folder "
            f"({project.folder}), since a blueprint reads nothing outside its folder: "
            "give --into a blueprint in the folder that holds the dailies",
            2,
        )
    run = project.next_run()
    trace = Trace(project.folder / "traces" / f"{run}.jsonl")
    director = Director(project, echo, confirm)
    echo(f"direct {run}: analysing {project.relative(dailies)}/ ...")
    analysis = analyse_dailies(dailies, cache_dir=cache)
    existing = read_text(blueprint)
    before = existing if existing is not None else skeleton(analysis, "Dailies cut")
    trace.event(
        "inputs",
        tier=tier,
        dailies=project.relative(dailies),
        clips={t.clip: t.sha256 for t in analysis.takes},
        blueprint=project.relative(blueprint),
        blueprint_sha256=digest(existing),
        blueprint_text=before,
        created=existing is None,
        script=script,
    )
    trace.event("analysis", analysis=analysis.model_dump(mode="json"))
    footage = footage_for(dailies, blueprint, {t.clip: t.duration_s for t in analysis.takes})
    planned = make_plan(planner, model, plan_file, analysis, before, footage, blueprint, script)
    checking = planned.checking
    for reason in planned.fallback:
        echo(f"direct: {reason}; using the heuristic planner")
    trace.event(
        "plan",
        planner=planned.planner,
        plan=planned.plan.model_dump(mode="json"),
        rejected=planned.rejected,
        fallback=planned.fallback,
    )
    trace.event(
        "validation",
        ok=checking.ok,
        problems=checking.problems(),
    )
    project.write(run, "plan.json", dumps(planned.plan.model_dump(mode="json")))
    project.write(run, "plan.md", explanation(run, planned, checking))
    status: dict[str, Any] = {
        "run": run,
        "tier": tier,
        "planner": planned.planner,
        "blueprint": project.relative(blueprint),
        "before_sha256": digest(before),
        "created": existing is None,
        "applied": [],
        "waiting": [],
        "dailies": footage.prefix,
        "clips": footage.durations,
    }
    project.write(run, "before.episode.txt", before)
    shown = os.path.relpath(project.run_folder(run) / "plan.md")
    echo(f"wrote {shown} ({len(planned.plan.actions)} action(s))")
    if not checking.ok:
        status["state"] = "invalid"
        project.save_status(run, status)
        trace.event("outcome", state="invalid", problems=checking.problems())
        for problem in checking.problems():
            echo(f"direct: {problem}")
        return Outcome(run, "invalid", code=1)
    if planned.plan.needs_clarification:
        status["state"] = "needs_clarification"
        project.save_status(run, status)
        trace.event("outcome", state="needs_clarification")
        echo(f"direct: needs clarification: {planned.plan.needs_clarification}")
        return Outcome(run, "needs_clarification", code=1)
    if tier == 0:
        status["state"] = "planned"
        project.save_status(run, status)
        trace.event("outcome", state="planned")
        return Outcome(run, "planned")
    if tier == 1:
        name = project.relative(blueprint)
        project.write(run, "blueprint.diff", unified_diff(existing, checking.after, name))
        preview = _preview(project, run, checking.after, cache, quiet)
        status["state"] = "awaiting_apply"
        status["preview"] = preview
        project.save_status(run, status)
        trace.event("preview", diff="blueprint.diff", review=preview)
        trace.event("outcome", state="awaiting_apply")
        echo(f"wrote {os.path.relpath(project.run_folder(run) / 'blueprint.diff')}")
        if preview:
            echo(f"preview: {os.path.relpath(project.folder / preview)}")
        echo(f"apply it with: reel direct apply {run} --into {os.path.relpath(blueprint)}")
        return Outcome(run, "awaiting_apply")
    now, waiting = director.choose(planned.plan, [x.index for x in checking.checked], yes)
    applied = director.apply(run, planned.plan, now, footage, before, trace)
    status["applied"], status["waiting"] = now, waiting
    echo(f"applied {applied} action(s) to {os.path.relpath(blueprint)}")
    if waiting:
        echo(
            f"{len(waiting)} destructive action(s) wait for confirmation: "
            f"reel direct apply {run} --yes"
        )
    if tier == 2:
        status["state"] = "awaiting_confirmation" if waiting else "applied"
        project.save_status(run, status)
        trace.event("outcome", state=status["state"], applied=now, waiting=waiting)
        return Outcome(run, status["state"], applied, len(waiting))
    return _build_and_verify(project, run, status, trace, out, cache, quiet, echo, applied, waiting)


def _preview(project: Project, run: str, text: str, cache: Path, quiet: bool) -> str | None:
    """Build the review proxy of the proposed blueprint, from a hidden sibling
    file (its relative paths resolve as the real one's), removed after."""
    probe = project.blueprint.with_name(f".{project.blueprint.stem}.direct-preview.episode")
    write_text(probe, text)
    out = project.run_folder(run) / "preview"
    try:
        result = build(probe, out, cache, "review", quiet)
    except ReelError as exc:
        raise DirectError(
            "the preview did not build: "
            + "; ".join(d.message for d in exc.diagnostics if d.severity == "error")
        ) from None
    finally:
        probe.unlink(missing_ok=True)
    review = next((p for p in result.delivered if p.name.startswith("review")), None)
    return project.relative(review) if review else None


def _build_and_verify(
    project: Project,
    run: str,
    status: dict[str, Any],
    trace: Trace,
    out: Path,
    cache: Path,
    quiet: bool,
    echo: Echo,
    applied: int,
    waiting: list[int],
) -> Outcome:
    try:
        result = build(project.blueprint, out, cache, None, quiet)
    except ReelError as exc:
        errors = [d.message for d in exc.diagnostics if d.severity == "error"]
        status["state"] = "failed"
        status["errors"] = errors
        project.save_status(run, status)
        trace.event("build", ok=False, errors=errors)
        trace.event("outcome", state="failed")
        for error in errors:
            echo(f"direct: {error}")
        return Outcome(run, "failed", applied, len(waiting), code=1)
    qc = result.qc_report
    delivered = {project.relative(p): sha256(p) for p in sorted(result.delivered)}
    trace.event(
        "build",
        ok=True,
        ran=len(result.report.ran),
        cached=len(result.report.cached),
        delivered=delivered,
    )
    trace.event(
        "qc", passed=bool(qc and qc.passed), report=qc.model_dump(mode="json") if qc else None
    )
    status.update(
        state="awaiting_signoff" if not waiting else "awaiting_confirmation",
        folder=project.relative(result.folder),
        delivered=delivered,
        qc_passed=bool(qc and qc.passed),
    )
    project.save_status(run, status)
    trace.event("outcome", state=status["state"])
    echo(
        f"built {os.path.relpath(result.folder)}: QC {'passed' if qc and qc.passed else 'not run'}"
    )
    echo(f"sign it off with: reel direct signoff {run} --by NAME")
    return Outcome(run, status["state"], applied, len(waiting), result.folder)
