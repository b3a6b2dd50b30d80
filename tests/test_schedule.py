"""The executor starts the head of the longest chain of remaining work first
(critical path), costed by each action's last recorded run, else a guess."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from reel.backends import registry
from reel.backends.kind import Kind
from reel.compiler.actions import Action, ActionInput, build_graph
from reel.compiler.executor import Executor
from reel.compiler.store import Store


class Label(TypedDict):
    label: str


def _make(sandbox: Path, params: dict) -> None:
    (sandbox / "out.bin").write_text(params["label"])


def _copy(sandbox: Path, params: dict) -> None:
    (sandbox / "out.bin").write_text((sandbox / "in.bin").read_text() + params["label"])


MAKE = registry.register(Kind("test_sched_make", Label, (), ("out.bin",), run=_make))
COPY = registry.register(Kind("test_sched_copy", Label, ("in.bin",), ("out.bin",), run=_copy))


def _graph() -> tuple[list[Action], set[str]]:
    """Three independent actions named to sort first, and a chain of three named
    to sort last: dependency order alone would start the chain last."""
    actions = [Action(f"a{i}", MAKE.name, {"label": f"a{i}"}, {}, ("out.bin",)) for i in (1, 2, 3)]
    actions.append(Action("z1", MAKE.name, {"label": "z1"}, {}, ("out.bin",)))
    for i in (2, 3):
        inputs = {"in.bin": ActionInput(f"z{i - 1}", "out.bin")}
        actions.append(Action(f"z{i}", COPY.name, {"label": f"z{i}"}, inputs, ("out.bin",)))
    return actions, {"a1", "a2", "a3", "z3"}


def _started(store: Store) -> list[str]:
    actions, targets = _graph()
    order: list[str] = []

    def on_event(kind: str, action: Action, _result: object) -> None:
        if kind == "start":
            order.append(action.id)

    executor = Executor(
        store,
        build_graph(actions),
        jobs=1,
        keep_going=False,
        toolchain_digest=None,
        on_event=on_event,
    )
    report = executor.run(targets)
    assert not report.failures
    return order


def test_the_longest_chain_starts_first(tmp_path: Path) -> None:
    order = _started(Store(tmp_path / "cache"))
    # Guessed alike, z1 heads three actions' work and z2 two; z3's one ties
    # with each a, and ties keep dependency order.
    assert order == ["z1", "z2", "a1", "a2", "a3", "z3"], order


def test_recorded_seconds_outweigh_the_guess(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    # As the last run left them: a2 took 10 s, the rest next to nothing.
    for action_id, seconds in (("a1", 0.01), ("a2", 10.0), ("a3", 0.01)):
        store.record_run(action_id, {"key": "old", "params": {}, "inputs": {}, "seconds": seconds})
    for action_id in ("z1", "z2", "z3"):
        store.record_run(action_id, {"key": "old", "params": {}, "inputs": {}, "seconds": 1.0})
    order = _started(store)
    assert order[0] == "a2", order
    assert order[1:4] == ["z1", "z2", "z3"], order
    # Each run records what it took, for the next schedule.
    assert isinstance(store.last_run("a2")["seconds"], float)  # type: ignore[index]


class TwoInputs(TypedDict):
    label: str


def _join(sandbox: Path, params: dict) -> None:
    (sandbox / "out.bin").write_text((sandbox / "a.bin").read_text() + params["label"])


JOIN = registry.register(
    Kind("test_sched_join", TwoInputs, ("a.bin", "b.bin"), ("out.bin",), run=_join)
)


def test_a_never_run_sound_chain_is_guessed_by_its_length(tmp_path: Path) -> None:
    """A first build: three pictures of 72 frames, and a sound chain (a
    10-minute mix, then its loudness pass, which has no length of its own).
    Guessed by its length, the sound starts first instead of running alone
    after every picture; the mux, which reads pictures too (through a piece
    made from one), is not guessed by the sound it carries."""
    minutes = 10 * 60 * 48000
    actions = [
        Action(f"a{i}", MAKE.name, {"label": f"a{i}", "frames": 72}, {}, ("out.bin",))
        for i in (1, 2, 3)
    ]
    actions.append(Action("z1", MAKE.name, {"label": "mix", "samples": minutes}, {}, ("out.bin",)))
    loudness_in = {"in.bin": ActionInput("z1", "out.bin")}
    actions.append(Action("z2", COPY.name, {"label": "loudness"}, loudness_in, ("out.bin",)))
    # A piece made from a1 has no frames of its own (as a finished shot, ready
    # to join): the join reads pictures through it all the same.
    piece_in = {"in.bin": ActionInput("a1", "out.bin")}
    actions.append(Action("p1", COPY.name, {"label": "piece"}, piece_in, ("out.bin",)))
    mux_in = {"a.bin": ActionInput("p1", "out.bin"), "b.bin": ActionInput("z2", "out.bin")}
    actions.append(Action("z3", JOIN.name, {"label": "mux"}, mux_in, ("out.bin",)))
    order: list[str] = []
    executor = Executor(
        Store(tmp_path / "cache"),
        build_graph(actions),
        jobs=1,
        keep_going=False,
        toolchain_digest=None,
        on_event=lambda kind, action, _r: order.append(action.id) if kind == "start" else None,
    )
    assert executor.expected_seconds("z2") == executor.expected_seconds("z1") > 10
    assert executor.expected_seconds("z3") < 1 < executor.expected_seconds("a1") < 3
    assert not executor.run({"a2", "a3", "z3"}).failures
    assert order[:2] == ["z1", "z2"], order
