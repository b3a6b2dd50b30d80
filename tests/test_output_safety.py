"""Reel owns only what it wrote: output folders, `reel clean`, one set per build.

Each test is a case an attack campaign found on an earlier main (issue 9):
sources deleted by `clean`, `rmtree('/')`, a failed or killed build leaving a
mixed set, and concurrent builds colliding on a temporary name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reel import cli
from reel.compiler.hashing import hash_file
from reel.compiler.outputs import RECORD, OutputSet, sweep
from reel.compiler.store import Store

from helpers import reel
from test_incremental import BASE, outputs, tiny_project


def build_tiny(root: Path, out: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    return reel("build", str(root), "--out", str(out), "--cache-dir", str(cache), *extra, cwd=root)


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


@pytest.fixture
def built(tmp_path: Path) -> dict:
    """The tiny episode, built once into out/tiny."""
    project = tiny_project(tmp_path / "proj", dict(BASE))
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = build_tiny(project, out, cache)
    assert proc.returncode == 0, proc.stderr
    return {"project": project, "out": out, "cache": cache, "folder": out / "tiny"}


# ---- output folders that would destroy sources ---------------------------------------------
def test_an_output_folder_holding_sources_is_refused_and_clean_keeps_them(tmp_path: Path) -> None:
    """The campaign's case: episode `shots` with its image in shots/, built with --out ."""
    project = tmp_path / "shots"
    tiny_project(project, dict(BASE))
    (project / "tiny.episode").rename(project / "s.episode")
    text = (project / "s.episode").read_text().replace("episode tiny", "episode shots")
    (project / "s.episode").write_text(text)
    image = hash_file(project / "a.png")
    proc = reel("build", "shots/s.episode", "--out", ".", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    no_traceback(proc)
    assert "holds a source of the episode (a.png)" in proc.stderr
    assert "shots/s.episode:2:1" in proc.stderr  # positioned at `episode shots`
    cleaned = reel("clean", "shots/s.episode", "--out", ".", cwd=tmp_path)
    assert cleaned.returncode == 0, cleaned.stderr
    assert hash_file(project / "a.png") == image
    assert sorted(p.name for p in project.iterdir()) == ["a.png", "s.episode"]


@pytest.mark.parametrize("where", ["/", "~"])
def test_root_and_home_are_refused_as_output_folders(built: dict, where: str) -> None:
    target = str(Path(where).expanduser())
    proc = build_tiny(built["project"], Path(target), built["cache"])
    assert proc.returncode == 1 and "as the output folder" in proc.stderr
    no_traceback(proc)


def test_an_output_folder_inside_the_cache_is_refused(built: dict) -> None:
    proc = build_tiny(built["project"], built["cache"] / "out", built["cache"])
    assert proc.returncode == 1 and "overlap" in proc.stderr
    no_traceback(proc)


def test_an_unwritable_output_folder_is_an_error_not_a_crash(built: dict, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    proc = build_tiny(built["project"], tmp_path / "a-file" / "out", built["cache"])
    assert proc.returncode == 1 and "cannot write the output folder" in proc.stderr
    no_traceback(proc)


def test_clean_of_root_or_a_foreign_cache_removes_nothing(tmp_path: Path, monkeypatch) -> None:
    """`reel clean --out /` and `--cache --cache-dir /` once called rmtree('/'). Run
    in process with every deleting call disarmed, so a regression cannot hurt."""

    def forbidden(*args, **kwargs):
        raise AssertionError(f"tried to delete {args[0]}")

    for name in ("rmtree",):
        monkeypatch.setattr(shutil, name, forbidden)
    monkeypatch.setattr(os, "unlink", forbidden)
    monkeypatch.setattr(os, "remove", forbidden)
    monkeypatch.setattr(Path, "unlink", forbidden)
    runner = CliRunner()
    for args in (
        ["clean", "--out", "/"],
        ["clean", "--out", str(tmp_path / "o"), "--cache", "--cache-dir", "/"],
        ["clean", "--out", str(Path.home())],
    ):
        result = runner.invoke(cli.main, args)
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit), result.exception


def test_a_folder_of_the_users_files_is_never_taken_as_the_cache(
    built: dict, tmp_path: Path
) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    for args in (("build", str(built["project"])), ("clean", "--cache")):
        proc = reel(*args, "--cache-dir", str(mine), "--out", str(built["out"]), cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        no_traceback(proc)
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]


# ---- clean removes only what Reel wrote ------------------------------------------------------
def test_clean_removes_only_recorded_files_with_reels_bytes(built: dict) -> None:
    folder = built["folder"]
    (folder / "notes.txt").write_text("mine")  # the user's file in the output folder
    (folder / "sub").mkdir()
    shutil.copy(built["project"] / "a.png", folder / "sub" / "a.png")  # a source, copied in
    (folder / "master.mp4").write_bytes(b"my own edit")  # Reel's name, the user's bytes
    proc = reel("clean", "--out", str(built["out"]), cwd=built["project"])
    assert proc.returncode == 0, proc.stderr
    left = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert left == ["master.mp4", "notes.txt", "sub/a.png"]
    assert "kept" in proc.stdout and "notes.txt" in proc.stdout


def test_clean_never_follows_a_forged_record_outside_its_folder(built: dict) -> None:
    victim = built["project"] / "tiny.episode"
    folder = built["folder"]
    record = json.loads((folder / RECORD).read_text())
    record["files"]["../../proj/tiny.episode"] = hash_file(victim)
    (folder / RECORD).write_text(json.dumps(record))
    proc = reel("clean", "--out", str(built["out"]), cwd=built["project"])
    assert proc.returncode == 0, proc.stderr
    assert victim.is_file()


# ---- one set per build ---------------------------------------------------------------------
def test_a_failed_build_leaves_the_previous_set_whole(built: dict) -> None:
    before = outputs(built["folder"])
    fields = dict(BASE, line="Changed words.")  # changes the Script...
    tiny_project(built["project"], fields)
    (built["project"] / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")  # ...and fails
    proc = build_tiny(built["project"], built["out"], built["cache"])
    assert proc.returncode == 1 and "a.png is not a readable image" in proc.stderr
    assert outputs(built["folder"]) == before  # every file, the JSON artifacts included
    failed = built["out"] / "tiny.failed"
    assert "Changed" not in (built["folder"] / "Script.json").read_text()
    assert "Changed" in (failed / "Script.json").read_text()  # the failed run's, kept aside


def test_a_build_killed_while_staging_leaves_the_set_and_is_swept(built: dict) -> None:
    before = outputs(built["folder"])
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from reel.compiler.outputs import OutputSet\n"
        "from reel.compiler.store import Store\n"
        "staged = OutputSet(Path(sys.argv[1]), 'tiny', Store(Path(sys.argv[2])))\n"
        "staged.path('master.mp4').write_bytes(b'half a file')\n"
        "os._exit(9)  # killed before the switch\n"
    )
    subprocess.run([sys.executable, "-c", script, str(built["out"]), str(built["cache"])])
    assert len(list(built["out"].glob(".tiny.reel-new-*"))) == 1
    assert outputs(built["folder"]) == before
    sweep(built["out"], "tiny")  # what the next build does first
    assert sorted(p.name for p in built["out"].iterdir()) == ["tiny"]


def test_a_running_builds_staging_is_not_swept(built: dict) -> None:
    staged = OutputSet(built["out"], "tiny", Store(built["cache"]))
    try:
        sweep(built["out"], "tiny")
        assert staged.staging.is_dir()
    finally:
        staged.discard()
    assert not staged.staging.exists()


def test_user_files_in_the_set_move_on_to_the_next_set(built: dict) -> None:
    folder = built["folder"]
    (folder / "notes.txt").write_text("mine")
    tiny_project(built["project"], dict(BASE, t2="Zwei"))
    proc = build_tiny(built["project"], built["out"], built["cache"])
    assert proc.returncode == 0, proc.stderr
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_folder_reel_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj", dict(BASE))
    theirs = tmp_path / "out" / "tiny"
    theirs.mkdir(parents=True)
    (theirs / "master.mp4").write_bytes(b"someone else's film")
    proc = build_tiny(project, tmp_path / "out", tmp_path / "cache")
    assert proc.returncode == 1 and "was not written by Reel" in proc.stderr
    assert (theirs / "master.mp4").read_bytes() == b"someone else's film"


def test_concurrent_builds_of_one_episode_never_collide(built: dict, tmp_path: Path) -> None:
    """Four builds deliver the same set at once, three times over (from the cache,
    so that they overlap in the delivery): each ends well, the set is whole."""
    tiny_project(built["project"], dict(BASE, t1="Both"))
    args = [sys.executable, "-m", "reel.cli", "build", str(built["project"])]
    args += ["--out", str(built["out"]), "--cache-dir", str(built["cache"])]
    assert subprocess.run(args, capture_output=True).returncode == 0
    expected = outputs(built["folder"])
    for _ in range(3):
        (built["out"] / "tiny" / "master.mp4").unlink()  # defeat the no-op fast path
        procs = [subprocess.Popen(args, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        assert outputs(built["folder"]) == expected
    assert sorted(p.name for p in built["out"].iterdir()) == ["tiny"]


def test_a_relative_out_lists_what_it_delivered(tmp_path: Path) -> None:
    """Regression: `reel build ep.episode --out out` (relative) wrote a
    RenderOutput whose output list was empty, because the delivered files
    were named under `out/...` and compared with the resolved folder."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "ep.episode").write_text(
        'episode t { title "T" format 160x90 @ 24fps }\n'
        'scene s { shot wide 1s { plate solid "#224466" } }\n'
    )
    cache = str(tmp_path / "cache")
    relative = reel("build", "ep.episode", "--out", "out", "--cache-dir", cache, cwd=root)
    assert relative.returncode == 0, relative.stderr
    absolute = reel(
        "build", "ep.episode", "--out", str(tmp_path / "abs"), "--cache-dir", cache, cwd=root
    )
    assert absolute.returncode == 0, absolute.stderr
    folder = root / "out" / "t"
    listed = json.loads((folder / "RenderOutput.json").read_text())["outputs"]
    assert [o["path"] for o in listed] == [
        "captions.ass",
        "captions.srt",
        "captions.vtt",
        "master.mp4",
    ]
    for entry in listed:
        assert hash_file(folder / entry["path"]) == entry["digest"], entry["path"]
    # Where --out points, and how it is spelt, changes nothing in the record.
    assert (folder / "RenderOutput.json").read_bytes() == (
        tmp_path / "abs" / "t" / "RenderOutput.json"
    ).read_bytes()
