"""Scene-linear and log plates into the episode's SDR working space.

A plate declared (or probed) as ``linear``, ``acescg`` or ``slog3`` holds scene
light, not display code values, so it is converted here before it is fitted
and turned into BT.709 Y'CbCr like any other plate (``segment._to_bt709``):

1. to float RGB (``gbrpf32le``); for ``slog3``, the S-Log3 curve undone by a
   1D LUT (``DECODE_LUT``: zimg has no S-Log3), with the published formula;
2. the primaries into BT.709 in float, a 3×3 matrix (``colorchannelmixer``):
   ACES AP1 for ``acescg``, S-Gamut3.Cine for ``slog3``. The matrices are
   computed here from the published chromaticities (with a Bradford adaptation
   from the ACES white to D65, as the ACES transforms do) rather than with
   colour-science, so the renderer needs no colour library; the tests check
   them against colour-science;
3. a highlight roll-off: ffmpeg's ``tonemap`` filter with the Möbius curve,
   which leaves everything below ``KNEE`` untouched (so 18 % grey stays
   0.18) and bends ``KNEE``..``PEAK`` smoothly under 1.0; it scales the three
   channels by the same factor (chosen from the brightest), so hues hold;
4. the BT.709 OETF (Rec. ITU-R BT.709-6, 1.099·L^0.45 − 0.099), the camera
   curve scene light is encoded with, by a second 1D LUT (``OETF_LUT``). zimg
   knows BT.709, but the pinned ffmpeg's ``zscale`` applies zimg's
   display-referred inverse (BT.1886, L^(1/2.4): 0.18 → 0.489, not 0.409) and
   has no switch for the scene-referred OETF.

The LUTs are generated (``lut_files``) and given to the segment as input files,
so their bytes are part of its key. Plates of ``srgb`` or ``rec709`` (display
code values) are not touched here.

NaN and infinite pixels never reach these filters: a float plate is first
cleaned in process by the ``sanitise_plate`` action (``sanitise``), which
counts what it replaced so the build can warn at the plate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..kind import Kind

# The values of `colour` (lang/vocabulary.py: COLOUR_SPACES) that are scene light.
SCENE_LINEAR = frozenset({"linear", "acescg", "slog3"})

DECODE_LUT = "scene-decode.cube"  # S-Log3 code value → scene-linear reflectance
OETF_LUT = "scene-oetf.cube"  # scene-linear 0..1 → BT.709 OETF
LUT_SIZE = 4096  # linear interpolation between 4096 points: < 0.1 code of error

KNEE = 0.3  # the Möbius curve is the identity below this (0.18 grey is kept)
PEAK = 16.0  # scene-linear value mapped to 1.0 (4 stops over diffuse white)
# tonemap's own highlight desaturation is off: at its default (2.0) it also
# moved greys (1.0 → 0.777 instead of the curve's 0.658, measured), so the
# output would not follow the published Möbius curve.
DESAT = 0.0

# Published chromaticities (x, y) of R, G, B and white.
REC709 = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))
AP1 = ((0.713, 0.293), (0.165, 0.830), (0.128, 0.044), (0.32168, 0.33767))
SGAMUT3_CINE = ((0.766, 0.275), (0.225, 0.800), (0.089, -0.087), (0.3127, 0.3290))
PRIMARIES = {"acescg": AP1, "slog3": SGAMUT3_CINE}

BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz(space: tuple[tuple[float, float], ...]) -> np.ndarray:
    """The RGB → XYZ matrix of a space given by its chromaticities (SMPTE RP 177)."""
    primaries = np.stack([_xyz(p) for p in space[:3]], axis=1)
    scale = np.linalg.solve(primaries, _xyz(space[3]))
    return primaries * scale


def to_rec709(space: tuple[tuple[float, float], ...]) -> np.ndarray:
    """The linear RGB matrix from ``space`` into BT.709, white adapted by Bradford."""
    src_white = _xyz(space[3])
    dst_white = _xyz(REC709[3])
    cone_src, cone_dst = BRADFORD @ src_white, BRADFORD @ dst_white
    adapt = np.linalg.inv(BRADFORD) @ np.diag(cone_dst / cone_src) @ BRADFORD
    return np.linalg.inv(rgb_to_xyz(REC709)) @ adapt @ rgb_to_xyz(space)


def slog3_to_linear(code: np.ndarray) -> np.ndarray:
    """Sony S-Log3 (technical summary, 2014): code value 0..1 (of 1023) → reflectance."""
    cv = np.asarray(code, dtype=np.float64) * 1023.0
    log = 10.0 ** ((cv - 420.0) / 261.5) * (0.18 + 0.01) - 0.01
    lin = (cv - 95.0) * 0.01125000 / (171.2102946929 - 95.0)
    return np.where(cv >= 171.2102946929, log, lin)


def bt709_oetf(light: np.ndarray) -> np.ndarray:
    """Rec. ITU-R BT.709-6 OETF: scene light 0..1 → signal 0..1."""
    v = np.clip(np.asarray(light, dtype=np.float64), 0.0, 1.0)
    return np.where(v < 0.018, 4.5 * v, 1.099 * v**0.45 - 0.099)


def _cube(values: np.ndarray) -> bytes:
    rows = "".join(f"{v:.7f} {v:.7f} {v:.7f}\n" for v in values)
    head = f"LUT_1D_SIZE {len(values)}\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n"
    return (head + rows).encode()


def lut_files(colour: str) -> dict[str, bytes]:
    """The LUT files a plate of ``colour`` is converted with (name → bytes)."""
    if colour not in SCENE_LINEAR:
        return {}
    grid = np.linspace(0.0, 1.0, LUT_SIZE)
    files = {OETF_LUT: _cube(bt709_oetf(grid))}
    if colour == "slog3":
        files[DECODE_LUT] = _cube(slog3_to_linear(grid))
    return files


def _mixer(matrix: np.ndarray) -> dict[str, str]:
    names = "rgb"
    return {f"{names[i]}{names[j]}": f"{matrix[i, j]:.8f}" for i in range(3) for j in range(3)}


def to_display(stream: Any, colour: str) -> Any:
    """The ffmpeg chain that takes a plate of scene light in ``colour`` to
    BT.709-encoded RGB (16 bits a channel), ready for fitting and Y'CbCr."""
    stream = stream.filter("format", "gbrpf32le")
    if colour == "slog3":
        stream = stream.filter("lut1d", file=DECODE_LUT, interp="linear")
    if colour in PRIMARIES:
        stream = stream.filter("colorchannelmixer", **_mixer(to_rec709(PRIMARIES[colour])))
    stream = stream.filter("tonemap", tonemap="mobius", param=KNEE, peak=PEAK, desat=DESAT)
    stream = stream.filter("lut1d", file=OETF_LUT, interp="linear")
    return stream.filter("format", "gbrp16le")


# --- NaN and Inf ----------------------------------------------------------

SOURCE = "source.exr"
CLEAN = "clean.exr"
COUNTS = "counts.json"
FLOAT_SUFFIXES = (".exr",)  # plates decoded as float, which may hold NaN or Inf


def sanitise_array(pixels: np.ndarray, ceiling: float = PEAK) -> tuple[np.ndarray, dict[str, int]]:
    """NaN → 0, −Inf → 0, +Inf → ``ceiling`` (the roll-off's peak: as bright
    as a plate can show), each counted by pixel (a pixel with any such channel)."""
    nan = np.isnan(pixels)
    pos = np.isposinf(pixels)
    neg = np.isneginf(pixels)
    counts = {
        "nan": int(nan.any(axis=-1).sum()),
        "posinf": int(pos.any(axis=-1).sum()),
        "neginf": int(neg.any(axis=-1).sum()),
    }
    clean = np.where(nan | neg, 0.0, np.where(pos, ceiling, pixels)).astype(np.float32)
    return clean, counts


def write_exr(path: Path, pixels: np.ndarray) -> None:
    """A float RGB EXR (ffmpeg's encoder, through PyAV), one frame."""
    import av

    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="gbrpf32le")
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("exr")
        stream.width, stream.height = pixels.shape[1], pixels.shape[0]
        stream.pix_fmt = "gbrpf32le"
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def read_float(path: Path) -> np.ndarray:
    """The first picture of a float image as an H×W×3 float32 array (alpha dropped)."""
    import av

    with av.open(str(path)) as source:
        frame = next(source.decode(video=0))
        return frame.reformat(format="gbrpf32le").to_ndarray()


def sanitise(sandbox: Path, params: dict[str, Any]) -> None:
    """Count and replace NaN and infinite pixels, writing a clean float plate:
    in process, because an ffmpeg filter can neither count them nor be trusted
    with them (tonemap and the LUTs give undefined results for NaN)."""
    clean, counts = sanitise_array(read_float(sandbox / SOURCE), params["ceiling"])
    write_exr(sandbox / CLEAN, clean)
    (sandbox / COUNTS).write_text(json.dumps(counts, sort_keys=True))


class SanitiseParams(TypedDict):
    ceiling: float  # what +Inf becomes


SANITISE = Kind(
    name="sanitise_plate",
    params=SanitiseParams,
    inputs=(SOURCE,),
    outputs=(CLEAN, COUNTS),
    run=sanitise,
    toolchain=False,
    about="a float plate with NaN and Inf pixels replaced, and how many there were",
)
