"""Imports run one way: lang and backends know nothing of the compiler, the
compiler knows nothing of the CLI, and no module imports itself round a cycle.

Read by grimp from the source (every import statement, those inside
functions included; imports only for type checkers excluded), so a deferred
import cannot hide a cycle.
"""

from __future__ import annotations

import grimp
import networkx as nx
import pytest

# (importer, imported): the importer may not import the imported, at any depth.
FORBIDDEN = [
    ("reel.lang", "reel.compiler"),
    ("reel.lang", "reel.backends"),
    ("reel.lang", "reel.cli"),
    ("reel.backends", "reel.compiler"),
    ("reel.backends", "reel.lang"),
    ("reel.backends", "reel.cli"),
    ("reel.compiler", "reel.cli"),
    # Director Mode writes blueprints and asks the compiler to build them; nothing
    # below it knows it exists, and it reaches the CLI only through `register`.
    ("reel.lang", "reel.director"),
    ("reel.backends", "reel.director"),
    ("reel.compiler", "reel.director"),
    ("reel.director", "reel.cli"),
    # The build server runs the CLI in its forks; the CLI asks it only through
    # `control` (start, stop, status), and nothing below the CLI knows it.
    ("reel.lang", "reel.server"),
    ("reel.backends", "reel.server"),
    ("reel.compiler", "reel.server"),
    ("reel.director", "reel.server"),
    ("reel.server.protocol", "reel.cli"),
    ("reel.server.control", "reel.cli"),
    ("reel.server.child", "reel.cli"),
    ("reel.server.daemon", "reel.cli"),
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("reel", exclude_type_checking_imports=True)


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_layers_import_one_way(graph: grimp.ImportGraph, importer: str, imported: str) -> None:
    chains = graph.find_shortest_chains(importer=importer, imported=imported)
    assert not chains, f"{importer} must not import {imported}: " + "; ".join(
        " -> ".join(chain) for chain in sorted(chains)
    )


def test_no_module_imports_itself_round_a_cycle(graph: grimp.ImportGraph) -> None:
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    cycles = sorted(sorted(cycle) for cycle in nx.simple_cycles(edges))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_a_planted_cycle_is_found(tmp_path, monkeypatch) -> None:
    """The check can fail: two modules importing each other are reported."""
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from . import b\n")
    (package / "b.py").write_text("from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    planted = grimp.build_graph("planted", cache_dir=None)
    edges = nx.DiGraph(
        (m, i) for m in planted.modules for i in planted.find_modules_directly_imported_by(m)
    )
    assert sorted(map(sorted, nx.simple_cycles(edges))) == [["planted.a", "planted.b"]]
