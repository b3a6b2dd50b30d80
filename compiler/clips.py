"""What planning knows of each video plate's clip: how long the part a shot
uses is, and whether it has sound.

Lowering needs both (a looped or sped-up clip needs its length; a clip's own
sound is mixed only if it has one), and they come from the probe the media
check already ran and cached by content digest, so this reads no frame. A clip
shorter than its shot is held on its last frame unless the plate says
otherwise; when the author said nothing, the build warns how much is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from reel.backends.ffmpeg import tonemap
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics

from . import artifacts as a
from .sources import probe_file
from .store import Store


@dataclass(frozen=True)
class Clip:
    """The part of a video plate's file one shot uses."""

    seconds: float  # from the in point to the out point (or the clip's end)
    has_sound: bool  # the file has an audio stream
    # An HDR clip's transfer, primaries, matrix and range (ffmpeg's names, from
    # the probe); None for SDR, which enters as BT.709 (see ffmpeg.tonemap).
    colour: tuple[tuple[str, str], ...] | None = None
    # The matrix an SDR clip that does not name its own is read with: BT.709
    # for HD (as players assume), None to leave ffmpeg's BT.601 for SD.
    assumed_matrix: str | None = None


def clips(
    episode: ir.Episode,
    shotlist: a.ShotList,
    manifest: a.AssetManifest,
    root: Path,
    store: Store | None,
    diags: Diagnostics,
) -> dict[str, Clip]:
    """Each video-plate shot's clip, by shot id; warns where a clip is held."""
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    placeholders = {x.id for x in manifest.assets if x.placeholder}
    ir_shots = {s.id: s for s in episode.shots}
    out: dict[str, Clip] = {}
    for shot in shotlist.shots:
        spec = shot.plate
        if spec.kind != "video" or spec.asset_id is None or spec.asset_id in placeholders:
            continue
        info = probe_file(root, spec.asset_id, store)
        length = info.get("video_duration") or info.get("duration")
        if "error" in info or length is None:
            continue
        start = float(Fraction(spec.in_frame or 0) / fps)
        end = float(Fraction(spec.out_frame) / fps) if spec.out_frame is not None else length
        facts = tonemap.hdr_source(info)
        clip = Clip(
            round(max(0.0, min(end, length) - start), 6),
            bool(info.get("has_audio")),
            tuple(sorted(facts.items())) if facts else None,
            assumed_matrix(info) if facts is None else None,
        )
        out[shot.id] = clip
        _warn_if_held(ir_shots[shot.id], shot, clip, fps, diags)
    return out


def _warn_if_held(
    ir_shot: ir.Shot, shot: a.ShotEntry, clip: Clip, fps: Fraction, diags: Diagnostics
) -> None:
    """A clip shorter than its shot, left to hold its last frame by default:
    say so, and how to change it. An explicit ``extend hold`` is a choice."""
    if "extend" in shot.plate.options:
        return
    shot_seconds = float(Fraction(shot.duration_frames) / fps)
    held = shot_seconds - clip.seconds
    if held * float(fps) < 0.5:  # under half a frame: nothing is visibly held
        return
    diags.warning(
        f"clip {shot.plate.asset_id} is {clip.seconds:.2f} s, shot {shot.id} is "
        f"{shot_seconds:.2f} s: its last frame is held for {held:.2f} s",
        ir_shot.plate.span,
        "add `extend loop`, `extend pingpong` or `extend speed` to the plate to fill the "
        "shot, `extend hold` to keep the held frame without this warning, or shorten the shot",
    )


def assumed_matrix(info: dict[str, Any]) -> str | None:
    """BT.709 for a Y'CbCr clip of 720 lines or more that does not say which
    matrix made it. ffmpeg's ``scale`` reads an untagged clip as BT.601, but
    players (and BT.709 itself) treat untagged HD as BT.709, so a phone or
    screen recording without a tag would come out with shifted greens and reds."""
    if info.get("colour_matrix") is not None or (info.get("pix_fmt") or "").startswith(
        ("rgb", "bgr", "gbr", "gray")
    ):
        return None
    return "bt709" if min(info.get("width") or 0, info.get("height") or 0) >= 720 else None
