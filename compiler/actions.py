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
from typing import Any

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
    run: Callable[[Path, dict[str, Any]], None] = field(repr=False, compare=False)
    origin: str | None = None  # the .episode statement it came from, for messages
    scene: str | None = None
    toolchain: bool = True  # keyed on the ffmpeg digest
    hermetic: bool = True  # bit-reproducible: may be shared and verified
    description: str = ""

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


def build_graph(actions: list[Action]) -> nx.DiGraph:
    """The DAG of actions: an edge from each producer to each consumer."""
    graph = nx.DiGraph()
    for action in actions:
        graph.add_node(action.id, action=action)
    for action in actions:
        for source in action.inputs.values():
            if isinstance(source, ActionInput):
                if source.action not in graph:
                    raise KeyError(f"{action.id} needs {source.action}, which is not in the graph")
                graph.add_edge(source.action, action.id)
    if not nx.is_directed_acyclic_graph(graph):  # pragma: no cover - lowering bug
        raise ValueError("the action graph has a cycle")
    return graph
