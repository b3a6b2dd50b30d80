"""The artifact chain: valid against its schemas, deterministic, with lineage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from reel.compiler import artifacts as a
from reel.lang.diagnostics import InputError

from helpers import PILOT, reel, run_plan

NAMES = ["Script", "ShotList", "AssetManifest", "RenderPlan", "PacingReport"]


@pytest.fixture(scope="module")
def pilot_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pilot's four planning artifacts (planning renders its voices: seconds)."""
    out = tmp_path_factory.mktemp("out")
    cache = tmp_path_factory.mktemp("cache")  # its own, never the checkout's .reel
    args = ("--stage", "plan", "--out", str(out), "--cache-dir", str(cache))
    proc = reel("build", str(PILOT), *args, cwd=PILOT.parent.parent)
    assert proc.returncode == 0, proc.stderr
    return out / "pilot"


def load(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def test_build_writes_the_four_artifacts(pilot_build: Path) -> None:
    names = sorted(p.name for p in pilot_build.iterdir() if not p.name.startswith("."))
    assert names == sorted(f"{n}.json" for n in NAMES)


def test_artifacts_are_valid_against_the_exported_schemas(
    pilot_build: Path, tmp_path: Path
) -> None:
    proc = reel("schema", "--out", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in NAMES:
        schema = json.loads((tmp_path / f"{name}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate(load(pilot_build, name), schema)


def test_schema_rejects_a_broken_artifact(pilot_build: Path) -> None:
    schema = a.ShotList.model_json_schema()
    broken = load(pilot_build, "ShotList")
    del broken["shots"][0]["duration_frames"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_pilot_meets_the_example_brief(pilot_build: Path) -> None:
    shotlist = load(pilot_build, "ShotList")
    script = load(pilot_build, "Script")
    manifest = load(pilot_build, "AssetManifest")
    assert len(script["scenes"]) >= 8 and len(shotlist["shots"]) >= 20
    assert 60 <= shotlist["total_seconds"] <= 90
    kinds = {s["plate"]["kind"] for s in shotlist["shots"]}
    assert kinds >= {
        "image",
        "video",
        "solid",
        "gradient",
        "checker",
        "stripes",
        "bars",
        "placeholder",
    }
    assert {s["template"] for s in shotlist["shots"]} >= {
        "hook",
        "setup",
        "payoff",
        "outro",
        "alarm",
    }
    assert any(x["placeholder"] for x in manifest["assets"])
    assert sum(s["duration_frames"] for s in shotlist["shots"]) == shotlist["total_frames"]


def test_lineage_and_content_hashes(pilot_build: Path) -> None:
    docs = {name: load(pilot_build, name) for name in NAMES}
    assert docs["Script"]["parents"] == {}
    assert docs["ShotList"]["parents"] == {"Script": docs["Script"]["content_hash"]}
    assert docs["AssetManifest"]["parents"] == {"ShotList": docs["ShotList"]["content_hash"]}
    assert docs["RenderPlan"]["parents"] == {
        "ShotList": docs["ShotList"]["content_hash"],
        "AssetManifest": docs["AssetManifest"]["content_hash"],
    }
    assert docs["RenderPlan"]["timing_lock_hash"] == docs["ShotList"]["timing_lock_hash"]
    assert docs["PacingReport"]["parents"] == {
        "Script": docs["Script"]["content_hash"],
        "ShotList": docs["ShotList"]["content_hash"],
    }
    for name in NAMES:
        model = getattr(a, name).model_validate(docs[name])
        assert model.build(**model.body()).content_hash == docs[name]["content_hash"]


def test_manifest_records_digests_rights_and_placeholders(pilot_build: Path) -> None:
    assets = {x["id"]: x for x in load(pilot_build, "AssetManifest")["assets"]}
    maya = assets["assets/maya.png"]
    assert maya["digest"].startswith("xxh3-128:") and maya["placeholder"] is False
    assert maya["license_type"] == "generated_local" and maya["redistributable"] is True
    office = assets["assets/office.png"]
    assert office["license_type"] == "proprietary_cleared"  # seed 003 §19.0 default
    rooftop = assets["assets/rooftop.png"]
    assert rooftop["placeholder"] is True and rooftop["digest"] is None
    for entry in assets.values():
        assert not Path(entry["path"]).is_absolute()
        for field in (
            "license_type",
            "attribution",
            "purchase_record",
            "provider_or_model",
            "retrieval_date",
            "redistributable",
        ):
            assert field in entry


def test_no_absolute_paths_or_times_in_any_artifact(pilot_build: Path) -> None:
    for name in NAMES:
        text = (pilot_build / f"{name}.json").read_text()
        assert str(Path.home()) not in text and "/tmp" not in text and str(PILOT) not in text


def test_two_builds_in_different_directories_are_byte_identical(tmp_path: Path) -> None:
    outputs = []
    for n in range(2):
        copy = tmp_path / f"checkout{n}" / ("deep/" * n) / "pilot"
        shutil.copytree(PILOT, copy)
        out = tmp_path / f"out{n}"
        proc = reel("build", str(copy), "--stage", "plan", "--out", str(out), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        outputs.append({name: (out / "pilot" / f"{name}.json").read_bytes() for name in NAMES})
    assert outputs[0] == outputs[1]


def test_editing_one_line_changes_the_script_but_not_other_scenes_timing(tmp_path: Path) -> None:
    copy = tmp_path / "pilot"
    shutil.copytree(PILOT, copy)
    before = run_plan(copy, "pilot.episode").result
    act2 = copy / "scenes" / "act2.episode"
    act2.write_text(
        act2.read_text().replace(
            "She built a whole life anyway.", "She built a whole life anyway, on her own clock."
        )
    )
    after = run_plan(copy, "pilot.episode").result
    assert before.script.content_hash != after.script.content_hash
    changed = {
        s.id
        for s, t in zip(before.shotlist.shots, after.shotlist.shots, strict=True)
        if s.timing_lock_hash != t.timing_lock_hash
    }
    assert changed == {"the_call.s02"}
    assert before.shotlist.timing_lock_hash != after.shotlist.timing_lock_hash


def test_editing_words_in_an_explicit_shot_keeps_every_timing_hash(tmp_path: Path) -> None:
    copy = tmp_path / "pilot"
    shutil.copytree(PILOT, copy)
    before = run_plan(copy, "pilot.episode").result
    act2 = copy / "scenes" / "act2.episode"
    act2.write_text(act2.read_text().replace('"Canal Street"', '"Canal Street, 4 PM"'))
    after = run_plan(copy, "pilot.episode").result
    assert before.script.content_hash != after.script.content_hash
    assert before.shotlist.timing_lock_hash == after.shotlist.timing_lock_hash


def test_profile_changes_only_the_render_plan(tmp_path: Path) -> None:
    preview = run_plan(PILOT, "pilot.episode").result
    from reel.compiler.session import Session

    standard = Session(PILOT / "pilot.episode", None, "standard_local").plan
    assert preview.script == standard.script and preview.shotlist == standard.shotlist
    assert preview.render_plan.content_hash != standard.render_plan.content_hash
    # A profile sets the encoder's speed; the quality is each deliverable's own crf.
    assert (preview.render_plan.encoder.preset, standard.render_plan.encoder.preset) == (
        "veryfast",
        "medium",
    )
    assert standard.render_plan.encoder.crf == preview.render_plan.encoder.crf == 20


# ---- readers (seed 003 §30.2) ------------------------------------------------------------
def test_reader_ignores_unknown_fields(pilot_build: Path, tmp_path: Path) -> None:
    data = load(pilot_build, "ShotList")
    data["added_in_1_1"] = {"anything": True}
    data["shots"][0]["new_field"] = 1
    path = tmp_path / "ShotList.json"
    path.write_text(json.dumps(data))
    model = a.read_artifact(path, a.ShotList)
    assert model.timing_lock_hash == data["timing_lock_hash"]


def test_reader_names_a_missing_required_field(pilot_build: Path, tmp_path: Path) -> None:
    data = load(pilot_build, "ShotList")
    del data["timing_lock_hash"]
    del data["shots"][2]["duration_frames"]
    path = tmp_path / "ShotList.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        a.read_artifact(path, a.ShotList)
    messages = sorted(d.message for d in caught.value.diagnostics)
    assert messages == [
        f"{path}: ShotList is missing the required field 'shots.2.duration_frames'",
        f"{path}: ShotList is missing the required field 'timing_lock_hash'",
    ]


def test_reader_rejects_another_major_version(pilot_build: Path, tmp_path: Path) -> None:
    data = load(pilot_build, "Script")
    data["schema_version"] = "2.0.0"
    path = tmp_path / "Script.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        a.read_artifact(path, a.Script)
    assert "has Script schema 2.0.0; this Reel reads 1.x" in caught.value.diagnostics[0].message
