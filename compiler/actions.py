"""Actions: the nodes of the target graph.

An action has a kind, canonical parameters, named inputs and declared
outputs, and a ``run`` function that produces the outputs inside a sandbox
directory, using only relative file names. Its key is xxh3-128 over the kind,
the parameters, the *digests* of its inputs, the toolchain's digest and the
backend version: never paths, mtimes or wall-clock time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

from .hashing import hash_bytes, hash_value


@dataclass(frozen=True)
class SourceInput:
    """A file of the project (an asset, a font). Only its digest enters the key."""

    path: Path


@dataclass(frozen=True)
class ActionInput:
    """An output of another action."""

    action: str
    output: str


@dataclass(frozen=True)
class BlobInput:
    """Bytes made during lowering (a text file for drawtext, a concat list)."""

    data: bytes

    @property
    def digest(self) -> str:
        return hash_bytes(self.data)


Input = SourceInput | ActionInput | BlobInput


@dataclass
class Action:
    id: str  # the label a user can type: segment/cold_open.s01
    kind: str
    params: dict[str, Any]
    inputs: dict[str, Input]  # sandbox file name -> where it comes from
    outputs: tuple[str, ...]
    # How it runs: ``commands`` for an action that is only ffmpeg invocations
    # (argument lists as data, so --emit-commands writes exactly what runs);
    # ``run``, a backend function called in process, for everything else.
    run: Callable[[Path, dict[str, Any]], None] | None = field(
        default=None, repr=False, compare=False
    )
    commands: Callable[[dict[str, Any]], list[list[str]]] | None = field(
        default=None, repr=False, compare=False
    )
    origin: str | None = None  # the .episode statement it came from, for messages
    scene: str | None = None
    toolchain: bool = True  # keyed on the ffmpeg digest
    hermetic: bool = True  # bit-reproducible: may be shared and verified
    description: str = ""

    def __post_init__(self) -> None:
        if (self.run is None) == (self.commands is None):  # pragma: no cover - lowering bug
            raise ValueError(f"{self.id}: give exactly one of run and commands")

    def execute(self, sandbox: Path) -> None:
        """Produce the outputs in ``sandbox``, where the inputs already are."""
        if self.commands is not None:
            from reel.backends.ffmpeg.toolchain import run_commands

            run_commands(self.commands(self.params), sandbox)
        elif self.run is not None:
            self.run(sandbox, self.params)

    def key(
        self, input_digests: dict[str, str], toolchain_digest: str | None, backend_version: str
    ) -> str:
        return hash_value(
            {
                "kind": self.kind,
                "params": self.params,
                "inputs": dict(sorted(input_digests.items())),
                "toolchain": toolchain_digest if self.toolchain else None,
                "backend": backend_version,
            }
        )


@dataclass
class ActionGraph:
    """The DAG of actions as plain mappings.

    Builds walk this directly: importing networkx costs about 120 ms, a
    quarter of the no-op build budget. ``to_networkx`` gives the same graph
    to `reel query` and `reel graph`.
    """

    actions: dict[str, Action]
    preds: dict[str, tuple[str, ...]]

    def predecessors(self, action_id: str) -> tuple[str, ...]:
        return self.preds[action_id]

    def ancestors(self, action_id: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.preds[action_id])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(self.preds[node])
        return seen

    def needed(self, targets: set[str]) -> list[str]:
        """The targets and everything they depend on, in dependency order."""
        wanted = set(targets)
        for target in targets:
            wanted |= self.ancestors(target)
        return self.order(wanted)

    def reproducible(self, action_id: str) -> bool:
        """Its output is the same on every machine: it and everything it reads from
        are hermetic. (A stream copy of a VideoToolbox encode is hermetic as an
        action, but its bytes are no more reproducible than its input's.)"""
        return all(self.actions[a].hermetic for a in {action_id, *self.ancestors(action_id)})

    def order(self, wanted: set[str]) -> list[str]:
        """``wanted`` in dependency order, ties broken by name (deterministic)."""
        import heapq

        remaining = {n: sum(1 for p in self.preds[n] if p in wanted) for n in wanted}
        users: dict[str, list[str]] = {n: [] for n in wanted}
        for node in wanted:
            for pred in self.preds[node]:
                if pred in wanted:
                    users[pred].append(node)
        ready = [n for n, count in remaining.items() if count == 0]
        heapq.heapify(ready)
        out = []
        while ready:
            node = heapq.heappop(ready)
            out.append(node)
            for user in users[node]:
                remaining[user] -= 1
                if remaining[user] == 0:
                    heapq.heappush(ready, user)
        if len(out) != len(wanted):  # pragma: no cover - lowering bug
            raise ValueError("the action graph has a cycle")
        return out

    def to_networkx(self) -> nx.DiGraph:
        import networkx as nx

        graph = nx.DiGraph()
        for action_id, action in self.actions.items():
            graph.add_node(action_id, action=action)
        for action_id, preds in self.preds.items():
            for pred in preds:
                graph.add_edge(pred, action_id)
        if not nx.is_directed_acyclic_graph(graph):  # pragma: no cover - lowering bug
            raise ValueError("the action graph has a cycle")
        return graph


def build_graph(actions: list[Action]) -> ActionGraph:
    """Edges from each producer to each consumer; unknown producers are a bug."""
    by_id = {action.id: action for action in actions}
    preds: dict[str, tuple[str, ...]] = {}
    for action in actions:
        needs = []
        for source in action.inputs.values():
            if isinstance(source, ActionInput):
                if source.action not in by_id:
                    raise KeyError(f"{action.id} needs {source.action}, which is not in the graph")
                needs.append(source.action)
        preds[action.id] = tuple(sorted(set(needs)))
    graph = ActionGraph(by_id, preds)
    graph.order(set(by_id))  # raises on a cycle
    return graph
