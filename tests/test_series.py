"""A series: episodes built in order against one cache, a canon carried from one
episode to the next, and the CanonDiff of each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema

from helpers import REPO, reel, write_tree

SERIES = """
series harbor {
  title "Harbor"
  episode "ep01.episode"
  episode "ep02.episode"
}
cast { character maya "Maya Chen" age 34  character rosa "Rosa" age 81 }
locations { location pier "The pier" }
"""


def ep(name: str, body: str, settings: str = "") -> str:
    return (
        f'episode {name} {{\n  title "{name}"\n  format 640x360 @ 24fps\n{settings}}}\n'
        f"scene s at pier {{\n{body}}}\n"
    )


def series(tmp_path: Path, ep01: str, ep02: str, series_text: str = SERIES) -> Path:
    return write_tree(
        tmp_path / "show",
        {"series.episode": series_text, "ep01.episode": ep01, "ep02.episode": ep02},
    )


def check(folder: Path, *args: str):
    return reel(
        "check", str(folder), "--cache-dir", str(folder.parent / "cache"), *args, cwd=folder.parent
    )


FINE_01 = ep("ep01", "  shot wide 1s { }\n  fact rosa dead\n")


def test_the_example_series_builds_with_one_command_sharing_one_cache(tmp_path: Path) -> None:
    project = shutil.copytree(REPO / "examples" / "series", tmp_path / "series")
    run = reel("build", "series", "--explain", "--progress", "plain", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for episode in ("ep01", "ep02"):
        folder = tmp_path / "reel-out" / "harbor" / episode
        for name in ("master.mp4", "captions.srt", "Script.json", "Canon.json", "CanonDiff.json"):
            assert (folder / name).is_file(), (episode, name)
    assert len(list((tmp_path / ".reel").glob("CACHEDIR.TAG"))) == 1  # one store
    # The title card is identical in both episodes: ep02 takes ep01's segment.
    lines = run.stdout.splitlines()
    ep02 = next(line for line in lines if line.startswith("built ep02"))
    assert int(ep02.split("; ")[-1].split(" ran, ")[1].split()[0]) >= 1, ep02
    ran = [line.split()[1] for line in lines if line.startswith("explain: ")]
    assert "segment@master/dusk.s01:" in ran and "segment@master/dawn.s01:" not in ran, ran
    # The canon snapshots and diffs are published artifacts: `reel schema` writes
    # their schemas, and what the build wrote validates against them.
    schemas = tmp_path / "schemas"
    assert reel("schema", "--out", str(schemas), cwd=tmp_path).returncode == 0
    for kind in ("Canon", "CanonDiff"):
        schema = json.loads((schemas / f"{kind}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        for episode in ("ep01", "ep02"):
            path = tmp_path / "reel-out" / "harbor" / episode / f"{kind}.json"
            written = json.loads(path.read_text())
            jsonschema.validate(written, schema)
        broken = {**written, "episode": 2}
        try:
            jsonschema.validate(broken, schema)
        except jsonschema.ValidationError:
            pass
        else:
            raise AssertionError(f"the {kind} schema accepts a number for an episode")
    # Lineage: ep02's Canon descends from ep01's and from its own Script.
    canon1 = json.loads((tmp_path / "reel-out/harbor/ep01/Canon.json").read_text())
    canon2 = json.loads((tmp_path / "reel-out/harbor/ep02/Canon.json").read_text())
    script2 = json.loads((tmp_path / "reel-out/harbor/ep02/Script.json").read_text())
    assert canon2["parents"] == {
        "Canon": canon1["content_hash"],
        "Script": script2["content_hash"],
    }
    assert project.is_dir()


def test_a_death_in_episode_1_blocks_a_line_in_episode_2_with_both_sites(tmp_path: Path) -> None:
    folder = series(tmp_path, FINE_01, ep("ep02", '  shot wide { say rosa "I am back." }\n'))
    run = check(folder)
    assert run.returncode == 1, run.stderr
    assert "canon: Rosa (rosa) is dead but speaks in shot s.s01" in run.stderr
    assert "show/ep02.episode:6:15" in run.stderr  # the line
    assert "rosa is dead since show/ep01.episode:7:3 (episode 'ep01')" in run.stderr


def test_canon_diff_shows_what_each_episode_changes(tmp_path: Path) -> None:
    series(tmp_path, FINE_01, ep("ep02", "  shot wide 1s { }\n", settings="  elapsed 3y\n"))
    run = reel("canon", "diff", "ep01", "ep02", "--series", "show", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "  + rosa.alive = dead  [ep01.episode:7:3]" in run.stdout
    assert "  ~ maya.age: 34 -> 37  [ep02.episode:4:3] (story time: +3y)" in run.stdout
    assert "rosa.age: 81" not in run.stdout  # the dead do not age
    as_json = reel("canon", "diff", "ep02", "--series", "show", "--json", cwd=tmp_path)
    (diff,) = json.loads(as_json.stdout)
    assert diff["episode"] == "ep02" and diff["added_facts"] == []
    assert diff["modified_facts"] == [
        {
            "subject": "maya",
            "attribute": "age",
            "before": 34,
            "after": 37,
            "site": "ep02.episode:4:3",
            "episode": "ep02",
            "justification": "story time: +3y",
        }
    ]
    unknown = reel("canon", "diff", "ep03", "--series", "show", cwd=tmp_path)
    assert unknown.returncode == 2 and "did you mean 'ep02'" in unknown.stderr


def test_an_age_advances_with_story_time(tmp_path: Path) -> None:
    older = ep("ep02", "  shot wide 1s { }\n  fact maya age 36\n", settings="  elapsed 2y\n")
    assert check(series(tmp_path, FINE_01, older)).returncode == 0


def test_an_age_that_ignores_story_time_is_a_contradiction(tmp_path: Path) -> None:
    same = ep("ep02", "  shot wide 1s { }\n  fact maya age 34\n", settings="  elapsed 2y\n")
    run = check(series(tmp_path, FINE_01, same))
    assert run.returncode == 1
    assert "canon: Maya Chen is 36, but this scene says 34" in run.stderr
    assert "show/ep02.episode:8:3" in run.stderr  # the fact
    assert "series.episode:7:8" in run.stderr and "ep02.episode:4:3" in run.stderr  # age, elapsed


def test_one_episode_of_a_series_by_its_label(tmp_path: Path) -> None:
    folder = series(tmp_path, FINE_01, ep("ep02", '  shot wide { say maya "Morning." }\n'))
    run = reel("build", "show:ep02", "--stage", "plan", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "reel-out/harbor/ep02/Canon.json").is_file()
    assert not (tmp_path / "reel-out/harbor/ep01").exists()
    canon = json.loads((tmp_path / "reel-out/harbor/ep02/Canon.json").read_text())
    rosa = next(c for c in canon["characters"] if c["id"] == "rosa")
    assert rosa["alive"] == {"value": False, "site": "ep01.episode:7:3", "episode": "ep01"}
    wrong = reel("build", "show:ep2", "--stage", "plan", cwd=tmp_path)
    assert wrong.returncode == 2 and "did you mean 'ep02'" in wrong.stderr
    assert folder.is_dir()


def test_a_series_naming_a_missing_episode_file(tmp_path: Path) -> None:
    folder = series(
        tmp_path,
        FINE_01,
        ep("ep02", "  shot wide 1s { }\n"),
        SERIES.replace('"ep02.episode"', '"ep2.episode"'),
    )
    run = check(folder)
    assert run.returncode == 2
    assert "the series lists 'ep2.episode', but there is no such file" in run.stderr
    assert "series.episode:5:11" in run.stderr and "did you mean 'ep02.episode'" in run.stderr


def test_an_episode_that_redeclares_a_dead_character_alive(tmp_path: Path) -> None:
    ep02 = ep("ep02", "  shot wide 1s { }\n") + 'cast { character rosa "Rosa" age 81 }\n'
    run = check(series(tmp_path, FINE_01, ep02))
    assert run.returncode == 1
    assert "says life status alive, but the canon holds dead" in run.stderr


def test_emitting_commands_for_a_series_is_refused_not_ignored(tmp_path: Path) -> None:
    series = tmp_path / "show"
    shutil.copytree(REPO / "examples" / "series", series)
    done = reel("build", str(series), "--emit-commands", str(tmp_path / "emitted"), cwd=tmp_path)
    assert done.returncode == 2 and "not a series" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "emitted").exists()
