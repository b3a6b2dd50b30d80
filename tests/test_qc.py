"""The QC verifier, checked with real files: a tiny episode is built with the
real CLI, then copies of its deliverables are spoiled the way real faults
look (re-encoded at another rate, a black gap spliced in, turned down 3 dB, a
caption appended past the end) with the pinned ffmpeg, and `reel qc` must
name each fault."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reel.backends.ffmpeg.toolchain import ffmpeg_exe

from helpers import reel, write_tree

EPISODE = """
load "std/deliverables"
episode t { title "T" format 640x360 @ 24fps  voice maya = tts "en-us" }
cast { character maya "Maya Chen" age 34 }
scene s {
  shot wide 1s { plate solid black }
  shot wide 2s { plate checker "#111111" "#eeeeee" move pan_left }
  shot close { plate stripes "#ff2a2a" "#0b0b14" move push_in 1.2  say maya "One small step." }
}
deliver master = youtube_1080p { resolution 640x360 publish true }
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("qc"), {"main.episode": EPISODE})
    done = reel("build", ".", "-q", "--out", "out", "-j", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "out" / "t"


def spoil(built: Path, tmp_path: Path, args: list[str]) -> Path:
    """A copy of the delivered folder whose master is re-encoded by ``args``."""
    folder = tmp_path / "t"
    shutil.copytree(built, folder)
    master = folder / "master.mp4"
    master.unlink()
    command = [str(ffmpeg_exe()), "-v", "error", "-y", "-i", str(built / "master.mp4"), *args]
    subprocess.run([*command, "-c:v", "libx264", "-c:a", "aac", str(master)], check=True)
    return folder


def failed_checks(folder: Path, cwd: Path) -> tuple[int, set[str], str]:
    done = reel("qc", str(folder), "--json", cwd=cwd)
    report = json.loads(done.stdout)
    names = {c["name"] for f in report["files"] for c in f["checks"] if not c["passed"]}
    return done.returncode, names, done.stderr


def test_clean_episode_passes_and_its_build_wrote_the_report(built: Path) -> None:
    report = json.loads((built / "QCReport.json").read_text())
    assert report["passed"] and report["parents"]["RenderOutput"]
    checks = {c["name"] for f in report["files"] for c in f["checks"]}
    assert {"frame count", "frame rate", "colour tags", "integrated loudness"} <= checks
    assert {"black frames", "frozen frames", "speech", "caption bounds"} <= checks
    done = reel("qc", str(built), cwd=built)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "master.mp4" in done.stdout and "FAIL" not in done.stdout


def test_black_gap_is_caught(built: Path, tmp_path: Path) -> None:
    # Half a second of black inside the moving checker shot (1.2 s .. 1.7 s).
    black = "drawbox=c=black:t=fill:enable='between(t,1.2,1.7)'"
    folder = spoil(built, tmp_path, ["-vf", black])
    code, names, stderr = failed_checks(folder, tmp_path)
    assert code == 1 and "black frames" in names
    assert "QC: master (master.mp4): black frames" in stderr and "Traceback" not in stderr


def test_wrong_frame_rate_is_caught(built: Path, tmp_path: Path) -> None:
    folder = spoil(built, tmp_path, ["-r", "30"])
    code, names, stderr = failed_checks(folder, tmp_path)
    assert code == 1 and {"frame rate", "frame count"} <= names
    assert "measured 30 fps, expected 24 fps" in stderr


def test_three_lu_off_target_is_caught(built: Path, tmp_path: Path) -> None:
    folder = spoil(built, tmp_path, ["-c:v", "copy", "-af", "volume=-3dB"])
    code, names, stderr = failed_checks(folder, tmp_path)
    assert code == 1 and names == {"integrated loudness"}
    assert "expected -14.0 LUFS" in stderr and "LU off the deliverable's target" in stderr


def test_caption_past_the_end_is_caught(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    shutil.copytree(built, folder)
    srt = folder / "captions.srt"
    srt.write_text(srt.read_text() + "\n99\n00:00:04,500 --> 00:00:09,000\nlate\n")
    code, names, stderr = failed_checks(folder / "captions.srt", tmp_path)
    assert code == 1 and names == {"caption bounds"}
    assert "run past the end of the video" in stderr


def test_qc_needs_the_plan_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"")
    done = reel("qc", str(tmp_path / "x.mp4"), cwd=tmp_path)
    assert done.returncode == 2 and "no ShotList.json" in done.stderr
    assert "Traceback" not in done.stderr
