"""Director edits are text edits through the AST's spans: the rest of the
file stays as written, and undo restores it byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reel.director import contract as c
from reel.director.edits import EditError, edit_for
from reel.director.journal import Entry, Journal, UndoError, digest, read_text, write_text

BASE = (
    "# my cut: keep this comment\r\n"  # a CRLF line, kept as it is
    'load "std/deliverables"\n'
    "\n"
    "episode cut {\n"
    '  title "Dailies cut"   # the working title\n'
    "  format 320x180 @ 24fps\n"
    "}\n"
    "\n"
    'cast { character speaker "Speaker" }\n'
    "\n"
    "scene s01 {\n"
    "  # the kettle\n"
    "  shot medium 2s {\n"
    '    plate video "dailies/A001_C001.mov" in 0.5s out 2.5s\n'
    "  }\n"
    "}\n"
    "\n"
    "deliver master = youtube_1080p { resolution 320x180 }\n"
)

CLIPS = ["dailies/A001_C001.mov", "dailies/A001_C002.mov"]
scenes = st.sampled_from(["s01", "s02", "s03"])
positions = st.integers(1, 3)
times = st.tuples(st.floats(0, 2, allow_nan=False), st.floats(0.1, 2, allow_nan=False)).map(
    lambda t: (round(t[0], 3), round(t[0] + t[1], 3))
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
) | st.sampled_from(['say "hi"', "back\\slash", "tab\there"])

actions = st.one_of(
    st.builds(c.AddScene, scene=scenes),
    st.builds(
        lambda s, clip, t, text: c.AddShot(
            scene=s,
            clip=clip,
            in_s=t[0],
            out_s=t[1],
            speaker="speaker" if text else None,
            text=text,
        ),
        scenes,
        st.sampled_from(CLIPS),
        times,
        st.none() | texts,
    ),
    st.builds(
        lambda s, p, t: c.Trim(scene=s, shot=p, in_s=t[0], out_s=t[1]), scenes, positions, times
    ),
    st.builds(
        lambda s, p, clip, t: c.ChooseTake(scene=s, shot=p, clip=clip, in_s=t[0], out_s=t[1]),
        scenes,
        positions,
        st.sampled_from(CLIPS),
        times,
    ),
    st.builds(
        lambda s, o: c.Reorder(scene=s, order=o), scenes, st.permutations([1, 2]) | st.just([1])
    ),
    st.builds(
        lambda s, p, k: c.SetTransition(scene=s, shot=p, transition=k),
        scenes,
        positions,
        st.sampled_from(["cut", "crossfade", "dip_to_black"]),
    ),
    st.builds(lambda s, p, t: c.AddTitle(scene=s, shot=p, text=t), scenes, positions, texts),
    st.builds(lambda s, p, t: c.FixCaption(scene=s, shot=p, text=t), scenes, positions, texts),
    st.builds(c.SetMusic, path=st.just("music/bed.flac")),
    st.builds(
        lambda n: c.AddDeliverable(name=n, preset="review_proxy"),
        st.sampled_from(["review", "proxy"]),
    ),
    st.builds(lambda s, p: c.RemoveShot(scene=s, shot=p), scenes, positions),
    st.builds(c.RemoveScene, scene=scenes),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=12))
def test_undo_after_any_number_of_edits_restores_the_blueprint_byte_for_byte(plan) -> None:
    text, applied = BASE, []
    for action in plan:
        try:
            edit = edit_for(text, action)
        except EditError:
            continue  # an action this blueprint refuses (a missing scene, a duplicate id)
        after = edit.apply(text)
        edit_for(after, c.AddDeliverable(name="zz_parses", preset="x"))  # still parses
        applied.append((edit, text))
        text = after
    for edit, before in reversed(applied):
        text = edit.inverse().apply(text)
        assert text == before
    assert text.encode() == BASE.encode()


def test_an_edit_keeps_comments_and_layout_outside_its_region() -> None:
    edit = edit_for(BASE, c.Trim(scene="s01", shot=1, in_s=0.25, out_s=1.75))
    after = edit.apply(BASE)
    assert (
        after.replace("0.25s out 1.75s", "0.5s out 2.5s").replace("medium 1.5s", "medium 2s")
        == BASE
    )
    assert "# the kettle" in after and "\r\n" in after


def test_a_shot_is_added_with_its_camera_line_quoted_as_the_grammar_reads_it() -> None:
    action = c.AddShot(
        scene="s01",
        clip="dailies/A001_C002.mov",
        in_s=0.4,
        out_s=3.1,
        speaker="speaker",
        text='He said "go" \\ now',
    )
    after = edit_for(BASE, action).apply(BASE)
    assert '    say speaker "He said \\"go\\" \\\\ now" from camera\n' in after
    assert "  shot medium 2.7s {\n" in after


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (c.AddScene(scene="s01"), "already a scene s01"),
        (c.Trim(scene="s09", shot=1, in_s=0, out_s=1), "there is no scene s09"),
        (c.Trim(scene="s01", shot=4, in_s=0, out_s=1), "has 1 shot(s), not a shot 4"),
        (c.Reorder(scene="s01", order=[2, 1]), "must name each of the 1 shot(s)"),
        (c.FixCaption(scene="s01", shot=1, text="x"), "no line to correct"),
    ],
)
def test_an_action_the_blueprint_cannot_take_says_why(action, message) -> None:
    with pytest.raises(EditError, match=message.replace("(", r"\(").replace(")", r"\)")):
        edit_for(BASE, action)


def _journalled(tmp_path: Path, plan: list) -> tuple[Path, Journal]:
    path = tmp_path / "cut.episode"
    write_text(path, BASE)
    journal = Journal(tmp_path / "direct")
    entries, text = [], BASE
    for i, action in enumerate(plan):
        edit = edit_for(text, action)
        after = edit.apply(text)
        entries.append(
            Entry(
                "run-0001",
                i,
                action.kind,
                action.summary(),
                "cut.episode",
                edit,
                digest(text),
                digest(after),
            )
        )
        text = after
    write_text(path, text)
    journal.record(entries)
    return path, journal


def test_undo_n_through_the_journal_restores_the_file(tmp_path: Path) -> None:
    plan = [
        c.AddScene(scene="s02"),
        c.AddTitle(scene="s01", shot=1, text="Morning"),
        c.SetMusic(path="bed.flac"),
    ]
    path, journal = _journalled(tmp_path, plan)
    journal.undo(tmp_path, 1)
    assert "music" not in read_text(path)
    assert len(journal.entries()) == 2
    journal.undo(tmp_path, 2)
    assert path.read_bytes() == BASE.encode()
    assert journal.entries() == []


def test_undo_refuses_when_a_person_edited_the_file_since(tmp_path: Path) -> None:
    path, journal = _journalled(tmp_path, [c.AddScene(scene="s02")])
    path.write_bytes(path.read_bytes() + b"# mine\n")
    edited = path.read_bytes()
    with pytest.raises(UndoError, match="changed since"):
        journal.undo(tmp_path, 1)
    assert path.read_bytes() == edited  # nothing was lost
    assert len(journal.entries()) == 1
