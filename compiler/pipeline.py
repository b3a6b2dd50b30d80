"""The front half of a build: analyse, time, gate, and emit the artifact chain.

Stage order follows seed 003: the Script is produced first; the canon gate
judges it and, on a contradiction, the build stops there (exit 1, nothing
past the Script written). Then the timeline locks, the runtime gate runs, and
the ShotList, AssetManifest and RenderPlan follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics
from reel.lang.entry import find_entry
from reel.lang.resolve import analyse

from . import artifacts as a
from .beats import beat_grid
from .canon import canon_gate
from .gates import runtime_gate
from .plan import (
    BACKENDS,
    DEFAULT_BACKEND,
    PROFILES,
    build_manifest,
    build_render_plan,
    build_script,
    build_shotlist,
)
from .store import Store
from .timing import Timeline, plan_timing

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
    written: list[Path] = field(default_factory=list)
    voice_report: Any = None  # the voice phase's ExecutionReport, when voices were rendered

    @property
    def artifacts(self) -> list[a.Artifact]:
        return [self.script, self.shotlist, self.manifest, self.render_plan]


def episode_root(path: Path) -> Path:
    """The folder an episode's relative paths are relative to."""
    return find_entry(path).resolve().parent


def output_dir(out: Path, episode: ir.Episode) -> Path:
    return out / episode.id


def plan(
    path: Path,
    *,
    profile: str = DEFAULT_PROFILE,
    backend: str = DEFAULT_BACKEND,
    out: Path | None = None,
    diags: Diagnostics | None = None,
    store: Store | None = None,
    jobs: int | None = None,
) -> PlanResult:
    """Run the front half. With ``out``, write the artifacts under ``out/<episode>/``.

    With a ``store``, the media is probed and every voice line rendered first,
    so timing comes from the real voices (audio is the clock); without one,
    lines are estimated at their reading rate.

    Raises InputError (exit 2) or GateError (exit 1); warnings stay in ``diags``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend}")
    diags = diags if diags is not None else Diagnostics()
    root = episode_root(path)
    episode = analyse(path, diags)
    script = build_script(episode)
    written: list[Path] = []
    folder = output_dir(out, episode) if out is not None else None
    if folder is not None:
        written.append(script.write(folder))
    canon_gate(episode)
    voices = None
    voice_report = None
    if store is not None:
        from reel.backends.ffmpeg.toolchain import backend_version, ffmpeg_exe

        from .media import check_media
        from .voices import check_voices, render_voices

        check_voices(episode)
        check_media(episode, root, store)
        voices, voice_report = render_voices(
            episode,
            root,
            store,
            jobs=jobs,
            toolchain=store.file_digest(ffmpeg_exe()),
            backend=backend_version(),
        )
    timeline = plan_timing(episode, diags, voices, beat_grid(episode, root, store))
    runtime_gate(episode, timeline)
    shotlist = build_shotlist(episode, timeline, script, voiced=voices is not None)
    manifest = build_manifest(episode, root, shotlist, diags)
    render_plan = build_render_plan(episode, shotlist, manifest, profile, backend)
    result = PlanResult(episode, timeline, script, shotlist, manifest, render_plan, diags, written)
    result.voice_report = voice_report
    if folder is not None:
        for artifact in (shotlist, manifest, render_plan):
            written.append(artifact.write(folder))
    return result
