"""The timeline folder and captions pass the checks the industry's own tools make.

FCPXML against Apple's FCPXML 1.10 DTD (tests/dtd, see its README); the FCP7
XML through OTIO's reader and as plain XML; the EDL through pycmx, a reader
independent of the writer; audio assets against the real length of their
files; caption times against the episode's frame grid.
"""

from __future__ import annotations

import itertools
import json
import shutil
import wave
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pycmx
import pysubs2
import pytest
import webvtt
from lxml import etree

from reel.backends.captions import write_sidecars
from reel.backends.timeline import BASIC_TITLE_UID, export, transitions

from helpers import reel

DTD = Path(__file__).parent / "dtd" / "FCPXMLv1_10.dtd"

SMALL = """
load "std/deliverables"
episode small {
  title "Small"
  format 160x90 @ 24fps
}
cast { character ann "Ann" age 30 }
scene one {
  shot wide 1s { plate solid "#203040" title "First & <best>" }
  shot close 2s { plate solid "#405060" say ann "Hello there." transition crossfade 4f }
}
scene two {
  shot wide 1s { plate solid "#aa2020" title "Two" transition crossfade 3f }
  shot wide 1s { plate solid "#102030" transition dip_to_black 4f }
}
deliver edit = resolve_timeline
"""


def timeline_params(root: Path, entry: str, work: Path) -> dict:
    """The timeline action's params, from the build's emitted plan.

    If the plan does not yet carry each shot's ``transition`` (the lowering
    adds it), it is taken from the ShotList, as the lowering would.
    """
    emit = work / "emit"
    proc = reel(
        "build",
        entry,
        "--out",
        "out",
        "--cache-dir",
        "cache",
        "--emit-commands",
        str(emit),
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((emit / "plan.json").read_text())
    params = next(a["params"] for a in plan["actions"] if a["id"].startswith("timeline/"))
    shotlist = json.loads(next((root / "out").glob("*/ShotList.json")).read_text())
    by_id = {s["id"]: s["transition"] for s in shotlist["shots"]}
    for shot in params["shots"]:
        shot.setdefault("transition", by_id[shot["id"]])
    return params


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A four-shot episode with titles, two crossfades and a dip, built once and
    its timeline exported again with every shot's transition."""
    root = tmp_path_factory.mktemp("small")
    (root / "small.episode").write_text(SMALL)
    proc = reel("build", "small.episode", "--out", "out", "--cache-dir", "cache", cwd=root)
    assert proc.returncode == 0, proc.stderr
    params = timeline_params(root, "small.episode", root)
    folder = root / "exported"
    shutil.copytree(root / "out" / "small" / "edit", folder)
    for name in ("timeline.otio", "timeline.fcpxml", "timeline.xml", "timeline.edl"):
        (folder / name).unlink()
    export(folder, params)
    return {"root": root, "folder": folder, "params": params}


def pilot_folder(pilot: dict) -> Path:
    return pilot["folder"] / "timeline"


def seconds(text: str) -> Fraction:
    return Fraction(text.removesuffix("s"))


# ---- FCPXML ------------------------------------------------------------------------------
def assert_valid_fcpxml(path: Path) -> etree._ElementTree:
    dtd = etree.DTD(str(DTD))
    tree = etree.parse(str(path))
    valid = dtd.validate(tree)
    assert valid, "\n".join(str(e) for e in dtd.error_log.filter_from_errors())
    return tree


def test_the_pilot_fcpxml_is_valid_fcpxml_1_10(pilot: dict) -> None:
    assert_valid_fcpxml(pilot_folder(pilot) / "timeline.fcpxml")


def test_a_fcpxml_with_titles_crossfades_and_a_dip_is_valid(small: dict) -> None:
    tree = assert_valid_fcpxml(small["folder"] / "timeline.fcpxml")
    spine = tree.find("./library/event/project/sequence/spine")
    shots = small["params"]["shots"]
    kinds = [(s["id"], s["transition"]["kind"], s["transition"]["frames"]) for s in shots]
    assert [k[1:] for k in kinds if k[1] != "cut"] == [
        ("crossfade", 4),
        ("crossfade", 3),
        ("dip_to_black", 4),
    ]
    effects = {e.get("id"): e.get("uid") for e in tree.iter("effect")}
    expected = transitions(small["params"])
    written = spine.findall("transition")
    assert len(written) == len(expected) >= 2
    children = list(spine)
    for transition, node in zip(expected, written, strict=True):
        shot = shots[transition.index]
        assert seconds(node.get("offset")) == Fraction(shot["start"], 24)
        assert seconds(node.get("duration")) == Fraction(transition.frames, 24)
        following = children[children.index(node) + 1]
        assert following.tag == "asset-clip" and following.get("name") == shot["id"]
        uid = effects[node.find("filter-video").get("ref")]
        assert uid.startswith("FxPlug:")


def test_every_title_is_a_live_basic_title_on_lane_1(small: dict, pilot: dict) -> None:
    for folder in (small["folder"], pilot_folder(pilot)):
        root = ET.parse(folder / "timeline.fcpxml").getroot()
        effects = {e.get("id"): e.get("uid") for e in root.iter("effect")}
        spine = root.find("./library/event/project/sequence/spine")
        written = []
        for clip in spine.findall("asset-clip"):
            base = seconds(clip.get("offset")) - seconds(clip.get("start"))
            for title in clip.findall("title"):
                assert effects[title.get("ref")] == BASIC_TITLE_UID and title.get("lane") == "1"
                text = "".join(title.find("text").itertext())
                start = base + seconds(title.get("offset"))
                written.append((text, start, seconds(title.get("duration"))))
        assert written
    params = small["params"]
    expected = [
        (t["text"], Fraction(t["start"], 24), Fraction(t["frames"], 24)) for t in params["titles"]
    ]
    small_root = ET.parse(small["folder"] / "timeline.fcpxml").getroot()
    got = []
    for clip in small_root.find("./library/event/project/sequence/spine").findall("asset-clip"):
        for title in clip.findall("title"):
            start = seconds(clip.get("offset")) + seconds(title.get("offset"))
            got.append(
                ("".join(title.find("text").itertext()), start, seconds(title.get("duration")))
            )
    assert got == expected and "First & <best>" in [g[0] for g in got]


def wav_seconds(path: Path) -> Fraction:
    with wave.open(str(path), "rb") as handle:
        return Fraction(handle.getnframes(), handle.getframerate())


def test_audio_assets_are_exact_audio_only_and_never_longer_than_their_files(pilot: dict) -> None:
    folder = pilot_folder(pilot)
    root = ET.parse(folder / "timeline.fcpxml").getroot()
    audio = [a for a in root.iter("asset") if a.get("hasAudio") == "1"]
    assert len(audio) > 10
    lengths = {}
    for asset in audio:
        assert asset.get("hasVideo") == "0" and asset.get("format") is None
        media = folder / unquote(asset.find("media-rep").get("src"))
        with wave.open(str(media), "rb") as handle:
            assert asset.get("audioRate") == str(handle.getframerate())
            assert asset.get("audioChannels") == str(handle.getnchannels())
        assert seconds(asset.get("duration")) == wav_seconds(media)
        lengths[asset.get("id")] = wav_seconds(media)
    for clip in root.iter("asset-clip"):
        if clip.get("ref") in lengths:
            start, length = seconds(clip.get("start")), seconds(clip.get("duration"))
            assert start + length <= lengths[clip.get("ref")]
            assert (length * 24).denominator == 1  # cut on a frame boundary


# ---- FCP7 XML ----------------------------------------------------------------------------
def check_fcp7(folder: Path, params: dict) -> ET.Element:
    """Plain XML checks: titles as Text generators with their text, a frame size,
    and pathurls that are URL references to the media beside the file."""
    root = ET.parse(folder / "timeline.xml").getroot()
    sample = root.find("./project/children/sequence/media/video/format/samplecharacteristics")
    assert sample is not None
    assert (sample.findtext("width"), sample.findtext("height")) == (
        str(params["width"]),
        str(params["height"]),
    )
    texts = []
    for item in root.iter("generatoritem"):
        effect = item.find("effect")
        assert (
            effect.findtext("effectid") == "Text" and effect.findtext("effecttype") == "generator"
        )
        values = {p.findtext("parameterid"): p.findtext("value") for p in effect.iter("parameter")}
        texts.append(values["str"])
    assert sorted(texts) == sorted(t["text"] for t in params["titles"])
    base = (folder / "timeline.xml").as_uri()
    urls = [p.text for p in root.iter("pathurl")]
    assert urls
    for url in urls:
        resolved = urlparse(urljoin(base, url))
        assert resolved.scheme == "file" and Path(unquote(resolved.path)).is_file(), url
        assert not url.startswith("/") and "\\" not in url
    return root


def test_fcp7_xml_has_every_title_a_frame_size_and_media_urls(pilot: dict, small: dict) -> None:
    import opentimelineio as otio

    folder = pilot_folder(pilot)
    plan = json.loads((folder.parent / "ShotList.json").read_text())
    titles = [
        {"text": o["text"], "start": s["start_frame"] + o["start_frame"]}
        for s in plan["shots"]
        for o in s["overlays"]
    ]
    check_fcp7(folder, {"width": plan["width"], "height": plan["height"], "titles": titles})
    check_fcp7(small["folder"], small["params"])
    for path, params in ((folder, {"titles": titles}), (small["folder"], small["params"])):
        timeline = otio.adapters.read_from_file(str(path / "timeline.xml"), adapter_name="fcp_xml")
        generated = [
            c.media_reference.metadata["fcp_xml"]["parameter"][0]["value"]
            for c in timeline.find_clips()
            if isinstance(c.media_reference, otio.schema.GeneratorReference)
        ]
        assert sorted(generated) == sorted(t["text"] for t in params["titles"])


def test_fcp7_xml_carries_the_transitions(small: dict) -> None:
    import opentimelineio as otio

    root = ET.parse(small["folder"] / "timeline.xml").getroot()
    items = list(root.iter("transitionitem"))
    expected = transitions(small["params"])
    assert [(i.findtext("alignment"), i.findtext("effect/effectid")) for i in items] == [
        (
            "start-black" if t.kind == "dip_to_black" else "start",
            "Cross Dissolve" if t.kind == "crossfade" else "Dip to Color Dissolve",
        )
        for t in expected
    ]
    timeline = otio.adapters.read_from_file(
        str(small["folder"] / "timeline.xml"), adapter_name="fcp_xml"
    )
    read = [t for t in timeline.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert len(read) == len(expected)
    otio_file = otio.adapters.read_from_file(str(small["folder"] / "timeline.otio"))
    kept = [t for t in otio_file.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert [(t.in_offset.value, t.out_offset.value) for t in kept] == [
        (0, t.frames) for t in expected
    ]


# ---- EDL ---------------------------------------------------------------------------------
def read_edl(path: Path) -> list:
    with path.open() as handle:
        return list(pycmx.parse_cmx3600(handle).events)


def test_edl_reels_are_unique_per_source_file_and_name_their_clips(
    pilot: dict, small: dict
) -> None:
    for folder, shots in (
        (pilot_folder(pilot), [s["id"] for s in pilot["shotlist"]["shots"]]),
        (small["folder"], [s["id"] for s in small["params"]["shots"]]),
    ):
        reel_of: dict[str, str] = {}
        for event in read_edl(folder / "timeline.edl"):
            for edit in event.edits:
                if edit.source in ("BL", "AX") or edit.clip_name is None:
                    continue
                assert reel_of.setdefault(edit.clip_name, edit.source) == edit.source
        assert sorted(reel_of) == sorted(shots)
        assert len(set(reel_of.values())) == len(reel_of)  # one reel, one file


def test_edl_dissolves_and_dips_from_black(small: dict) -> None:
    events = read_edl(small["folder"] / "timeline.edl")
    dissolves = [
        (e.edits[0].source, e.edits[-1].clip_name, e.edits[-1].transition.effect_duration)
        for e in events
        if e.edits[-1].transition.kind == pycmx.transition.Transition.Dissolve
    ]
    shots = small["params"]["shots"]
    expected = transitions(small["params"])
    assert [(d[1], d[2]) for d in dissolves] == [(shots[t.index]["id"], t.frames) for t in expected]
    for (a_side, _, _), t in zip(dissolves, expected, strict=True):
        assert (a_side == "BL") == (t.kind == "dip_to_black")


# ---- determinism -------------------------------------------------------------------------
def test_export_is_byte_identical_and_holds_no_absolute_path(small: dict, tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(small["folder"], again)
    export(again, small["params"])
    for name in ("timeline.otio", "timeline.fcpxml", "timeline.xml", "timeline.edl"):
        first = (small["folder"] / name).read_bytes()
        assert first == (again / name).read_bytes(), name
        assert str(small["root"]).encode() not in first and b"file://" not in first


# ---- captions on frames ------------------------------------------------------------------
def vtt_seconds(stamp: str) -> float:
    """A WebVTT timestamp in seconds (webvtt-py's own rounds to whole seconds)."""
    hours, minutes, rest = ([0, *stamp.split(":")])[-3:]
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def assert_on_frames(times: list[float], fps: Fraction) -> None:
    for t in times:
        frame = round(Fraction(t).limit_denominator(10**6) * fps)
        assert abs(t - float(frame / fps)) <= 0.001 + 1e-9, (t, float(frame / fps))


@pytest.mark.parametrize("fps", [(24, 1), (24000, 1001), (25, 1)])
def test_caption_times_sit_on_frame_boundaries(tmp_path: Path, fps: tuple[int, int]) -> None:
    rate = Fraction(*fps)
    params = {
        "rules": {"max_chars_per_line": 32, "max_lines": 1, "min_gap": 2 / 24},
        "fps": list(fps),
        "lines": [
            {"start": 1.013, "end": 4.0, "text": "A caption that is too long for one line"},
            {"start": 4.05, "end": 7.267, "text": "Then what & <why>?"},
            {"start": 7.29, "end": 7.31, "text": "Hm."},
        ],
    }
    write_sidecars(tmp_path, params)
    srt = pysubs2.load(str(tmp_path / "captions.srt"))
    vtt = list(webvtt.read(str(tmp_path / "captions.vtt")))
    assert [e.start for e in srt] == [round(vtt_seconds(c.start) * 1000) for c in vtt]
    times = [t / 1000 for e in srt for t in (e.start, e.end)]
    assert_on_frames(times, rate)
    assert times == sorted(times)
    gap = Fraction(2, 24)
    for a, b in itertools.pairwise(srt):
        assert a.end < a.start + 7001 and b.start - a.end >= float(gap) * 1000 - 1
    assert all(e.end > e.start for e in srt)
    assert vtt[-2].text.startswith("Then what")


def test_without_a_frame_rate_captions_keep_their_times(tmp_path: Path) -> None:
    params = {
        "rules": {},
        "lines": [{"start": 1.013, "end": 4.0, "text": "Hello."}],
    }
    write_sidecars(tmp_path, params)
    assert pysubs2.load(str(tmp_path / "captions.srt"))[0].start == 1013


def test_the_pilot_captions_sit_on_frame_boundaries(pilot: dict) -> None:
    folder = pilot["folder"]
    srt = pysubs2.load(str(folder / "captions.srt"))
    vtt = list(webvtt.read(str(folder / "captions.vtt")))
    assert_on_frames([t / 1000 for e in srt for t in (e.start, e.end)], Fraction(24))
    assert_on_frames([vtt_seconds(t) for c in vtt for t in (c.start, c.end)], Fraction(24))


def test_a_timeline_at_a_rate_smpte_lacks_is_refused_at_the_deliver_statement(
    tmp_path: Path,
) -> None:
    """CMX3600 and FCP7 timecode exist only at SMPTE rates: at 12 fps the timeline
    action used to fail deep in OTIO; now planning says so at the statement."""
    (tmp_path / "small.episode").write_text(SMALL.replace("@ 24fps", "@ 12fps"))
    proc = reel("check", "small.episode", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "need SMPTE timecode, which has no 12fps" in proc.stderr
    line = SMALL.splitlines().index("deliver edit = resolve_timeline") + 1
    assert f"small.episode:{line}:1" in proc.stderr
