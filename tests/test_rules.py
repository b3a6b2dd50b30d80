"""Rules and command lines, checked without running ffmpeg: what an edit
changes in the lowered graph, how per-shot pieces are wired, how burned
captions are cut per shot."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2

from reel.backends.captions import shot_file
from reel.backends.ffmpeg.deliver import finish_shot_commands, timecode
from reel.compiler.actions import ActionInput
from reel.compiler.session import Session
from reel.compiler.store import Store

from helpers import write_tree

# No dialogue: planning runs no ffmpeg (no voices), so lowering is pure Python.
EPISODE = """
load "std/deliverables"
episode r {{ title "R" format 160x90 @ 24fps }}
text_style big {{ size 120 color "#ffffff" position center }}
scene one {{
  shot wide {first} {{ plate solid "#202020" title "{title}" style big }}
  shot wide 8f {{ plate gradient "#000000" "#ffffff" }}
}}
scene two {{
  shot wide 8f {{ plate checker "#ff0000" "#00ff00" title "TWO" style big }}
}}
deliver master = youtube_1080p {{ resolution 160x90 }}
deliver shorts = shorts_vertical {{ resolution 90x160 }}
deliver review = review_proxy {{ resolution 160x90 }}
deliver edit = resolve_timeline
"""


def lowered(root: Path, **fields: str) -> dict:
    values = {"first": "8f", "title": "ONE", **fields}
    write_tree(root, {"r.episode": EPISODE.format(**values)})
    actions = Session(root / "r.episode", Store(root / "cache")).lowered.actions
    return {
        a.id: (
            a.kind,
            json.dumps(a.params, sort_keys=True),
            sorted((n, repr(i)) for n, i in a.inputs.items() if not isinstance(i, ActionInput)),
        )
        for a in actions
    }


def changed(before: dict, after: dict) -> list[str]:
    """Actions whose own description (kind, parameters, file inputs) differs."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def test_every_deliverable_is_per_shot_pieces_joined_by_stream_copy(tmp_path: Path) -> None:
    write_tree(tmp_path, {"r.episode": EPISODE.format(first="8f", title="ONE")})
    session = Session(tmp_path / "r.episode", Store(tmp_path / "cache"))
    actions = session.lowered.by_id()
    shots = ["one.s01", "one.s02", "two.s01"]

    def pieces(joined_id: str) -> list[str]:
        joined = actions[joined_id]
        assert joined.kind == "join"
        return [v.action for k, v in sorted(joined.inputs.items()) if k.startswith("piece-")]

    # The review proxy draws on the master's segments, shot by shot.
    assert pieces("proxy/review") == [f"piece@review/{s}" for s in shots]
    for shot in shots:
        piece = actions[f"piece@review/{shot}"]
        assert piece.kind == "finish_shot"
        assert piece.inputs["segment.mp4"].action == f"segment/{shot}"
        assert piece.inputs["captions.ass"].output == f"captions-{shot}.ass"
    # The vertical rendition renders each shot once, its captions burned in as it renders.
    assert pieces("rendition/shorts") == [f"segment@shorts/{s}" for s in shots]
    for shot in shots:
        segment = actions[f"segment@shorts/{shot}"]
        assert segment.params["captions"] is True
        assert segment.inputs["captions.ass"].action == "captions@shorts"
        assert segment.inputs["captions.ass"].output == f"captions-{shot}.ass"
    assert not any(a.startswith(("piece@shorts", "tail@shorts")) for a in actions)
    # The master's segments burn nothing.
    assert not any("captions" in actions[f"segment/{s}"].params for s in shots)


def test_a_title_edit_changes_only_its_shot(tmp_path: Path) -> None:
    before = lowered(tmp_path / "a")
    after = lowered(tmp_path / "b", title="UNO")
    # The timeline carries the title as a live title; its clean plate has none.
    assert changed(before, after) == ["segment/one.s01", "segment@shorts/one.s01", "timeline/edit"]


def test_a_length_edit_moves_only_what_shows_the_position(tmp_path: Path) -> None:
    before = lowered(tmp_path / "a")
    after = lowered(tmp_path / "b", first="12f")
    # Segments are position-independent: only the lengthened shot's change. The
    # proxy's burned timecode moves in every later piece; the captions' cut
    # points, the mix's length and the timeline move with the cut.
    assert changed(before, after) == [
        "captions",
        "captions@shorts",
        "mix",
        "piece@review/one.s02",
        "piece@review/two.s01",
        "plate/one.s01",
        "segment/one.s01",
        "segment@shorts/one.s01",
        "timeline/edit",
    ]


def test_finish_shot_burns_its_own_timecode_and_captions() -> None:
    enc = {"codec": "libx264", "preset": "veryfast", "crf": 30, "threads": 2, "gop": 48}
    params = {
        "width": 640,
        "height": 360,
        "fps": [24, 1],
        "encoder": enc,
        "scale": True,
        "label": True,
        "timecode": timecode(24 * 75 + 7, [24, 1]),
        "captions": True,
    }
    (args,) = finish_shot_commands(params)
    graph = args[args.index("-filter_complex") + 1]
    chain, measured = graph.split(";")
    assert "timecode='00\\:01\\:15\\:07'" in chain
    assert chain.index("scale=640:360") < chain.index("textfile=label.txt") < chain.index("ass=")
    # QC's detectors see the very frames encoded: split after the last filter.
    assert chain.endswith("split[piece][qc]") and measured.startswith("[qc]metadata=mode=add")
    assert args[args.index("-i") + 1] == "segment.mp4"
    assert args[args.index("[piece]") + 1 : args.index("piece.mp4")][0] == "-c:v"
    assert timecode(1800, [30000, 1001]) == "00:01:00:00"  # non-drop, nominal 30


def test_a_caption_across_a_cut_is_split_and_timed_from_each_shot() -> None:
    subs = pysubs2.SSAFile()
    subs.append(pysubs2.SSAEvent(start=500, end=1500, text="across"))
    subs.append(pysubs2.SSAEvent(start=1600, end=1900, text="later"))
    first = shot_file(subs, {"id": "a", "start": 0.0, "end": 1.0})
    second = shot_file(subs, {"id": "b", "start": 1.0, "end": 2.0})
    assert [(e.start, e.end, e.text) for e in first] == [(500, 1000, "across")]
    assert [(e.start, e.end, e.text) for e in second] == [(0, 500, "across"), (600, 900, "later")]
