"""How a build shows its progress while the executor runs.

Three displays, chosen by ``--progress`` / ``$REEL_PROGRESS`` and ``--quiet``:

- ``plain``: one ``[n/N] action (1.2s)`` line per action that ran (the
  executor's ``progress_printer``), for logs, CI and tools that read them;
- ``live``: on a terminal, a display redrawn in place (rich): actions done of
  those left to run, cache hits, the actions running now with their time so
  far, and an ETA from the seconds each action took on its last run (the same
  costs the executor schedules by). The ``[n/N]`` lines are printed above it,
  so the scrollback is the plain log;
- ``quiet``: nothing (the command prints warnings, errors and its final line).

``auto`` is ``live`` when stderr (where progress goes) is a terminal, else
``plain``. A display only watches the executor's events: it never changes
what runs, what is made or any key.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .actions import Action
from .executor import ActionResult, Executor, progress_printer

MODES = ("auto", "live", "plain", "quiet")
PROGRESS_ENV = "REEL_PROGRESS"

OnEvent = Callable[[str, Action, ActionResult | None], None]


def resolve_mode(mode: str | bool, stream: Any = None) -> str:
    """``auto`` made concrete for ``stream`` (stderr by default); True is plain
    and False quiet, as ``build(progress=...)`` took them before."""
    if mode is True:
        return "plain"
    if mode is False:
        return "quiet"
    if mode not in MODES:
        raise ValueError(f"progress mode {mode!r} is not one of {', '.join(MODES)}")
    if mode != "auto":
        return mode
    stream = stream or sys.stderr
    tty = getattr(stream, "isatty", lambda: False)()
    return "live" if tty and os.environ.get("TERM") != "dumb" else "plain"


@contextmanager
def display(
    mode: str | bool, executor: Executor, pending: list[str], stream: Any = None
) -> Iterator[OnEvent | None]:
    """The executor's ``on_event`` for ``mode`` (None for quiet), for the
    ``pending`` actions (in dependency order) while the ``with`` block runs."""
    stream = stream or sys.stderr
    mode = resolve_mode(mode, stream)
    if mode == "quiet":
        yield None
    elif mode == "plain":
        yield progress_printer(len(pending), stream)
    else:
        live = LiveProgress(executor, pending, stream)
        with live:
            yield live.on_event


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class LiveProgress:
    """The terminal display; ``on_event`` is called from the executor's loop,
    rendering happens on rich's refresh thread (reads of small dicts only)."""

    def __init__(
        self,
        executor: Executor,
        pending: list[str],
        stream: Any,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        from rich.console import Console
        from rich.live import Live

        self.clock = clock
        self.jobs = executor.jobs
        self.order = list(pending)
        # Expected seconds of what is left to run; a cache hit or a finished action leaves.
        self.costs = {a: executor.expected_seconds(a) for a in pending}
        self.users: dict[str, list[str]] = {a: [] for a in pending}
        for action_id in pending:
            for pred in executor.graph.predecessors(action_id):
                if pred in self.users:
                    self.users[pred].append(action_id)
        self.total = len(pending)
        self.done = 0
        self.failed = 0
        self.cached = 0
        self.running: dict[str, float] = {}  # action id -> when it started
        # force_terminal: `--progress live` draws even into a pipe (tests, `script`).
        self.console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
        self.live = Live(
            self, console=self.console, refresh_per_second=4, transient=True, redirect_stdout=False
        )

    def __enter__(self) -> LiveProgress:
        self.live.start(refresh=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def on_event(self, kind: str, action: Action, result: ActionResult | None) -> None:
        if kind == "cached":
            self.cached += 1
            if self.costs.pop(action.id, None) is not None:
                self.total -= 1
            return
        if kind == "start":
            self.running[action.id] = self.clock()
            return
        self.running.pop(action.id, None)
        self.costs.pop(action.id, None)
        self.done += 1
        if kind == "failed":
            self.failed += 1
            line = f"[{self.done}/{self.total}] {action.id} FAILED"
            self.console.print(line, style="bold red", markup=False)
        elif result is not None:
            line = f"[{self.done}/{self.total}] {action.id} ({result.seconds:.1f}s)"
            self.console.print(line, markup=False)
        self.live.refresh()

    def eta(self) -> float:
        """Seconds left: the larger of the work left spread over the jobs and the
        longest chain of it (each running action counted for what remains of
        its expected time)."""
        now = self.clock()
        left = {
            a: max(cost - (now - self.running[a]), 0.0) if a in self.running else cost
            for a, cost in self.costs.items()
        }
        chain: dict[str, float] = {}
        for action_id in reversed(self.order):
            if action_id in left:
                after = max((chain.get(u, 0.0) for u in self.users[action_id]), default=0.0)
                chain[action_id] = left[action_id] + after
        lanes = max(1, min(self.jobs, len(left)))
        return max(sum(left.values()) / lanes, max(chain.values(), default=0.0))

    def summary(self) -> str:
        """The display's first line, in words (what the tests read)."""
        parts = [f"{self.done}/{self.total} actions", f"{self.cached} cached"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        parts.append(f"ETA {_clock(self.eta())}")
        return " · ".join(parts)

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        head = Table.grid(padding=(0, 1))
        head.add_row(
            Text("building", style="bold"),
            ProgressBar(total=max(self.total, 1), completed=self.done, width=20),
            Text(self.summary(), no_wrap=True, overflow="ellipsis"),
        )
        now = self.clock()
        rows = [
            Text(f"  {action_id} ({now - since:.1f}s)", style="cyan", no_wrap=True)
            for action_id, since in sorted(self.running.items(), key=lambda kv: kv[1])
        ]
        return Group(head, *rows)
