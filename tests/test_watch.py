"""`reel watch`, as a person uses it: a real process on a tiny episode, edited
on disk. It rebuilds on save and says why, prints a syntax error and keeps the
last good outputs, makes one build of a burst of saves, and stops on Ctrl-C
with exit 0 and no traceback."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reel.compiler.watch import Watched, loaded_files

from test_incremental import BASE, outputs, tiny_project

WAITING = "watch: waiting for changes"


class Running:
    """A `reel watch` process whose stdout and stderr lines are read as they come."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reel.cli", "watch", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "REEL_PROGRESS": "plain"},
            # A test runner may start workers with Ctrl-C ignored; a user's shell does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=self._read, args=(name, stream), daemon=True).start()

    def _read(self, name: str, stream) -> None:
        for line in stream:
            self.lines.put((name, line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float = 120) -> list[str]:
        """Every line up to the first holding ``text``; fails after ``timeout`` s."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and self.lines.empty()):
                pytest.fail(f"no {text!r} within {timeout}s; got:\n" + "\n".join(seen))
            try:
                name, line = self.lines.get(timeout=min(left, 1))
            except queue.Empty:
                continue
            (self.out if name == "out" else self.err).append(line)
            seen.append(line)
            if text in line:
                return seen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_watch_rebuilds_on_save_keeps_outputs_on_error_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    entry = project / "tiny.episode"
    out = tmp_path / "out"
    args = [str(project), "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "-j", "2"]
    watch = Running([*args, "--debounce", "500"], tmp_path)
    try:
        first = watch.wait_for(WAITING)
        assert any(line.startswith("built tiny:") for line in first), first
        assert (out / "tiny" / "master.mp4").is_file()

        # A title: the shot that shows it is rebuilt, and watch says why.
        _edit(entry, 'title "One"', 'title "Uno"')
        again = watch.wait_for(WAITING)
        assert any(line.startswith("watch: changed: tiny/tiny.episode") for line in again), again
        assert any(
            line.startswith("explain: segment/one.s01: the title of shot one.s01 changed")
            for line in again
        ), again
        assert "delivered out/tiny/master.mp4" in again
        good = outputs(out / "tiny")

        # A syntax error: printed, the last good outputs stay, watching goes on.
        _edit(entry, "scene two {", "scene two {{")
        failed = watch.wait_for(WAITING)
        assert any(line.startswith("error: ") for line in failed), failed
        assert any("the build failed" in line for line in failed), failed
        assert outputs(out / "tiny") == good
        assert watch.proc.poll() is None

        # Fixed, then a burst of saves: one build, of the last one.
        _edit(entry, "scene two {{", "scene two {")
        fixed = watch.wait_for(WAITING)
        assert any(line.startswith("built tiny:") for line in fixed), fixed
        title = "Uno"
        for then in ("A", "B", "C", "D", "Final"):
            _edit(entry, f'title "{title}"', f'title "{then}"')
            title = then
            time.sleep(0.03)
        burst = watch.wait_for(WAITING)
        assert sum(line.startswith("watch: changed:") for line in burst) == 1, burst
        assert any("the title of shot one.s01 changed" in line for line in burst), burst
        # Nothing more comes: the burst was one build.
        time.sleep(1.5)
        assert watch.lines.empty()

        # Ctrl-C: exit 0, no traceback, no staging folder left in the output tree.
        watch.proc.send_signal(signal.SIGINT)
        assert watch.proc.wait(timeout=60) == 0
        watch.wait_for("watch: stopped", timeout=10)
        rest = []
        while not watch.lines.empty():
            rest.append(watch.lines.get()[1])
        assert not any("Traceback" in line for line in watch.err + rest), watch.err + rest
        assert sorted(p.name for p in out.iterdir()) == ["tiny"]
    finally:
        watch.stop()


def test_watched_files_are_the_episodes_not_outputs_cache_or_toolchain(tmp_path: Path) -> None:
    root = tmp_path / "show"
    (root / "img").mkdir(parents=True)
    shared = tmp_path / "shared" / "logo.png"
    watched = Watched(root, [root / "reel-out", root / ".reel"])
    record = tmp_path / "record.json"
    inputs = [root / "main.episode", shared, Path(sys.prefix) / "bin" / "ffmpeg"]
    body = {"inputs": {str(p): "x" for p in inputs}, "missing": [str(root / "a.png")]}
    record.write_text(json.dumps(body))
    watched.files = loaded_files(record, root)
    assert watched.files == {shared.resolve()}
    assert set(watched.folders()) == {root.resolve(), tmp_path.resolve()}  # no shared/ yet
    assert watched(None, str(root / "main.episode"))
    assert watched(None, str(root / "img" / "new.png"))
    assert watched(None, str(shared))
    assert not watched(None, str(tmp_path / "shared" / "other.png"))
    assert not watched(None, str(root / "reel-out" / "t" / "master.mp4"))
    assert not watched(None, str(root / ".reel" / "cas" / "ab"))
    assert not watched(None, str(root / ".main.episode.swp"))
