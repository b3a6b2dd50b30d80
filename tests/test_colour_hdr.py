"""Colour management measured from the outside: an HLG clip whose code values
are computed here from the BT.2100 HLG OETF (not by zimg), and an SDR still,
built with the real CLI; the outputs are decoded and their tags read with PyAV.

The reference values: the test card's SDR grey (0x696969, 18% grey through the
BT.709 OETF) and colour patch (0xb4502d), and their HLG code values as
BT.2408 places them (SDR reference white = HLG 75%, so 18% grey is 38% HLG).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from reel.backends.ffmpeg.toolchain import ffmpeg_exe

from helpers import reel, write_tree

W, H, FPS = 320, 180, 24
GREY = (0x69, 0x69, 0x69)
PATCH = (0xB4, 0x50, 0x2D)
# Tolerances, 8-bit R'G'B' code values of the decoded master. The still goes
# through BT.709 Y'CbCr 4:2:0 and x264 only: ±3. The HLG clip also goes
# through BT.2408's display-light mapping (the HLG OOTF, system gamma 1.2,
# then BT.1886 for SDR), which moves grey by +3 and saturates the patch a
# little: ±4 for grey, ±9 per channel for the patch (about ΔE 3).
STILL_TOLERANCE = 3
HLG_GREY_TOLERANCE = 4
HLG_PATCH_TOLERANCE = 9

# BT.2100 HLG OETF constants.
_A, _B, _C = 0.17883277, 0.28466892, 0.55991073
# BT.2087: linear BT.709 RGB → linear BT.2020 RGB.
_M709_TO_2020 = np.array(
    [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]]
)


def hlg_oetf(e: np.ndarray) -> np.ndarray:
    e = np.asarray(e, float)
    return np.where(e <= 1 / 12, np.sqrt(3 * e), _A * np.log(np.maximum(12 * e - _B, 1e-12)) + _C)


def hlg_inverse_oetf(v: float) -> float:
    return v * v / 3 if v <= 0.5 else (np.exp((v - _C) / _A) + _B) / 12


def bt709_inverse_oetf(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return np.where(v < 0.081, v / 4.5, ((v + 0.099) / 1.099) ** (1 / 0.45))


HLG_REFERENCE_WHITE = hlg_inverse_oetf(0.75)  # scene light of 75% HLG


def sdr_to_hlg(rgb8: tuple[int, int, int]) -> np.ndarray:
    """An SDR colour's HLG R'G'B' (BT.2020), scene light scaled so SDR white is 75% HLG."""
    linear = bt709_inverse_oetf(np.array(rgb8) / 255)
    return hlg_oetf(_M709_TO_2020 @ linear * HLG_REFERENCE_WHITE)


def bt2020_ycbcr10(rgb: np.ndarray) -> tuple[int, int, int]:
    """R'G'B' → 10-bit limited-range BT.2020 non-constant-luminance Y'CbCr."""
    r, g, b = rgb
    kr, kb = 0.2627, 0.0593
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))
    return round(64 + 876 * y), round(512 + 896 * cb), round(512 + 896 * cr)


def hlg_clip(path: Path, seconds: float = 1.0) -> Path:
    """An HEVC Main10 BT.2020/HLG clip, tagged as a phone tags it: the left half
    HLG 38% grey, the right half the patch, as exact 10-bit code values
    (x265 lossless, so the file holds exactly what was computed here)."""
    planes = [np.zeros((H, W), np.uint16), *(np.zeros((H // 2, W // 2), np.uint16),) * 2]
    planes = [planes[0], planes[1], planes[2].copy()]
    for x0, colour in ((0, GREY), (W // 2, PATCH)):
        for plane, value in zip(planes, bt2020_ycbcr10(sdr_to_hlg(colour)), strict=True):
            sub = plane.shape[1] // W if plane.shape[1] == W else 2
            plane[:, x0 // sub : (x0 + W // 2) // sub] = value
    frame = b"".join(p.astype("<u2").tobytes() for p in planes)
    tags = "setparams=color_primaries=bt2020:color_trc=arib-std-b67:colorspace=bt2020nc:range=tv"
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-s", f"{W}x{H}", "-r", "30", "-i", "-"]
    args += ["-vf", tags, "-c:v", "libx265", "-tag:v", "hvc1", "-pix_fmt", "yuv420p10le"]
    args += ["-x265-params", "lossless=1:log-level=error:pools=1:frame-threads=1"]
    args += ["-color_primaries", "bt2020", "-color_trc", "arib-std-b67"]
    args += ["-colorspace", "bt2020nc", "-color_range", "tv", str(path)]
    frames = frame * round(seconds * 30)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], input=frames, check=True)
    return path


def card_png(path: Path) -> Path:
    """The test card as an SDR RGB PNG: grey on the left, the patch on the right."""
    card = f"color=c=0x696969:s={W}x{H}[g];color=c=0xb4502d:s={W // 2}x{H}[p];"
    card += f"[g][p]overlay=x={W // 2},format=rgb24"
    args = ["-filter_complex", card, "-frames:v", "1", str(path)]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)
    return path


EPISODE = """
load "std/deliverables"
episode t {{ title "T" format {w}x{h} @ {fps}fps }}
scene s {{
{shots}
}}
deliver master = youtube_1080p {{ resolution {w}x{h} }}
deliver hdr = youtube_hdr_hlg {{ resolution {w}x{h} }}
"""
CLIP = '  shot wide 1s { plate video "hlg.mov" }'
STILL = '  shot wide 1s { plate image "card.png" }'


def build(root: Path, shots: list[str], *targets: str) -> Path:
    write_tree(root, {"main.episode": EPISODE.format(w=W, h=H, fps=FPS, shots="\n".join(shots))})
    done = reel("build", *targets, "-q", "--out", "out", "-j", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "out" / "t"


def tags(path: Path) -> tuple[int, int, int, int, str]:
    """(primaries, transfer, matrix, range, pixel format) as the stream's header says."""
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        return cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range, cc.format.name


def patches(path: Path, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean 8-bit R'G'B' of the middle of each half of a frame of an SDR
    file, decoded to Y'CbCr and converted here with the BT.709 limited-range
    matrix its tags name (not by a library's default matrix)."""
    with av.open(str(path)) as container:
        for i, decoded in enumerate(container.decode(video=0)):
            if i == frame:
                yuv = decoded.to_ndarray(format="yuv420p").astype(float)
                break
    y, u, v = yuv[:H], yuv[H : H + H // 4].reshape(H // 2, W // 2), yuv[H + H // 4 :]
    v = v.reshape(H // 2, W // 2)
    out = []
    for x0 in (W // 8, 5 * W // 8):
        luma = (y[H // 4 : 3 * H // 4, x0 : x0 + W // 4].mean() - 16) / 219
        cb = (u[H // 8 : 3 * H // 8, x0 // 2 : (x0 + W // 4) // 2].mean() - 128) / 224
        cr = (v[H // 8 : 3 * H // 8, x0 // 2 : (x0 + W // 4) // 2].mean() - 128) / 224
        r, b = luma + 1.5748 * cr, luma + 1.8556 * cb
        g = (luma - 0.2126 * r - 0.0722 * b) / 0.7152
        out.append(np.array([r, g, b]) * 255)
    return out[0], out[1]


BT709 = (1, 1, 1, 1)  # primaries, transfer, matrix (ffmpeg's enums), range tv
HLG_TAGS = (9, 18, 9, 1)  # bt2020, arib-std-b67, bt2020nc, tv


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    hlg_clip(root / "hlg.mov")
    card_png(root / "card.png")
    return root


def _copy(media: Path, root: Path) -> None:
    for name in ("hlg.mov", "card.png"):
        (root / name).write_bytes((media / name).read_bytes())


@pytest.mark.parametrize("order", ["clip_first", "still_first"])
def test_an_hlg_clip_and_an_sdr_still_make_a_bt709_master_in_either_order(
    media: Path, tmp_path: Path, order: str
) -> None:
    _copy(media, tmp_path)
    shots = [CLIP, STILL] if order == "clip_first" else [STILL, CLIP]
    out = build(tmp_path, shots)
    master = out / "master.mp4"
    assert tags(master) == (*BT709, "yuv420p")
    clip_frame, still_frame = (12, 36) if order == "clip_first" else (36, 12)
    grey, patch = patches(master, clip_frame)
    assert np.abs(grey - GREY).max() <= HLG_GREY_TOLERANCE, grey
    assert np.abs(patch - PATCH).max() <= HLG_PATCH_TOLERANCE, patch
    grey, patch = patches(master, still_frame)
    assert np.abs(grey - GREY).max() <= STILL_TOLERANCE, grey
    assert np.abs(patch - PATCH).max() <= STILL_TOLERANCE, patch


def test_the_hdr_preset_is_hevc_main10_tagged_bt2020_hlg(media: Path, tmp_path: Path) -> None:
    _copy(media, tmp_path)
    out = build(tmp_path, [CLIP, STILL], ".:hdr")
    hdr = out / "hdr.mp4"
    assert tags(hdr) == (*HLG_TAGS, "yuv420p10le")
    with av.open(str(hdr)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "hevc"
        assert stream.frames == 2 * FPS
        decoded = [f.to_ndarray() for f in container.decode(video=0)]
    assert len(decoded) == 2 * FPS
    # The HLG clip's grey keeps its code value (38% HLG, 10-bit Y' 397). The
    # SDR still's grey is placed by zimg in display light (BT.1886, then the
    # inverse HLG OOTF), which puts the SDR card's grey at about 36.4% HLG
    # (Y' 382): within 2% of signal (18 codes) of BT.2408's 38%.
    expected = bt2020_ycbcr10(sdr_to_hlg(GREY))[0]
    for frame, tolerance in ((12, 2), (36, 18)):
        y = decoded[frame][:H][H // 2, W // 4]
        assert abs(int(y) - expected) <= tolerance, (frame, y, expected)
