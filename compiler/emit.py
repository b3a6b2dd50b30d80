"""`reel build --emit-commands DIR`: the build's actions as a runnable script.

Like ``ninja -t commands``, but the result runs on its own: DIR holds

    build.sh      every action the targets need, in dependency order
    plan.json     the same actions as data (kind, parameters, inputs, outputs,
                  ffmpeg argument lists, whether each is hermetic)
    inputs/       the files the actions read (sources, fonts, generated text),
                  named by digest, linked or copied from where they are

so the folder can be copied to another machine (a Mac, for the VideoToolbox
backend) and run there from any empty directory. Each step runs in its own
folder under ``./work`` with its inputs placed under their sandbox names, the
way the executor runs it. An action that is only ffmpeg invocations is written
as those invocations, from the same argument lists the executor runs; an
action computed in Python (voices, the mix, loudness, captions, the timeline)
is written as ``python -m reel.backends.run_action`` on its entry in plan.json,
which calls the same backend function. Nothing in the folder names an absolute
path, so emitting twice gives the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any

from reel.backends import registry
from reel.backends.ffmpeg.toolchain import COMMON_ARGS
from reel.lang.diagnostics import Diagnostics, InputError
from reel.lang.loader import STDLIB_DIR

from .actions import Action, ActionGraph, ActionInput, BlobInput, SourceInput
from .hashing import PREFIX
from .pipeline import PlanResult
from .rules import Lowered
from .store import Store

FORMAT = "reel-commands/1"
RUNNER = "reel.backends.run_action"


def _hex(digest: str) -> str:
    return digest.removeprefix(PREFIX)


def _origin(action: Action, root: Path) -> str | None:
    """The statement an action came from, relative to the episode's folder."""
    if action.origin is None:
        return None
    file, line, column = action.origin.rsplit(":", 2)
    path = Path(file).resolve()
    if path.parent == STDLIB_DIR:
        return f"std/{path.name}:{line}:{column}"
    return f"{Path(os.path.relpath(path, root)).as_posix()}:{line}:{column}"


class Emitter:
    def __init__(self, store: Store, root: Path, bundle: Path) -> None:
        self.store = store
        self.root = root
        self.bundle = bundle
        self.folders: dict[str, str] = {}

    def _place(self, name: str, writer: Any) -> str:
        """An input file in the bundle, once per digest."""
        target = self.bundle / "inputs" / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            writer(target)
        return f"inputs/{name}"

    def input_file(self, source: SourceInput | BlobInput) -> str:
        if isinstance(source, BlobInput):
            return self._place(_hex(source.digest), lambda t: t.write_bytes(source.data))

        def link(target: Path) -> None:
            try:
                target.hardlink_to(source.path)
            except OSError:
                shutil.copyfile(source.path, target)

        return self._place(_hex(self.store.file_digest(source.path)), link)

    def entry(self, index: int, action: Action) -> dict[str, Any]:
        kind = registry.get(action.kind)
        folder = f"work/{index:03d}-{action.id.replace('/', '-')}"
        self.folders[action.id] = folder
        inputs: dict[str, dict[str, str]] = {}
        for name, source in sorted(action.inputs.items()):
            if isinstance(source, ActionInput):
                inputs[name] = {"action": source.action, "output": source.output}
            else:
                inputs[name] = {"file": self.input_file(source)}
        return {
            "id": action.id,
            "kind": action.kind,
            "description": action.description,
            "origin": _origin(action, self.root),
            "hermetic": action.hermetic,
            "deterministic": action.deterministic,
            "folder": folder,
            "params": action.params,
            "inputs": inputs,
            "outputs": list(action.outputs),
            "commands": kind.commands(action.params) if kind.commands else None,
            # An in-process step names its kind; run_action looks it up in the registry.
            "run": action.kind if kind.run else None,
        }


def _prologue(plan: dict[str, Any]) -> list[str]:
    ffmpeg_default = (
        "ffmpeg"  # VideoToolbox needs a macOS ffmpeg built with it (Homebrew's is)
        if plan["backend"] == "videotoolbox"
        else '$("$PYTHON" -m reel.backends.ffmpeg.toolchain)'
    )
    return [
        "#!/bin/sh",
        f"# Reel build commands: episode {plan['episode']}, backend {plan['backend']}, "
        f"profile {plan['profile']}.",
        f"# Targets: {', '.join(plan['targets'])}. Written by `reel build --emit-commands`.",
        "#",
        "# Run it from an empty directory: sh /path/to/build.sh",
        "# Each step runs in its own folder under ./work, its inputs linked in under the",
        "# names the step reads; the deliverables land in ./"
        + plan["episode"]
        + "/. Steps that run",
        "# Python call the same Reel backend functions `reel build` does (pip install reel).",
        "# PYTHON and FFMPEG may be set to choose the interpreter and the ffmpeg binary.",
        "set -eu",
        'BUNDLE=$(cd "$(dirname "$0")" && pwd)',
        "ROOT=$(pwd)",
        "PYTHON=${PYTHON:-python3}",
        f"FFMPEG=${{FFMPEG:-{ffmpeg_default}}}",
        "export TZ=UTC LC_ALL=C LANG=C",
        "",
        'step() { echo "[$1] $2" >&2; mkdir -p "$ROOT/$3"; cd "$ROOT/$3"; }',
        "put() {",
        '  mkdir -p "$(dirname "$2")"; rm -f "$2"; ln "$1" "$2" 2>/dev/null || cp "$1" "$2"',
        "}",
        f'ff() {{ "$FFMPEG" {" ".join(COMMON_ARGS)} "$@"; }}',
        f'py() {{ "$PYTHON" -m {RUNNER} "$BUNDLE/plan.json" "$1"; }}',
    ]


_SAFE_WORD = re.compile(r"[A-Za-z0-9_./@:+,=-]+")


def _quote(word: str) -> str:
    return word if _SAFE_WORD.fullmatch(word) else shlex.quote(word)


def script(plan: dict[str, Any]) -> str:
    lines = _prologue(plan)
    total = len(plan["actions"])
    for index, entry in enumerate(plan["actions"], start=1):
        lines.append("")
        about = entry["description"] or entry["kind"]
        if entry["origin"]:
            about += f" ({entry['origin']})"
        if not entry["deterministic"]:
            about += " [not hermetic: differs run to run]"
        elif not entry["hermetic"]:
            about += " [not hermetic: may differ on another machine]"
        lines.append(f"# {entry['id']}: {about}")
        lines.append(f"step {index}/{total} {_quote(entry['id'])} {_quote(entry['folder'])}")
        for name, source in entry["inputs"].items():
            if "file" in source:
                origin = f'"$BUNDLE/{source["file"]}"'
            else:
                producer = plan["folders"][source["action"]]
                origin = f'"$ROOT/{producer}/{source["output"]}"'
            lines.append(f"put {origin} {_quote(name)}")
        if entry["commands"] is not None:
            for args in entry["commands"]:
                lines.append("ff " + " ".join(_quote(arg) for arg in args))
        else:
            lines.append(f"py {_quote(entry['id'])}")
    lines.append("")
    lines.append("# The deliverables")
    lines.append('cd "$ROOT"')
    for item in plan["deliver"]:
        producer = plan["folders"][item["action"]]
        lines.append(
            f'put "$ROOT/{producer}/{item["output"]}" '
            f"{_quote(plan['episode'] + '/' + item['path'])}"
        )
    lines.append(f'echo "built {plan["episode"]}: {total} steps" >&2')
    return "\n".join(lines) + "\n"


def _check_destination(dest: Path) -> None:
    """Replace an earlier emission, never a folder the user keeps other things in."""
    if not dest.exists():
        return
    ours = (dest / "plan.json").is_file() and (dest / "build.sh").is_file()
    if dest.is_dir() and (ours or not any(dest.iterdir())):
        return
    diags = Diagnostics()
    diags.error(
        f"--emit-commands: {dest} exists and is not an earlier emission",
        None,
        "give a new folder (or an empty one); Reel does not overwrite what it did not write",
    )
    raise InputError(diags.errors)


def emit_commands(
    planned: PlanResult,
    lowered: Lowered,
    graph: ActionGraph,
    order: list[str],
    labels: list[str],
    wanted: set[str],
    store: Store,
    root: Path,
    dest: Path,
) -> Path:
    """Write the bundle for the actions in ``order`` into ``dest``, atomically:
    a failure leaves an earlier bundle in place."""
    _check_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        emitter = Emitter(store, root, staging)
        entries = [emitter.entry(i, graph.actions[a]) for i, a in enumerate(order, start=1)]
        deliver = [
            {"action": action_id, "output": output, "path": path}
            for action_id, files in sorted(lowered.delivers.items())
            if action_id in wanted
            for output, path in files
        ]
        plan = {
            "format": FORMAT,
            "episode": planned.episode.id,
            "backend": planned.render_plan.backend,
            "profile": planned.render_plan.profile,
            "targets": sorted(labels),
            "ffmpeg_common_args": list(COMMON_ARGS),
            "actions": entries,
            "deliver": deliver,
            "folders": emitter.folders,
        }
        (staging / "plan.json").write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
        build_sh = staging / "build.sh"
        build_sh.write_text(script(plan))
        build_sh.chmod(0o755)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(dest, old)
            os.replace(staging, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
