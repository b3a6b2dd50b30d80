"""Every Director run leaves ``traces/<run>.jsonl``: one JSON object a line,
in the order things happened: the inputs (digests, the blueprint as it was),
the analysis, the plan (and any plan that was rejected, with why), the
checks, the edits, the builds, QC, the outcome.

It is a regression test (`reel direct replay TRACE` re-plans from the
recorded analysis and re-applies the recorded plan to the recorded blueprint,
and must give the same edits) and training data (the analysis in, the plan
and what became of it out). Deterministic: no clock, no absolute paths, so
the same run gives the same trace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TRACE_VERSION = "1.0.0"


class Trace:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")
        self.event("trace", version=TRACE_VERSION)

    def event(self, name: str, **fields: Any) -> None:
        line = json.dumps({"event": name, **fields}, sort_keys=True, ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def read_trace(path: Path) -> list[dict[str, Any]]:
    events = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a JSON line ({exc})") from None
    return events


def first(events: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((e for e in events if e["event"] == name), None)


def every(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]
