"""Exact frame counts, auto durations and the timing lock."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from reel.compiler.timing import _frames, _nearest_beat, reading_time, word_count
from reel.lang.values import Time

from helpers import HEADER, only


def where(diag) -> tuple[str, int, int]:
    return (Path(diag.span.file.display).name, diag.span.line, diag.span.column)


@pytest.mark.parametrize(
    "time, fps, frames",
    [
        (Time(Fraction(2), "s"), Fraction(24), 48),
        (Time(Fraction(3, 2), "s"), Fraction(24), 36),
        (Time(Fraction(1, 48), "s"), Fraction(24), 1),  # half a frame rounds up
        (Time(Fraction(1, 49), "s"), Fraction(24), 0),
        (Time(Fraction(36), "f"), Fraction(30000, 1001), 36),
        (Time(Fraction(10), "s"), Fraction(30000, 1001), 300),  # 299.7 -> 300
    ],
)
def test_frames(time: Time, fps: Fraction, frames: int) -> None:
    assert time.frames(fps) == frames


def test_reading_rate() -> None:
    assert word_count("I used to wake up at five, every single day.") == 10
    assert reading_time("one two three four five six", 180) == Fraction(2)
    assert reading_time("Hi.", 165) == Fraction(3, 4)  # never shorter than 0.75 s


def shots(out) -> dict[str, object]:
    assert out.exit_code == 0, [e.render() for e in out.errors]
    return {s.id: s for s in out.result.shotlist.shots}


def test_explicit_and_auto_durations(episode) -> None:
    out = episode(
        "scene a {\n  shot wide 2s { }\n  shot wide 1500ms { }\n  shot wide 7f { }\n"
        '  shot close { say maya "one two three four five six" }\n  shot close { }\n}\n'
    )
    got = shots(out)
    assert [got[f"a.s0{i}"].duration_frames for i in range(1, 6)] == [
        48,
        36,
        7,
        # 0.25 s pre-roll + 6 words at 165 wpm (2.1818 s) + 0.5 s post-roll = 2.93 s -> 70 frames
        70,
        48,  # an auto shot with no lines lasts 2 s
    ]
    assert got["a.s04"].duration_source == "auto"
    assert [s.start_frame for s in got.values()] == [0, 48, 84, 91, 161]
    cue = got["a.s04"].lines[0]
    assert (cue.start_frame, cue.end_frame) == (6, 58)


def test_voice_rate_drives_auto_duration(episode) -> None:
    header = HEADER.replace(
        "format 640x360 @ 24fps", 'format 640x360 @ 24fps\n  voice maya = tts "en-us" rate 330'
    )
    out = episode(
        'scene a {\n  shot close { say maya "one two three four five six" }\n}\n', header=header
    )
    assert shots(out)["a.s01"].duration_frames == Time(
        Fraction(1, 4) + Fraction(6 * 60, 330) + Fraction(1, 2), "s"
    ).frames(Fraction(24))


def test_short_explicit_shot_warns(episode) -> None:
    out = episode(
        'scene a {\n  shot close 1s { say maya "one two three four five six seven" }\n}\n'
    )
    assert out.exit_code == 0
    warning = only(out.warnings)
    assert warning.message.startswith("shot a.s01 lasts 1.00s but its lines need about")


def test_transition_longer_than_its_shot_is_an_error(episode) -> None:
    err = only(
        episode(
            "scene a {\n  shot wide 2s { }\n  shot wide 10f { transition crossfade 12f }\n}\n"
        ).errors
    )
    assert err.message == (
        "the crossfade into shot a.s02 lasts 12 frames, longer than the shot (10 frames)"
    )


def test_runtime_gate(episode) -> None:
    header = HEADER.replace("format 640x360 @ 24fps", "format 640x360 @ 24fps\n  runtime 5s .. 10s")
    short = episode("scene a {\n  shot wide 2s { }\n}\n", header=header)
    assert short.exit_code == 1
    assert (
        only(short.errors).message
        == "runtime gate: 't' runs 2.00s, shorter than its window 5s..10s"
    )
    long = episode("scene a {\n  shot wide 11s { }\n}\n", header=header)
    assert (
        only(long.errors).message == "runtime gate: 't' runs 11.00s, longer than its window 5s..10s"
    )
    fine = episode("scene a {\n  shot wide 6s { }\n}\n", header=header)
    assert fine.exit_code == 0


def test_lock_hash_changes_with_timing_only(episode) -> None:
    base = shots(episode('scene a {\n  shot wide 2s { title "x" }\n  shot wide 3s { }\n}\n'))
    retitled = shots(episode('scene a {\n  shot wide 2s { title "y" }\n  shot wide 3s { }\n}\n'))
    longer = shots(episode('scene a {\n  shot wide 2s { title "x" }\n  shot wide 4s { }\n}\n'))
    assert base["a.s01"].timing_lock_hash == retitled["a.s01"].timing_lock_hash
    assert base["a.s02"].timing_lock_hash != longer["a.s02"].timing_lock_hash
    assert base["a.s01"].timing_lock_hash == longer["a.s01"].timing_lock_hash


def test_ntsc_rates_are_exact(episode) -> None:
    header = HEADER.replace("@ 24fps", "@ 29.97fps")
    out = episode("scene a {\n  shot wide 10s { }\n}\n", header=header)
    assert out.exit_code == 0
    shotlist = out.result.shotlist
    assert (shotlist.fps_num, shotlist.fps_den) == (30000, 1001)
    assert shotlist.total_frames == 300


# ---- found by the fuzzer (tests/test_fuzz.py) ----------------------------------------------


def test_a_shot_of_absurd_length_is_an_error(episode) -> None:
    out = episode("scene a {\n  shot wide 99999999999999999999s { }\n  shot wide 600s { }\n}\n")
    err = only(out.errors)
    assert out.exit_code == 2
    assert err.message == "shot a.s01 lasts 1e+20s, over the limit of 10 min for one shot"
    assert where(err) == ("main.episode", HEADER.count("\n") + 2, 3)
    assert err.help == "split it into several shots, or check the duration's unit (s, ms or f)"


def test_snapping_a_long_episode_to_beats_is_quick(episode) -> None:
    """Cuts snapped to beats by listing every beat of the episode: long shots
    and a fast tempo made the check hang."""
    header = HEADER.replace(
        "format 640x360 @ 24fps",
        'format 640x360 @ 240fps\n  music "bed.flac" bpm 400 snap 18f',
    )
    long_shots = "".join("  shot wide 599s { }\n" for _ in range(17))  # 2 h 50 min
    out = episode(f"scene a {{\n{long_shots}  shot wide 1s {{ }}\n}}\n", header=header)
    assert out.exit_code == 0, [e.render() for e in out.errors]
    assert out.result.shotlist.beat_grid.snapped_cuts == 17


def test_the_nearest_beat_is_the_one_listing_every_beat_finds() -> None:
    def listed(end: int, offset: Fraction, period: Fraction, fps: Fraction, last: int) -> int:
        beats, k = [], 0
        while (frame := _frames(offset + k * period, fps)) <= last:
            beats.append(frame)
            k += 1
        return min(beats, key=lambda b: (abs(b - end), b)) if beats else end

    rng = random.Random(9)
    for _ in range(2000):
        fps = rng.choice([Fraction(24), Fraction(30000, 1001), Fraction(1), Fraction(240)])
        period = 60 / Fraction(rng.uniform(20, 400)).limit_denominator(1000)
        offset = Fraction(rng.uniform(0, 3)).limit_denominator(100000)
        last = rng.randint(0, 3000)
        end = rng.randint(0, last)
        assert _nearest_beat(end, offset, period, fps, last) == listed(
            end, offset, period, fps, last
        )
