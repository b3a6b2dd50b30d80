"""Issue 10, the picture: outputs that pass the industry's own checks.

Every reading here is independent of Reel's own writing code: colour values
and tags come from PyAV (libavcodec's decoder), the encoder's settings from
the x264 SEI string inside the H.264 stream, the `colr` box from the file's
bytes. Episodes are tiny (320x180, half-second shots) except where the
session's shared pilot build is reused.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from reel.compiler.session import Session
from reel.compiler.store import Store

from helpers import reel, write_tree

RED = "#ff2a2a"
GREEN = "#20e040"
EPISODE = """
load "std/deliverables"
episode c {{
  title "C"
  format 320x180 @ 24fps
}}
text_style huge {{ size 600 bold true color "#ffffff" position center }}
text_style blue {{ size 600 bold true color "{blue}" position center }}
scene one {{
  shot wide 12f {{ plate solid "{red}" }}
  shot wide 12f {{ plate solid "#000000" title "HI" style huge transition crossfade 4f }}
  shot wide 12f {{ plate solid "#000000" title "HI" style blue }}
}}
{deliver}
"""
DELIVER = """
deliver {master} = youtube_1080p {{ resolution 320x180 crf 18 }}
deliver shorts = shorts_vertical {{ resolution 180x320 }}
deliver review = review_proxy {{ resolution 320x180 }}
deliver pod = podcast_audio
deliver edit = resolve_timeline
"""


def lower(entry: Path) -> Any:
    """The episode's actions, lowered as `reel build` lowers them (voices rendered)."""
    return Session(entry, Store(entry.parent / "cache")).lowered


def bt709(colour: str) -> tuple[float, float, float]:
    """Y'CbCr, BT.709 limited range, of an 8-bit sRGB-coded '#rrggbb' (the formula)."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748


def read_yuv(path: Path, index: int, at: tuple[float, float] = (0.5, 0.5)) -> tuple[int, ...]:
    """Y', Cb, Cr of frame ``index`` at a point (as shares of the frame), decoded
    to raw yuv420p by libavcodec without any conversion."""
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                assert frame.format.name == "yuv420p"
                w, h = frame.width, frame.height
                plane = frame.to_ndarray()  # yuv420p: Y, then U, then V, stacked
                y = plane[:h]
                u = plane[h : h + h // 4].reshape(h // 2, w // 2)
                v = plane[h + h // 4 :].reshape(h // 2, w // 2)
                px, py = int(w * at[0]), int(h * at[1])
                return int(y[py, px]), int(u[py // 2, px // 2]), int(v[py // 2, px // 2])
    raise AssertionError(f"{path} has no frame {index}")


def colour_tags(path: Path) -> tuple[str, str, str, str]:
    """The stream's colour description as libavcodec reads it (what ffprobe shows)."""
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        names = {1: "bt709", 2: "unknown"}
        ranges = {1: "tv", 2: "pc", 0: "unknown"}
        return (
            names.get(int(cc.color_primaries), str(cc.color_primaries)),
            names.get(int(cc.color_trc), str(cc.color_trc)),
            names.get(int(cc.colorspace), str(cc.colorspace)),
            ranges.get(int(cc.color_range), str(cc.color_range)),
        )


def colr_box(path: Path) -> tuple[str, int, int, int]:
    """The MP4 `colr` box: its type and the primaries, transfer and matrix codes."""
    data = path.read_bytes()
    at = data.find(b"colr")
    assert at > 0, f"{path.name} has no colr box"
    kind = data[at + 4 : at + 8].decode()
    primaries, transfer, matrix = struct.unpack(">HHH", data[at + 8 : at + 14])
    return kind, primaries, transfer, matrix


def x264_crfs(path: Path) -> list[float]:
    """The crf of every x264 settings string (SEI user data) in the file."""
    return [float(x) for x in re.findall(rb"x264 - core [^\0]*? crf=([0-9.]+)", path.read_bytes())]


def write_episode(root: Path, master: str = "master") -> Path:
    text = EPISODE.format(red=RED, blue=GREEN, deliver=DELIVER.format(master=master))
    write_tree(root, {"c.episode": text})
    return root / "c.episode"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("conformance")
    write_episode(root)
    proc = reel("build", "c.episode", "--out", "out", "--cache-dir", "cache", cwd=root)
    assert proc.returncode == 0, proc.stderr
    folder = root / "out" / "c"
    return {
        "root": root,
        "folder": folder,
        "plan": json.loads((folder / "RenderPlan.json").read_text()),
    }


def video_outputs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.mp4"))


# ---- colour ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["master.mp4", "shorts.mp4", "review.mp4"])
def test_a_colour_plate_decodes_to_its_bt709_values(built: dict, name: str) -> None:
    expected = bt709(RED)
    measured = read_yuv(built["folder"] / name, 6, (0.5, 0.4))
    assert all(abs(m - e) <= 2 for m, e in zip(measured, expected, strict=True)), (
        f"{name}: Y'CbCr {measured}, BT.709 says {tuple(round(e, 1) for e in expected)}"
    )


@pytest.mark.parametrize("name", ["master.mp4", "shorts.mp4", "review.mp4"])
def test_a_title_colour_decodes_to_its_bt709_values(built: dict, name: str) -> None:
    """The text filters convert a typed colour with the stream's own matrix."""
    with av.open(str(built["folder"] / name)) as container:
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == 30)
    w, h = frame.width, frame.height
    plane = frame.to_ndarray()
    y = plane[:h:2, ::2].ravel()  # one luma sample per chroma sample
    cb = plane[h : h + h // 4].reshape(h // 2, w // 2).ravel()
    cr = plane[h + h // 4 :].reshape(h // 2, w // 2).ravel()
    lit = y > 40  # the title, not the black plate
    values, counts = np.unique(np.stack([y[lit], cb[lit], cr[lit]]), axis=1, return_counts=True)
    measured = values[:, counts.argmax()]  # the glyphs' solid inside
    expected = bt709(GREEN)
    assert all(abs(int(m) - e) <= 2 for m, e in zip(measured, expected, strict=True)), (
        f"{name}: title Y'CbCr {tuple(measured)}, BT.709 says {expected}"
    )


def test_every_video_output_is_tagged_bt709_in_stream_and_container(built: dict) -> None:
    outputs = video_outputs(built["folder"])
    assert {p.name for p in outputs} >= {"master.mp4", "shorts.mp4", "review.mp4"}
    assert any(p.parent.name == "media" for p in outputs)
    for path in outputs:
        assert colour_tags(path) == ("bt709", "bt709", "bt709", "tv"), path.name
        assert colr_box(path) == ("nclx", 1, 1, 1), path.name


# ---- encoder settings ------------------------------------------------------------------
def test_each_video_output_is_encoded_at_its_deliverables_crf(built: dict) -> None:
    """RenderPlan, the blueprint (master's override: crf 18; presets: shorts 20,
    review 30) and the x264 settings inside each stream agree."""
    folder, render_plan = built["folder"], built["plan"]
    specs = {d["name"]: d for d in render_plan["deliverables"]}
    assert render_plan["encoder"]["crf"] == specs["master"]["encoder"]["crf"] == 18
    for name, crf in (("master", 18), ("shorts", 20), ("review", 30)):
        assert specs[name]["encoder"]["crf"] == crf
        found = set(x264_crfs(folder / f"{name}.mp4"))
        assert found == {float(crf)}, f"{name}.mp4 was encoded at crf {found}"
    for media in (folder / "edit" / "media").glob("*.mp4"):
        assert set(x264_crfs(media)) == {18.0}, media.name


def test_the_review_proxy_carries_the_masters_sound(tmp_path: Path) -> None:
    """The review_proxy preset sets no audio field: one loudness pass serves both."""
    entry = write_episode(tmp_path)
    specs = {d.name: d for d in Session(entry, None).plan.render_plan.deliverables}
    actions = lower(entry).by_id()
    assert actions["proxy/review"].inputs["audio.m4a"].action == "loudness"
    assert specs["review"].encoder.audio_bitrate_kbps == 192
    assert not any(a.startswith("loudness/review") for a in actions)


def test_a_review_proxy_that_sets_a_bitrate_gets_its_own_sound(tmp_path: Path) -> None:
    entry = write_episode(tmp_path)
    text = entry.read_text().replace(
        "review_proxy { resolution 320x180 }",
        "review_proxy { resolution 320x180 audio_bitrate 96 }",
    )
    entry.write_text(text)
    specs = {d.name: d for d in Session(entry, None).plan.render_plan.deliverables}
    actions = lower(entry).by_id()
    sound = actions[actions["proxy/review"].inputs["audio.m4a"].action]
    assert sound.id == "loudness/review"
    assert sound.params["bitrate_kbps"] == specs["review"].encoder.audio_bitrate_kbps == 96
    assert sound.params["target_lufs"] == actions["loudness"].params["target_lufs"] == -14.0
    assert actions["loudness"].params["bitrate_kbps"] == 192


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ("deliver pod = podcast_audio { crf 20 }", "crf 20", "does not read 'crf'"),
        (
            "deliver m = youtube_1080p { container mov }",
            "container mov",
            "container 'mov' is not supported",
        ),
        (
            "deliver m = youtube_1080p { video_codec hevc }",
            "video_codec hevc",
            "Reel encodes HEVC only for dynamic_range hlg",
        ),
        ("deliver m = youtube_1080p { fps 30fps }", "fps 30fps", "fps 30fps differs"),
        ("deliver v = shorts_vertical { reframe tilt }", "reframe tilt", "reframe 'tilt'"),
        ("deliver m = youtube_1080p { crf 70 }", "crf 70", "crf 70 is out of range"),
    ],
)
def test_a_field_that_cannot_be_honoured_is_an_error_at_the_field(
    tmp_path: Path, override: str, field: str, message: str
) -> None:
    text = EPISODE.format(red=RED, blue=GREEN, deliver=override)
    write_tree(tmp_path, {"c.episode": text})
    proc = reel("check", "c.episode", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if field in line)
    col = text.splitlines()[line_no - 1].index(field) + 1
    assert f"c.episode:{line_no}:{col}" in proc.stderr and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_preset_field_nobody_reads_is_reported_in_the_preset(tmp_path: Path) -> None:
    text = EPISODE.format(
        red=RED, blue=GREEN, deliver="preset mine {\n  kind audio\n  crf 20\n}\ndeliver a = mine"
    )
    write_tree(tmp_path, {"c.episode": text})
    proc = reel("check", "c.episode", cwd=tmp_path)
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if line == "  crf 20")
    assert proc.returncode == 2 and f"c.episode:{line_no}:3" in proc.stderr, proc.stderr


# ---- roles --------------------------------------------------------------------------------
def _actions(root: Path) -> dict[str, Any]:
    lowered = lower(root / "c.episode")
    return {
        a.id: (
            a.kind,
            json.dumps(a.params, sort_keys=True),
            sorted((k, repr(v)) for k, v in a.inputs.items()),
        )
        for a in lowered.actions
    }


@pytest.mark.parametrize("prefix", ["aaa_", "zzz_"])  # sorts first, or last
@pytest.mark.parametrize("renamed", ["master", "shorts", "review", "pod", "edit"])
def test_renaming_a_deliverable_changes_no_other_deliverables_actions(
    tmp_path: Path, renamed: str, prefix: str
) -> None:
    before_root, after_root = tmp_path / "before", tmp_path / "after"
    write_episode(before_root)
    write_episode(after_root)
    entry = after_root / "c.episode"
    new = prefix + renamed  # names must not decide roles
    entry.write_text(entry.read_text().replace(f"deliver {renamed} =", f"deliver {new} ="))
    before, after = _actions(before_root), _actions(after_root)

    def own(action_id: str, name: str) -> bool:
        return action_id.endswith(f"/{name}") or f"@{name}" in action_id

    others_before = {k: v for k, v in before.items() if not own(k, renamed)}
    others_after = {k: v for k, v in after.items() if not own(k, new)}
    assert others_before == others_after
    assert len(before) == len(after)
    segments = [k for k in after if k.startswith("segment")]
    assert len(segments) == 6  # the shared picture's 3 shots and the vertical short's 3


# ---- clean plates for the timeline ----------------------------------------------------
def test_timeline_v1_media_carry_no_burned_titles(built: dict) -> None:
    folder = built["folder"]
    # In the master, shot two (frames 12..23) has a huge white title over black.
    y_master, _, _ = read_yuv(folder / "master.mp4", 18)
    assert y_master > 200, "the title should be in the master"
    clean = folder / "edit" / "media" / "one.s02.mp4"
    for index in (0, 6, 11):  # no title, and no crossfade baked in from the red shot
        y, cb, cr = read_yuv(clean, index)
        assert (abs(y - 16), abs(cb - 128), abs(cr - 128)) <= (2, 2, 2), (index, y, cb, cr)
    frame = next(av.open(str(clean)).decode(video=0)).to_ndarray(format="gray")
    assert int(np.max(frame)) <= 20, "something was drawn on the clean plate"


def test_clean_plates_are_own_actions_only_where_needed(tmp_path: Path) -> None:
    write_episode(tmp_path)
    actions = lower(tmp_path / "c.episode").by_id()
    timeline = actions["timeline/edit"]
    media = {name: ref.action for name, ref in timeline.inputs.items() if name.endswith(".mp4")}
    assert media == {
        "media/one.s01.mp4": "segment/one.s01",
        "media/one.s02.mp4": "plate/one.s02",
        "media/one.s03.mp4": "plate/one.s03",
    }
    plate = actions["plate/one.s02"]
    assert plate.params["overlays"] == [] and plate.params["transition"]["kind"] == "cut"
    shots = {s["id"]: s for s in timeline.params["shots"]}
    assert shots["one.s02"]["transition"] == {"kind": "crossfade", "frames": 4}


# ---- the shared pilot build ------------------------------------------------------------
def test_pilot_outputs_are_bt709_at_their_deliverables_crf(pilot: dict) -> None:
    folder = pilot["folder"]
    render_plan = json.loads((folder / "RenderPlan.json").read_text())
    specs = {d["name"]: d for d in render_plan["deliverables"]}
    for path in video_outputs(folder):
        assert colour_tags(path) == ("bt709", "bt709", "bt709", "tv"), path.name
        assert colr_box(path) == ("nclx", 1, 1, 1), path.name
        name = path.stem if path.parent == folder else "master"  # timeline media: master's
        assert set(x264_crfs(path)) == {float(specs[name]["encoder"]["crf"])}, path.name


@pytest.mark.parametrize(("reframe", "focus"), [("focus", [0.0, 0.5]), ("center", [0.5, 0.5])])
def test_reframe_is_read_by_renditions(tmp_path: Path, reframe: str, focus: list[float]) -> None:
    from test_incremental import make_png

    make_png(tmp_path / "a.png")
    write_tree(
        tmp_path,
        {
            "c.episode": 'load "std/deliverables"\n'
            'episode c { title "C" format 320x180 @ 24fps }\n'
            'scene one { shot wide 12f focus left { plate image "a.png" } }\n'
            "deliver master = youtube_1080p { resolution 320x180 }\n"
            f"deliver v = shorts_vertical {{ resolution 180x320 reframe {reframe} }}\n"
        },
    )
    actions = lower(tmp_path / "c.episode").by_id()
    assert actions["segment@v/one.s01"].params["plate"]["focus"] == focus
    assert actions["segment/one.s01"].params["plate"]["focus"] == [0.0, 0.5]


def test_a_radial_plate_runs_from_its_centre_colour_to_its_edge_colour(tmp_path: Path) -> None:
    """The radial plate (added in two files: vocabulary and segment), measured:
    the centre decodes to the first colour, the corners to the second."""
    write_tree(
        tmp_path,
        {
            "r.episode": 'episode r { title "R" format 160x96 @ 24fps }\n'
            f'scene one {{ shot wide 4f {{ plate radial "{RED}" "#2040ff" radius 80 }} }}\n'
        },
    )
    proc = reel("build", "r.episode", "--out", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    master = tmp_path / "out" / "r" / "master.mp4"
    # A steep ramp at 160x96 (4:2:0 averages 2x2 pixels): within 6 code values.
    for at, colour in (((0.5, 0.5), RED), ((0.02, 0.04), "#2040ff"), ((0.97, 0.95), "#2040ff")):
        measured = read_yuv(master, 1, at)
        expected = bt709(colour)
        assert all(abs(m - e) <= 6 for m, e in zip(measured, expected, strict=True)), (
            f"at {at}: Y'CbCr {measured}, BT.709 of {colour} says {expected}"
        )
    # Halfway out, Cb lies between the two colours': a ramp, not a step.
    centre, middle, edge = (
        read_yuv(master, 1, at)[1] for at in ((0.5, 0.5), (0.3, 0.5), (0.02, 0.04))
    )
    assert centre + 10 < middle < edge - 10


# ---- burned captions across a crossfade --------------------------------------------------
CROSSFADE = """
load "std/deliverables"
episode x {
  title "X"
  format 640x360 @ 24fps
}
cast { character ann "Ann" age 30 }
scene one {
  shot wide 1s { plate solid "#000000" say ann "Every word of this line stays up until the cut." }
  shot wide 1s { plate solid "#000000" transition crossfade 8f }
}
deliver master = youtube_1080p { resolution 640x360 }
deliver shorts = shorts_vertical { resolution 360x640 }
"""


def test_burned_captions_do_not_ghost_through_a_crossfade(tmp_path: Path) -> None:
    """The vertical rendition burns its captions as it renders each shot; the
    frame the next shot fades from is taken before the text is drawn."""
    write_tree(tmp_path, {"x.episode": CROSSFADE})
    proc = reel("build", "x.episode", "--out", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with av.open(str(tmp_path / "out" / "x" / "shorts.mp4")) as container:
        frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    # Both shots are black: anything bright is caption text. Frame 24 opens the
    # crossfade into shot two; by frame 32 it is over and the same caption is
    # up. Where shot one's last frame had text and shot two draws none (kept
    # clear of its glyphs by a margin), frame 24 must be black: a caption
    # burned into the frame the fade starts from would show there.
    last, first, settled = (frames[i].astype(int) for i in (23, 24, 32))
    own = settled > 40
    near = own.copy()
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near |= np.roll(np.roll(own, dy, axis=0), dx, axis=1)
    ghost_zone = (last > 128) & ~near
    assert ghost_zone.sum() > 40, "shot one should end with a caption on screen"
    assert first[ghost_zone].max() < 40, "shot one's caption shows through the crossfade"
    # The frame the crossfade started from, as the cache holds it: black, no text.
    store = Store(tmp_path / "cache")
    record = store.last_run("segment@shorts/one.s01")
    assert record is not None
    outputs = store.get_action(record["key"])
    assert outputs is not None
    with av.open(str(store.blob_path(outputs["tail.png"]))) as container:
        tail = next(container.decode(video=0)).to_ndarray(format="gray")
    assert int(tail.max()) <= 2
