"""Fixtures shared by the tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import HEADER, PILOT, Outcome, reel, run_plan, write_tree


@pytest.fixture
def episode(tmp_path: Path):
    """Write HEADER + body as main.episode (plus extra files) and plan it."""

    def make(body: str, files: dict[str, str] | None = None, header: str = HEADER) -> Outcome:
        write_tree(tmp_path, {"main.episode": header + body, **(files or {})})
        return run_plan(tmp_path)

    return make


@pytest.fixture(scope="session")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The bundled pilot, copied and built with every deliverable, once per run."""
    work = tmp_path_factory.mktemp("deliver")
    copy = work / "pilot"
    shutil.copytree(PILOT, copy)
    # Every deliverable of a 1-minute 720p episode: minutes on a busy 2-core machine.
    proc = reel(
        "build",
        str(copy),
        "--out",
        str(work / "out"),
        "--cache-dir",
        str(work / "cache"),
        cwd=work,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    folder = work / "out" / "pilot"
    return {
        "work": work,
        "copy": copy,
        "folder": folder,
        "shotlist": json.loads((folder / "ShotList.json").read_text()),
    }
