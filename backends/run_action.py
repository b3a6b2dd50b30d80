"""``python -m reel.backends.run_action PLAN ACTION``: one in-process action of an
emitted build script (see reel/compiler/emit.py).

Runs in the current directory, where the script has placed the action's
inputs, and runs the same kind `reel build` runs (looked up by name in the
registry of kinds), with the parameters recorded in the plan. Only a declared
kind may be named, so a plan file cannot be used to run arbitrary code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def run(plan_file: Path, action_id: str, folder: Path) -> None:
    plan = json.loads(plan_file.read_text())
    entries = {entry["id"]: entry for entry in plan["actions"]}
    if action_id not in entries:
        raise SystemExit(f"run_action: {plan_file} has no action {action_id!r}")
    entry = entries[action_id]
    from . import registry

    name = entry.get("run") or ""
    kind = registry.kinds().get(name)
    if kind is None or kind.run is None:
        raise SystemExit(f"run_action: {action_id} is not an in-process backend action")
    kind.execute(folder, entry["params"])
    missing = [name for name in entry["outputs"] if not (folder / name).is_file()]
    if missing:
        raise SystemExit(f"run_action: {action_id} did not produce {', '.join(missing)}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m reel.backends.run_action PLAN.json ACTION_ID")
    try:
        run(Path(args[0]), args[1], Path.cwd())
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - a script step reports, it does not crash
        tail = getattr(exc, "tail", None)
        detail = tail() if callable(tail) else ""
        print(f"run_action: {args[1]} failed: {exc}", file=sys.stderr)
        if detail:
            print(detail, file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
