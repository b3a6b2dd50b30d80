"""`reel direct signoff RUN --by NAME`: the one human step of tier 3.

A person who has watched the cut takes responsibility for it: the run must
have built and passed QC, and its delivered files must be the bytes QC
checked. Signing off writes, as journalled edits a person can read and undo,
``publish true`` on the master and an ``approve rights`` naming the approver
for each clip the cut uses (the dailies are the production's own footage,
whose licence only a person can vouch for); then the cut is built again, so
the publishing gates judge it as a published master and QC checks it, and
only then is it marked released (``direct/RUN/released.json``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reel.compiler.jsonio import dumps
from reel.lang import ast
from reel.lang.diagnostics import ReelError

from .analysis import sha256
from .edits import Blueprint, TextEdit, quote
from .journal import Entry, digest, read_text, write_text
from .run import DirectError, Director, Outcome, build
from .trace import Trace

PUBLISHED = "master"


def _clips(bp: Blueprint) -> list[str]:
    found = set()
    for scene in bp.scenes():
        for stmt in scene.body:
            if isinstance(stmt, ast.ShotStmt):
                for item in stmt.items:
                    if item.keyword == "plate" and item.head and item.head.text == "video":
                        found.add(item.args[0].text)
    return sorted(found)


def _publish(bp: Blueprint) -> TextEdit | None:
    deliver = next((d for d in bp.delivers() if d.name == PUBLISHED), None)
    if deliver is None:
        raise DirectError(f"the blueprint has no `deliver {PUBLISHED}` to release")
    if any(p.key == "publish" for p in deliver.overrides):
        return None
    end = bp.end(deliver.span)
    if bp.text[end - 1] == "}":
        close = end - 1
        pad = "" if bp.text[close - 1] == " " else " "
        return TextEdit(close, "", f"{pad}publish true ")
    return TextEdit(end, "", " { publish true }")


def _approvals(bp: Blueprint, by: str, reason: str) -> TextEdit | None:
    episode = bp.episode()
    # `approve rights "file" …`: the file is the second argument
    have = {
        s.args[1].text
        for s in episode.settings
        if s.name == "approve" and len(s.args) > 1 and s.args[0].text == "rights"
    }
    lines = [
        f"approve rights {quote(clip)} by {quote(by)} reason {quote(reason)}"
        for clip in _clips(bp)
        if clip not in have
    ]
    return bp.insert_before_close(episode.span, lines, 1) if lines else None


def signoff(
    director: Director, run: str, by: str, reason: str, out: Path, cache: Path, quiet: bool
) -> Outcome:
    project = director.project
    status = project.status(run)
    if status["state"] != "awaiting_signoff":
        raise DirectError(
            f"run {run} is {status['state']}, not awaiting sign-off: only a tier 3 run whose "
            "build passed QC can be signed off"
        )
    for name, sha in status["delivered"].items():
        path = project.folder / name
        if not path.is_file() or sha256(path) != sha:
            raise DirectError(
                f"{name} is not the file QC checked; run `reel direct` again before signing off"
            )
    trace = Trace(project.folder / "traces" / f"{run}-signoff.jsonl")
    trace.event("inputs", run=run, by=by, reason=reason)
    path = project.blueprint
    name = project.relative(path)
    text = read_text(path)
    if text is None:
        raise DirectError(f"{name} does not exist")
    entries = []
    for step, make in (
        ("publish", lambda bp: _publish(bp)),
        ("approve", lambda bp: _approvals(bp, by, reason)),
    ):
        edit = make(Blueprint(text, path))
        if edit is None:
            continue
        before = digest(text)
        text = edit.apply(text)
        summary = (
            f"publish {PUBLISHED}"
            if step == "publish"
            else f"approve the rights of the dailies, by {by}"
        )
        entries.append(Entry(run, -1, f"signoff_{step}", summary, name, edit, before, digest(text)))
        trace.event("edit", kind=f"signoff_{step}", edit=edit.to_json())
    previous = read_text(path)
    write_text(path, text)
    try:
        result = build(path, out, cache, None, quiet)
    except ReelError as exc:
        write_text(path, previous)  # nothing is signed off unless it builds as published
        errors = [d.message for d in exc.diagnostics if d.severity == "error"]
        trace.event("outcome", state="refused", errors=errors)
        raise DirectError("the signed-off cut does not build: " + "; ".join(errors)) from None
    project.journal().record(entries)
    qc = result.qc_report
    released = [
        {"deliverable": PUBLISHED, "file": project.relative(p), "sha256": sha256(p)}
        for p in sorted(result.delivered)
        if p.name.startswith(PUBLISHED + ".")
    ]
    record: dict[str, Any] = {
        "run": run,
        "by": by,
        "reason": reason,
        "qc_passed": bool(qc and qc.passed),
        "released": released,
    }
    project.write(run, "released.json", dumps(record))
    status["state"] = "released"
    project.save_status(run, status)
    trace.event("outcome", state="released", released=released)
    for item in released:
        director.echo(f"released {item['file']} (signed off by {by})")
    director.echo(f"wrote {os.path.relpath(project.run_folder(run) / 'released.json')}")
    return Outcome(run, "released", folder=result.folder)
