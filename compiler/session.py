"""A session: the stages of one build, each computed once and kept.

parse and resolve (``episode``) → the Script and the canon gate (``script``)
→ voices → plan (timing locked, runtime gate, the other artifacts) → lower
(``rules``) → graph → execute, in seed 003's order. A CLI command asks the
session for the stage it needs (``plan``, ``lowered``, ``graph``) and never
wires the stages itself, as ninja's tools each ask for the state they need.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, ReelError

from . import artifacts as a
from . import pipeline
from .actions import ActionGraph, build_graph
from .canon import CanonState
from .canon_store import SeriesPlace
from .executor import Executor, Runner
from .pipeline import DEFAULT_PROFILE, PlanResult, PlanStopped, episode_root
from .plan import DEFAULT_BACKEND
from .rules import Context, Lowered, lower
from .store import Store

T = TypeVar("T")


@dataclass
class Session:
    path: Path
    store: Store | None  # None: plan only, lines timed at their reading rate (no voices)
    profile: str = DEFAULT_PROFILE
    backend: str = DEFAULT_BACKEND
    jobs: int | None = None
    diags: Diagnostics = field(default_factory=Diagnostics)
    runner: Runner | None = None  # where actions run: None here, else a Dask cluster
    series: SeriesPlace | None = None  # an episode of a series: its place and prior canon

    @cached_property
    def root(self) -> Path:
        """The folder the episode's relative paths are relative to."""
        return episode_root(self.path)

    @cached_property
    def episode(self) -> ir.Episode:
        """Parsed and resolved: the typed IR (InputError on bad input)."""
        shared = self.series.shared if self.series is not None else ()
        return pipeline.analysed(self.path, self.diags, shared)

    @cached_property
    def gated(self) -> tuple[a.Script, CanonState]:
        """The Script, passed by the canon gate, and the canon store after it."""
        series = self.series
        if series is None:
            return pipeline.scripted(self.episode)
        return pipeline.scripted(self.episode, series.prior, series.shared_key)

    @property
    def script(self) -> a.Script:
        """The Script, passed by the canon gate."""
        return self.gated[0]

    @cached_property
    def canon(self) -> tuple[a.Artifact, ...]:
        """An episode of a series: its Canon snapshot and CanonDiff (else none)."""
        if self.series is None:
            return ()
        script, state = self.gated
        return self.series.record(state, self.episode.id, script.content_hash)

    @cached_property
    def voices(self) -> pipeline.Voices:
        """Every line rendered and measured: the clock the timing locks to."""
        store = self.store
        if store is None:
            return pipeline.Voices()
        return self._after_script(
            lambda: pipeline.voiced(self.episode, self.root, store, self.jobs, self.runner)
        )

    @cached_property
    def plan(self) -> PlanResult:
        """The four artifacts. Raises InputError or GateError, with ``partial``
        (what was made) once the Script exists."""
        script = self.script
        result = self._after_script(
            lambda: pipeline.planned(
                self.episode,
                script,
                self.voices,
                self.root,
                profile=self.profile,
                backend=self.backend,
                diags=self.diags,
                store=self.store,
            )
        )
        result.canon = self.canon
        return result

    def _after_script(self, stage: Callable[[], T]) -> T:
        try:
            return stage()
        except ReelError as exc:
            if getattr(exc, "partial", None) is None:
                exc.partial = PlanStopped(self.episode, [self.script])  # type: ignore[attr-defined]
            raise

    @cached_property
    def context(self) -> Context:
        return Context(self.plan, self.root, self.plan.voices)

    @cached_property
    def lowered(self) -> Lowered:
        lowered = lower(self.context)
        self.diags.items.extend(lowered.warnings)  # e.g. burned captions over a title
        return lowered

    @cached_property
    def graph(self) -> ActionGraph:
        return build_graph(self.lowered.actions)

    @cached_property
    def toolchain_digest(self) -> str:
        return self.cache.file_digest(ffmpeg_exe())

    @property
    def cache(self) -> Store:
        """The store a build runs against (a plan-only session has none)."""
        if self.store is None:  # pragma: no cover - a caller's bug
            raise ValueError("a plan-only session (no store) cannot build")
        return self.store

    def executor(self, *, keep_going: bool = False) -> Executor:
        return Executor(
            self.cache,
            self.graph,
            jobs=self.jobs or (self.runner.slots if self.runner else os.cpu_count() or 1),
            keep_going=keep_going,
            toolchain_digest=self.toolchain_digest,
            runner=self.runner,
        )
