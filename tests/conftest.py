"""Fixtures shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import HEADER, Outcome, run_plan, write_tree


@pytest.fixture
def episode(tmp_path: Path):
    """Write HEADER + body as main.episode (plus extra files) and plan it."""

    def make(body: str, files: dict[str, str] | None = None, header: str = HEADER) -> Outcome:
        write_tree(tmp_path, {"main.episode": header + body, **(files or {})})
        return run_plan(tmp_path)

    return make
