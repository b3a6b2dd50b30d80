"""What each source file is, for the AssetManifest: the probe's facts, and a
plain statement of what the render does to bring the file into the episode.

A creator's phone hands over rotated, variable-rate, HDR clips (seed 001).
The manifest records what the file says (not what Reel assumes), so a
reviewer can see why a clip looks as it does, and the conform notes say
which method was applied, in words a user can check against the picture.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from reel.backends.probe import ProbeError, probe
from reel.lang.limits import MAX_HEIGHT, MAX_WIDTH

from . import artifacts as a
from .media import cached_probe
from .store import Store

# Frame-rate conform, stated once: the render's `fps` filter (round=near)
# shows, at each output frame's time, the source frame nearest to it.
RATE_METHOD = (
    "the source frame nearest each output frame's time is shown "
    "(repeated or dropped, never blended)"
)


def probe_file(root: Path, path: str, store: Store | None) -> dict[str, Any]:
    """The probe of ``root / path``: from the store's cache when there is one
    (the media check already ran it), else probed now; ``{"error": ...}`` for
    a file that cannot be read."""
    if store is not None:
        return cached_probe(store, root / path)
    try:
        return probe(root / path, max_size=(MAX_WIDTH, MAX_HEIGHT))
    except ProbeError as exc:
        return {"error": str(exc)}


def _rate(fps: Fraction) -> str:
    return f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f}".rstrip("0")


def conform_notes(info: dict[str, Any], media: str, fps: Fraction) -> list[str]:
    """What the render does to a video file to fit the episode, in words."""
    if media != "video":
        return []
    notes = []
    rotation = info.get("rotation") or 0
    if rotation:
        notes.append(
            f"rotated {rotation}° counter-clockwise, as its display matrix says, before it is "
            "framed"
        )
    rate = info.get("fps")
    source = Fraction(rate[0], rate[1]) if rate and rate[1] else None
    if info.get("vfr"):
        low, high = info.get("frame_interval_s") or (None, None)
        span = f" ({low:g}–{high:g} s between frames)" if low is not None else ""
        notes.append(f"variable frame rate{span} conformed to {_rate(fps)} fps: {RATE_METHOD}")
    elif source is not None and source != fps:
        notes.append(f"{_rate(source)} fps conformed to {_rate(fps)} fps: {RATE_METHOD}")
    hdr = info.get("hdr")
    if hdr:
        kind = {"hlg": "HLG", "pq": "PQ (HDR10)", "dolby_vision_hlg": "Dolby Vision (HLG base)"}
        notes.append(
            f"{kind.get(hdr, hdr)} {info.get('colour_primaries') or 'untagged primaries'}: "
            "tone-mapped into BT.709 for SDR deliverables (zimg at 203 cd/m² reference white, "
            "Möbius roll-off above 0.6), kept HDR in an HLG deliverable"
        )
    return notes


def source_facts(info: dict[str, Any], media: str, fps: Fraction) -> a.SourceFacts | None:
    """The manifest's record of one file's probe (``None`` if it could not be read)."""
    if "error" in info or "format" not in info:
        return None
    duration = info.get("video_duration") or info.get("audio_duration") or info.get("duration")
    return a.SourceFacts(
        format=info["format"],
        codec=info.get("codec") or info.get("audio_codec"),
        width=info.get("width"),
        height=info.get("height"),
        duration_s=duration,
        frame_rate=info.get("fps") if media == "video" else None,
        vfr=info.get("vfr") if media == "video" else None,
        frame_interval_s=info.get("frame_interval_s") if media == "video" else None,
        rotation=info.get("rotation"),
        pix_fmt=info.get("pix_fmt"),
        bit_depth=info.get("bit_depth"),
        colour_primaries=info.get("colour_primaries"),
        colour_transfer=info.get("colour_transfer"),
        colour_matrix=info.get("colour_matrix"),
        colour_range=info.get("colour_range"),
        hdr=info.get("hdr"),
        timecode=info.get("timecode"),
        creation_time=info.get("creation_time"),
        audio_codec=info.get("audio_codec"),
        sample_rate=info.get("sample_rate"),
        channels=info.get("channels"),
        audio_layout=info.get("audio_layout"),
        conform=conform_notes(info, media, fps),
    )
