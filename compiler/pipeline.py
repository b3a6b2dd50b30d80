"""The front half of a build: analyse, time, gate, and emit the artifact chain.

Stage order follows seed 003: the Script is produced first; the canon gate
judges it and, on a contradiction, the build stops there (exit 1, nothing
past the Script made). Then the timeline locks, the runtime gate runs, the
ShotList and AssetManifest follow, the publish gates (rights, placeholders,
content safety) judge each deliverable, and the RenderPlan follows.

Planning writes nothing: the artifacts are delivered with the build's other
outputs, as one set (see ``outputs``). When a gate stops planning, the
exception carries what was made so far (``PlanStopped``), so the build can
keep a failed run's Script for the user to read.

Each stage is a function here; ``session.Session`` is the one place they are
called in order, and keeps what each made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError, InputError, ReelError
from reel.lang.entry import find_entry
from reel.lang.resolve import analyse

from . import artifacts as a
from .actions import Action
from .beats import beat_grid
from .canon import CanonState, canon_gate
from .clips import Clip, clips
from .executor import ExecutionReport, Runner
from .gates import GateOutcome, publish_gates, runtime_gate
from .media import check_media
from .pacing import pacing_report
from .plan import (
    BACKENDS,
    PROFILES,
    build_manifest,
    build_render_plan,
    build_script,
    build_shotlist,
)
from .roles import check_deliverables
from .store import Store
from .timing import Timeline, plan_timing
from .voices import check_voices, estimate_warnings, render_voices, voice_actions

DEFAULT_PROFILE = "preview_local"


@dataclass
class PlanResult:
    episode: ir.Episode
    timeline: Timeline
    script: a.Script
    shotlist: a.ShotList
    manifest: a.AssetManifest
    render_plan: a.RenderPlan
    diagnostics: Diagnostics
    voice_report: ExecutionReport | None = None  # the voices stage's run, when it ran
    voices: tuple[Action, ...] = ()  # the voice actions that stage ran, reused by lowering
    clips: dict[str, Clip] = field(default_factory=dict)  # video plates' clips, by shot id
    gates: GateOutcome = field(default_factory=GateOutcome)  # the publish gates' verdicts
    pacing: a.PacingReport | None = None  # the Director's pacing, measured on the ShotList
    # An episode of a series: its Canon snapshot and CanonDiff (canon_store.py).
    canon: tuple[a.Artifact, ...] = ()

    @property
    def artifacts(self) -> list[a.Artifact]:
        made: list[a.Artifact] = [self.script, self.shotlist, self.manifest, self.render_plan]
        if self.pacing is not None:
            made.append(self.pacing)
        return [*made, *self.canon]


@dataclass
class PlanStopped:
    """What planning had made when a gate or a media check stopped it."""

    episode: ir.Episode
    artifacts: list[a.Artifact]


def episode_root(path: Path) -> Path:
    """The folder an episode's relative paths are relative to."""
    return find_entry(path).resolve().parent


@dataclass
class Voices:
    """The voices stage: every line's action, its spoken length, and the run."""

    actions: tuple[Action, ...] = ()
    lengths: dict[str, float] | None = None  # None: not rendered (estimated at reading rate)
    report: ExecutionReport | None = None


def analysed(path: Path, diags: Diagnostics, shared: tuple[str, ...] = ()) -> ir.Episode:
    """Parse and resolve (after the ``shared`` modules: a series file), and check
    the deliverables' fields (InputError, exit 2)."""
    episode = analyse(path, diags, shared)
    check_deliverables(episode, diags)
    if diags.errors:
        raise InputError(diags.errors)
    return episode


def scripted(
    episode: ir.Episode, prior: CanonState | None = None, shared_key: str | None = None
) -> tuple[a.Script, CanonState]:
    """The Script, judged by the canon gate (GateError, exit 1, on a contradiction)
    against the canon store ``prior`` (a series' earlier episodes), and the store
    after it."""
    script = build_script(episode)
    try:
        state = canon_gate(episode, prior, shared_key)
    except ReelError as exc:
        exc.partial = PlanStopped(episode, [script])  # type: ignore[attr-defined]
        raise
    return script, state


def voiced(
    episode: ir.Episode, root: Path, store: Store, jobs: int | None, runner: Runner | None = None
) -> Voices:
    """Check the media, then render every line (audio is the clock)."""
    check_voices(episode)
    check_media(episode, root, store)
    actions = voice_actions(episode, root, store)
    lengths, report = render_voices(
        actions, store, jobs=jobs, toolchain=store.file_digest(ffmpeg_exe()), runner=runner
    )
    return Voices(tuple(actions), lengths, report)


def planned(
    episode: ir.Episode,
    script: a.Script,
    voices: Voices,
    root: Path,
    *,
    profile: str,
    backend: str,
    diags: Diagnostics,
    store: Store | None,
) -> PlanResult:
    """Lock the timing, run the runtime gate, and make the other three artifacts."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend}")
    if store is not None:
        diags.extend(estimate_warnings(episode, voices.actions, voices.report, store))
    timeline = plan_timing(episode, diags, voices.lengths, beat_grid(episode, root, store))
    runtime_gate(episode, timeline)
    shotlist = build_shotlist(episode, timeline, script, voiced=voices.lengths is not None)
    pacing = paced(episode, script, shotlist, diags)
    manifest = build_manifest(episode, root, shotlist, diags, store)
    gates = publish_gates(episode, manifest, diags)
    render_plan = build_render_plan(episode, shotlist, manifest, profile, backend)
    clip_facts = clips(episode, shotlist, manifest, root, store, diags)
    return PlanResult(
        episode,
        timeline,
        script,
        shotlist,
        manifest,
        render_plan,
        diags,
        voices.report,
        voices.actions,
        clip_facts,
        gates,
        pacing,
    )


def paced(
    episode: ir.Episode, script: a.Script, shotlist: a.ShotList, diags: Diagnostics
) -> a.PacingReport:
    """The pacing report; its findings warn, or stop the build (GateError, exit
    1) when the arc is strict, keeping the report for the user to read."""
    report, found = pacing_report(episode, script, shotlist)
    if found.has_errors():
        exc = GateError(found.errors)
        exc.partial = PlanStopped(episode, [script, shotlist, report])  # type: ignore[attr-defined]
        raise exc
    diags.extend(found)
    return report
