"""Check media before anything renders: a corrupt image, a text file named as
a video, a clip shorter than its in/out points, a file past the limits of
:mod:`reel.lang.limits`. Each is an error naming the file and the `.episode`
line that uses it (exit 1), found in milliseconds instead of deep inside a
render.

Limits are checked in the order that costs least: the file's size from
``stat`` before a byte is read (a still is read whole by ffmpeg), the picture
size and duration from the header before a frame is decoded.

Probe results are cached in the store by content digest, so a no-op build
probes nothing.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

from reel.backends.probe import PROBE_VERSION, ProbeError, probe
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError
from reel.lang.limits import (
    MAX_AUDIO_SECONDS,
    MAX_FILE_BYTES,
    MAX_HEIGHT,
    MAX_WIDTH,
    describe_bytes,
    describe_seconds,
)
from reel.lang.source import Refused, regular_size

from .store import Store, read_checked, write_checked


class MediaError(GateError):
    pass


def cached_probe(store: Store, path: Path) -> dict[str, Any]:
    digest = store.file_digest(path)
    memo = store.root / "probe" / f"v{PROBE_VERSION}" / f"{digest.split(':')[1]}.json"
    info = read_checked(memo)
    if isinstance(info, dict):
        return info
    try:
        info = probe(path, max_size=(MAX_WIDTH, MAX_HEIGHT))
    except ProbeError as exc:
        info = {"error": str(exc)}
    write_checked(memo, info)
    return info


AUDIO_ROLES = ("music", "voice_recording", "sfx")
_TOO_BIG_HELP = {
    "image": "re-export it smaller, as PNG or JPEG: a still is read whole before it is decoded",
    "video": "trim the clip to the part the shot uses",
    "audio": "trim it, or export it as FLAC, which is about half the size of WAV",
}


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


PROBE_THREADS = min(4, os.cpu_count() or 1)


def _probe_all(episode: ir.Episode, root: Path, store: Store) -> dict[str, dict[str, Any]]:
    """Every regular file the episode uses, probed on a few threads (the
    decoder releases the GIL): 24 new 1080p stills took 1.9 s in a row, before
    any action could start, and 1.0 s on two threads. Only what the checks
    below would probe is probed; each result is keyed by its path, so the order
    they finish in changes nothing."""
    paths = []
    for path, role, _, _ in _uses(episode):
        try:
            size = regular_size(root / path, path)
        except Refused:
            continue
        if size is not None and path not in paths and _fits(size, role):
            paths.append(path)
    with ThreadPoolExecutor(PROBE_THREADS) as pool:
        infos = pool.map(lambda path: cached_probe(store, root / path), paths)
        return dict(zip(paths, infos, strict=True))


def check_media(episode: ir.Episode, root: Path, store: Store) -> dict[str, dict[str, Any]]:
    """Probe every file the episode uses; raise MediaError listing every bad use.

    A missing picture becomes a placeholder (seed 003 §17); a missing sound is
    an error, because audio is the clock and a silent stand-in would time the
    episode wrongly.
    """
    diags = Diagnostics()
    infos = _probe_all(episode, root, store)
    for path, role, span, shot in _uses(episode):
        file = root / path
        try:
            size = regular_size(file, path)
        except Refused as refused:  # replaced by a pipe or a folder since it was resolved
            diags.error(refused.message, span, refused.help)
            continue
        if size is None:
            if role in AUDIO_ROLES:
                diags.error(
                    f"{path} does not exist",
                    span,
                    "add the audio file or fix the path (relative to the .episode file "
                    "that names it)",
                )
            continue
        if not _within_size(path, size, role, span, diags):
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
            else:
                _check_picture_size(path, info, span, diags)
        elif role == "video":
            _check_video(path, info, shot, episode.fps, span, diags)
        elif "error" in info or not info.get("has_audio"):
            what = "not a readable audio file" if "error" in info else "a file with no audio stream"
            diags.error(
                f"{path} is {what}", span, "give a WAV, FLAC, MP3 or M4A file with sound in it"
            )
        else:
            _check_audio_length(path, info, span, diags)
    if diags.has_errors():
        raise MediaError(diags.errors)
    return infos


def _fits(size: int, role: str) -> bool:
    return size <= MAX_FILE_BYTES["audio" if role in AUDIO_ROLES else role]


def _within_size(path: str, size: int, role: str, span: Any, diags: Diagnostics) -> bool:
    """Refuse a file over its kind's size limit from ``stat`` alone, before it
    is hashed, probed or read."""
    kind = "audio" if role in AUDIO_ROLES else role
    limit = MAX_FILE_BYTES[kind]
    if _fits(size, role):
        return True
    diags.error(
        f"{path} is {describe_bytes(size)}, over the limit of {describe_bytes(limit)} "
        f"for {kind} files",
        span,
        _TOO_BIG_HELP[kind],
    )
    return False


def _check_picture_size(path: str, info: dict[str, Any], span: Any, diags: Diagnostics) -> bool:
    """The picture size from the header, against the limit; no frame of a
    picture over it was decoded (see :func:`reel.backends.probe.probe`)."""
    width, height = info.get("width"), info.get("height")
    limit = f"{MAX_WIDTH}×{MAX_HEIGHT}"
    help_ = f"re-export it at {limit} pixels or smaller; no output format is larger"
    if info.get("over_pixel_limit"):
        diags.error(
            f"{path} has a picture of more than {MAX_WIDTH * MAX_HEIGHT:,} pixels, "
            f"over the limit of {limit}",
            span,
            help_,
        )
        return False
    if not width or not height:
        diags.error(
            f"{path} has a picture of unknown size",
            span,
            "the file is corrupt or not a picture; re-export it",
        )
        return False
    if width > MAX_WIDTH or height > MAX_HEIGHT:
        diags.error(f"{path} is {width}×{height}, over the limit of {limit}", span, help_)
        return False
    return True


def _check_audio_length(path: str, info: dict[str, Any], span: Any, diags: Diagnostics) -> None:
    """An audio file is decoded whole (beat detection, the mix): refuse one longer
    than the longest episode from its header."""
    length = info.get("audio_duration") or info.get("duration")
    if length is not None and length > MAX_AUDIO_SECONDS:
        diags.error(
            f"{path} lasts {describe_seconds(length)}, over the limit of "
            f"{describe_seconds(MAX_AUDIO_SECONDS)} for audio files",
            span,
            "trim it to the part the episode uses",
        )


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
    if not _check_picture_size(path, info, span, diags):
        return
    if shot is not None and dict(shot.plate.options).get("sound") == "on":
        if not info.get("has_audio"):
            diags.error(
                f"{path} has no sound, but the plate asks for `sound on`",
                span,
                "remove `sound on` (a clip without sound is silent anyway), or give a clip "
                "with an audio stream",
            )
    if shot is not None and not info.get("has_audio"):
        for line in shot.lines:
            if line.on_camera:
                diags.error(
                    f"{path} has no sound, but a line in its shot is spoken on camera",
                    line.span,
                    "give the take with its sound, or remove `from camera` to synthesise "
                    'the line (or record it: `file "vo/line.wav"`)',
                )
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
