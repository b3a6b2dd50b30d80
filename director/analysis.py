"""What is in a folder of dailies: one record per take, for the planners.

``analyse_dailies`` probes every media file of the folder (``backends/probe``)
and measures it (``backends/analysis``): speech, words, slate, loudness,
clipping, black, sharpness, shot changes. The result is a pydantic model
written as deterministic JSON: files in sorted order, times rounded to the
millisecond, paths relative to the dailies folder, no wall clock, so the same
folder gives the same bytes on any machine with the same tools.

Each take's record depends only on its bytes and the tools, so it can be kept
by the file's SHA-256 under the cache directory (``analysis/v1/<sha>.json``)
and a second run over the same dailies costs a hash per file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reel.backends.analysis import black, blur, clipping, decode, loudness, shots, slate, speech
from reel.backends.analysis import words as words_mod
from reel.backends.ffmpeg.toolchain import HERMETIC_ENV, ToolError, ffmpeg_exe
from reel.backends.probe import ProbeError, probe
from reel.compiler.jsonio import dumps, write_atomic

SCHEMA_VERSION = "1.0.0"
CACHE_VERSION = "v1"  # bumped when a measurement changes: older records are never read
MEDIA_SUFFIXES = frozenset(
    {".mov", ".mp4", ".m4v", ".mxf", ".mkv", ".avi", ".mts", ".m2ts", ".webm", ".wav", ".aif"}
    | {".aiff", ".flac", ".mp3", ".m4a"}
)
QUIET_LUFS = -35.0  # a take this quiet was probably recorded with the wrong input
LONG_LEAD_S = 1.0  # silence before the first words worth telling an editor

Progress = Callable[[str, int, int], None]  # (clip, index from 0, number of clips)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Interval(Model):
    start_s: float
    end_s: float


class Word(Model):
    text: str
    start_s: float
    end_s: float


class Slate(Model):
    scene: int
    take: int
    source: Literal["spoken", "filename"]
    ends_s: float = Field(description="Where the slate ends in the take; 0 for a file name")
    confidence: float | None = Field(
        default=None, description="Spoken only: log10 acoustic score per frame of the keywords"
    )


class Take(Model):
    clip: str = Field(description="Path relative to the dailies folder, posix")
    sha256: str
    readable: bool = Field(default=True, description="False: the file could not be decoded")
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int | None
    height: int | None
    fps: float | None
    timecode: str | None
    creation_time: str | None
    video_codec: str | None = None
    audio_codec: str | None = None
    slate: Slate | None
    speech: list[Interval]
    words: list[Word]
    transcript: str
    speech_start_s: float | None
    speech_end_s: float | None
    leading_silence_s: float | None = None
    trailing_silence_s: float | None = None
    dead_air: list[Interval] = Field(description="Silences over 1 s between speech regions")
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    clipped_samples: int
    clipping: bool
    black: list[Interval]
    black_fraction: float
    sharpness: float | None = Field(description="Mean Laplacian variance of a few grey frames")
    blurry: bool
    shot_changes: list[float]
    notes: list[str] = Field(description="What an editor should know, in plain words")


class DailiesAnalysis(Model):
    schema_version: str = SCHEMA_VERSION
    folder: str = Field(description="The dailies folder's name only, never an absolute path")
    tools: dict[str, str]
    takes: list[Take]

    def to_json(self) -> str:
        return dumps(self.model_dump(mode="json"))


@functools.lru_cache(maxsize=1)
def tools() -> dict[str, str]:
    """The versions that decide the figures: the pinned ffmpeg and pocketsphinx."""
    proc = subprocess.run(
        [str(ffmpeg_exe()), "-version"], env=HERMETIC_ENV, capture_output=True, text=True
    )
    first = proc.stdout.split("\n", 1)[0].split()
    return {
        "ffmpeg": first[2] if len(first) > 2 else "unknown",
        "pocketsphinx": version("pocketsphinx"),
    }


def media_files(folder: Path) -> list[Path]:
    """Media files under ``folder`` (hidden files and folders skipped), sorted by
    their path relative to it."""
    found = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in MEDIA_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _intervals(spans: tuple[tuple[float, float], ...]) -> list[Interval]:
    return [Interval(start_s=round(a, 3), end_s=round(b, 3)) for a, b in spans]


def unreadable(clip: str, digest: str, why: str) -> Take:
    """The record of a file that cannot be read: kept, not dropped, so the
    planner can say which file of the dailies it could not use, and why."""
    return Take(
        clip=clip,
        sha256=digest,
        readable=False,
        duration_s=0.0,
        has_video=False,
        has_audio=False,
        width=None,
        height=None,
        fps=None,
        timecode=None,
        creation_time=None,
        slate=None,
        speech=[],
        words=[],
        transcript="",
        speech_start_s=None,
        speech_end_s=None,
        dead_air=[],
        integrated_lufs=None,
        true_peak_dbtp=None,
        clipped_samples=0,
        clipping=False,
        black=[],
        black_fraction=0.0,
        sharpness=None,
        blurry=False,
        shot_changes=[],
        notes=[f"unreadable: {why}"],
    )


def analyse_take(path: Path, clip: str, digest: str) -> Take:
    """Probe and measure one media file; a file that cannot be probed or
    decoded gives an unreadable record (``readable`` false, a note saying why)."""
    try:
        facts = probe(path)
        return _measure(path, clip, digest, facts)
    except ProbeError as exc:
        return unreadable(clip, digest, str(exc))
    except ToolError as exc:
        return unreadable(clip, digest, exc.tail(1) or str(exc))


def _measure(path: Path, clip: str, digest: str, facts: dict[str, Any]) -> Take:
    duration = float(facts.get("duration") or 0.0)
    has_video, has_audio = bool(facts["has_video"]), bool(facts["has_audio"])
    rate = facts.get("fps")
    fps = round(rate[0] / rate[1], 3) if rate and rate[1] else None
    fields: dict[str, Any] = {
        "clip": clip,
        "sha256": digest,
        "duration_s": round(duration, 3),
        "has_video": has_video,
        "has_audio": has_audio,
        "width": facts.get("width"),
        "height": facts.get("height"),
        "fps": fps,
        "timecode": facts.get("timecode"),
        "creation_time": facts.get("creation_time"),
        "video_codec": facts.get("codec"),
        "audio_codec": facts.get("audio_codec"),
        "slate": None,
        "speech": [],
        "words": [],
        "transcript": "",
        "speech_start_s": None,
        "speech_end_s": None,
        "dead_air": [],
        "integrated_lufs": None,
        "true_peak_dbtp": None,
        "clipped_samples": 0,
        "clipping": False,
        "black": [],
        "black_fraction": 0.0,
        "sharpness": None,
        "blurry": False,
        "shot_changes": [],
    }
    notes: list[str] = []
    found_slate: Slate | None = None
    if has_audio:
        pcm = decode.speech_pcm(path)
        heard = speech.speech(pcm)
        said = words_mod.transcribe(pcm, heard.regions)
        spoken = slate.spoken(pcm, heard.regions)
        level = loudness.loudness(path)
        clipped = clipping.clipping(decode.native_samples(path))
        fields.update(
            speech=_intervals(heard.regions),
            words=[Word(text=w.text, start_s=w.start_s, end_s=w.end_s) for w in said.words],
            transcript=said.text,
            speech_start_s=_ms(heard.start_s),
            speech_end_s=_ms(heard.end_s),
            leading_silence_s=_ms(heard.leading_silence_s) if heard.regions else None,
            trailing_silence_s=_ms(heard.trailing_silence_s) if heard.regions else None,
            dead_air=_intervals(heard.dead_air),
            integrated_lufs=level.integrated_lufs,
            true_peak_dbtp=level.true_peak_dbtp,
            clipped_samples=clipped.clipped_samples,
            clipping=clipped.clipping,
        )
        if spoken is not None:
            found_slate = Slate(
                scene=spoken.scene,
                take=spoken.take,
                source="spoken",
                ends_s=spoken.ends_s,
                confidence=spoken.confidence,
            )
            notes.append(
                f"slate: scene {spoken.scene} take {spoken.take}, spoken, ends at "
                f"{spoken.ends_s:.2f} s"
            )
        if not heard.regions:
            notes.append("no speech")
        elif heard.leading_silence_s > LONG_LEAD_S:
            notes.append(f"{heard.leading_silence_s:.1f} s of silence before the first words")
        for a, b in heard.dead_air:
            notes.append(f"dead air: {b - a:.1f} s from {a:.2f} s")
        if clipped.clipping:
            notes.append(f"clipped: {clipped.clipped_samples} samples at full scale")
        if level.integrated_lufs is not None and level.integrated_lufs < QUIET_LUFS:
            notes.append(f"quiet: {level.integrated_lufs:.1f} LUFS integrated")
    else:
        notes.append("no sound")
    if found_slate is None:
        named = slate.from_filename(Path(clip).name)
        if named is not None:
            found_slate = Slate(scene=named.scene, take=named.take, source="filename", ends_s=0.0)
            notes.append(f"slate: scene {named.scene} take {named.take}, from the file name")
    fields["slate"] = found_slate
    if has_video and duration > 0:
        frame_s = 1.0 / fps if fps else 0.0
        dark = black.black(path, duration, frame_s)
        fields.update(black=_intervals(dark.intervals), black_fraction=dark.fraction)
        if dark.fraction > 0:
            notes.append(f"black for {round(dark.fraction * 100)}% of the take")
        if facts.get("width") and facts.get("height"):
            sharp = blur.sharpness(path, duration, facts["width"], facts["height"])
            fields.update(sharpness=sharp.value, blurry=sharp.blurry)
            if sharp.blurry:
                notes.append(f"soft picture: sharpness {sharp.value} (below {blur.BLURRY_BELOW})")
        changes = shots.shot_changes(path)
        fields["shot_changes"] = list(changes)
        if changes:
            notes.append(
                f"{len(changes)} shot change{'s' if len(changes) > 1 else ''} at "
                + ", ".join(f"{t:.2f} s" for t in changes)
            )
    fields["notes"] = notes
    return Take(**fields)


def _cached(cache_dir: Path | None, digest: str, clip: str) -> Take | None:
    if cache_dir is None:
        return None
    path = cache_dir / "analysis" / CACHE_VERSION / f"{digest}.json"
    try:
        data = json.loads(path.read_text())
        if data.get("tools") != tools():
            return None
        return Take.model_validate({**data["take"], "clip": clip})
    except (OSError, ValueError, KeyError, ValidationError):
        return None


def _store(cache_dir: Path | None, take: Take) -> None:
    if cache_dir is None:
        return
    path = cache_dir / "analysis" / CACHE_VERSION / f"{take.sha256}.json"
    record = {"tools": tools(), "take": take.model_dump(mode="json")}
    write_atomic(path, dumps(record).encode())


def analyse_dailies(
    folder: Path, progress: Progress | None = None, *, cache_dir: Path | None = None
) -> DailiesAnalysis:
    """Analyse every media file of ``folder``, in sorted order.

    ``progress(clip, index, total)`` is called before each file. With
    ``cache_dir`` (the build cache, ``.reel`` by default), each take's record
    is kept by the file's SHA-256 and the tools' versions, and reused."""
    files = media_files(folder)
    takes = []
    for index, path in enumerate(files):
        clip = path.relative_to(folder).as_posix()
        if progress is not None:
            progress(clip, index, len(files))
        digest = sha256(path)
        take = _cached(cache_dir, digest, clip)
        if take is None:
            take = analyse_take(path, clip, digest)
            _store(cache_dir, take)
        takes.append(take)
    return DailiesAnalysis(folder=folder.resolve().name, tools=tools(), takes=takes)
