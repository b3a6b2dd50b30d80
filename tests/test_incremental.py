"""Incremental builds equal clean builds; bad media fails cleanly; builds survive
interruption; one failing action does not take the others down with --keep-going."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reel.backends import registry
from reel.backends.kind import Kind
from reel.compiler.build import BuildFailed, build
from reel.compiler.hashing import hash_file
from reel.compiler.media import MediaError
from reel.compiler.store import CacheDirError
from reel.lang.diagnostics import Diagnostics

from helpers import reel, write_tree

TINY = """
episode tiny {{
  title "Tiny"
  format 160x90 @ 12fps
}}
cast {{ character ann "Ann" age 30 }}
scene one {{
  shot wide 1s {{ plate gradient "{c0}" "#ffffff" title "{t1}" }}
  shot close 12f {{ plate solid "#203040" move push_in 1.2 say ann "{line}" }}
}}
scene two {{
  shot wide 1s {{ plate checker "#000000" "{c1}" cell 10 transition {tr} }}
  shot insert 6f {{ plate image "a.png" kinetic "{t2}" }}
}}
"""
BASE = {
    "c0": "#102030",
    "t1": "One",
    "line": "Hello there.",
    "c1": "#ff0000",
    "tr": "crossfade 4f",
    "t2": "Two",
}
EDITS = {
    "c0": ["#102030", "#aa0000", "#00aa00"],
    "t1": ["One", "Uno", "First of all"],
    "line": ["Hello there.", "Hi.", "A much longer line that takes more time to say."],
    "c1": ["#ff0000", "#0000ff"],
    "tr": ["crossfade 4f", "cut", "dip_to_black 3f"],
    "t2": ["Two", "Deux"],
}


def make_png(path: Path) -> None:
    from reel.backends.ffmpeg.toolchain import ffmpeg_exe

    subprocess.run(
        [
            str(ffmpeg_exe()),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=64x48",
            "-frames:v",
            "1",
            str(path),
        ],
        check=True,
    )


def tiny_project(root: Path, fields: dict[str, str]) -> Path:
    write_tree(root, {"tiny.episode": TINY.format(**fields)})
    if not (root / "a.png").exists():
        make_png(root / "a.png")
    return root


def outputs(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hash_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("run_summary.json", "report.html")  # the logs
    }


def run_build(root: Path, out: Path, cache: Path, **kw):
    return build(root, out=out, cache_dir=cache, diags=Diagnostics(), progress=False, jobs=2, **kw)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(st.tuples(st.sampled_from(sorted(EDITS)), st.integers(0, 2)), min_size=1, max_size=3)
)
def test_incremental_build_equals_clean_build(edits: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        fields = dict(BASE)
        project = tiny_project(tmp_path / "inc", fields)
        run_build(project, tmp_path / "out-inc", tmp_path / "cache-inc")
        for field, choice in edits:
            fields[field] = EDITS[field][choice % len(EDITS[field])]
            tiny_project(project, fields)
            run_build(project, tmp_path / "out-inc", tmp_path / "cache-inc")
        clean = tiny_project(tmp_path / "clean", fields)
        run_build(clean, tmp_path / "out-clean", tmp_path / "cache-clean")
        assert outputs(tmp_path / "out-inc" / "tiny") == outputs(tmp_path / "out-clean" / "tiny")


def test_two_clean_builds_in_different_directories_give_identical_digests(tmp_path: Path) -> None:
    """Every deliverable kind (master, vertical short, proxy, podcast, timeline), built
    from two folders at different depths with different job counts, byte for byte."""
    from test_conformance_picture import write_episode

    digests = []
    for n in range(2):
        root = tmp_path / f"where{n}" / ("nested/" * n) / "project"
        write_episode(root)
        proc = reel(
            "build",
            str(root),
            "--out",
            str(tmp_path / f"out{n}"),
            "--cache-dir",
            str(tmp_path / f"cache{n}"),
            "-j",
            str(n + 1),
            cwd=root.parent,
        )
        assert proc.returncode == 0, proc.stderr
        digests.append(outputs(tmp_path / f"out{n}" / "c"))
    assert digests[0] == digests[1]
    assert {"master.mp4", "shorts.mp4", "review.mp4", "edit/timeline.fcpxml"} <= set(digests[0])


# ---- bad media ----------------------------------------------------------------------
def good_then(tmp_path: Path, breakage) -> tuple[Exception, Path, dict[str, str]]:
    project = tiny_project(tmp_path / "p", BASE)
    out, cache = tmp_path / "out", tmp_path / "cache"
    run_build(project, out, cache)
    before = outputs(out / "tiny")
    breakage(project)
    with pytest.raises((MediaError, BuildFailed)) as caught:
        run_build(project, out, cache)
    return caught.value, out / "tiny", before


def test_a_corrupt_image(tmp_path: Path) -> None:
    error, folder, before = good_then(
        tmp_path, lambda p: (p / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    )
    (diag,) = error.diagnostics
    assert diag.message == "a.png is not a readable image"
    assert diag.span.line == 13 and diag.span.file.display.endswith("tiny.episode")
    assert int(error.exit_code) == 1
    after = outputs(folder)
    assert after["master.mp4"] == before["master.mp4"]  # earlier outputs untouched
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == [".reel-delivered.json"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["tiny", "tiny.failed"]  # no temp


def test_a_text_file_given_as_a_video(tmp_path: Path) -> None:
    def breakage(p: Path) -> None:
        (p / "clip.mp4").write_text("this is not a video\n")
        text = (p / "tiny.episode").read_text()
        (p / "tiny.episode").write_text(
            text.replace('plate image "a.png"', 'plate video "clip.mp4"')
        )

    error, _, _ = good_then(tmp_path, breakage)
    (diag,) = error.diagnostics
    assert diag.message == "clip.mp4 is not a readable video"
    assert diag.span.line == 13


def test_a_video_shorter_than_its_out_point(tmp_path: Path) -> None:
    from reel.backends.ffmpeg.toolchain import ffmpeg_exe

    def breakage(p: Path) -> None:
        subprocess.run(
            [
                str(ffmpeg_exe()),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=s=64x48:r=12",
                "-t",
                "1",
                "-c:v",
                "libx264",
                str(p / "clip.mp4"),
            ],
            check=True,
        )
        text = (p / "tiny.episode").read_text()
        (p / "tiny.episode").write_text(
            text.replace('plate image "a.png"', 'plate video "clip.mp4" in 500ms out 3s')
        )

    error, _, _ = good_then(tmp_path, breakage)
    (diag,) = error.diagnostics
    assert diag.message == "the out point 3s is past the end of clip.mp4 (1s long)"


def test_an_unusable_cache_directory(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "p", BASE)
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(CacheDirError) as caught:
        run_build(project, tmp_path / "out", blocker / "cache")
    assert "cannot use the cache directory" in caught.value.diagnostics[0].message
    proc = reel(
        "build",
        str(project),
        "--cache-dir",
        str(blocker / "cache"),
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


# ---- interruption and failures ---------------------------------------------------------
def many_shots(root: Path, title: str, shots: int = 12) -> Path:
    """A generated episode long enough to be killed in the middle of (320x180, 1 s shots)."""
    body = "\n".join(
        f'  shot wide 1s {{ plate gradient "#10{n:02d}30" "#ffffff" move push_in 1.1 '
        f'title "{title} {n}" }}'
        for n in range(shots)
    )
    text = (
        f'episode many {{\n  title "Many"\n  format 320x180 @ 24fps\n}}\nscene one {{\n{body}\n}}\n'
    )
    return write_tree(root, {"many.episode": text})


def test_an_interrupted_build_keeps_old_outputs_and_the_next_finishes(tmp_path: Path) -> None:
    project = many_shots(tmp_path / "proj", "Shot")
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = [sys.executable, "-m", "reel.cli", "build", str(project)]
    args += ["--out", str(out), "--cache-dir", str(cache), "-j", "1"]
    assert subprocess.run(args, capture_output=True).returncode == 0
    before = outputs(out / "many")
    many_shots(project, "Edited")  # every shot re-renders
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # killed as soon as the first shot is rendered: mid-render
        if line.startswith("[") and "] segment/" in line:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the build finished before it could be interrupted"
    assert outputs(out / "many") == before  # the previous set, whole
    finished = subprocess.run(args, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert sorted(p.name for p in out.iterdir()) == ["many"]  # the dead build's staging is gone
    clean_out = tmp_path / "clean-out"
    subprocess.run(
        [*args[:5], "--out", str(clean_out), "--cache-dir", str(tmp_path / "c2")],
        check=True,
        capture_output=True,
    )
    assert outputs(out / "many") == outputs(clean_out / "many")


def test_a_failing_action_reports_its_target_line_and_stderr(tmp_path: Path) -> None:
    from reel.backends.ffmpeg.toolchain import run_ffmpeg
    from reel.compiler.actions import Action, ActionInput, build_graph
    from reel.compiler.executor import Executor
    from reel.compiler.failures import failure_diagnostics
    from reel.compiler.store import Store

    def bad(sandbox: Path, params: dict) -> None:
        run_ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                "color=s=16x16",
                "-vf",
                "nosuchfilter",
                "-frames:v",
                "1",
                "x.png",
            ],
            sandbox,
        )

    def good(sandbox: Path, params: dict) -> None:
        run_ffmpeg(["-f", "lavfi", "-i", "color=s=16x16", "-frames:v", "1", "x.png"], sandbox)

    class Params(TypedDict, total=False):
        n: int

    registry.register(Kind("test_bad", Params, (), ("x.png",), run=bad))
    registry.register(Kind("test_good", Params, ("x.png",), ("x.png",), run=good))
    actions = [
        Action("bad", "test_bad", {}, {}, ("x.png",), origin="shots.episode:7:3"),
        Action(
            "after-bad", "test_good", {"n": 1}, {"x.png": ActionInput("bad", "x.png")}, ("x.png",)
        ),
        Action("independent", "test_good", {"n": 2}, {}, ("x.png",)),
    ]
    graph = build_graph(actions)
    store = Store(tmp_path / "cache")
    for keep_going, expect_independent in ((True, True), (False, None)):
        executor = Executor(store, graph, jobs=1, keep_going=keep_going, toolchain_digest="t")
        report = executor.run({"after-bad", "independent"} if keep_going else {"after-bad"})
        assert [f.action.id for f in report.failures] == ["bad"]
        assert "after-bad" in report.skipped
        if expect_independent:
            assert "independent" in report.results
    (diag,) = failure_diagnostics(report).errors
    assert diag.message.startswith("bad failed: ffmpeg exited with ")
    assert "from the statement at shots.episode:7:3" in diag.notes[0]
    assert "nosuchfilter" in diag.notes[1]
