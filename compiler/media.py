"""Check media before anything renders: a corrupt image, a text file named as
a video, a clip shorter than its in/out points. Each is an error naming the
file and the `.episode` line that uses it (exit 1), found in milliseconds
instead of deep inside a render.

Probe results are cached in the store by content digest, so a no-op build
probes nothing.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from reel.backends.probe import ProbeError, probe
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError

from .store import Store, read_checked, write_checked


class MediaError(GateError):
    pass


def cached_probe(store: Store, path: Path) -> dict[str, Any]:
    digest = store.file_digest(path)
    memo = store.root / "probe" / f"{digest.split(':')[1]}.json"
    info = read_checked(memo)
    if isinstance(info, dict):
        return info
    try:
        info = probe(path)
    except ProbeError as exc:
        info = {"error": str(exc)}
    write_checked(memo, info)
    return info


AUDIO_ROLES = ("music", "voice_recording", "sfx")


def _uses(episode: ir.Episode) -> list[tuple[str, str, Any, ir.Shot | None]]:
    """(path, role, span, shot) for every file use, in episode order."""
    uses: list[tuple[str, str, Any, ir.Shot | None]] = []
    if episode.music is not None:
        uses.append((episode.music.path, "music", episode.music.span, None))
    for shot in episode.shots:
        if shot.plate.path:
            uses.append((shot.plate.path, shot.plate.kind, shot.plate.span, shot))
        for line in shot.lines:
            if line.file:
                uses.append((line.file, "voice_recording", line.span, shot))
        for cue in shot.sfx:
            uses.append((cue.path, "sfx", cue.span, shot))
    return uses


def check_media(episode: ir.Episode, root: Path, store: Store) -> dict[str, dict[str, Any]]:
    """Probe every file the episode uses; raise MediaError listing every bad use.

    A missing picture becomes a placeholder (seed 003 §17); a missing sound is
    an error, because audio is the clock and a silent stand-in would time the
    episode wrongly.
    """
    diags = Diagnostics()
    infos: dict[str, dict[str, Any]] = {}
    for path, role, span, shot in _uses(episode):
        file = root / path
        if not file.is_file():
            if role in AUDIO_ROLES:
                diags.error(
                    f"{path} does not exist",
                    span,
                    "add the audio file or fix the path (relative to the .episode file "
                    "that names it)",
                )
            continue
        if path not in infos:
            infos[path] = cached_probe(store, file)
        info = infos[path]
        if role == "image":
            if "error" in info or not info.get("has_video"):
                diags.error(
                    f"{path} is not a readable image",
                    span,
                    "the file is corrupt or not an image; re-export it as PNG or JPEG",
                )
        elif role == "video":
            _check_video(path, info, shot, episode.fps, span, diags)
        elif "error" in info or not info.get("has_audio"):
            what = "not a readable audio file" if "error" in info else "a file with no audio stream"
            diags.error(
                f"{path} is {what}", span, "give a WAV, FLAC, MP3 or M4A file with sound in it"
            )
    if diags.has_errors():
        raise MediaError(diags.errors)
    return infos


def _check_video(
    path: str,
    info: dict[str, Any],
    shot: ir.Shot | None,
    fps: Fraction,
    span: Any,
    diags: Diagnostics,
) -> None:
    if "error" in info:
        diags.error(
            f"{path} is not a readable video",
            span,
            "the file is corrupt or not a video; re-export it as MP4 or MOV",
        )
        return
    if not info.get("has_video"):
        diags.error(
            f"{path} has no video stream",
            span,
            "use `plate image` for a still, or give a file with picture",
        )
        return
    length = info.get("video_duration") or info.get("duration")
    if shot is None or length is None:
        return
    plate = shot.plate
    for label, point in (("in", plate.in_point), ("out", plate.out_point)):
        if point is None:
            continue
        seconds = float(point.seconds(fps))
        if seconds > length + 1e-6 or (label == "in" and seconds >= length):
            diags.error(
                f"the {label} point {seconds:g}s is past the end of {path} ({length:g}s long)",
                span,
                f"use an {label} point within the clip's {length:g}s",
            )
