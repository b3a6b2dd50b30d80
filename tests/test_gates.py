"""The publish gates (seed 003 §15, §17, §25): rights, placeholders, content
safety and QC loudness, each with a failing and a passing case, and the same
failure on a deliverable not marked `publish` only warning.

Planning is enough for the gates (they run before anything renders); one tiny
build checks that an approval reaches RenderOutput and that QC's loudness
check blocks the publish master but only warns for the review proxy."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.compiler.gates import BLOCKLIST

from helpers import PILOT, reel, run_plan, write_tree

PNG = (PILOT / "assets" / "maya.png").read_bytes()
APPROVE = 'approve rights "x.png" by "Dana Lee" reason "licensed by email 2026-03-01"'


def plan(tmp_path: Path, body: str, settings: str = "", publish: bool = True):
    """Plan a one-shot episode on x.png with a master (publish or not) and a proxy."""
    text = f"""load "std/deliverables"
episode t {{ title "T" format 240x90 @ 24fps
  {settings}
}}
{body}
deliver master = youtube_1080p {{ resolution 240x90 publish {str(publish).lower()} }}
deliver proxy = review_proxy
"""
    write_tree(tmp_path, {"main.episode": text})
    (tmp_path / "x.png").write_bytes(PNG)
    return run_plan(tmp_path)


SHOT = 'scene s { shot wide 1s { plate image "x.png" } }\n'
UNKNOWN = 'asset "x.png" { license_type "unknown" }\n'
CLEARED = 'asset "x.png" { license_type "CC0" redistributable true }\n'


def statuses(outcome, gate: str) -> dict[str, str]:
    return {r.deliverable: r.status for r in outcome.result.gates.results if r.gate == gate}  # type: ignore[union-attr]


# ---- rights -----------------------------------------------------------------------------
def test_unknown_licence_blocks_a_publish_deliverable(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT + UNKNOWN)
    assert out.exit_code == 1
    (error,) = out.errors
    assert error.message.startswith("rights gate: x.png: its licence is unknown")
    assert "'master'" in error.message and "'proxy'" not in error.message
    assert str(error.span).endswith("main.episode:5:26")  # the plate that uses it
    assert 'asset "x.png"' in error.help and "approve rights" in error.help


def test_unknown_licence_only_warns_for_a_review_proxy(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT + UNKNOWN, publish=False)
    assert out.exit_code == 0
    assert any(w.message.startswith("rights gate: x.png") for w in out.warnings)
    assert statuses(out, "rights") == {"master": "warn", "proxy": "warn"}


def test_undeclared_rights_block_publish_but_not_a_draft(tmp_path: Path) -> None:
    # No asset block: redistributable defaults to false, fine for internal use.
    blocked = plan(tmp_path, SHOT)
    assert blocked.exit_code == 1
    assert "not cleared for redistribution" in blocked.errors[0].message
    draft = plan(tmp_path, SHOT, publish=False)
    assert draft.exit_code == 0 and not draft.warnings
    assert statuses(draft, "rights") == {"master": "pass", "proxy": "pass"}


def test_declared_licence_passes(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT + CLEARED)
    assert out.exit_code == 0, [e.render() for e in out.errors]
    assert statuses(out, "rights") == {"master": "pass", "proxy": "pass"}


def test_approve_lifts_the_rights_gate_at_plan(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT + UNKNOWN, settings=APPROVE)
    assert out.exit_code == 0, [e.render() for e in out.errors]
    (approval,) = out.result.gates.approvals  # type: ignore[union-attr]
    assert (approval.approver, approval.reason) == ("Dana Lee", "licensed by email 2026-03-01")
    assert approval.site == "main.episode:3:3"
    (asset,) = out.result.manifest.assets  # type: ignore[union-attr]
    assert asset.rights_override and asset.approver == "Dana Lee"


def test_an_approval_needs_an_approver_and_a_reason(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT + UNKNOWN, settings='approve rights "x.png" by "Dana Lee"')
    assert out.exit_code == 2
    assert "an approval needs reason" in out.errors[0].message


def test_an_approval_names_a_gate_it_can_lift(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT, settings='approve right "x.png" by "D" reason "r"')
    assert out.exit_code == 2
    assert "'right' is not a gate" in out.errors[0].message
    assert "rights" in out.errors[0].help


# ---- placeholders ------------------------------------------------------------------------
MISSING = 'scene s { shot wide 1s { plate image "gone.png" } }\n'


def test_a_placeholder_blocks_a_publish_deliverable(tmp_path: Path) -> None:
    out = plan(tmp_path, MISSING)
    assert out.exit_code == 1
    (error,) = out.errors
    assert error.message.startswith("placeholders gate: gone.png: the file is missing")
    assert "'master'" in error.message


def test_a_placeholder_only_warns_for_a_draft(tmp_path: Path) -> None:
    out = plan(tmp_path, MISSING, publish=False)
    assert out.exit_code == 0
    assert [w.message for w in out.warnings] == [
        "gone.png does not exist: a placeholder stands in for it"
    ]
    assert statuses(out, "placeholders") == {"master": "warn", "proxy": "warn"}


def test_no_placeholder_passes(tmp_path: Path) -> None:
    out = plan(tmp_path, SHOT + CLEARED)
    assert statuses(out, "placeholders") == {"master": "pass", "proxy": "pass"}


# ---- content safety ----------------------------------------------------------------------
def test_a_built_in_word_in_a_line_blocks_publish(tmp_path: Path) -> None:
    body = (
        CLEARED
        + 'cast { character maya "Maya" }\n'
        + 'scene s { shot wide 2s { plate image "x.png" '
        + f'say maya "Oh {BLOCKLIST[0].upper()}!" }} }}\n'
    )
    out = plan(tmp_path, body)
    assert out.exit_code == 1
    (error,) = out.errors
    assert error.message.startswith("content safety gate: maya's line in shot s.s01")
    assert f'"{BLOCKLIST[0]}"' in error.message and error.span is not None


def test_the_blueprint_extends_the_blocklist(tmp_path: Path) -> None:
    body = CLEARED + 'scene s { shot wide 1s { plate image "x.png" title "Oh darn" } }\n'
    out = plan(tmp_path, body, settings='blocklist "darn" "heck"')
    assert out.exit_code == 1 and '"darn"' in out.errors[0].message
    draft = plan(tmp_path, body, settings='blocklist "darn"', publish=False)
    assert draft.exit_code == 0
    assert any(w.message.startswith("content safety gate") for w in draft.warnings)


def test_clean_text_and_partial_words_pass(tmp_path: Path) -> None:
    # Whole words only: "darned" is not "darn".
    body = CLEARED + 'scene s { shot wide 1s { plate image "x.png" title "Darned good" } }\n'
    out = plan(tmp_path, body, settings='blocklist "darn"')
    assert out.exit_code == 0, [e.render() for e in out.errors]
    assert statuses(out, "content_safety") == {"master": "pass", "proxy": "pass"}


# ---- a build: the approval on record, and QC loudness by severity ------------------------
BUILT = f"""load "std/deliverables"
episode t {{ title "T" format 240x90 @ 24fps  voice maya = tts "en-us"
  {APPROVE} }}
cast {{ character maya "Maya Chen" }}
scene s {{ shot wide 2s {{ plate image "x.png" say maya "Hi." }} }}
asset "x.png" {{ license_type "unknown" }}
deliver master = youtube_1080p {{ resolution 240x90 publish true }}
deliver proxy = review_proxy
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("gates"), {"main.episode": BUILT})
    (root / "x.png").write_bytes(PNG)
    done = reel("build", ".", "-q", "--out", "out", "-j", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "out" / "t"


def test_an_approval_is_recorded_with_its_approver(built: Path) -> None:
    output = json.loads((built / "RenderOutput.json").read_text())
    assert tuple(int(x) for x in output["schema_version"].split(".")[:2]) >= (1, 6)
    assert output["approvals"] == [
        {
            "gate": "rights",
            "target": "x.png",
            "approver": "Dana Lee",
            "reason": "licensed by email 2026-03-01",
            "site": "main.episode:3:3",
        }
    ]
    approved = [g for g in output["gates"] if g["status"] == "approved"]
    assert {g["deliverable"] for g in approved} == {"master", "proxy"}
    assert all(g["approver"] == "Dana Lee" for g in approved)
    summary = json.loads((built / "run_summary.json").read_text())
    assert summary["approvals"] == output["approvals"] and summary["gates"] == output["gates"]


def _quieter(built: Path, tmp_path: Path, name: str) -> Path:
    """A copy of the delivered folder whose ``name`` is 3 dB quieter."""
    folder = tmp_path / "t"
    shutil.copytree(built, folder)
    (folder / name).unlink()
    subprocess.run(
        [
            *(str(ffmpeg_exe()), "-v", "error", "-y", "-i", str(built / name)),
            *("-c:v", "copy", "-af", "volume=-3dB", "-c:a", "aac", str(folder / name)),
        ],
        check=True,
    )
    return folder


def test_a_loudness_miss_blocks_the_publish_master(built: Path, tmp_path: Path) -> None:
    done = reel("qc", str(_quieter(built, tmp_path, "master.mp4") / "master.mp4"), cwd=tmp_path)
    assert done.returncode == 1
    assert "error: QC: master (master.mp4): integrated loudness" in done.stderr


def test_a_loudness_miss_only_warns_for_the_review_proxy(built: Path, tmp_path: Path) -> None:
    done = reel("qc", str(_quieter(built, tmp_path, "proxy.mp4") / "proxy.mp4"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: QC: proxy (proxy.mp4): integrated loudness" in done.stderr
    assert "warn" in done.stdout and "Traceback" not in done.stderr


class _Tables(HTMLParser):
    """Each <table>'s class and its rows' cell texts, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_the_report_shows_every_gate_the_approvals_and_qc(built: Path) -> None:
    parser = _Tables()
    parser.feed((built / "report.html").read_text())
    tables = {name: rows for name, rows in parser.tables if name}
    output = json.loads((built / "RenderOutput.json").read_text())
    head, *rows = tables["gates"]
    assert head[:5] == ["gate", "deliverable", "publish", "target", "status"]
    shown = {(r[0], r[1], r[4]) for r in rows}
    assert shown == {(g["gate"], g["deliverable"], g["status"]) for g in output["gates"]}
    assert {"rights", "placeholders", "content_safety", "caption_sync"} <= {r[0] for r in rows}
    approved = [r for r in rows if r[4] == "approved"]
    assert approved and all(r[8] == "Dana Lee" and r[3] == "x.png" for r in approved)
    assert {r[2] for r in rows if r[1] == "master"} == {"publish"}
    assert {r[2] for r in rows if r[1] == "proxy"} == {"no"}
    _, *approvals = tables["approvals"]
    assert approvals == [
        ["rights", "x.png", "Dana Lee", "licensed by email 2026-03-01", "main.episode:3:3"]
    ]
    qc_report = json.loads((built / "QCReport.json").read_text())
    _, *files = tables["qcfiles"]
    assert [(r[0], r[1], r[2]) for r in files] == [
        (f["deliverable"], f["path"], "pass" if f["passed"] else "fail") for f in qc_report["files"]
    ]
    summary = json.loads((built / "run_summary.json").read_text())
    assert [f["path"] for f in summary["qc"]] == [f["path"] for f in qc_report["files"]]
