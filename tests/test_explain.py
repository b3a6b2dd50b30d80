"""Answers in the user's words: `--explain` names the shot, the field and the
line that writes it; labels never change a key; progress counts what is left to
run; a no-op keeps the last real run's summary and says so in one line; an edit
lists only the files it changed; `reel check` writes only to the cache."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

from reel.backends import registry
from reel.backends.kind import Kind
from reel.compiler.actions import Action, ActionInput, build_graph
from reel.compiler.executor import Executor, progress_printer
from reel.compiler.session import Session
from reel.compiler.store import Store
from reel.lang.diagnostics import Diagnostics

from helpers import reel
from test_incremental import BASE, tiny_project


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def _explained(stdout: str) -> dict[str, str]:
    return dict(
        line.removeprefix("explain: ").split(": ", 1)
        for line in stdout.splitlines()
        if line.startswith("explain: ")
    )


def _build(project: Path, tmp_path: Path, *extra: str):
    args = ("--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "-j", "2")
    proc = reel("build", str(project), *args, *extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_explain_names_the_shot_the_field_and_where_it_is_written(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    entry = project / "tiny.episode"
    _build(project, tmp_path)
    shown = "tiny/tiny.episode"  # as diagnostics show it: relative to the folder reel ran in

    # A title.
    entry.write_text(entry.read_text().replace('title "One"', 'title "Uno"'))
    why = _explained(_build(project, tmp_path, "--explain").stdout)
    at = _line_of(entry, 'title "Uno"')
    assert why["segment/one.s01"] == f"the title of shot one.s01 changed ({shown}:{at})"
    assert why["mux"] == "segment/one.s01 changed"  # the action it reads, by the name a user types

    # A line of dialogue.
    entry.write_text(entry.read_text().replace("Hello there.", "Hello over there."))
    why = _explained(_build(project, tmp_path, "--explain").stdout)
    at = _line_of(entry, "Hello over there.")
    assert why["voice/one.s02.l1"] == (
        f"what ann says in line 1 of shot one.s02 changed ({shown}:{at})"
    )
    assert "voice/one.s02.l1 changed" in why["mix"]
    assert f"the caption of line one.s02.l1 changed (text; {shown}:{at})" in why["captions"]

    # A shot's length.
    entry.write_text(
        entry.read_text().replace("shot wide 1s { plate checker", "shot wide 2s { plate checker")
    )
    why = _explained(_build(project, tmp_path, "--explain").stdout)
    at = _line_of(entry, "shot wide 2s { plate checker")
    assert why["segment/two.s01"] == f"the length of shot two.s01 changed ({shown}:{at})"
    assert "the episode's length changed" in why["mix"]
    assert not any("input '" in reason or "parameter '" in reason for reason in why.values()), why


def test_labels_are_never_keyed(tmp_path: Path) -> None:
    """A label is for messages only: the key of every action is the same without
    its labels, and an action differing only in labels is the same action."""
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    store = Store(tmp_path / "cache")
    session = Session(project, store, diags=Diagnostics())
    actions = session.lowered.actions
    segment = next(a for a in actions if a.id == "segment/one.s01")
    assert segment.labels["text-0.txt"].what == "the title of shot one.s01"
    assert segment.labels["frames"].what == "the length of shot one.s01"
    for action in actions:
        digests = {name: f"xxh3-128:{name}" for name in action.inputs}
        bare = replace(action, labels={})
        assert bare == action
        assert bare.key(digests, "tool") == action.key(digests, "tool")


# ---- progress ---------------------------------------------------------------------------


class Params(TypedDict):
    label: str


def _make(sandbox: Path, params: dict) -> None:
    (sandbox / "out.bin").write_text(params["label"])


def _copy(sandbox: Path, params: dict) -> None:
    (sandbox / "out.bin").write_text((sandbox / "in.bin").read_text() + params["label"])


MAKE = registry.register(Kind("test_explain_make", Params, (), ("out.bin",), run=_make))
COPY = registry.register(Kind("test_explain_copy", Params, ("in.bin",), ("out.bin",), run=_copy))


def _graph(edited: str = "") -> list[Action]:
    """Five independent actions and a chain of three after them: ``edited``
    changes the parameter of one."""
    actions = [
        Action(f"a{i}", MAKE.name, {"label": f"a{i}{edited if i == 2 else ''}"}, {}, ("out.bin",))
        for i in range(1, 6)
    ]
    actions.append(Action("z1", MAKE.name, {"label": f"z1{edited}"}, {}, ("out.bin",)))
    for i in (2, 3):
        inputs = {"in.bin": ActionInput(f"z{i - 1}", "out.bin")}
        actions.append(Action(f"z{i}", COPY.name, {"label": f"z{i}"}, inputs, ("out.bin",)))
    return actions


def _progress(store: Store, actions: list[Action]) -> list[tuple[int, int]]:
    stream = io.StringIO()
    targets = {a.id for a in actions}
    executor = Executor(
        store,
        build_graph(actions),
        jobs=2,
        keep_going=False,
        toolchain_digest=None,
        on_event=progress_printer(len(targets), stream),
    )
    assert not executor.run(targets).failures
    return [(int(n), int(t)) for n, t in re.findall(r"^\[(\d+)/(\d+)\]", stream.getvalue(), re.M)]


def test_progress_counts_what_is_left_to_run(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    assert _progress(store, _graph()) == [(n, 8) for n in range(1, 9)]
    # a2 and the chain z1 → z2 → z3 run again; the other four are cache hits, known
    # before anything runs: the counter goes 1..4 of 4, never skipping a number.
    assert _progress(store, _graph("+")) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert _progress(store, _graph("+")) == []  # nothing left to run: nothing printed


# ---- the no-op, delivered files, reel check ---------------------------------------------


def test_a_no_op_keeps_the_summary_and_an_edit_names_only_what_changed(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    entry = project / "tiny.episode"
    first = _build(project, tmp_path)
    delivered = [line for line in first.stdout.splitlines() if line.startswith("delivered ")]
    assert len(delivered) == 4  # a first build: every file is new
    summary = tmp_path / "out" / "tiny" / "run_summary.json"
    real = summary.read_bytes()
    assert json.loads(real)["actions"]["ran"] > 0

    noop = _build(project, tmp_path)
    assert noop.stdout.splitlines() == [noop.stdout.strip()]  # one line
    assert "up to date: 0 action(s) ran, 17 cached; 4 file(s) in out/tiny unchanged" in noop.stdout
    assert summary.read_bytes() == real  # the real build's figures are kept

    entry.write_text(entry.read_text().replace('title "One"', 'title "Uno"'))
    edited = _build(project, tmp_path)
    lines = edited.stdout.splitlines()
    assert [x for x in lines if x.startswith("delivered ")] == ["delivered out/tiny/master.mp4"]
    assert "unchanged: 3 other file(s) in out/tiny" in lines
    # segment/one.s01, mux, report, and qc@master on the new master
    assert json.loads(summary.read_text())["actions"]["ran"] == 4


def test_check_writes_only_voices_to_the_cache(tmp_path: Path) -> None:
    """`reel check` needs each line's length (audio is the clock), so it renders the
    voices into the cache, where the next build takes them; it writes no output."""
    project = tiny_project(tmp_path / "tiny", dict(BASE))
    cache = tmp_path / "cache"
    before = {p for p in tmp_path.rglob("*")}
    checked = reel("check", str(project), "--cache-dir", str(cache), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    written = {p for p in tmp_path.rglob("*")} - before
    assert written and all(cache in p.parents or p == cache for p in written), sorted(written)
    assert not (tmp_path / "reel-out").exists()
    built = _build(project, tmp_path, "--explain")
    assert "voice/" not in "".join(_explained(built.stdout))  # the check's voices were reused
    summary = json.loads((tmp_path / "out" / "tiny" / "run_summary.json").read_text())
    assert summary["voices"] == {"ran": [], "cached": 1}


def test_the_test_command_keeps_its_summary_line() -> None:
    """`python -m pytest -q` must still end with "N passed": pytest's own options
    may not add a -q of their own (two hide the summary)."""
    import tomllib

    from helpers import REPO

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    options = config["ini_options"]["addopts"].split()
    assert not any(re.fullmatch(r"-q+|--quiet", o) for o in options), options
