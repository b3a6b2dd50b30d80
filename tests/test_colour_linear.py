"""Scene-linear and log plates, measured from the outside: plates are made here
(tests/exr_media.py), the master is built with the real CLI and decoded with
PyAV, and every expected code is computed independently, with colour-science
(the S-Log3 curve and the AP1 / S-Gamut3.Cine → BT.709 matrices) and the
BT.709 OETF and Y'CbCr equations as published, never with Reel's own code."""

from __future__ import annotations

import warnings
from pathlib import Path

import av
import numpy as np
import pytest
from exr_media import patch_centre, patches, write_exr, write_png16

from helpers import reel, write_tree

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # colour-science notes that SciPy is absent
    import colour

Y_TOL = 2.0  # luma codes (8-bit limited): LUT interpolation, 4:2:0 and x264 rounding
C_TOL = 3.0  # chroma codes: also averaged over four pixels by 4:2:0
AP1_PATCH = (0.10, 0.20, 0.05)  # ACEScg scene-linear, inside BT.709 after the matrix
SLOG3_PATCHES = ((0.18, 0.18, 0.18), (0.12, 0.06, 0.03))  # S-Gamut3.Cine linear
GREYS = (0.18, 1.0, 4.0, 0.05)

EPISODE = """load "std/deliverables"
episode t {{ title "T" format 320x180 @ 24fps }}
scene s {{
  shot wide 1s {{ plate image "grey.exr" }}
  shot close 1s {{ plate image "aces.exr" colour acescg }}
  shot full 1s {{ plate image "log.png" colour {log} }}
}}
deliver master = youtube_1080p {{ resolution 320x180 }}
"""


def oetf(light: np.ndarray) -> np.ndarray:
    """Rec. ITU-R BT.709-6 OETF."""
    v = np.clip(np.asarray(light, np.float64), 0, 1)
    return np.where(v < 0.018, 4.5 * v, 1.099 * v**0.45 - 0.099)


def ycbcr(rgb_light: np.ndarray) -> np.ndarray:
    """BT.709 limited-range 8-bit Y'CbCr codes of scene-linear BT.709 RGB."""
    r, g, b = oetf(rgb_light)
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.array([16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748])


def to_709(space: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return colour.matrix_RGB_to_RGB(
            colour.RGB_COLOURSPACES[space],
            colour.RGB_COLOURSPACES["ITU-R BT.709"],
            chromatic_adaptation_transform="Bradford",
        )


def frames(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every frame of a file as its Y, Cb and Cr planes (codes, as stored)."""
    with av.open(str(path)) as f:
        return [
            tuple(
                np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[:, : p.width]
                for p in (frame.planes)
            )
            for frame in f.decode(video=0)
        ]


def measure(planes: tuple[np.ndarray, ...], x: int, y: int) -> np.ndarray:
    """Y'CbCr at a patch's centre: a 4×4 mean of luma, 2×2 of chroma."""
    luma, cb, cr = planes
    return np.array(
        [
            luma[y - 2 : y + 2, x - 2 : x + 2].mean(),
            cb[y // 2 - 1 : y // 2 + 1, x // 2 - 1 : x // 2 + 1].mean(),
            cr[y // 2 - 1 : y // 2 + 1, x // 2 - 1 : x // 2 + 1].mean(),
        ]
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("scenelinear")
    grey = patches([(v, v, v) for v in GREYS])
    grey[40, 40] = np.nan  # one NaN pixel inside the 0.18 patch, one +Inf, one -Inf
    grey[40, 120] = (np.inf, np.inf, np.inf)
    grey[140, 40, 1] = -np.inf
    write_exr(root / "grey.exr", grey)
    write_exr(root / "aces.exr", patches([AP1_PATCH, (0.18, 0.18, 0.18)]))
    codes = colour.models.log_encoding_SLog3(np.array(SLOG3_PATCHES))
    write_png16(root / "log.png", patches([tuple(c) for c in codes]))
    write_tree(root, {"main.episode": EPISODE.format(log="slog3")})
    done = reel("build", ".", "-q", "--out", "out", "-j", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    video = frames(root / "out" / "t" / "master.mp4")
    return {"root": root, "stderr": done.stderr, "shots": (video[0], video[24], video[48])}


def test_linear_grey_lands_on_bt709_mid_grey(built: dict) -> None:
    expected = ycbcr(np.full(3, 0.18))
    got = measure(built["shots"][0], *patch_centre(0, len(GREYS)))
    assert abs(got[0] - expected[0]) <= Y_TOL, (got, expected)  # ≈ 105.6
    assert np.all(np.abs(got[1:] - 128) <= C_TOL)
    dim = measure(built["shots"][0], *patch_centre(3, len(GREYS)))
    assert abs(dim[0] - ycbcr(np.full(3, 0.05))[0]) <= Y_TOL  # below the knee: the OETF alone


def test_highlights_roll_off_instead_of_clipping(built: dict) -> None:
    one = measure(built["shots"][0], *patch_centre(1, len(GREYS)))[0]
    four = measure(built["shots"][0], *patch_centre(2, len(GREYS)))[0]
    assert four < 235 - 3, four  # 4.0 is below white
    assert four > one + 10, (one, four)  # and brighter than 1.0, not clipped to it
    assert one < 235 - 10  # 1.0 itself is rolled off under white


def test_acescg_patch_converted_with_ap1_matrix(built: dict) -> None:
    expected = ycbcr(to_709("ACEScg") @ np.array(AP1_PATCH))
    got = measure(built["shots"][1], *patch_centre(0, 2))
    assert np.all(np.abs(got - expected) <= [Y_TOL, C_TOL, C_TOL]), (got, expected)
    grey = measure(built["shots"][1], *patch_centre(1, 2))
    assert abs(grey[0] - ycbcr(np.full(3, 0.18))[0]) <= Y_TOL  # white points adapted


@pytest.mark.parametrize("i", range(len(SLOG3_PATCHES)))
def test_slog3_patch_decoded_with_the_published_curve(built: dict, i: int) -> None:
    expected = ycbcr(to_709("S-Gamut3.Cine") @ np.array(SLOG3_PATCHES[i]))
    got = measure(built["shots"][2], *patch_centre(i, len(SLOG3_PATCHES)))
    assert np.all(np.abs(got - expected) <= [Y_TOL, C_TOL, C_TOL]), (got, expected)


def test_nan_and_inf_are_replaced_counted_and_warned(built: dict) -> None:
    stderr = built["stderr"]
    assert "1 NaN, 1 +Inf, 1 -Inf pixels" in stderr, stderr
    assert "main.episode:4:18" in stderr
    luma = built["shots"][0][0]
    assert luma[40, 40] <= 16 + 4  # NaN became black, not garbage
    assert luma[40, 120] >= 226 - 4  # +Inf became the brightest a plate shows
    # The rest of the frame is intact: the patch a few pixels away is still grey.
    assert abs(float(luma[50:60, 30:36].mean()) - ycbcr(np.full(3, 0.18))[0]) <= Y_TOL


def test_misspelt_colour_is_an_input_error(built: dict) -> None:
    root = built["root"]
    bad = root / "bad"
    bad.mkdir()
    for name in ("grey.exr", "aces.exr", "log.png"):
        (bad / name).write_bytes((root / name).read_bytes())
    write_tree(bad, {"main.episode": EPISODE.format(log="slog33")})
    done = reel("check", ".", cwd=bad)
    assert done.returncode == 2, done.stderr  # an input error
    assert "unknown colour space 'slog33'" in done.stderr
    assert "main.episode:6:47" in done.stderr and "did you mean 'slog3'" in done.stderr
    assert "Traceback" not in done.stderr
