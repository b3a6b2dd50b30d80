"""QC of a joined file from its pieces (``backends/qc_joined.py``), checked
against the plain way: decoding the whole delivered file (``qc.measure``, what
`reel qc` does). A tiny episode with a black run across a cut, a move and a
line is built with the real build; its master (``publish true``: each piece
decoded) and its review proxy (a draft: each piece measured as its render
encoded it, ``ffmpeg/detect.py``) must measure what the whole-file decode
measures and reach the same verdicts. A file that is not a stream copy of its
pieces must be decoded whole, and a title edit must measure only the edited
shot."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reel.backends.ffmpeg.detect import LOG, detector_chain
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
deliver master = youtube_1080p { resolution 320x180 publish true }
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


@pytest.mark.parametrize(("name", "how"), [("master", "pieces"), ("review", "pieces as rendered")])
def test_qc_from_pieces_measures_what_decoding_the_whole_file_does(
    built, name: str, how: str
) -> None:
    root, result, store = built
    folder = root / "out" / "t"
    pieces = measured(result, store, f"qc@{name}")
    whole = json.loads(json.dumps(measure(folder / f"{name}.mp4")))
    assert pieces["decoded"] == how
    total = a.read_artifact(folder / "ShotList.json", a.ShotList).total_frames
    assert whole["frames_decoded"] == total
    # A draft's pieces were not decoded: the judge counts the file's frames.
    assert pieces["frames_decoded"] == (total if how == "pieces" else None)
    assert pieces["frames"] == total
    # The black run crosses the cut between the first two shots: one span, as in the whole file.
    assert whole["black"] and whole["black"][0][0] == 0.0
    assert pieces["black"] == whole["black"]
    assert pieces["silence"] == whole["silence"]
    assert pieces["loudness"] == whole["loudness"]
    for fact in ("width", "height", "fps", "colour_primaries", "duration", "sample_rate"):
        assert pieces[fact] == whole[fact], fact
    assert verdicts(pieces, folder, f"{name}.mp4") == verdicts(whole, folder, f"{name}.mp4")


def _qc_sandbox(built: tuple[Path, object, Store], tmp_path: Path) -> tuple[Path, Path]:
    """qc@master's sandbox holding the pieces' and the sound's measurements
    (its media.mp4 left to the test), and the built master."""
    root, result, store = built
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    action = next(x for x in result.lowered.actions if x.id == "qc@master")  # type: ignore[attr-defined]
    for name, source in action.inputs.items():
        if name.endswith(".json"):
            made = result.report.results[source.action]  # type: ignore[attr-defined]
            (sandbox / name).write_bytes(store.read_blob(made.outputs[source.output]))
    return sandbox, root / "out" / "t" / "master.mp4"


def test_a_file_that_is_not_its_pieces_is_decoded_whole(built, tmp_path: Path) -> None:
    """Re-encoded after the build: same frames, other bytes. QC must not trust
    the pieces' measurements for it."""
    sandbox, master = _qc_sandbox(built, tmp_path)
    reencode = ["-c:v", "libx264", "-crf", "30", "-c:a", "copy", str(sandbox / "media.mp4")]
    subprocess.run([str(ffmpeg_exe()), "-v", "error", "-i", str(master), *reencode], check=True)
    run_qc_joined(sandbox, {"media": "video", "fps": [24, 1]})
    got = json.loads((sandbox / "qc.json").read_text())
    assert got["decoded"].startswith("whole file: piece 1")
    assert got["frames_decoded"] == measure(sandbox / "media.mp4")["frames_decoded"]


def test_the_pieces_pictures_at_other_times_are_decoded_whole(built, tmp_path: Path) -> None:
    """The same coded pictures, byte for byte, shown at half speed (every
    timestamp doubled by ffmpeg's setts filter): not the file the pieces make."""
    sandbox, master = _qc_sandbox(built, tmp_path)
    retime = ["-map", "0:v", "-c", "copy", "-bsf:v", "setts=ts=2*TS", str(sandbox / "media.mp4")]
    subprocess.run([str(ffmpeg_exe()), "-v", "error", "-i", str(master), *retime], check=True)
    run_qc_joined(sandbox, {"media": "video", "fps": [24, 1]})
    got = json.loads((sandbox / "qc.json").read_text())
    assert got["decoded"] == "whole file: the pictures are not one frame apart from the start"


def test_a_title_edit_measures_only_the_edited_shot(built, tmp_path: Path) -> None:
    root, _, _ = built
    copy = tmp_path / "edit"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("out"))
    episode = copy / "main.episode"
    episode.write_text(episode.read_text().replace("Step one", "Step two"))
    run(copy)
    summary = json.loads((copy / "out" / "t" / "run_summary.json").read_text())
    ran = {x["action"] for x in summary["ran"]}
    measures = {x for x in ran if x.startswith("measure/")}
    assert measures == {"measure/segment/s.s04", "measure/piece@review/s.s04"}
    assert {"qc@master", "qc@review"} <= ran


def _piece(folder: Path, colours: list[tuple[str, int]]) -> Path:
    """An H.264 piece at 24 fps: runs of solid colour, (colour, frames) each,
    made as a render makes one, with QC's detectors on the frames it encodes."""
    folder.mkdir(parents=True)
    inputs, chains = [], []
    for index, (colour, frames) in enumerate(colours):
        inputs += ["-f", "lavfi", "-i", f"color={colour}:s=160x90:r=24:d={frames / 24}"]
        chains.append(f"[{index}:v]")
    # Frame N at N/24 s (lavfi's runs of a frame or two meet at rounded times).
    joined = f"concat=n={len(colours)}:v=1,setpts=N/24/TB"
    graph = "".join(chains) + f"{joined},split[v][m];[m]{detector_chain()}[d]"
    args = ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-bf", "0"]
    outputs = [str(folder / "piece.mp4"), "-map", "[d]", "-f", "null", "-"]
    command = [str(ffmpeg_exe()), "-v", "error", *inputs, *args, *outputs]
    subprocess.run(command, check=True, cwd=folder)
    return folder


@pytest.mark.parametrize("decode", [True, False])
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
    tmp_path: Path, colours: list[tuple[str, int]], black: list[list[float]], decode: bool
) -> None:
    folder = _piece(tmp_path / "piece", colours)
    if decode:
        (folder / LOG).unlink()  # a decode measures without the render's log
    run_measure_piece(folder, {"fps": [24, 1], "decode": decode})
    measured = json.loads((folder / "piece.json").read_text())
    assert [[round(a, 3), round(b, 3)] for a, b in measured["black"]] == black
    assert measured["frames"] == 24
    assert measured["frames_decoded"] == (24 if decode else None)
    assert measured["measured"] == ("decoded" if decode else "rendered")


def test_a_log_that_does_not_cover_the_piece_is_not_trusted(tmp_path: Path) -> None:
    """A render's log that saw fewer frames than the piece holds (as if a
    frame-rate step had dropped or repeated some) is replaced by a decode."""
    folder = _piece(tmp_path / "piece", [("red", 22), ("black", 2)])
    log = folder / LOG
    lines = log.read_text().splitlines(keepends=True)
    seen = [i for i, line in enumerate(lines) if line.startswith("reel.seen=")]
    log.write_text("".join(line for i, line in enumerate(lines) if i != seen[-1]))
    run_measure_piece(folder, {"fps": [24, 1], "decode": False})
    measured = json.loads((folder / "piece.json").read_text())
    assert measured["measured"] == "decoded" and measured["frames_decoded"] == 24
    assert [[round(a, 3), round(b, 3)] for a, b in measured["black"]] == [[0.917, 1.0]]


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
    assert pieces["decoded"] == "pieces as rendered"
    assert len(pieces["black"]) == len(whole["black"]) == 1
    assert pieces["black"] == whole["black"]
