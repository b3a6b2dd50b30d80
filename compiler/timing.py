"""Timing: give every shot an exact frame count, and lock it.

Until real voices exist (the audio issue), an ``auto`` shot lasts as long as
its lines take to read at the speaker's voice rate (words per minute; 165 when
no voice is declared), plus a pre-roll before the first line, a gap between
lines and a post-roll after the last. All arithmetic is in exact fractions and
each duration is rounded half up to whole frames once, so a frame count never
depends on float rounding.

Each shot's ``timing_lock_hash`` covers only its own timing (frame count,
transition, line placement), never its position, so editing one scene leaves
the other scenes' shot hashes alone. The episode's ``timing_lock_hash`` covers
the ordered list of shots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, InputError
from reel.lang.limits import MAX_EPISODE_SECONDS, MAX_SHOT_SECONDS, describe_seconds
from reel.lang.values import Time

from .hashing import hash_value

DEFAULT_WPM = 165
PRE_ROLL = Fraction(1, 4)  # seconds of picture before the first line
LINE_GAP = Fraction(1, 4)  # seconds between two lines in one shot
POST_ROLL = Fraction(1, 2)  # seconds after the last line
MIN_LINE = Fraction(3, 4)  # no line is shorter than this, however few its words
AUTO_WITHOUT_LINES = Fraction(2)  # an `auto` shot with nothing to say
_WORD = re.compile(r"[\w']+", re.UNICODE)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def reading_time(text: str, wpm: int) -> Fraction:
    """Seconds a line takes to say at ``wpm`` words per minute."""
    return max(MIN_LINE, Fraction(word_count(text) * 60, wpm))


@dataclass(frozen=True)
class LineTiming:
    line_id: str
    speaker: str
    start_frame: int  # relative to the shot's first frame
    end_frame: int


@dataclass(frozen=True)
class ShotTiming:
    shot: ir.Shot
    start_frame: int
    frames: int
    source: str  # "explicit" | "auto"
    transition_frames: int
    lines: tuple[LineTiming, ...]
    lock_hash: str


@dataclass(frozen=True)
class Timeline:
    fps: Fraction
    shots: tuple[ShotTiming, ...]
    total_frames: int
    lock_hash: str
    beats: BeatGrid | None = None
    snapped_cuts: int = 0

    def seconds(self, frames: int) -> float:
        return round(float(Fraction(frames) / self.fps), 6)


def _frames(seconds: Fraction, fps: Fraction) -> int:
    return Time(seconds, "s").frames(fps)


def line_id(shot: ir.Shot, index: int) -> str:
    return f"{shot.id}.l{index}"


@dataclass(frozen=True)
class BeatGrid:
    bpm: float
    offset: float  # seconds to the first beat
    source: str  # "declared" | "detected"
    tolerance_frames: int | None  # snap cuts within this many frames; None: no snapping


@dataclass
class _Draft:
    shot: ir.Shot
    frames: int
    source: str
    transition: int
    lines: list[LineTiming]
    needed: int


def camera_frames(shot: ir.Shot, fps: Fraction) -> int | None:
    """The length in frames of a shot whose line is spoken on camera (`say …
    from camera`): its explicit duration, else its plate's out point less its in
    point, each rounded to frames as the picture reads them. None for another shot."""
    if not any(line.on_camera for line in shot.lines):
        return None
    if shot.duration is not None:
        return shot.duration.frames(fps)
    plate = shot.plate
    assert plate.in_point is not None and plate.out_point is not None  # the resolver checks
    return plate.out_point.frames(fps) - plate.in_point.frames(fps)


def _draft(
    shot: ir.Shot,
    fps: Fraction,
    rates: dict[str, int],
    voices: dict[str, float] | None,
    diags: Diagnostics,
    errors: Diagnostics,
) -> _Draft | None:
    lines: list[LineTiming] = []
    on_camera = camera_frames(shot, fps)
    if on_camera is not None:
        # Spoken on camera: the line is the take's sound, so it starts at the
        # shot's first frame (no pre-roll) and lasts the shot, in sync with the lips.
        lines.append(LineTiming(line_id(shot, 1), shot.lines[0].speaker, 0, max(1, on_camera)))
        return _finish(shot, fps, lines, max(1, on_camera), diags, errors)
    t = PRE_ROLL
    for i, line in enumerate(shot.lines, start=1):
        lid = line_id(shot, i)
        if voices is not None and lid in voices:
            length = Fraction(voices[lid]).limit_denominator(48000)
        else:
            length = reading_time(line.text, rates.get(line.speaker, DEFAULT_WPM))
        start, end = _frames(t, fps), _frames(t + length, fps)
        lines.append(LineTiming(lid, line.speaker, start, max(end, start + 1)))
        t += length + LINE_GAP
    needed = _frames(t - LINE_GAP + POST_ROLL, fps) if shot.lines else 0
    return _finish(shot, fps, lines, needed, diags, errors)


def _finish(
    shot: ir.Shot,
    fps: Fraction,
    lines: list[LineTiming],
    needed: int,
    diags: Diagnostics,
    errors: Diagnostics,
) -> _Draft | None:
    """The shot's frame count from its duration (or, ``auto``, its lines' ``needed``
    frames), checked against the limits, its transition and its overlays."""
    if shot.duration is None:
        frames = needed if shot.lines else _frames(AUTO_WITHOUT_LINES, fps)
        source = "auto"
    else:
        if shot.duration.seconds(fps) > MAX_SHOT_SECONDS:
            # Before counting frames: a typo like `2000000s` is refused at once.
            errors.error(
                f"shot {shot.id} lasts {_long(shot.duration.seconds(fps))}, over the limit "
                f"of {describe_seconds(MAX_SHOT_SECONDS)} for one shot",
                shot.span,
                "split it into several shots, or check the duration's unit (s, ms or f)",
            )
            return None
        frames = shot.duration.frames(fps)
        source = "explicit"
        if frames < 1:
            errors.error(
                f"shot {shot.id} lasts less than one frame",
                shot.span,
                f"at {fps} fps a frame is {float(1 / fps):.4f}s",
            )
            return None
        if needed > frames:
            diags.warning(
                f"shot {shot.id} lasts {float(frames / fps):.2f}s but its lines "
                f"need about {float(needed / fps):.2f}s",
                shot.span,
                "make the shot `auto`, lengthen it, or shorten the lines",
            )
    if not _within_shot_limit(shot, frames, fps, source, errors):
        return None
    transition = shot.transition.duration.frames(fps) if shot.transition.duration else 0
    if transition > frames:
        errors.error(
            f"the {shot.transition.kind} into shot {shot.id} lasts {transition} "
            f"frames, longer than the shot ({frames} frames)",
            shot.transition.span,
            "shorten the transition or lengthen the shot",
        )
        return None
    for overlay in shot.overlays:
        if overlay.at.frames(fps) >= frames:
            diags.warning(
                f"this {overlay.kind} starts after shot {shot.id} ends",
                overlay.span,
                f"the shot lasts {float(frames / fps):.2f}s",
            )
    return _Draft(shot, frames, source, transition, lines, needed)


def _within_shot_limit(
    shot: ir.Shot, frames: int, fps: Fraction, source: str, errors: Diagnostics
) -> bool:
    """Refuse a shot over MAX_SHOT_SECONDS before anything renders (a typo like
    `86400s` would otherwise render for hours)."""
    if frames <= _frames(MAX_SHOT_SECONDS, fps):
        return True
    why = "" if source == "explicit" else " (timed by its lines)"
    errors.error(
        f"shot {shot.id} lasts {describe_seconds(Fraction(frames) / fps)}{why}, over the "
        f"limit of {describe_seconds(MAX_SHOT_SECONDS)} for one shot",
        shot.span,
        "split it into several shots, or check the duration's unit (s, ms or f)",
    )
    return False


def _check_episode_limit(episode: ir.Episode, frames: int, fps: Fraction) -> None:
    """Refuse an episode over MAX_EPISODE_SECONDS before anything renders."""
    if frames <= _frames(MAX_EPISODE_SECONDS, fps):
        return
    errors = Diagnostics()
    errors.error(
        f"episode {episode.id} lasts {describe_seconds(Fraction(frames) / fps)}, over the "
        f"limit of {describe_seconds(MAX_EPISODE_SECONDS)}",
        episode.span,
        "split it into several episodes",
    )
    raise InputError(errors.errors)


def _long(seconds: Fraction) -> str:
    """A duration for a message, however large: hours and minutes while they
    read well, then a plain number of seconds."""
    if seconds < 10**7:
        return describe_seconds(seconds)
    return f"{float(seconds):.6g}s" if seconds < 10**30 else "more than 1e30 s"


def _nearest_beat(end: int, offset: Fraction, period: Fraction, fps: Fraction, last: int) -> int:
    """The beat frame nearest to frame ``end`` (the earlier one on a tie), among
    beats at or before frame ``last``; ``end`` itself if there is none. Beats are
    at offset + k * period seconds, k = 0, 1, ...: the candidates are the beats
    either side of ``end``, found by division, not by listing every beat (a long
    episode has millions)."""
    k = int(((end / fps - offset) / period).__floor__())
    candidates = [
        frame
        for i in range(max(0, k - 1), max(1, k + 3))
        if (frame := _frames(offset + i * period, fps)) <= last
    ]
    return min(candidates, key=lambda b: (abs(b - end), b)) if candidates else end


def snap_to_beats(drafts: list[_Draft], beats: BeatGrid, fps: Fraction) -> int:
    """Move each cut to the nearest beat within the tolerance, by lengthening or
    shortening the shot before it (never below its lines or its transition).
    Returns how many cuts moved."""
    if beats.tolerance_frames is None or not drafts:
        return 0
    total = sum(d.frames for d in drafts) + beats.tolerance_frames + 1
    period = Fraction(60) / Fraction(beats.bpm).limit_denominator(1000)
    offset = Fraction(beats.offset).limit_denominator(100000)
    moved, cursor = 0, 0
    for draft in drafts[:-1]:
        end = cursor + draft.frames
        nearest = _nearest_beat(end, offset, period, fps, total)
        delta = nearest - end
        floor = max(1, draft.needed, draft.transition)
        if delta and abs(delta) <= beats.tolerance_frames and draft.frames + delta >= floor:
            draft.frames += delta
            moved += 1
        cursor += draft.frames
    return moved


def plan_timing(
    episode: ir.Episode,
    diags: Diagnostics,
    voices: dict[str, float] | None = None,
    beats: BeatGrid | None = None,
) -> Timeline:
    """Compute the locked timeline. Raises InputError when timing is impossible.

    ``voices`` maps line ids to the rendered voice's length in seconds: audio is
    the clock. Without it (no cache to render into), lines are estimated at
    their reading rate. With a ``beats`` grid that has a tolerance, cuts snap
    to the nearest beat (which makes durations depend on position: a
    deliberate trade, off unless the blueprint asks for it).
    """
    fps = episode.fps
    rates = {v.character: v.rate for v in episode.voices}
    errors = Diagnostics()
    drafts = [
        d
        for shot in episode.shots
        if (d := _draft(shot, fps, rates, voices, diags, errors)) is not None
    ]
    if errors.has_errors():
        raise InputError(errors.errors)
    _check_episode_limit(episode, sum(d.frames for d in drafts), fps)
    if drafts and drafts[0].shot.transition.kind == "crossfade" and drafts[0].transition:
        diags.warning(
            f"the first shot {drafts[0].shot.id} crossfades from nothing",
            drafts[0].shot.transition.span,
            "use `transition dip_to_black` or `cut` for the first shot",
        )
    snapped = snap_to_beats(drafts, beats, fps) if beats else 0
    shots: list[ShotTiming] = []
    cursor = 0
    for d in drafts:
        lock = hash_value(
            {
                "fps": [fps.numerator, fps.denominator],
                "frames": d.frames,
                "transition": [d.shot.transition.kind, d.transition],
                "lines": [[x.start_frame, x.end_frame] for x in d.lines],
            }
        )
        shots.append(
            ShotTiming(d.shot, cursor, d.frames, d.source, d.transition, tuple(d.lines), lock)
        )
        cursor += d.frames
    episode_lock = hash_value(
        {
            "fps": [fps.numerator, fps.denominator],
            "shots": [[s.shot.id, s.lock_hash] for s in shots],
        }
    )
    return Timeline(fps, tuple(shots), cursor, episode_lock, beats, snapped)
