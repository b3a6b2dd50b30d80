"""Phone footage as a creator brings it (seed 001): probed, recorded in the
AssetManifest, turned upright and conformed to the episode's rate. Clips are
made here with the pinned ffmpeg (tests/footage.py) with known properties;
the renders are measured from decoded pixels (PyAV), the manifest checked
against the exported JSON schema."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import av
import jsonschema
import numpy as np
import pytest
from footage import phone_clip

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.backends.probe import probe
from reel.compiler import artifacts as a

from helpers import REPO, reel, write_tree

HEAD = """
load "std/deliverables"
episode t {{ title "T" format {size} @ 24fps }}
scene s {{
{body}
}}
deliver master = youtube_1080p {{ resolution {size} }}
"""
# A picture whose top-left quarter is red and the rest grey: where the red
# lands says how the picture was turned.
QUARTER = (
    "color=c=0x808080:s={w}x{h}:r={rate}:d={d}[g];"
    "color=c=0xff0000:s={half}x{hh}:r={rate}:d={d}[r];"
    "[g][r]overlay=0:0,format=gbrp"
)
# Frame N of the source is grey level 4·N: a decoder reads which frame it sees.
COUNTER = "color=c=black:s={w}x{h}:r={rate}:d={d},format=gray,geq=lum='4*N',format=gbrp"


def build(root: Path, body: str, size: str = "640x360") -> Path:
    write_tree(root, {"main.episode": HEAD.format(body=body, size=size)})
    done = reel("build", ".", "-q", "--out", "out", "-j", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "out" / "t"


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return phone_clip(tmp_path_factory.mktemp("phone") / "IMG_0001.MOV")


def test_the_probe_reads_what_the_phone_wrote(phone: Path) -> None:
    info = probe(phone)
    assert info["codec"] == "hevc" and info["bit_depth"] == 10
    assert info["pix_fmt"] == "yuv420p10le"
    assert (info["colour_primaries"], info["colour_transfer"]) == ("bt2020", "arib-std-b67")
    assert (info["colour_matrix"], info["colour_range"]) == ("bt2020nc", "tv")
    assert info["hdr"] == "hlg"
    assert info["rotation"] == 90
    assert info["vfr"] is True
    assert info["frame_interval_s"] == pytest.approx([1 / 30, 1 / 20], abs=1e-4)
    assert info["timecode"] == "01:02:03:04"
    assert info["creation_time"].startswith("2026-01-02T03:04:05")
    assert (info["channels"], info["audio_layout"], info["sample_rate"]) == (2, "stereo", 48000)


def test_a_constant_rate_untagged_clip_says_so(tmp_path: Path) -> None:
    clip = phone_clip(tmp_path / "c.mov", hlg=False, vfr=False, rotation=0, timecode=None)
    info = probe(clip)
    assert info["vfr"] is False and info["rotation"] == 0 and info["hdr"] is None
    assert info["timecode"] is None and info["bit_depth"] == 8


def test_every_probe_field_is_in_the_asset_manifest(tmp_path: Path, phone: Path) -> None:
    (tmp_path / "IMG_0001.MOV").write_bytes(phone.read_bytes())
    write_tree(
        tmp_path,
        {
            "main.episode": HEAD.format(
                body='  shot wide 1s { plate video "IMG_0001.MOV" }', size="640x360"
            )
        },
    )
    done = reel("build", ".", "--stage", "plan", "-q", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "t" / "AssetManifest.json").read_text())
    jsonschema.validate(manifest, a.AssetManifest.model_json_schema())
    (entry,) = manifest["assets"]
    facts = entry["source"]
    assert facts["rotation"] == 90 and facts["vfr"] is True and facts["hdr"] == "hlg"
    assert facts["colour_transfer"] == "arib-std-b67" and facts["bit_depth"] == 10
    assert facts["timecode"] == "01:02:03:04" and facts["audio_layout"] == "stereo"
    assert facts["creation_time"].startswith("2026-01-02")
    conform = " ".join(facts["conform"])
    assert "rotated 90°" in conform and "variable frame rate" in conform and "24 fps" in conform
    # Every field the model declares is written, present even when null.
    assert set(facts) == set(a.SourceFacts.model_fields)


def test_a_rotated_clip_renders_upright(tmp_path: Path) -> None:
    """The display matrix turns the picture 90° counter-clockwise, so the
    source's top-left red quarter must show at the bottom left."""
    phone_clip(tmp_path / "r.mov", hlg=False, vfr=False, picture=QUARTER)
    folder = build(tmp_path, '  shot wide 1s { plate video "r.mov" fit contain }')
    frame = frames_of(folder / "master.mp4")[12].astype(int)
    # 320×180 turned is 180×320: contained in 640×360 it is 202×360, centred.
    left, right = (640 - 202) // 2, (640 + 202) // 2
    red = (frame[..., 0] > 180) & (frame[..., 1] < 80)
    ys, xs = np.nonzero(red)
    assert xs.min() >= left - 2 and xs.max() <= left + 101 + 2, (xs.min(), xs.max())
    assert ys.min() >= 180 - 2 and ys.max() <= 359, (ys.min(), ys.max())
    assert red[270, left + 50] and not red[90, left + 50] and not red[270, right - 50]


def test_a_variable_rate_clip_is_conformed_by_time_not_by_frame_count(tmp_path: Path) -> None:
    """Each output frame shows the source frame nearest its time. Read as if
    constant-rate (frame after frame), the slower second half would drift
    ahead of its sound by a quarter second by the end."""
    clip = phone_clip(tmp_path / "v.mov", hlg=False, rotation=0, picture=COUNTER, sound=False)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        times = np.array(
            [float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None]
        )
    times.sort()
    expected_times = [eval_vfr(n) for n in range(60)]
    assert times == pytest.approx(expected_times, abs=2e-3)
    folder = build(tmp_path, '  shot wide 2.4s { plate video "v.mov" }')
    frames = frames_of(folder / "master.mp4")
    for k, frame in enumerate(frames):
        level = float(frame[100:260, 200:440, 1].mean())
        shown = round(level / 4)
        t = k / 24
        assert abs(times[shown] - t) <= 1 / 48 + 1 / 60, (k, shown, times[shown], t)


def eval_vfr(n: int, frames: int = 60, rate: int = 30) -> float:
    """The timestamp footage.vfr_timestamps gives frame ``n``, computed here again."""
    half, slow = frames // 2, rate * 2 / 3
    return n / rate if n < half else half / rate + (n - half) / slow


@pytest.mark.parametrize("height", [720, 360])
def test_an_untagged_clip_is_read_with_the_matrix_players_assume(
    tmp_path: Path, height: int
) -> None:
    """A saturated green encoded with the BT.709 matrix (HD) or BT.601 (SD),
    its matrix tag left out, as screen recorders and some phones write it:
    players read untagged HD as BT.709 and SD as BT.601, and so must the
    master. Read with the other matrix, its green is off by 24 codes or more
    (computed from the two matrices); compression leaves a few."""
    w = height * 16 // 9
    matrix = "bt709" if height >= 720 else "smpte170m"
    picture = f"color=c=0x20c040:s={w}x{height}:r=24:d=0.5,format=gbrp"
    # Converted with the matrix, then its tags wiped: x264 writes no colour description.
    scale = f"scale=out_color_matrix={matrix}:out_range=tv,format=yuv420p"
    wipe = "setparams=colorspace=unknown:color_primaries=unknown:color_trc=unknown"
    args = ["-f", "lavfi", "-i", f"{picture},{scale},{wipe}", "-c:v", "libx264", "-qp", "0"]
    out = str(tmp_path / "u.mp4")
    subprocess.run([str(ffmpeg_exe()), "-v", "error", "-y", *args, out], check=True)
    assert probe(tmp_path / "u.mp4")["colour_matrix"] is None  # truly untagged
    folder = build(tmp_path, '  shot wide 0.5s { plate video "u.mp4" }')
    frame = frames_of(folder / "master.mp4")[6].astype(int)
    r, g, b = (frame[180, 320, c] for c in range(3))
    assert abs(r - 0x20) <= 8 and abs(g - 0xC0) <= 8 and abs(b - 0x40) <= 8, (r, g, b)


@pytest.mark.slow
def test_the_phone_example_builds_as_a_creator_would_run_it(tmp_path: Path) -> None:
    """`reel build examples/phone`: the SDR deliverables are BT.709 8-bit, the
    HDR one BT.2020/HLG 10-bit HEVC Main10 (tags read by PyAV, not from Reel),
    QC passes on every file, and the manifest says what was done to the clip."""
    project = tmp_path / "phone"
    shutil.copytree(REPO / "examples" / "phone", project)
    done = reel("build", ".", "-q", "--out", "out", "-j", "2", cwd=project)
    assert done.returncode == 0, done.stderr
    folder = project / "out" / "phone"
    for name, expected in {
        "master.mp4": ("h264", "yuv420p", (1, 1, 1, 1)),
        "short.mp4": ("h264", "yuv420p", (1, 1, 1, 1)),
        "hdr.mp4": ("hevc", "yuv420p10le", (9, 18, 9, 1)),
    }.items():
        with av.open(str(folder / name)) as container:
            cc = container.streams.video[0].codec_context
            tags = (cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range)
            assert (cc.name, cc.format.name, tags) == expected, name
            if name == "hdr.mp4":
                assert cc.profile == "Main 10"
    report = json.loads((folder / "QCReport.json").read_text())
    failed = [c for f in report["files"] for c in f["checks"] if not c["passed"]]
    assert not failed, failed
    manifest = json.loads((folder / "AssetManifest.json").read_text())
    clip = next(x for x in manifest["assets"] if x["path"] == "footage/IMG_0001.MOV")
    assert clip["source"]["hdr"] == "hlg" and len(clip["source"]["conform"]) == 3
