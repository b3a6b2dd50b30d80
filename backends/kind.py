"""An action kind: everything Reel knows about one sort of action, in one place.

A backend module declares each kind it runs as a module-level ``Kind``: its
name, its typed parameters (a ``TypedDict``), the file names its inputs and
outputs may have, its version, and how it runs (``commands``, ffmpeg argument
lists as data, or ``run``, a function called in process). The compiler
creates actions only through ``Kind.action``, which checks parameter and file
names, so a misspelt ``"audio.m4a"`` is a lowering error, not a failed render.

An action's key holds its kind's ``version`` and a digest of the source of the
module that defines the kind and of the backend modules it imports (see
``registry``), never a digest of every backend file: editing the timeline
writer re-runs timelines, not shots.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ffmpeg.toolchain import Commands, run_commands


class KindMisuse(ValueError):
    """An action was made with names its kind does not declare: a lowering bug."""


@dataclass(frozen=True)
class Kind:
    name: str
    params: type  # a TypedDict: the parameter names and their types
    inputs: tuple[str, ...]  # sandbox file names (fnmatch patterns) an action may be given
    outputs: tuple[str, ...]  # file names (or patterns) it may declare as outputs
    commands: Callable[[Any], Commands] | None = field(default=None, compare=False)
    run: Callable[[Path, Any], None] | None = field(default=None, compare=False)
    version: int = 1  # bump for a change the source digest cannot see (a library's behaviour)
    toolchain: bool = True  # keyed on the ffmpeg binary's digest
    # Python packages that make the outputs' bytes (PyAV's libavformat muxing a
    # join): keyed on their installed versions and wheels' files (registry.py),
    # as the ffmpeg binary is on its digest.
    libraries: tuple[str, ...] = ()
    # Its run function only reads its inputs (a join, QC): the sandbox holds hard
    # links to the cache's blobs, checked against their digests, not copies. A
    # copy of a 72 s master's pieces costs a title edit 40 ms on its critical path.
    # Only for run functions: Reel's code is known not to write its inputs, a
    # command's (ffmpeg's) is not.
    links_inputs: bool = False
    about: str = ""

    def __post_init__(self) -> None:
        if (self.run is None) == (self.commands is None):
            raise TypeError(f"kind {self.name}: give exactly one of run and commands")
        if self.links_inputs and self.run is None:
            raise TypeError(f"kind {self.name}: only a run function may read linked inputs")

    @property
    def module(self) -> str:
        """The module that defines how the kind runs (its key follows that source)."""
        function = self.commands or self.run
        assert function is not None
        return function.__module__

    def check(
        self, action_id: str, params: dict[str, Any], inputs: list[str], outputs: list[str]
    ) -> None:
        """Raise KindMisuse unless the names are the ones this kind declares."""
        required = set(getattr(self.params, "__required_keys__", ()))
        allowed = required | set(getattr(self.params, "__optional_keys__", ()))
        problems = []
        if missing := sorted(required - set(params)):
            problems.append(f"missing parameters {missing}")
        if unknown := sorted(set(params) - allowed):
            problems.append(f"unknown parameters {unknown}")
        if stray := [n for n in inputs if not _matches(n, self.inputs)]:
            problems.append(f"undeclared inputs {stray}")
        if stray := [n for n in outputs if not _matches(n, self.outputs)]:
            problems.append(f"undeclared outputs {stray}")
        if problems:
            raise KindMisuse(f"{action_id} ({self.name}): " + "; ".join(problems))

    def execute(self, sandbox: Path, params: dict[str, Any]) -> None:
        """Produce the outputs in ``sandbox``, where the inputs already are."""
        if self.commands is not None:
            run_commands(self.commands(params), sandbox)
        else:
            assert self.run is not None
            self.run(sandbox, params)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
