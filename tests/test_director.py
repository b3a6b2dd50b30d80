"""Director Mode end to end, on a generated dailies folder with known answers
(tests/dailies.py): the tiers, the endpoint planner and its fall-back, undo
and replay, each through the real `reel direct` command line."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import av
import jsonschema
import pysubs2
import pytest

from reel.director.contract import json_schema

from .dailies import make_dailies
from .helpers import reel

REPLIES = Path(__file__).parent / "director_replies"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    """The dailies (made once), their answers, and a cache shared by the tests
    (analysis and renders are cached by content, as a user's would be)."""
    root = tmp_path_factory.mktemp("dailies")
    answers = make_dailies(root / "dailies")
    return root / "dailies", answers, root / "cache"


@pytest.fixture
def shoot(made: tuple[Path, dict[str, Any], Path], tmp_path: Path) -> Path:
    """A fresh project folder holding a copy of the dailies."""
    dailies, _, _ = made
    shutil.copytree(dailies, tmp_path / "shoot" / "dailies")
    return tmp_path / "shoot"


def direct(shoot: Path, made: tuple, *args: str) -> subprocess.CompletedProcess[str]:
    cache = made[2]
    return reel("direct", *args, "--cache-dir", str(cache), cwd=shoot)


def later(shoot: Path, made: tuple, *args: str) -> subprocess.CompletedProcess[str]:
    return reel("direct", *args, cwd=shoot)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def shots(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in plan["actions"] if a["kind"] == "add_shot"]


def test_tier_0_writes_a_plan_that_uses_the_best_takes_and_changes_no_file(shoot, made) -> None:
    before = snapshot(shoot)
    done = direct(shoot, made, "dailies", "--tier", "0")
    assert done.returncode == 0, done.stderr + done.stdout
    after = snapshot(shoot)
    assert {k: after[k] for k in before} == before
    assert not (shoot / "cut.episode").exists()
    new = sorted(set(after) - set(before))
    assert all(name.startswith(("direct/run-0001/", "traces/")) for name in new), new
    plan = json.loads((shoot / "direct/run-0001/plan.json").read_text())
    jsonschema.validate(plan, json_schema())  # the published contract, by an outside validator
    used = [s["clip"] for s in shots(plan)]
    # line 1: a clean take (not the clipped C003); line 2: the take whose picture does
    # not break (C005 cuts to bars at 2.0 s), with its 2.5 s of dead air cut
    assert used[0] in ("A001_C001.mov", "A001_C002.mov") and used[1] == "A001_C004.mov"
    answers = made[1]["clips"]
    line2 = shots(plan)[1]
    onset = answers["A001_C004.mov"]["speech_start_s"]
    assert onset - 0.6 < line2["in_s"] < onset, (line2, onset)
    assert "A001_C003.mov" not in used and "A001_C006.mov" not in used
    explained = (shoot / "direct/run-0001/plan.md").read_text()
    assert "A001_C006.mov (black" in explained and "clipped" in explained


def test_tier_1_writes_the_plan_a_diff_and_a_preview_then_apply_makes_it(shoot, made) -> None:
    done = direct(shoot, made, "dailies", "--tier", "1")
    assert done.returncode == 0, done.stderr + done.stdout
    assert not (shoot / "cut.episode").exists()
    run = shoot / "direct/run-0001"
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "awaiting_apply"
    # the diff applies with GNU patch (an independent reader) to give the proposal
    check = subprocess.run(
        ["patch", "-p1", "--dry-run", "-i", str(run / "blueprint.diff")],
        cwd=shoot,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with av.open(str(shoot / status["preview"])) as review:
        seconds = float(review.duration / av.time_base)
    plan = json.loads((run / "plan.json").read_text())
    expected = sum(s["out_s"] - s["in_s"] for s in shots(plan))
    assert abs(seconds - expected) < 0.25, (seconds, expected)
    applied = later(shoot, made, "apply")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    subprocess.run(
        ["patch", "-p1", "-R", "--dry-run", "-i", str(run / "blueprint.diff")],
        cwd=shoot,
        check=True,
        capture_output=True,
    )  # what apply wrote is the diff


def test_tier_2_refuses_a_destructive_action_without_confirmation(shoot, made) -> None:
    first = direct(shoot, made, "dailies", "--tier", "2")
    assert first.returncode == 0, first.stderr + first.stdout
    cut = shoot / "cut.episode"
    assembled = cut.read_bytes()
    plan = shoot / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "message": "tighten",
                "actions": [
                    {"kind": "remove_shot", "scene": "s01", "shot": 1},
                    {"kind": "add_title", "scene": "s01", "shot": 1, "text": "Morning"},
                ],
            }
        )
    )
    second = direct(shoot, made, "dailies", "--tier", "2", "--plan", "plan.json")
    assert second.returncode == 0, second.stderr + second.stdout
    assert "1 destructive action(s) wait for confirmation" in second.stdout
    text = cut.read_text()
    assert 'title "Morning"' in text and text.count("shot ") == assembled.decode().count("shot ")
    confirmed = later(shoot, made, "apply", "--yes")
    assert confirmed.returncode == 0, confirmed.stderr + confirmed.stdout
    assert cut.read_text().count("  shot ") == assembled.decode().count("  shot ") - 1
    # undo everything the Director did, in any number of steps: the file is gone again
    assert later(shoot, made, "undo", "2").returncode == 0
    assert cut.read_bytes() == assembled
    journal = json.loads((shoot / "direct/journal.json").read_text())["entries"]
    assert later(shoot, made, "undo", str(len(journal))).returncode == 0
    assert not cut.exists()


@pytest.mark.slow
def test_tier_3_builds_a_qc_verified_cut_that_waits_for_signoff(shoot, made) -> None:
    lines = made[1]["lines"]
    (shoot / "script.txt").write_text(f"# the kitchen\n{lines[1]}\n\n{lines[2]}\n")
    done = direct(shoot, made, "dailies", "--tier", "3", "--script", "script.txt")
    assert done.returncode == 0, done.stderr + done.stdout
    status = json.loads((shoot / "direct/run-0001/status.json").read_text())
    assert status["state"] == "awaiting_signoff" and status["qc_passed"]
    assert not (shoot / "direct/run-0001/released.json").exists()
    out = shoot / "reel-out/cut"
    qc = json.loads((out / "QCReport.json").read_text())
    assert qc["passed"]
    subs = pysubs2.load(str(out / "captions.srt"))
    said = " ".join(e.plaintext.lower() for e in subs)
    assert "kettle is already on" in said and "time for one more" in said, said
    with av.open(str(out / "master.mp4")) as master:
        seconds = float(master.duration / av.time_base)
    plan = json.loads((shoot / "direct/run-0001/plan.json").read_text())
    assert abs(seconds - sum(s["out_s"] - s["in_s"] for s in shots(plan))) < 0.25
    replay = later(shoot, made, "replay", "traces/run-0001.jsonl")
    assert replay.returncode == 0 and "same plan, same edits" in replay.stdout, replay.stdout
    signed = later(shoot, made, "signoff", "--by", "Dana Lee")
    assert signed.returncode == 0, signed.stderr + signed.stdout
    released = json.loads((shoot / "direct/run-0001/released.json").read_text())
    assert released["by"] == "Dana Lee" and released["released"]
    render = json.loads((out / "RenderOutput.json").read_text())
    assert {a["approver"] for a in render["approvals"]} == {"Dana Lee"}


class _Replayer(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that replays one recorded reply."""

    reply: str = ""
    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def _send(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send({"object": "list", "data": [{"id": "replay-1", "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).requests.append(json.loads(self.rfile.read(length)))
        self._send({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]})


@pytest.fixture
def endpoint() -> Iterator[type[_Replayer]]:
    handler = type("Replayer", (_Replayer,), {"reply": "", "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("unknown_action.json", "does not match the Action Plan schema"),
        ("clip_out_of_range.json", "past the clip's end"),
        ("not_json.txt", "the reply is not JSON"),
    ],
)
def test_an_invalid_plan_from_the_endpoint_is_rejected_with_reasons_and_the_run_falls_back(
    shoot, made, endpoint, reply: str, reason: str
) -> None:
    endpoint.reply = (REPLIES / reply).read_text()
    done = direct(shoot, made, "dailies", "--tier", "0", "--planner", endpoint.url)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "using the heuristic planner" in done.stdout and reason in done.stdout, done.stdout
    request = endpoint.requests[0]
    assert request["response_format"]["json_schema"]["schema"] == json_schema()
    events = [json.loads(x) for x in (shoot / "traces/run-0001.jsonl").read_text().splitlines()]
    planned = next(e for e in events if e["event"] == "plan")
    assert planned["planner"] == "heuristic" and any(reason in r for r in planned["fallback"])
    assert "Fell back to the heuristic planner" in (shoot / "direct/run-0001/plan.md").read_text()


def test_a_valid_plan_from_the_endpoint_is_used(shoot, made, endpoint) -> None:
    endpoint.reply = (REPLIES / "valid.json").read_text()
    done = direct(shoot, made, "dailies", "--tier", "2", "--planner", endpoint.url)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "heuristic" not in done.stdout
    text = (shoot / "cut.episode").read_text()
    assert "scene kitchen {" in text and "shot close 2.2s" in text


def test_an_absent_endpoint_falls_back_and_says_so(shoot, made) -> None:
    done = direct(shoot, made, "dailies", "--tier", "0", "--planner", "http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "is not available" in done.stdout and "using the heuristic planner" in done.stdout


def test_dailies_outside_the_blueprint_folder_are_refused(shoot, made, tmp_path) -> None:
    done = direct(shoot, made, "dailies", "--into", str(tmp_path / "elsewhere" / "cut.episode"))
    assert done.returncode == 2
    assert "must be a folder inside the blueprint's folder" in done.stderr
