"""Action kinds: one declaration each, names checked, keyed on their own code.

The end-to-end test edits a backend file in a copy of the package and builds
with that copy, as a developer editing Reel does: only the actions of the
kinds that file defines run again.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import pytest

from reel.backends import registry
from reel.backends.kind import Kind, KindMisuse
from reel.compiler.actions import ActionInput, make

from helpers import write_tree

REPO = Path(__file__).resolve().parent.parent
SMALL = """
load "std/deliverables"
episode k {
  title "K"
  format 160x90 @ 24fps
}
cast { character narrator "Narrator" }
text_style big { size 120 bold true color "#ffffff" position center }
scene one {
  shot wide 8f { plate solid "#204080" title "ONE" style big }
  shot wide auto {
    plate gradient "#000000" "#ffffff"
    say narrator "Two words."
    transition crossfade 4f
  }
}
scene two {
  shot wide 8f { plate checker "#ff0000" "#00ff00" title "TWO" style big }
}
deliver master = youtube_1080p { resolution 160x90 }
deliver shorts = shorts_vertical { resolution 90x160 }
deliver review = review_proxy { resolution 160x90 }
deliver pod = podcast_audio
deliver edit = resolve_timeline
"""


def test_every_kind_is_declared_once_with_a_version() -> None:
    kinds = registry.kinds()
    assert {"segment", "concat", "join", "finish_shot", "timeline", "captions"} <= set(kinds)
    for name, kind in kinds.items():
        if kind.module.startswith("reel.backends."):
            assert registry.version(name).startswith(f"{name}/{kind.version}+")


def test_a_kind_whose_bytes_a_library_makes_is_keyed_on_its_installed_version() -> None:
    """The joins mux with PyAV's libavformat, not the pinned ffmpeg binary: a
    machine with another PyAV must not take their outputs from the cache."""
    installed = importlib.metadata.version("av")
    for name in ("join", "concat"):
        assert registry.get(name).libraries == ("av",)
        keyed = registry.version(name).rsplit("+av=", 1)[1]
        assert keyed.split(":")[0] == installed  # and a digest of its wheel's files
    assert "+av=" not in registry.version("segment")


def test_a_librarys_key_is_the_same_on_every_machine_with_the_same_wheel(tmp_path: Path) -> None:
    """Two installs of one wheel differ in what the installer wrote (a
    launcher naming the interpreter's path, INSTALLER) and in bytecode compiled
    there: the key must not; a library file of other bytes must change it."""

    def install(name: str, launcher: str, installer: str, library: str) -> str:
        info = tmp_path / name / "lib-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lib\nVersion: 1.0\n")
        (info / "RECORD").write_text(
            f"lib/__init__.py,sha256=AAAA,10\n"
            f"lib.libs/libavformat.so.62,sha256={library},99\n"
            f"lib/__pycache__/__init__.cpython-311.pyc,,\n"
            f"../../../bin/lib,sha256={launcher},170\n"
            f"lib-1.0.dist-info/INSTALLER,sha256={installer},4\n"
        )
        return registry.installed_files(importlib.metadata.PathDistribution(info))

    here = install("here", "venv-one", "pip", "CyIn")
    assert here.startswith("1.0:")
    assert install("there", "venv-two", "uv", "CyIn") == here
    assert install("rebuilt", "venv-one", "pip", "Zz99") != here


def test_a_misspelt_file_or_parameter_is_a_lowering_error() -> None:
    with pytest.raises(KindMisuse, match=r"undeclared inputs \['audio\.mp4'\]"):
        make(
            "join",
            "mux",
            {},
            {"piece-0001.mp4": ActionInput("s", "segment.mp4"), "audio.mp4": ActionInput("l", "a")},
        )
    with pytest.raises(KindMisuse, match="missing parameters \\['frames'\\]"):
        make("tail_frame", "tail/x", {}, {"segment.mp4": ActionInput("s", "segment.mp4")})
    with pytest.raises(KindMisuse, match="unknown parameters \\['size'\\]"):
        make("podcast", "p", {"chapters": [], "size": 64})


def _copy_package(dest: Path) -> Path:
    """The reel package as files, importable as ``reel`` from ``dest``."""
    package = dest / "reel"
    ignore = shutil.ignore_patterns(".*", "__pycache__", "tests", "examples", "bench", "*.egg-info")
    shutil.copytree(REPO, package, ignore=ignore)
    return package


def _build(package: Path, project: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package.parent)}
    code = "import sys; from reel.cli import main; sys.argv[0] = 'reel'; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "build", "k.episode", "--out", "out", "--cache-dir", "cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((project / "out" / "k" / "run_summary.json").read_text())
    # A no-op keeps the last real run's summary: say so, as the build said it.
    return {**summary, "up_to_date": "up to date" in proc.stdout}


@pytest.mark.slow
def test_editing_a_backend_file_reruns_only_its_kinds(tmp_path: Path) -> None:
    package = _copy_package(tmp_path / "code")
    project = write_tree(tmp_path / "project", {"k.episode": SMALL})
    first = _build(package, project)
    assert first["actions"]["ran"] > 20  # every kind of the episode ran once
    runs = {}
    for file in ("backends/timeline.py", "backends/ffmpeg/deliver.py", "backends/captions.py"):
        source = package / file
        source.write_text(source.read_text() + "\n# an edit that changes nothing it does\n")
        runs[file] = sorted(r["action"] for r in _build(package, project)["ran"])
    assert runs["backends/timeline.py"] == ["timeline/edit"]
    # deliver.py defines finish_shot and podcast: every shot's proxy piece, and
    # the podcast; no segment (the shorts burn their captions as they render),
    # no timeline, no captions.
    assert runs["backends/ffmpeg/deliver.py"] == sorted(
        ["podcast/pod"] + [f"piece@review/{s}" for s in ("one.s01", "one.s02", "two.s01")]
    )
    # The captions came out the same, so nothing reading them runs again (early cutoff).
    assert runs["backends/captions.py"] == ["captions", "captions@shorts"]
    again = _build(package, project)
    assert again["up_to_date"]


IMPORT_FORMS = {
    "a comment inside brackets": "from .qc import (\n    measure,  # why\n    detect,\n)\n",
    "a comment with brackets": "from .qc import (  # spans ()\n    measure,\n)\n",
    "a backslash": "from .qc import a, \\\n    b\n",
    "after a semicolon": "x = 1; from .qc import y\n",
    "after a colon": "if TYPE_CHECKING: from .qc import y\n",
    "a docstring that looks like one": (
        '"""\nfrom the pieces (as they\nare made\n"""\nfrom .qc import z\n'
    ),
    "inside a function": "def f():\n    import av\n    from .probe import probe\n",
}


def _full_walk(source: str) -> list[str]:
    kinds = (ast.Import, ast.ImportFrom)
    return sorted(ast.dump(n) for n in ast.walk(ast.parse(source)) if isinstance(n, kinds))


@pytest.mark.parametrize("form", sorted(IMPORT_FORMS))
def test_the_import_scan_finds_what_parsing_the_whole_module_finds(form: str) -> None:
    """A kind is keyed on the backend modules it imports, found from the import
    lines alone (fast); an import the scan missed would leave an edited module's
    kinds cached. Compared with Python's own parser of the whole module."""
    import ast

    source = IMPORT_FORMS[form]
    found = sorted(ast.dump(n) for n in registry._import_statements(source))
    assert found == _full_walk(source)


def test_the_import_scan_agrees_with_the_parser_on_every_backend_module() -> None:
    for info in pkgutil.walk_packages([str(registry.ROOT)], registry.PACKAGE + "."):
        source = registry._module_file(info.name).read_text(encoding="utf-8")
        found = sorted(ast.dump(n) for n in registry._import_statements(source))
        assert found == _full_walk(source), info.name


def test_a_reader_kinds_inputs_are_links_to_checked_blobs_a_commands_are_copies(
    tmp_path: Path,
) -> None:
    """A kind whose run function only reads (a join, QC) gets hard links to the
    cache's blobs, not copies; a command kind (ffmpeg's) gets copies. A damaged
    blob is caught either way, before the action runs."""
    from reel.compiler.actions import Action, build_graph
    from reel.compiler.executor import Executor
    from reel.compiler.store import BlobDamaged, Store

    seen: dict[str, int] = {}

    def make(sandbox: Path, params: dict) -> None:
        (sandbox / "x.bin").write_bytes(b"made once\n" * 1000)

    def read(sandbox: Path, params: dict) -> None:
        seen[params["who"]] = (sandbox / "x.bin").stat().st_ino
        (sandbox / "y.bin").write_bytes((sandbox / "x.bin").read_bytes()[:10])

    def copy(params: dict) -> list[list[str]]:
        return [["-f", "lavfi", "-i", "color=s=16x16", "-frames:v", "1", "y.png"]]

    class Who(TypedDict):
        who: str

    registry.register(Kind("test_make", Who, (), ("x.bin",), run=make))
    registry.register(Kind("test_linked", Who, ("x.bin",), ("y.bin",), run=read, links_inputs=True))
    registry.register(Kind("test_copied", Who, ("x.bin",), ("y.bin",), run=read))
    with pytest.raises(TypeError, match="only a run function"):
        Kind("test_cmd", Who, ("x.bin",), ("y.png",), commands=copy, links_inputs=True)
    made = ActionInput("make", "x.bin")
    actions = [
        Action("make", "test_make", {"who": "m"}, {}, ("x.bin",)),
        Action("linked", "test_linked", {"who": "linked"}, {"x.bin": made}, ("y.bin",)),
        Action("copied", "test_copied", {"who": "copied"}, {"x.bin": made}, ("y.bin",)),
    ]
    store = Store(tmp_path / "cache")
    executor = Executor(store, build_graph(actions), jobs=1, keep_going=False, toolchain_digest="t")
    report = executor.run({"linked", "copied"})
    assert not report.failures
    blob = store.blob_path(report.results["make"].outputs["x.bin"])
    assert seen["linked"] == blob.stat().st_ino
    assert seen["copied"] != blob.stat().st_ino
    assert blob.stat().st_nlink == 1  # the sandbox's link went with the sandbox

    def scribble(sandbox: Path, params: dict) -> None:
        with (sandbox / "x.bin").open("ab") as linked:  # a bug: writing a linked input
            linked.write(b"and more")
        (sandbox / "y.bin").write_bytes(b"y")

    registry.register(
        Kind("test_scribbler", Who, ("x.bin",), ("y.bin",), run=scribble, links_inputs=True)
    )
    wrote = Action("wrote", "test_scribbler", {"who": "w"}, {"x.bin": made}, ("y.bin",))
    graph = build_graph([*actions, wrote])
    scribbled = Executor(store, graph, jobs=1, keep_going=False, toolchain_digest="t").run(
        {"wrote"}
    )
    (failure,) = scribbled.failures
    assert failure.action.id == "wrote" and "wrote to an input" in failure.message
    assert not blob.exists()  # evicted: nothing reads the written bytes as the blob
    report = Executor(
        store, build_graph(actions), jobs=1, keep_going=False, toolchain_digest="t"
    ).run({"linked"})
    assert not report.failures  # the maker ran again
    assert blob.exists()

    digest = report.results["make"].outputs["x.bin"]
    blob.chmod(0o644)
    blob.write_bytes(b"damaged")
    with pytest.raises(BlobDamaged):
        store.link_blob(digest, tmp_path / "placed.bin")
    assert not (tmp_path / "placed.bin").exists()
    assert not blob.exists()  # evicted: the action that made it runs again
