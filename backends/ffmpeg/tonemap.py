"""Colour management for HDR sources and the HDR deliverable, with zimg (``zscale``).

A segment works in one colour space, its deliverable's:

* **SDR** (every deliverable but ``youtube_hdr_hlg``): BT.709 primaries,
  transfer and matrix, limited range, 8-bit 4:2:0.
* **HLG** (``dynamic_range hlg``): BT.2020 primaries, the ARIB STD-B67 (HLG)
  transfer, the BT.2020 non-constant-luminance matrix, limited range,
  10-bit 4:2:0.

``scale`` alone (what an SDR plate gets) converts the matrix but not the
transfer or primaries, so an HLG clip from a phone came out washed out. Here
the source's own colour facts (from the probe, in the plate's ``source``
parameters, so they are part of the action key) say how it enters:

HDR → SDR (an HLG, PQ or HLG-compatible Dolby Vision clip in an SDR
deliverable), as ITU-R BT.2408 anchors it: HLG reference white (75% signal,
203 cd/m² on a 1000 cd/m² display) is SDR 100%, so 18% grey (38% HLG) lands
near SDR 41%. zimg linearises to display light with 1.0 = 203 cd/m²
(``npl=203``; for HLG this includes the BT.2100 OOTF, system gamma 1.2), the
primaries are converted to BT.709 in 32-bit float (so out-of-gamut and
above-white values survive to the tone map), then the tone map rolls off what
lies above SDR: **Möbius** (ffmpeg ``tonemap=mobius``) with its linear part up
to 0.6 (≈ 84% SDR signal: grey, skin and most of a scene are passed through
untouched, keeping BT.2408's mid-tones) and a smooth curve above it that
reaches SDR peak at the source's peak (1000 cd/m² for HLG, 10000 for PQ), so
highlights compress instead of clipping; ``desat=0`` scales R, G and B by one
factor, which keeps hues. The cost of the roll-off: HLG reference white itself
comes out at about 81% linear (92% signal), not 100%. zimg then encodes
BT.709 (its BT.1886 inverse), matrix and limited range.

SDR → HLG (stills, generated plates and SDR clips in the HLG deliverable), as
BT.2408 maps it: SDR 100% → HLG reference white 75% (zimg at ``npl=203``),
the BT.709 primaries placed inside BT.2020.

HDR → HLG: an HLG clip only has its matrix and range made the working one's;
a PQ clip goes through light (1.0 = 203 cd/m²) into HLG, which holds up to
1000 cd/m²: brighter PQ highlights clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SDR = "sdr"
HLG = "hlg"
# The transfers that mark a source as HDR (ffmpeg's names, as the probe reports them).
HDR_TRANSFERS = frozenset({"arib-std-b67", "smpte2084"})
REFERENCE_WHITE = 203.0  # cd/m²: BT.2408's HDR reference white (HLG 75%, PQ 58%)
HLG_PEAK = 1000.0  # cd/m²: the nominal HLG display (BT.2100)
PQ_PEAK = 10000.0  # cd/m²: PQ's absolute ceiling
MOBIUS_LINEAR = 0.6  # the tone map passes linear light below this unchanged

# ffmpeg's colour names (the probe's) → zimg's, for what zscale is told about its input.
_Z_TRANSFER = {
    "bt709": "709",
    "smpte170m": "601",
    "bt2020-10": "2020_10",
    "bt2020-12": "2020_12",
    "arib-std-b67": "arib-std-b67",
    "smpte2084": "smpte2084",
    "linear": "linear",
    "iec61966-2-1": "iec61966-2-1",
}
_Z_PRIMARIES = {
    "bt709": "709",
    "bt2020": "2020",
    "smpte170m": "170m",
    "bt470bg": "470bg",
    "smpte240m": "240m",
    "smpte432": "smpte432",
    "smpte431": "smpte431",
}
_Z_MATRIX = {
    "bt709": "709",
    "bt2020nc": "2020_ncl",
    "bt2020c": "2020_cl",
    "smpte170m": "170m",
    "bt470bg": "470bg",
    "gbr": "gbr",
}
_Z_RANGE = {"tv": "limited", "pc": "full"}


@dataclass(frozen=True)
class Space:
    """A working colour space: the pixel format frames are composed in, and
    their tags (ffmpeg's names, as ``setparams`` and the encoder take them)."""

    name: str
    pix_fmt: str
    primaries: str
    transfer: str
    matrix: str
    scale_matrix: str  # the name ``scale``'s in/out_color_matrix gives the matrix
    range: str = "tv"

    def tags(self) -> dict[str, str]:
        return {
            "color_primaries": self.primaries,
            "color_trc": self.transfer,
            "colorspace": self.matrix,
            "range": self.range,
        }


SPACES = {
    SDR: Space(SDR, "yuv420p", "bt709", "bt709", "bt709", "bt709"),
    HLG: Space(HLG, "yuv420p10le", "bt2020", "arib-std-b67", "bt2020nc", "bt2020"),
}


def space(params: dict[str, Any]) -> Space:
    """A segment's working space: its encoder's (SDR unless the deliverable is HLG)."""
    return SPACES[params["encoder"].get("space", SDR)]


def hdr_source(info: dict[str, Any]) -> dict[str, str] | None:
    """The colour facts a segment needs from a video's probe, or None for an
    SDR source (which enters as BT.709, as before, keeping its action key)."""
    transfer = info.get("colour_transfer")
    if transfer not in HDR_TRANSFERS:
        return None
    facts = {
        "transfer": transfer,
        "primaries": info.get("colour_primaries") or "bt2020",
        "matrix": info.get("colour_matrix") or "bt2020nc",
        "range": info.get("colour_range") or "tv",
    }
    return facts


def converts(params: dict[str, Any]) -> bool:
    """Whether the plate enters through zimg here (else through ``scale``, as SDR)."""
    return space(params).name != SDR or bool(params["plate"].get("source"))


def _input(source: dict[str, str] | None) -> dict[str, str]:
    """zscale's input options: what the source is, as the probe read it (a
    still or generated plate is full-range RGB with BT.709 primaries and transfer)."""
    if source is None:
        return {"tin": "709", "pin": "709"}
    out = {}
    for key, table, name in (
        ("tin", _Z_TRANSFER, "transfer"),
        ("pin", _Z_PRIMARIES, "primaries"),
        ("min", _Z_MATRIX, "matrix"),
        ("rin", _Z_RANGE, "range"),
    ):
        if source.get(name) in table:
            out[key] = table[source[name]]
    return out


def _tag(stream: Any, space_: Space) -> Any:
    return stream.filter("setparams", **space_.tags())


def to_sdr(stream: Any, source: dict[str, str]) -> Any:
    """An HDR (HLG or PQ) picture → the SDR working space, tone mapped (see the module)."""
    peak = (PQ_PEAK if source["transfer"] == "smpte2084" else HLG_PEAK) / REFERENCE_WHITE
    stream = stream.filter("zscale", **_input(source), t="linear", npl=f"{REFERENCE_WHITE:g}")
    stream = stream.filter("format", "gbrpf32le").filter("zscale", p="709")
    stream = stream.filter(
        "tonemap", tonemap="mobius", param=f"{MOBIUS_LINEAR:g}", desat=0, peak=f"{peak:.6f}"
    )
    stream = stream.filter("zscale", t="709", m="709", r="limited", dither="none")
    return _tag(stream.filter("format", SPACES[SDR].pix_fmt), SPACES[SDR])


def to_hlg(stream: Any, source: dict[str, str] | None) -> Any:
    """Any picture → the HLG working space (SDR per BT.2408: 100% → 75% HLG)."""
    hlg = SPACES[HLG]
    options = _input(source)
    if source is None or source["transfer"] != "arib-std-b67":
        options["npl"] = f"{REFERENCE_WHITE:g}"
    if source is None:
        # RGB in (a still, a generated plate, or an SDR clip's frames, which
        # ``format`` first turns to RGB by their own tagged matrix).
        stream = stream.filter("format", "gbrp")
        options.update(min="gbr", rin="full")
    stream = stream.filter(
        "zscale",
        **options,
        t="arib-std-b67",
        p="2020",
        m="2020_ncl",
        r="limited",
        dither="none",
    )
    return _tag(stream.filter("format", hlg.pix_fmt), hlg)


def into_working(stream: Any, params: dict[str, Any]) -> Any:
    """A plate's frames → the segment's working space (only where ``converts``)."""
    source = params["plate"].get("source")
    if space(params).name == HLG:
        return to_hlg(stream, source)
    return to_sdr(stream, source)
