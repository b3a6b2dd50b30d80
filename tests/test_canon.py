"""The canon gate blocks hard contradictions and accepts a consistent cast."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import HEADER, PILOT, only, reel, run_plan, write_tree

DEAD_CAST = """
episode t { title "T" format 640x360 @ 24fps }
cast { character maya "Maya Chen" age 34  character rosa "Rosa" age 81 dead }
locations { location cafe "Cafe"  location street "Street" }
"""


def test_a_dead_character_cannot_speak(episode) -> None:
    out = episode('scene a {\n  shot wide 2s { say rosa "I am back." }\n}\n', header=DEAD_CAST)
    err = only(out.errors)
    assert out.exit_code == 1
    assert err.message == "canon: Rosa (rosa) is dead but speaks in shot a.s01"
    assert err.span.line == 6 and err.span.column == 18
    assert err.notes == (f"rosa is dead since {err.notes[0].split('since ')[1]}",)


def test_a_death_in_the_story_silences_later_lines(episode) -> None:
    body = (
        'scene a {\n  shot wide 2s { say maya "Goodbye." }\n  fact maya dead\n'
        '  shot wide 2s { say maya "Still here." }\n}\n'
        'scene b {\n  shot wide 2s { say maya "And here." }\n}\n'
    )
    out = episode(body)
    assert out.exit_code == 1
    assert [e.message for e in out.errors] == [
        "canon: Maya Chen (maya) is dead but speaks in shot a.s02",
        "canon: Maya Chen (maya) is dead but speaks in shot b.s01",
    ]
    assert "since" in out.errors[0].notes[0] and ":10:" in out.errors[0].notes[0]


def test_lines_before_a_death_are_fine(episode) -> None:
    out = episode('scene a {\n  shot wide 2s { say maya "Goodbye." }\n  fact maya dead\n}\n')
    assert out.exit_code == 0, [e.render() for e in out.errors]


def test_an_age_that_contradicts_the_cast(episode) -> None:
    err = only(episode("scene a {\n  shot wide 2s { }\n  fact maya age 35\n}\n").errors)
    assert err.message == "canon: Maya Chen is 34, but this scene says 35"
    assert err.span.line == 10 and "age 34" in err.notes[0]


def test_a_name_that_contradicts_the_cast(episode) -> None:
    err = only(episode('scene a {\n  shot wide 2s { }\n  fact maya name "Maya Chan"\n}\n').errors)
    assert err.message == "canon: 'maya' is named 'Maya Chen', but this scene says 'Maya Chan'"


def test_the_dead_do_not_come_back(episode) -> None:
    err = only(
        episode("scene a {\n  shot wide 2s { }\n  fact rosa alive\n}\n", header=DEAD_CAST).errors
    )
    assert err.message == "canon: Rosa is dead, but this scene says they are alive"


def test_two_declarations_that_disagree(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.episode": HEADER + 'load "./series"\nscene a { shot wide 2s { } }\n',
            "series.episode": 'cast { character maya "Maya Chan" age 35 }\n',
        },
    )
    out = run_plan(tmp_path)
    assert out.exit_code == 1
    messages = [e.message for e in out.errors]
    assert messages == [
        "canon: two declarations of 'maya' disagree on name: 'Maya Chen', age 34 and "
        "'Maya Chan', age 35",
        "canon: two declarations of 'maya' disagree on age: 'Maya Chen', age 34 and "
        "'Maya Chan', age 35",
    ]
    assert out.errors[0].span.file.display.endswith("series.episode")


def test_agreeing_declarations_are_accepted(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.episode": HEADER + 'load "./series"\nscene a { shot wide 2s { } }\n',
            "series.episode": 'cast { character maya "Maya Chen" age 34 }\n',
        },
    )
    assert run_plan(tmp_path).exit_code == 0


def test_one_character_in_two_places_at_once(episode) -> None:
    body = (
        'scene a at cafe time morning day 2 {\n  shot wide 2s { say maya "Coffee." }\n}\n'
        "scene b at street time morning day 2 {\n  shot wide 2s { }\n  present maya\n}\n"
    )
    err = only(episode(body).errors)
    assert err.message == (
        "canon: maya is in two places on day 2 (morning): 'cafe' in scene 'a' "
        "and 'street' in scene 'b'"
    )


def test_same_place_or_other_time_is_fine(episode) -> None:
    body = (
        'scene a at cafe time morning {\n  shot wide 2s { say maya "Coffee." }\n}\n'
        'scene b at cafe time morning {\n  shot wide 2s { say maya "More." }\n}\n'
        'scene c at street time noon {\n  shot wide 2s { say maya "Walk." }\n}\n'
        'scene d at street time morning day 2 {\n  shot wide 2s { say maya "Again." }\n}\n'
    )
    assert episode(body).exit_code == 0


def test_the_pilot_cast_is_consistent() -> None:
    assert run_plan(PILOT, entry="pilot.episode").exit_code == 0


def test_a_contradiction_exits_1_and_keeps_only_the_script_aside(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"main.episode": DEAD_CAST + 'scene a { shot wide 2s { say rosa "Hi" } }\n'}
    )
    proc = reel("build", "main.episode", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "canon: Rosa (rosa) is dead" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "t").exists()  # no delivered set: the build failed
    failed = tmp_path / "out" / "t.failed"
    assert sorted(p.name for p in failed.iterdir()) == [".reel-delivered.json", "Script.json"]
    script = json.loads((failed / "Script.json").read_text())
    assert script["scenes"][0]["lines"][0]["speaker_id"] == "rosa"
