"""Real renders: the master, captions, records, caching and incremental builds.

The tests read the run's one pilot build (the session fixture `pilot` in conftest.py);
a test that rebuilds or edits the pilot works on its own copy (`pilot_copy`)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import av
import jsonschema
import pysubs2

from reel.backends.ffmpeg import toolchain
from reel.backends.probe import probe
from reel.compiler import artifacts as a
from reel.compiler.build import build
from reel.lang.diagnostics import Diagnostics

from helpers import reel
from test_incremental import BASE as TINY_FIELDS
from test_incremental import tiny_project


def load(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())


def test_master_is_h264_aac_and_lasts_exactly_the_shotlist(pilot: dict) -> None:
    folder = pilot["folder"]
    shotlist = load(folder, "ShotList.json")
    info = probe(folder / "master.mp4")
    assert info["codec"] == "h264" and info["audio_codec"] == "aac"
    assert (info["width"], info["height"]) == (shotlist["width"], shotlist["height"])
    assert info["frames"] == shotlist["total_frames"]
    frame = shotlist["fps_den"] / shotlist["fps_num"]
    assert abs(info["video_duration"] - shotlist["total_seconds"]) < frame
    assert abs(info["duration"] - shotlist["total_seconds"]) < frame


def test_every_output_is_delivered(pilot: dict) -> None:
    names = {p.name for p in pilot["folder"].iterdir()}
    assert names == {
        ".reel-delivered.json",
        "Script.json",
        "ShotList.json",
        "AssetManifest.json",
        "RenderPlan.json",
        "PacingReport.json",
        "RenderOutput.json",
        "QCReport.json",
        "run_summary.json",
        "report.html",
        "master.mp4",
        "captions.srt",
        "captions.vtt",
        "captions.ass",
        "subtitles.srt",
        "subtitles.vtt",
        "podcast.m4a",
        "review.mp4",
        "shorts.mp4",
        "timeline",
    }


def test_render_output_records_hashes_probe_and_lineage(pilot: dict) -> None:
    folder = pilot["folder"]
    record = load(folder, "RenderOutput.json")
    jsonschema.validate(record, a.RenderOutput.model_json_schema())
    outputs = {o["path"]: o for o in record["outputs"]}
    top = {path for path in outputs if "/" not in path}
    assert top == {
        "master.mp4",
        "captions.srt",
        "captions.vtt",
        "captions.ass",
        "subtitles.srt",
        "subtitles.vtt",
        "podcast.m4a",
        "review.mp4",
        "shorts.mp4",
    }
    assert "timeline/timeline.fcpxml" in outputs and "timeline/media/cold_open.s01.mp4" in outputs
    from reel.compiler.hashing import hash_file

    for path, entry in outputs.items():
        assert entry["digest"] == hash_file(folder / path)
    assert record["parents"]["RenderPlan"] == load(folder, "RenderPlan.json")["content_hash"]
    assert record["master"]["frames"] == load(folder, "ShotList.json")["total_frames"]


def test_run_summary(pilot: dict) -> None:
    summary = load(pilot["folder"], "run_summary.json")
    shots = len(load(pilot["folder"], "ShotList.json")["shots"])
    assert summary["actions"]["ran"] >= shots + 4
    assert set(summary["stages_ms"]) >= {"plan_and_voices", "execute", "deliver", "total"}
    assert summary["placeholders"] == 1  # rooftop.png, missing on purpose
    assert any("rooftop.png" in w for w in summary["warnings"])


def test_captions_obey_the_line_rules(pilot: dict) -> None:
    folder = pilot["folder"]
    srt = pysubs2.load(str(folder / "captions.srt"))
    vtt = pysubs2.load(str(folder / "captions.vtt"))
    script = load(folder, "Script.json")
    lines = [line["text"] for s in script["scenes"] for line in s["lines"]]
    assert len(srt) == len(vtt) >= len(lines) == 10
    frame_ms = 1000 / 24
    for event in srt:
        rows = event.plaintext.split("\n")
        assert len(rows) <= 2 and all(len(row) <= 42 for row in rows), event.plaintext
        assert event.end - event.start <= 7000
    for before, after in itertools.pairwise(srt):
        assert after.start - before.end >= 2 * frame_ms - 1
    spoken = " ".join(lines)
    assert " ".join(e.plaintext.replace("\n", " ") for e in srt) == spoken


def test_captions_follow_the_locked_timeline(pilot: dict) -> None:
    folder = pilot["folder"]
    shotlist = load(folder, "ShotList.json")
    first_line_shot = next(s for s in shotlist["shots"] if s["lines"])
    start_frame = first_line_shot["start_frame"] + first_line_shot["lines"][0]["start_frame"]
    srt = pysubs2.load(str(folder / "captions.srt"))
    # The line is placed where it is first heard; its first word (Piper's first
    # phoneme) starts at most a frame later.
    assert 0 <= srt[0].start - start_frame * 1000 / 24 <= 1000 / 24 + 1


def test_second_build_runs_nothing_and_starts_no_ffmpeg(pilot_copy: dict, monkeypatch) -> None:
    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[0]}")

    monkeypatch.setattr(toolchain.subprocess, "run", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    pilot = pilot_copy  # the first build's source, cache and outputs, copied
    result = build(
        pilot["copy"],
        out=pilot["work"] / "out",
        cache_dir=pilot["cache"],
        diags=Diagnostics(),
        progress=False,
    )
    assert result.report.ran == [] and result.report.failures == []
    # Every action but `concat` and its QC, which only the `video` target asks for.
    cached = {r.action for r in result.report.cached}
    assert cached == {a.id for a in result.lowered.actions} - {"concat", "qc@video"}
    summary = load(pilot["folder"], "run_summary.json")
    assert summary["actions"]["ran"] == 0 and summary["cache_hit_rate"] == 1.0


def test_editing_one_scene_title_rerenders_only_that_scene(pilot_copy: dict) -> None:
    copy, work = pilot_copy["copy"], pilot_copy["work"]
    act2 = copy / "scenes" / "act2.episode"
    original = act2.read_text()
    act2.write_text(original.replace('title "Canal Street"', 'title "Canal Street, 4 PM"'))
    proc = reel(
        "build",
        str(copy),
        "--out",
        str(work / "out"),
        "--cache-dir",
        str(pilot_copy["cache"]),
        "--explain",
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    explained = dict(
        line.removeprefix("explain: ").split(": ", 1)
        for line in proc.stdout.splitlines()
        if line.startswith("explain: ")
    )
    # Every deliverable is per shot: the proxy re-encodes only the edited
    # shot's piece, the shorts render only that shot again (captions burned in
    # as it renders), then each joins its pieces by stream copy.
    assert set(explained) == {
        "segment/the_street.s01",
        "mux",
        "piece@review/the_street.s01",
        "proxy/review",
        "timeline/timeline",
        "segment@shorts/the_street.s01",
        "rendition/shorts",
        # QC decodes only the changed pieces (the sound is unchanged, and so is
        # the report's loudness curve), then checks each joined file is its pieces
        "measure/segment/the_street.s01",
        "measure/piece@review/the_street.s01",
        "measure/segment@shorts/the_street.s01",
        "qc@master",
        "qc@review",
        "qc@shorts",
    }
    # In the blueprint's words: the shot, the field and the line that writes it.
    at = next(
        i for i, line in enumerate(act2.read_text().splitlines(), 1) if "Canal Street" in line
    )
    assert explained["segment/the_street.s01"] == (
        f"the title of shot the_street.s01 changed (pilot/scenes/act2.episode:{at})"
    )
    assert explained["mux"] == "segment/the_street.s01 changed"
    summary = load(pilot_copy["folder"], "run_summary.json")
    assert [r["action"] for r in summary["ran"]] == sorted(explained)


def test_targets_query_and_graph(pilot_copy: dict) -> None:
    copy, work = pilot_copy["copy"], pilot_copy["work"]
    # Queries plan the episode, voices included: from the build's cache, not a new one.
    env = {"REEL_CACHE_DIR": str(pilot_copy["cache"])}
    targets = reel("query", "targets", str(copy), cwd=work, env=env)
    assert targets.returncode == 0
    assert f"{copy}:master" in targets.stdout.splitlines()
    deps = reel("query", "deps", f"{copy}:master", cwd=work, env=env).stdout.splitlines()
    assert {"loudness", "mix", "voice/cold_open.s03.l1", "segment/cold_open.s01"} <= set(deps)
    assert "captions" not in deps
    rdeps = reel("query", "rdeps", f"{copy}:segment/the_routine.s01", cwd=work, env=env)
    rdeps = rdeps.stdout.split()
    # The timeline takes the shot's clean plate (it has a title), not this segment.
    # QC decodes each piece made from it (measure/...); the report does not read it.
    assert rdeps == [
        "concat",
        "measure/piece@review/the_routine.s01",
        "measure/piece@review/the_routine.s02",
        "measure/segment/the_routine.s01",
        "measure/segment/the_routine.s02",
        "mux",
        "piece@review/the_routine.s01",
        "piece@review/the_routine.s02",
        "proxy/review",
        "qc@master",
        "qc@review",
        "qc@video",
        "segment/the_routine.s02",
        "tail/the_routine.s01",
    ]
    dot = reel("graph", str(copy), cwd=work, env=env).stdout
    assert dot.startswith('digraph "pilot" {') and '"loudness" -> "mux";' in dot
    unknown = reel("build", f"{copy}:mastr", cwd=work, env=env)
    assert unknown.returncode == 2 and "no target 'mastr'" in unknown.stderr
    assert "did you mean 'master'?" in unknown.stderr


def test_building_one_target(pilot_copy: dict, tmp_path: Path) -> None:
    proc = reel(
        "build",
        f"{pilot_copy['copy']}:captions",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(pilot_copy["cache"]),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (tmp_path / "out" / "pilot").iterdir()}
    assert "captions.srt" in names and "master.mp4" not in names


def test_the_video_target_is_the_masters_picture_alone(pilot_copy: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = reel(
        "build",
        f"{pilot_copy['copy']}:video",
        *("--out", str(out), "--cache-dir", str(pilot_copy["cache"])),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    video = out / "pilot" / "video.mp4"
    with av.open(str(video)) as container:
        assert [s.type for s in container.streams] == ["video"]

    def frames(path: Path) -> list[str]:  # ffmpeg's framemd5 of each decoded picture
        argv = [str(toolchain.ffmpeg_exe()), "-v", "error", "-i", str(path), "-map", "0:v"]
        text = subprocess.run([*argv, "-f", "framemd5", "-"], capture_output=True, text=True)
        return [line.rsplit(",", 1)[1] for line in text.stdout.splitlines() if line[:1].isdigit()]

    assert frames(video) == frames(pilot_copy["folder"] / "master.mp4")


def test_clean(pilot: dict, tmp_path: Path) -> None:
    from reel.compiler.store import Store

    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(pilot["folder"], out / "pilot")  # a delivered set, with its record
    Store(cache)
    proc = reel(
        "clean",
        str(pilot["copy"]),
        "--out",
        str(out),
        "--cache",
        "--cache-dir",
        str(cache),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (out / "pilot").exists() and not cache.exists()


def test_the_no_op_fast_path_and_what_invalidates_it(tmp_path: Path) -> None:
    """On a tiny episode: the behaviour does not need the pilot, and its image edit
    would re-encode every deliverable of the pilot."""
    project = tiny_project(tmp_path / "tiny", dict(TINY_FIELDS))
    out = tmp_path / "out"
    args = ("build", str(project), "--out", str(out), "--cache-dir", str(tmp_path / "cache"))
    first = reel(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = reel(*args, cwd=tmp_path)
    assert "up to date: 0 action(s) ran" in again.stdout
    master = out / "tiny" / "master.mp4"
    master.unlink()  # a lost output: not up to date, but nothing to re-render
    restored = reel(*args, cwd=tmp_path)
    assert "up to date" not in restored.stdout and "0 action(s) ran" in restored.stdout
    assert master.is_file()
    image = project / "a.png"
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
            "color=c=red:s=64x48",
            "-frames:v",
            "1",
            str(image),
        ],
        check=True,
    )
    changed = reel(*args, "--explain", cwd=tmp_path)
    assert "up to date" not in changed.stdout
    at = next(
        i
        for i, line in enumerate((project / "tiny.episode").read_text().splitlines(), 1)
        if 'plate image "a.png"' in line
    )
    assert (
        f"explain: segment/two.s02: the image of shot two.s02 (a.png) changed "
        f"(tiny/tiny.episode:{at})" in changed.stdout
    )
