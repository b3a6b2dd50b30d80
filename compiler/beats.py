"""The episode's beat grid: from the music's declared bpm (the bed starts on a
beat), or detected from the file when no bpm is given (cached by digest)."""

from __future__ import annotations

from pathlib import Path

from reel.backends.audio import beats as detector
from reel.lang import ir

from .files import is_file
from .store import Store, read_checked, write_checked
from .timing import BeatGrid


def detected(store: Store, path: Path) -> tuple[float, float]:
    digest = store.file_digest(path)
    memo = store.root / "beats" / f"{digest.split(':')[1]}.json"
    data = read_checked(memo)
    if isinstance(data, dict) and {"bpm", "offset"} <= set(data):
        return data["bpm"], data["offset"]
    bpm, offset = detector.detect(detector.decode_mono(path))
    write_checked(memo, {"bpm": bpm, "offset": offset})
    return bpm, offset


def beat_grid(episode: ir.Episode, root: Path, store: Store | None) -> BeatGrid | None:
    music = episode.music
    if music is None:
        return None
    tolerance = music.snap.frames(episode.fps) if music.snap is not None else None
    if music.bpm is not None:
        return BeatGrid(float(music.bpm), 0.0, "declared", tolerance)
    path = root / music.path
    if store is None or not is_file(path):
        return None
    bpm, offset = detected(store, path)
    return BeatGrid(bpm, offset, "detected", tolerance)
