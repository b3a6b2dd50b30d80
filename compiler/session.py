"""A session: the stages of one build, each computed once and kept.

parse → resolve → voices → plan (``pipeline.plan`` runs those three, in
seed 003's order, with the gates between them) → lower (``rules``) → graph →
execute. A CLI command asks the session for the stage it needs (``plan``,
``lowered``, ``graph``) and never wires the stages itself, as ninja's tools
each ask for the state they need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.lang.diagnostics import Diagnostics

from .actions import ActionGraph, build_graph
from .executor import Executor
from .pipeline import DEFAULT_PROFILE, PlanResult, episode_root, plan
from .plan import DEFAULT_BACKEND
from .rules import Context, Lowered, lower
from .store import Store


@dataclass
class Session:
    path: Path
    store: Store
    profile: str = DEFAULT_PROFILE
    backend: str = DEFAULT_BACKEND
    jobs: int | None = None
    diags: Diagnostics = field(default_factory=Diagnostics)

    @cached_property
    def root(self) -> Path:
        """The folder the episode's relative paths are relative to."""
        return episode_root(self.path)

    @cached_property
    def plan(self) -> PlanResult:
        """Parse, resolve, gate, render the voices, time and plan (the four artifacts).
        Raises InputError or GateError, with ``partial`` once the Script exists."""
        return plan(
            self.path,
            profile=self.profile,
            backend=self.backend,
            diags=self.diags,
            store=self.store,
            jobs=self.jobs,
        )

    @cached_property
    def context(self) -> Context:
        return Context(self.plan, self.root, self.plan.voices)

    @cached_property
    def lowered(self) -> Lowered:
        return lower(self.context)

    @cached_property
    def graph(self) -> ActionGraph:
        return build_graph(self.lowered.actions)

    @cached_property
    def toolchain_digest(self) -> str:
        return self.store.file_digest(ffmpeg_exe())

    def executor(self, *, keep_going: bool = False) -> Executor:
        return Executor(
            self.store,
            self.graph,
            jobs=self.jobs or os.cpu_count() or 1,
            keep_going=keep_going,
            toolchain_digest=self.toolchain_digest,
        )
