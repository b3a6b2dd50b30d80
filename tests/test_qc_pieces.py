"""QC of a joined file from its pieces (``backends/qc_joined.py``), checked
against the plain way: decoding the whole delivered file (``qc.measure``, what
`reel qc` does). A tiny episode with a black run across a cut, a move and a
line is built with the real build; its master's and review proxy's QC, made
from per-shot decodes, must measure what the whole-file decode measures and
reach the same verdicts. A file that is not a stream copy of its pieces must be
decoded whole, and a title edit must decode only the edited shot."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.backends.qc import measure
from reel.backends.qc_joined import run_measure_piece, run_qc_joined
from reel.compiler import artifacts as a
from reel.compiler.build import build
from reel.compiler.qc import expected, judge_media
from reel.compiler.store import Store
from reel.lang.diagnostics import Diagnostics

from helpers import write_tree

EPISODE = """
load "std/deliverables"
episode t { title "T" format 320x180 @ 24fps  voice maya = tts "en-us" }
cast { character maya "Maya Chen" age 34 }
scene s {
  shot wide 1s { plate solid black }
  shot wide 500ms { plate solid black }
  shot wide 2s { plate checker "#111111" "#eeeeee" move pan_left }
  shot close { plate stripes "#ff2a2a" "#0b0b14" move push_in 1.2  say maya "One small step."
           title "Step one" }
}
deliver master = youtube_1080p { resolution 320x180 }
deliver review = review_proxy { resolution 320x180 }
"""


def run(root: Path) -> tuple[object, Store]:
    cache = root / "cache"
    result = build(
        root, out=root / "out", cache_dir=cache, diags=Diagnostics(), progress=False, jobs=2
    )
    return result, Store(cache)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, Store]:
    root = write_tree(tmp_path_factory.mktemp("qcp"), {"main.episode": EPISODE})
    result, store = run(root)
    return root, result, store


def measured(result: object, store: Store, action: str) -> dict:
    res = result.report.results[action]  # type: ignore[attr-defined]
    return json.loads(store.read_blob(res.outputs["qc.json"]))


def verdicts(m: dict, folder: Path, relative: str) -> list[tuple[str, bool, str]]:
    shotlist = a.read_artifact(folder / "ShotList.json", a.ShotList)
    plan = a.read_artifact(folder / "RenderPlan.json", a.RenderPlan)
    want = expected(relative, shotlist, plan, "video")
    assert want is not None
    return [(c.name, c.passed, c.measured) for c in judge_media(m, want, shotlist)]


@pytest.mark.parametrize("name", ["master", "review"])
def test_qc_from_pieces_measures_what_decoding_the_whole_file_does(built, name: str) -> None:
    root, result, store = built
    folder = root / "out" / "t"
    pieces = measured(result, store, f"qc@{name}")
    whole = json.loads(json.dumps(measure(folder / f"{name}.mp4")))
    assert pieces["decoded"] == "pieces"
    total = a.read_artifact(folder / "ShotList.json", a.ShotList).total_frames
    assert pieces["frames_decoded"] == whole["frames_decoded"] == total
    # The black run crosses the cut between the first two shots: one span, as in the whole file.
    assert whole["black"] and whole["black"][0][0] == 0.0
    assert pieces["black"] == whole["black"]
    assert pieces["silence"] == whole["silence"]
    assert pieces["loudness"] == whole["loudness"]
    for fact in ("width", "height", "fps", "colour_primaries", "duration", "sample_rate"):
        assert pieces[fact] == whole[fact], fact
    assert verdicts(pieces, folder, f"{name}.mp4") == verdicts(whole, folder, f"{name}.mp4")


def test_a_file_that_is_not_its_pieces_is_decoded_whole(built, tmp_path: Path) -> None:
    """Re-encoded after the build: same frames, other bytes. QC must not trust
    the pieces' measurements for it."""
    root, result, store = built
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    action = next(x for x in result.lowered.actions if x.id == "qc@master")  # type: ignore[attr-defined]
    for name, source in action.inputs.items():
        if name.endswith(".json"):
            made = result.report.results[source.action]  # type: ignore[attr-defined]
            (sandbox / name).write_bytes(store.read_blob(made.outputs[source.output]))
    master = root / "out" / "t" / "master.mp4"
    reencode = ["-c:v", "libx264", "-crf", "30", "-c:a", "copy", str(sandbox / "media.mp4")]
    subprocess.run([str(ffmpeg_exe()), "-v", "error", "-i", str(master), *reencode], check=True)
    run_qc_joined(sandbox, {"media": "video", "fps": [24, 1]})
    got = json.loads((sandbox / "qc.json").read_text())
    assert got["decoded"].startswith("whole file: piece 1")
    assert got["frames_decoded"] == measure(sandbox / "media.mp4")["frames_decoded"]


def test_a_title_edit_decodes_only_the_edited_shot(built, tmp_path: Path) -> None:
    root, _, _ = built
    copy = tmp_path / "edit"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("out"))
    episode = copy / "main.episode"
    episode.write_text(episode.read_text().replace("Step one", "Step two"))
    run(copy)
    summary = json.loads((copy / "out" / "t" / "run_summary.json").read_text())
    ran = {x["action"] for x in summary["ran"]}
    decoded = {x for x in ran if x.startswith("measure/")}
    assert decoded == {"measure/segment/s.s04", "measure/piece@review/s.s04"}
    assert {"qc@master", "qc@review"} <= ran


def _piece(folder: Path, colours: list[tuple[str, int]]) -> Path:
    """An H.264 piece at 24 fps: runs of solid colour, (colour, frames) each."""
    folder.mkdir(parents=True)
    inputs, chains = [], []
    for index, (colour, frames) in enumerate(colours):
        inputs += ["-f", "lavfi", "-i", f"color={colour}:s=160x90:r=24:d={frames / 24}"]
        chains.append(f"[{index}:v]")
    graph = "".join(chains) + f"concat=n={len(colours)}:v=1[v]"
    args = ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-bf", "0"]
    command = [str(ffmpeg_exe()), "-v", "error", *inputs, *args, str(folder / "piece.mp4")]
    subprocess.run(command, check=True)
    return folder


@pytest.mark.parametrize(
    ("colours", "black"),
    [
        # A black frame just before the last: the run ends where the last frame starts.
        ([("red", 22), ("black", 1), ("red", 1)], [[0.917, 0.958]]),
        # Black to the end: the run ends at the piece's end, where the next piece goes on.
        ([("red", 22), ("black", 2)], [[0.917, 1.0]]),
    ],
)
def test_a_pieces_black_run_ends_where_the_black_does(
    tmp_path: Path, colours: list[tuple[str, int]], black: list[list[float]]
) -> None:
    folder = _piece(tmp_path / "piece", colours)
    run_measure_piece(folder, {"fps": [24, 1]})
    measured = json.loads((folder / "piece.json").read_text())
    assert [[round(a, 3), round(b, 3)] for a, b in measured["black"]] == black
    assert measured["frames"] == measured["frames_decoded"] == 24


EPISODE_30 = """
episode t { title "T" format 320x180 @ 30fps }
scene s {
  shot wide 1s { plate checker "#111111" "#eeeeee" move pan_left }
  shot wide 2f { plate solid black }
  shot wide 1s { plate stripes "#ff2a2a" "#0b0b14" move push_in 1.2 }
  shot wide 3f { plate solid black }
  shot wide 1s { plate checker "#111111" "#eeeeee" move pan_right }
}
"""


def test_black_runs_keep_blackdetects_minimum_at_30_fps(tmp_path: Path) -> None:
    """Two black frames at 30 fps (0.067 s) are under blackdetect's 0.08 s; three
    are over. The pieces must agree with a decode of the whole file."""
    root = write_tree(tmp_path / "p30", {"main.episode": EPISODE_30})
    result, store = run(root)
    pieces = measured(result, store, "qc@master")
    whole = measure(root / "out" / "t" / "master.mp4")
    assert pieces["decoded"] == "pieces"
    assert len(pieces["black"]) == len(whole["black"]) == 1
    assert pieces["black"] == whole["black"]
