"""Progress: plain `[n/N]` lines when stderr is not a terminal, nothing but the
final line with --quiet, a live display (done/total, cache hits, ETA) on a
terminal; the display never changes what is made."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict

from reel.backends import registry
from reel.backends.kind import Kind
from reel.compiler.actions import Action, ActionInput, build_graph
from reel.compiler.executor import Executor
from reel.compiler.progress import LiveProgress, resolve_mode
from reel.compiler.store import Store

from helpers import reel
from test_incremental import BASE, outputs, tiny_project

LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) \((\d+\.\d)s\)$")


def _args(tmp_path: Path, out: str = "out") -> tuple[str, ...]:
    return ("--out", str(tmp_path / out), "--cache-dir", str(tmp_path / "cache"), "-j", "2")


def test_plain_lines_when_not_a_terminal_and_quiet_for_ci(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    proc = reel("build", str(project), *_args(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [m.groups() for m in map(LINE.match, proc.stderr.splitlines()) if m]
    assert lines, proc.stderr
    assert [int(n) for n, *_ in lines] == list(range(1, len(lines) + 1))
    assert {int(t) for _, t, *_ in lines} == {len(lines)}
    assert "\x1b[" not in proc.stderr  # no terminal codes in a log

    entry = project / "tiny.episode"
    entry.write_text(entry.read_text().replace('title "One"', 'title "Uno"'))
    quiet = reel("build", str(project), *_args(tmp_path), "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert not any(LINE.match(line) for line in quiet.stderr.splitlines()), quiet.stderr
    assert "warning:" in quiet.stderr  # warnings still shown
    [final] = quiet.stdout.splitlines()
    # the edited shot, its decode for QC, the master and the master's QC
    assert final.startswith("built tiny:") and "4 action(s) ran" in final


def test_live_display_shows_done_total_cached_and_eta(tmp_path: Path) -> None:
    """Forced with --progress live into a pipe (as `script` or a CI log viewer
    would show it); the outputs are the bytes a plain build makes."""
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    plain = reel("build", str(project), *_args(tmp_path, "plain-out"), cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    entry = project / "tiny.episode"
    entry.write_text(entry.read_text().replace('title "One"', 'title "Uno"'))
    live = reel("build", str(project), *_args(tmp_path), "--progress", "live", cwd=tmp_path)
    assert live.returncode == 0, live.stderr
    assert re.search(r"4/4 actions · 12 cached · ETA \d+:\d\d", live.stderr), live.stderr
    assert "[4/4] " in live.stderr  # the plain lines scroll above the display
    # 12 + the voice; the four that ran: the segment, its decode for QC, mux and
    # the master's QC (the report's curve reads the sound, which did not change)
    assert live.stdout.splitlines()[-1].endswith("4 action(s) ran, 13 cached")
    entry.write_text(entry.read_text().replace('title "Uno"', 'title "One"'))
    back = reel("build", str(project), *_args(tmp_path), "--progress", "live", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert outputs(tmp_path / "plain-out" / "tiny") == outputs(tmp_path / "out" / "tiny")


def _read_pty(fd: int, proc: subprocess.Popen, timeout: float) -> str:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


def test_auto_is_live_on_a_real_terminal(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("REEL_PROGRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reel.cli", "build", str(project), *_args(tmp_path)],
        cwd=tmp_path,
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
    )
    os.close(child)
    try:
        shown = _read_pty(main, proc, timeout=300)
        assert proc.wait(timeout=60) == 0, shown
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
    assert re.search(r"\d+/\d+ actions · \d+ cached · ETA \d+:\d\d", shown), shown
    assert "\x1b[" in shown  # drawn in place
    assert "built tiny:" in shown


def test_auto_is_plain_in_a_pipe() -> None:
    assert resolve_mode("auto", io.StringIO()) == "plain"
    assert resolve_mode(True) == "plain" and resolve_mode(False) == "quiet"


# ---- the ETA comes from the recorded seconds ---------------------------------------------


class Params(TypedDict):
    label: str
    sleep: float


def _make(sandbox: Path, params: dict) -> None:
    time.sleep(params["sleep"])
    (sandbox / "out.bin").write_text(params["label"])


def _copy(sandbox: Path, params: dict) -> None:
    time.sleep(params["sleep"])
    (sandbox / "out.bin").write_text((sandbox / "in.bin").read_text() + params["label"])


MAKE = registry.register(Kind("test_progress_make", Params, (), ("out.bin",), run=_make))
COPY = registry.register(Kind("test_progress_copy", Params, ("in.bin",), ("out.bin",), run=_copy))


def _actions(edit: str) -> list[Action]:
    """Four independent actions of 0.2 s and a chain of three of 0.3 s each."""
    actions = [
        Action(f"a{i}", MAKE.name, {"label": f"a{i}{edit}", "sleep": 0.2}, {}, ("out.bin",))
        for i in range(4)
    ]
    actions.append(Action("z0", MAKE.name, {"label": f"z{edit}", "sleep": 0.3}, {}, ("out.bin",)))
    for i in (1, 2):
        inputs = {"in.bin": ActionInput(f"z{i - 1}", "out.bin")}
        actions.append(
            Action(f"z{i}", COPY.name, {"label": "z", "sleep": 0.3}, inputs, ("out.bin",))
        )
    return actions


def _live(store: Store, actions: list[Action], now: list[float]) -> tuple[Executor, LiveProgress]:
    executor = Executor(
        store, build_graph(actions), jobs=2, keep_going=False, toolchain_digest=None
    )
    pending = executor.needed({a.id for a in actions})
    live = LiveProgress(executor, pending, io.StringIO(), clock=lambda: now[0])
    return executor, live


def test_eta_uses_each_actions_recorded_seconds(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    now = [0.0]
    executor, live = _live(store, _actions(""), now)
    executor.on_event = live.on_event
    assert not executor.run({a.id for a in _actions("")}).failures

    # Run again with every action edited: the ETA is from the seconds just recorded.
    executor, live = _live(store, _actions("+"), now)
    recorded = {a: store.last_run(a)["seconds"] for a in live.costs}
    assert recorded["a0"] >= 0.2 and recorded["z2"] >= 0.3
    work = sum(recorded.values())
    chain = recorded["z0"] + recorded["z1"] + recorded["z2"]
    assert live.eta() == max(work / 2, chain)
    # z0 has been running for 0.1 s: 0.1 s less of it is left.
    live.on_event("start", executor.action("z0"), None)
    now[0] += 0.1
    assert abs(live.eta() - max((work - 0.1) / 2, chain - 0.1)) < 1e-9
    assert "0/7 actions · 0 cached · ETA 0:01" in live.summary()


def test_the_display_changes_no_key(tmp_path: Path) -> None:
    """The same actions run with a live display and without it have the same keys."""
    keys = []
    for folder, with_display in (("one", True), ("two", False)):
        store = Store(tmp_path / folder)
        now = [0.0]
        executor, live = _live(store, _actions(""), now)
        if with_display:
            executor.on_event = live.on_event
        report = executor.run({a.id for a in _actions("")})
        keys.append({a: (r.key, r.outputs) for a, r in report.results.items()})
    assert keys[0] == keys[1]
