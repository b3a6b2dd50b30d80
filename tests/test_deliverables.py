"""Deliverables: each preset its own target, built from shared work."""

from __future__ import annotations

from pathlib import Path

import av

from reel.backends.audio.loudness import measure_ebur128

from helpers import reel


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


def test_changing_a_preset_field_rebuilds_only_that_deliverable(pilot_copy: dict) -> None:
    entry = pilot_copy["copy"] / "pilot.episode"
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
            str(pilot_copy["copy"]),
            "--out",
            str(pilot_copy["work"] / "out"),
            "--cache-dir",
            str(pilot_copy["cache"]),
            "--explain",
            cwd=pilot_copy["work"],
        )
        assert proc.returncode == 0, proc.stderr
        ran = sorted(
            line.split(":")[1].strip()
            for line in proc.stdout.splitlines()
            if line.startswith("explain: ")
        )
        # the podcast's QC decodes the new file (its action is keyed by the file's bytes)
        assert ran == ["loudness/podcast", "podcast/podcast", "qc@podcast"]
        figures = measure_ebur128("podcast.m4a", pilot_copy["folder"])
        assert abs(figures["integrated"] - -18.0) <= 1.0
    finally:
        entry.write_text(original)


def test_a_deliverable_is_a_target(pilot_copy: dict, tmp_path: Path) -> None:
    proc = reel(
        "build",
        f"{pilot_copy['copy']}:podcast",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(pilot_copy["cache"]),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "pilot").glob("*.m*")) == ["podcast.m4a"]


# ---- the Resolve timeline ----------------------------------------------------------------
def shot_rows(pilot: dict) -> list[tuple[str, int, int]]:
    return [(s["id"], s["start_frame"], s["duration_frames"]) for s in pilot["shotlist"]["shots"]]


def test_timeline_folder_is_self_contained(pilot: dict) -> None:
    folder = pilot["folder"] / "timeline"
    names = {p.name for p in folder.iterdir()}
    assert names == {"timeline.otio", "timeline.fcpxml", "timeline.xml", "timeline.edl", "media"}
    text = (folder / "timeline.fcpxml").read_text() + (folder / "timeline.otio").read_text()
    assert str(pilot["work"]) not in text and "file://" not in text
    for shot in pilot["shotlist"]["shots"]:
        assert (folder / "media" / f"{shot['id']}.mp4").is_file()


def test_otio_reads_back_with_the_shotlist(pilot: dict) -> None:
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(pilot["folder"] / "timeline" / "timeline.otio"))
    names = [t.name for t in timeline.tracks]
    titles_tracks = [n for n in names if n.endswith(" titles")]
    assert names == ["V1", *titles_tracks, "A1 voice", "A2 music", "A3 effects"]
    assert titles_tracks[0] == "V2 titles"  # overlapping titles go on V3 and up
    v1 = timeline.tracks[0]
    clips = [
        (c.name, c.range_in_parent().start_time.to_frames(), c.source_range.duration.to_frames())
        for c in v1.find_clips()
    ]
    assert clips == shot_rows(pilot)
    titles = [c.name for t in timeline.tracks if t.name.endswith(" titles") for c in t.find_clips()]
    assert "FAILURE IS A TRAP" in titles and "The Trap of 5AM" in titles
    voices = list(next(t for t in timeline.tracks if t.name == "A1 voice").find_clips())
    assert len(voices) == sum(len(s["lines"]) for s in pilot["shotlist"]["shots"])
    scenes = []
    for s in pilot["shotlist"]["shots"]:
        if s["index"] == 1:
            scenes.append((s["scene_id"], s["start_frame"]))
    markers = [(m.name, m.marked_range.start_time.to_frames()) for m in timeline.tracks.markers]
    assert markers == scenes


def test_fcp7_xml_and_edl_read_back(pilot: dict) -> None:
    import opentimelineio as otio

    folder = pilot["folder"] / "timeline"
    fcp7 = otio.adapters.read_from_file(str(folder / "timeline.xml"), adapter_name="fcp_xml")
    video = next(t for t in fcp7.tracks if t.kind == otio.schema.TrackKind.Video)
    assert [
        (c.name, c.range_in_parent().start_time.to_frames(), c.source_range.duration.to_frames())
        for c in video.find_clips()
    ] == shot_rows(pilot)
    edl = otio.adapters.read_from_file(
        str(folder / "timeline.edl"), adapter_name="cmx_3600", rate=24
    )
    rows = [
        (c.range_in_parent().start_time.to_frames(), c.source_range.duration.to_frames())
        for c in edl.tracks[0].find_clips()
    ]
    assert rows == [(start, frames) for _, start, frames in shot_rows(pilot)]


def test_fcpxml_reads_back_with_titles_lanes_and_markers(pilot: dict) -> None:
    import xml.etree.ElementTree as ET
    from fractions import Fraction

    root = ET.parse(pilot["folder"] / "timeline" / "timeline.fcpxml").getroot()
    assert root.tag == "fcpxml" and root.get("version") == "1.10"

    def frames(text: str) -> int:
        return int(Fraction(text.removesuffix("s")) * 24)

    spine = root.find("./library/event/project/sequence/spine")
    clips = [
        (c.get("name"), frames(c.get("offset")), frames(c.get("duration")))
        for c in spine.findall("asset-clip")
    ]
    assert clips == shot_rows(pilot)
    assert len(spine.findall("./asset-clip/title")) >= 10
    lanes = {c.get("lane") for c in spine.findall("./asset-clip/asset-clip")}
    assert lanes == {"-1", "-2", "-3"}  # voice, music, effects
    markers = [m.get("value") for m in spine.findall("./asset-clip/marker")]
    assert markers == [s["scene_id"] for s in pilot["shotlist"]["shots"] if s["index"] == 1]
    for rep in root.iter("media-rep"):
        assert (pilot["folder"] / "timeline" / rep.get("src")).is_file()


# ---- renditions: another size, reframed per shot ------------------------------------------
VERTICAL = """
load "std/deliverables"
episode v {
  title "V"
  format 320x180 @ 24fps
}
cast { character ann "Ann" }
scene a {
  shot wide 1s focus left { plate image "halves.png" say ann "Left." }
  shot wide 1s { plate image "halves.png" }
}
deliver master = youtube_1080p { resolution 320x180 }
deliver shorts = shorts_vertical { resolution 180x320 }
"""


def test_a_vertical_rendition_is_reframed_around_each_shots_focus(tmp_path: Path) -> None:
    import subprocess

    from reel.backends.ffmpeg.toolchain import ffmpeg_exe

    (tmp_path / "v.episode").write_text(VERTICAL)
    subprocess.run(
        [
            str(ffmpeg_exe()),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=160x180,pad=320:180:0:0:blue",
            "-frames:v",
            "1",
            str(tmp_path / "halves.png"),
        ],
        check=True,
    )
    proc = reel("build", "v.episode", "--out", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    shorts = tmp_path / "out" / "v" / "shorts.mp4"
    with av.open(str(shorts)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (180, 320)
        assert video.frames == 48 and any(s.type == "audio" for s in container.streams)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    left, centre = frames[6][160, 90].astype(int), frames[30][160, 30].astype(int)
    assert left[0] > 150 and left[2] < 100  # focus left: the red half fills the frame
    assert centre[0] > 150  # centre focus: the crop straddles the middle, red on its left
    assert frames[30][160, 150][2] > 150  # ... and blue on its right
    master = tmp_path / "out" / "v" / "master.mp4"
    with av.open(str(master)) as container:
        assert container.streams.video[0].codec_context.width == 320


EVERY_SIZE = """
load "std/deliverables"
episode e {
  title "E"
  format 320x180 @ 24fps
}
cast { character ann "Ann" }
scene a {
  shot wide 2s { plate solid "#335577" say ann "Every preset, one frame size each." }
}
deliver master = youtube_1080p { resolution 320x180 }
deliver uhd = youtube_4k
deliver broadcast = broadcast_audio
"""


def test_the_4k_and_broadcast_presets_deliver_what_they_promise(tmp_path: Path) -> None:
    (tmp_path / "e.episode").write_text(EVERY_SIZE)
    proc = reel("build", "e.episode", "--out", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "out" / "e"
    with av.open(str(folder / "uhd.mp4")) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (3840, 2160)
        assert video.average_rate == 24 and video.frames == 48
        assert any(s.type == "audio" for s in container.streams)
    figures = measure_ebur128("broadcast.m4a", folder)
    assert abs(figures["integrated"] - -23.0) <= 1.0 and figures["true_peak"] <= -1.0
