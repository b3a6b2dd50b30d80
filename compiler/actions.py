"""Actions: the nodes of the target graph.

An action has a kind, canonical parameters, named inputs and declared
outputs. How it runs belongs to its kind (``reel.backends.registry``): the
action holds only data, so it can be keyed, shown, emitted as a script and
sent to another machine. Its key is xxh3-128 over the kind, the parameters,
the *digests* of its inputs, the toolchain's digest and the kind's version
(its own source, see ``registry``): never paths, mtimes or wall-clock time.

Lowering makes actions with ``make``, which checks the parameter and file
names against the kind's declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

from reel.backends import registry

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


@dataclass(frozen=True)
class Label:
    """What an input or a parameter of an action is, in the words of the
    blueprint (``the title of shot pour.s02``) and where it is written
    (``scenes/act2.episode:7``), for `--explain`. Labels are never part of a
    key: relabelling changes no cache entry."""

    what: str
    where: str | None = None

    def said(self, verb: str = "changed", detail: str = "") -> str:
        """``the title of shot pour.s02 changed (position; scenes/act2.episode:7)``"""
        notes = "; ".join(n for n in (detail, self.where) if n)
        return f"{self.what} {verb}" + (f" ({notes})" if notes else "")


def where(span: Any) -> str | None:
    """A statement's ``file:line``, as labels show it (None without a span)."""
    return f"{span.file.display}:{span.line}" if span is not None else None


@dataclass
class Action:
    id: str  # the label a user can type: segment/cold_open.s01
    kind: str  # a name in reel.backends.registry
    params: dict[str, Any]
    inputs: dict[str, Input]  # sandbox file name -> where it comes from
    outputs: tuple[str, ...]
    origin: str | None = None  # the .episode statement it came from, for messages
    scene: str | None = None
    # Hermetic: the same bytes on every machine, so a result may be shared (the
    # remote cache) as well as verified. Deterministic: the same bytes every run
    # on this machine, so `reel verify` compares it. A Piper line is deterministic
    # but not hermetic (onnxruntime picks kernels by CPU); a VideoToolbox encode
    # is neither.
    hermetic: bool = True
    deterministic: bool = True
    # Hardware it needs (Dask resource tags, e.g. "videotoolbox"): a distributed
    # build sends it only to a worker that offers them. Never keyed.
    resources: tuple[str, ...] = ()
    description: str = ""
    # Input names, parameter names and list elements (``overlays[0]``) in the user's
    # words, for --explain. Not compared and never keyed.
    labels: dict[str, Label] = field(default_factory=dict, compare=False, repr=False)

    @property
    def toolchain(self) -> bool:
        """Keyed on the ffmpeg binary's digest."""
        return registry.get(self.kind).toolchain

    @property
    def links_inputs(self) -> bool:
        """Its sandbox links its inputs to the cache's blobs (see Kind)."""
        return registry.get(self.kind).links_inputs

    @property
    def in_process(self) -> bool:
        """It runs Python in the build's own process (numpy, PyAV), not a command."""
        return registry.get(self.kind).run is not None

    @property
    def version(self) -> str:
        return registry.version(self.kind)

    def execute(self, sandbox: Path) -> None:
        """Produce the outputs in ``sandbox``, where the inputs already are."""
        registry.get(self.kind).execute(sandbox, self.params)

    def key(self, input_digests: dict[str, str], toolchain_digest: str | None) -> str:
        return hash_value(
            {
                "kind": self.kind,
                "params": self.params,
                "inputs": dict(sorted(input_digests.items())),
                "toolchain": toolchain_digest if self.toolchain else None,
                "backend": self.version,
            }
        )


def make(
    kind: str,
    action_id: str,
    params: dict[str, Any],
    inputs: dict[str, Input] | None = None,
    outputs: tuple[str, ...] | None = None,
    **about: Any,
) -> Action:
    """An action of ``kind``, its names checked against the kind's declaration.
    ``outputs`` defaults to the kind's, when they are plain names."""
    declared = registry.get(kind)
    inputs = inputs or {}
    if outputs is None:
        outputs = tuple(name for name in declared.outputs if not any(c in name for c in "*?["))
    declared.check(action_id, params, list(inputs), list(outputs))
    return Action(action_id, kind, params, inputs, outputs, **about)


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

    def repeatable(self, action_id: str) -> bool:
        """Its output is the same every run on this machine: it and everything it
        reads from are deterministic (what `reel verify` can compare)."""
        chain = {action_id, *self.ancestors(action_id)}
        return all(self.actions[a].deterministic for a in chain)

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
