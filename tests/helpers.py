"""Test helpers: write episodes into temporary folders and run Reel on them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from reel.compiler.session import Session
from reel.lang.diagnostics import Diagnostic, Diagnostics, ReelError

REPO = Path(__file__).resolve().parent.parent
PILOT = REPO / "examples" / "pilot"

HEADER = """
episode t {
  title "T"
  format 640x360 @ 24fps
}
cast { character maya "Maya Chen" age 34  character leo "Leo" age 40 }
locations { location cafe "Cafe"  location street "Street" }
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass
class Outcome:
    result: object | None
    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    exit_code: int


def run_plan(root: Path, entry: str = "main.episode", out: Path | None = None) -> Outcome:
    diags = Diagnostics()
    try:
        result = Session(root / entry, None, diags=diags).plan
    except ReelError as exc:
        return Outcome(None, exc.diagnostics, diags.warnings, int(exc.exit_code))
    if out is not None:  # the artifacts alone, as `reel build --stage plan` delivers them
        for artifact in result.artifacts:
            artifact.write(out / result.episode.id)
    return Outcome(result, [], diags.warnings, 0)


def reel(
    *args: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `reel` command line in a subprocess (``env`` is added to ours).

    The timeout is generous on purpose: the tests share a loaded 2-core machine."""
    return subprocess.run(
        [sys.executable, "-m", "reel.cli", *args],
        cwd=cwd,
        env={**os.environ, **env} if env else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def only(errors: list[Diagnostic]) -> Diagnostic:
    assert len(errors) == 1, "\n\n".join(e.render() for e in errors)
    return errors[0]


def build_episode(root: Path, text: str, target: str = "", out: str = "reel-out") -> Path:
    """Write ``text`` as ``root/main.episode``, build it (or ``target``, e.g.
    ``:stems``) with the real CLI, and return the output tree."""
    write_tree(root, {"main.episode": text})
    done = reel("build", f".{target}", "-q", "--out", out, "-j", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / out
