"""Exact frame counts, auto durations and the timing lock."""

from __future__ import annotations

from fractions import Fraction

import pytest

from reel.compiler.timing import reading_time, word_count
from reel.lang.values import Time

from helpers import HEADER, only


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
