"""A failed action, said the way every stage says it (exit 1)."""

from __future__ import annotations

from pathlib import Path

from reel.lang.diagnostics import Diagnostics, GateError

from .executor import ExecutionReport


class BuildFailed(GateError):
    """One or more actions failed (exit 1)."""


def failure_diagnostics(report: ExecutionReport, kept: Path | None = None) -> Diagnostics:
    diags = Diagnostics()
    for failure in report.failures:
        notes = []
        if failure.action.origin:
            notes.append(f"from the statement at {failure.action.origin}")
        if failure.detail:
            notes.append(
                "ffmpeg said:\n"
                + "\n".join("       " + line for line in failure.detail.splitlines())
            )
        diags.error(
            f"{failure.action.id} failed: {failure.message}",
            None,
            "fix the input named above, then run `reel build` again; finished actions are cached",
            notes=tuple(notes)
            + (
                (f"the delivered outputs are as they were; this run's files are in {kept}",)
                if kept is not None
                else ()
            ),
        )
    return diags
