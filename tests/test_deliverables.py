"""Deliverables: each preset its own target, built from shared work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import pytest

from reel.backends.audio.loudness import measure_ebur128

from helpers import PILOT, reel


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("deliver")
    copy = work / "pilot"
    shutil.copytree(PILOT, copy)
    proc = reel(
        "build", str(copy), "--out", str(work / "out"), "--cache-dir", str(work / "cache"), cwd=work
    )
    assert proc.returncode == 0, proc.stderr
    folder = work / "out" / "pilot"
    return {
        "work": work,
        "copy": copy,
        "folder": folder,
        "shotlist": json.loads((folder / "ShotList.json").read_text()),
    }


def test_podcast_is_normalised_to_its_own_target_with_scene_chapters(pilot: dict) -> None:
    figures = measure_ebur128("podcast.m4a", pilot["folder"])
    assert abs(figures["integrated"] - -16.0) <= 1.0 and figures["true_peak"] <= -1.0
    with av.open(str(pilot["folder"] / "podcast.m4a")) as container:
        chapters = container.chapters()
        assert not any(s.type == "video" for s in container.streams)
    starts = []
    for shot in pilot["shotlist"]["shots"]:
        if shot["index"] == 1:
            starts.append((shot["scene_id"].replace("_", " "), shot["start_frame"] / 24))
    assert [c["metadata"]["title"] for c in chapters] == [s[0] for s in starts]
    for chapter, (_, start) in zip(chapters, starts, strict=True):
        assert abs(float(chapter["start"] * chapter["time_base"]) - start) < 0.001


def test_review_proxy_is_small_and_frame_accurate(pilot: dict) -> None:
    with av.open(str(pilot["folder"] / "review.mp4")) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (640, 360)
        assert video.frames == pilot["shotlist"]["total_frames"]
        assert any(s.type == "audio" for s in container.streams)


def test_captions_only_delivers_the_shared_sidecars(pilot: dict) -> None:
    folder = pilot["folder"]
    assert (folder / "subtitles.srt").read_bytes() == (folder / "captions.srt").read_bytes()
    assert (folder / "subtitles.vtt").read_bytes() == (folder / "captions.vtt").read_bytes()


def test_changing_a_preset_field_rebuilds_only_that_deliverable(pilot: dict) -> None:
    entry = pilot["copy"] / "pilot.episode"
    original = entry.read_text()
    entry.write_text(
        original.replace(
            "deliver podcast = podcast_audio",
            "deliver podcast = podcast_audio { loudness -18LUFS }",
        )
    )
    try:
        proc = reel(
            "build",
            str(pilot["copy"]),
            "--out",
            str(pilot["work"] / "out"),
            "--cache-dir",
            str(pilot["work"] / "cache"),
            "--explain",
            cwd=pilot["work"],
        )
        assert proc.returncode == 0, proc.stderr
        ran = sorted(
            line.split(":")[1].strip()
            for line in proc.stdout.splitlines()
            if line.startswith("explain: ")
        )
        assert ran == ["loudness/podcast", "podcast/podcast"]
        figures = measure_ebur128("podcast.m4a", pilot["folder"])
        assert abs(figures["integrated"] - -18.0) <= 1.0
    finally:
        entry.write_text(original)


def test_a_deliverable_is_a_target(pilot: dict, tmp_path: Path) -> None:
    proc = reel(
        "build",
        f"{pilot['copy']}:podcast",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(pilot["work"] / "cache"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "pilot").glob("*.m*")) == ["podcast.m4a"]
