"""Run the actions a build needs, in parallel, from the cache when possible.

For each action, in dependency order: compute its key from its inputs'
digests; if the action cache has the key (and the CAS its blobs), it is a
hit and nothing runs. Because keys use the *digests* of upstream outputs, an
action whose output did not change does not invalidate its dependents (early
cutoff). Misses run in a sandbox under the cache directory; their outputs
move into the CAS and only then is the action-cache entry written.

Among the actions ready to start, the one heading the longest chain of
work still to do starts first (critical-path list scheduling, as Bazel and
ninja do): its cost is the seconds its last run took, recorded beside the
key, or, when it never ran, a guess from its frame count or its length of
sound. So a long chain (the sound: mix, loudness, the joins after it) is not
started last behind a row of short picture actions, on the first build too.
The order changes when actions finish, never what they make.

Inputs are copied into the sandbox with their digests checked on the way: a
source edited while the build runs fails its action (never a result keyed on
bytes it was not made from), and a damaged cache blob is evicted, after which
the run is repeated once so that the action that made it runs again.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .actions import Action, ActionGraph, ActionInput, BlobInput, Label, SourceInput
from .files import DigestMismatch, place_verified
from .memory import give_back_freed_memory
from .store import BlobDamaged, Store

# A never-run action's cost, for the schedule only: a fixed start-up, and
# frames rendered at about this many a second on a 2-core machine.
GUESS_SECONDS = 0.5
GUESS_FRAMES_PER_SECOND = 40
# ... or, for sound, a share of its length: the sound chain of a 10-minute
# episode's first build (mix, loudness, the report's curve, the loudness
# measure) took 45 s, guessed as 0.5 s each it started after every picture
# and ran alone at the end with one core idle. Measured per second of sound:
# loudness 0.045 s, its measure 0.014 s, the report 0.008 s.
GUESS_SOUND_SHARE = 0.02
SOUND_RATE = 48000  # the samples of a `samples` parameter (backends/audio: RATE)


@dataclass
class ActionResult:
    action: str
    key: str
    outputs: dict[str, str]  # name -> digest
    cached: bool
    seconds: float
    reasons: list[str] = field(default_factory=list)
    ran_on: str = ""  # "local", or the Dask worker that ran it ("" for a cache hit)


@dataclass
class ActionFailure:
    action: Action
    message: str
    detail: str = ""
    damaged_blob: bool = False  # an input blob was damaged and evicted: worth a re-run


@dataclass
class ExecutionReport:
    results: dict[str, ActionResult] = field(default_factory=dict)
    failures: list[ActionFailure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not run: an input failed

    @property
    def ran(self) -> list[ActionResult]:
        return [r for r in self.results.values() if not r.cached]

    @property
    def cached(self) -> list[ActionResult]:
        return [r for r in self.results.values() if r.cached]


class Runner(Protocol):
    """Runs missed actions somewhere other than this process's sandbox (a Dask
    cluster, ``compiler.dask_exec``). The executor still decides what runs and
    in which order; a runner only carries an action there and its outputs back
    into the local store."""

    slots: int  # actions it can run at once

    def run(self, action: Action, key: str, digests: dict[str, str]) -> tuple[dict[str, str], str]:
        """Run ``action`` (keyed ``key``, inputs ``digests``); its outputs, put in
        the local store and recorded in its action cache, and where it ran."""
        ...

    def cancel(self) -> None:
        """Give up on every action still out (Ctrl-C): ``run`` calls return soon."""
        ...


class ActionError(Exception):
    """Raised by an action's run function: a message and the tool's stderr tail."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def collect_outputs(
    store: Store, sandbox: Path, action_id: str, names: tuple[str, ...]
) -> dict[str, str]:
    """Move an action's declared outputs from its sandbox into the CAS."""
    outputs = {}
    for name in names:
        produced = sandbox / name
        if not produced.is_file():
            raise ActionError(f"{action_id} did not produce {name}")
        outputs[name] = store.put_file(produced)
    return outputs


def failure_text(exc: Exception) -> tuple[str, str]:
    """What an action's unexpected exception says: a message, and the stderr tail
    a tool's error (the backend's ToolError) carries."""
    tail = getattr(exc, "tail", None)
    detail = tail() if callable(tail) else ""
    return (str(exc) if detail else f"{type(exc).__name__}: {exc}"), detail


# More changed elements of one list parameter than this are summed up in one reason.
MAX_ELEMENT_REASONS = 3


def _old_labels(last: dict[str, Any]) -> dict[str, Label]:
    """The labels the last run recorded (for an input or a title that is gone now)."""
    labels = last.get("labels")
    if not isinstance(labels, dict):
        return {}
    out = {}
    for name, value in labels.items():
        if (
            isinstance(name, str)
            and isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and (value[1] is None or isinstance(value[1], str))
        ):
            out[name] = Label(value[0], value[1])
    return out


def _fields(old: Any, new: Any) -> str:
    """The fields that differ between two parameter values, when both are mappings."""
    if isinstance(old, dict) and isinstance(new, dict):
        return ", ".join(k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))
    return ""


def _param_reasons(name: str, old: Any, new: Any, labels: dict[str, Label]) -> list[str]:
    """Why parameter ``name`` differs, in the labels' words where it has them:
    a list whose elements are labelled (each title of a shot) is compared
    element by element."""
    whole = labels.get(name)
    if isinstance(old, list) and isinstance(new, list) and f"{name}[0]" in labels:
        reasons = []
        for i in range(max(len(old), len(new))):
            label = labels.get(f"{name}[{i}]") or Label(f"{whole.what if whole else name} #{i + 1}")
            if i >= len(old):
                reasons.append(label.said("is new"))
            elif i >= len(new):
                reasons.append(label.said("was removed"))
            elif old[i] != new[i]:
                reasons.append(label.said(detail=_fields(old[i], new[i])))
        if len(reasons) > MAX_ELEMENT_REASONS and whole is not None:
            return [whole.said(detail=f"{len(reasons)} of {max(len(old), len(new))}")]
        if reasons:
            return reasons
    detail = _fields(old, new)
    if whole is not None:
        return [whole.said(detail=detail)]
    return [f"parameter '{name}' changed" + (f" ({detail})" if detail else "")]


def _input_label(action: Action, name: str, labels: dict[str, Label]) -> Label | None:
    """An input in the user's words: its label, else the action it comes from
    or the file it is."""
    if name in labels:
        return labels[name]
    source = action.inputs.get(name)
    if isinstance(source, ActionInput):
        return Label(source.action)
    if isinstance(source, SourceInput):
        return Label(f"the file {source.path.name}")
    return None


def _explain(
    action: Action,
    digests: dict[str, str],
    toolchain: str | None,
    last: dict[str, Any] | None,
) -> list[str]:
    """Why an action had to run, by comparing with what its last run was keyed
    on, in the blueprint's words where lowering labelled the inputs and
    parameters (the shot, the field, the file:line that writes it)."""
    if last is None:
        return ["never built before"]
    labels = {**_old_labels(last), **action.labels}
    reasons: list[str] = []
    old_params, new_params = last.get("params", {}), action.params
    for name in sorted(set(old_params) | set(new_params)):
        if old_params.get(name) != new_params.get(name):
            reasons += _param_reasons(name, old_params.get(name), new_params.get(name), labels)
    old_inputs = last.get("inputs", {})
    for name in sorted(set(old_inputs) | set(digests)):
        label = _input_label(action, name, labels)
        if name not in old_inputs:
            reasons.append(label.said("is new") if label else f"new input '{name}'")
        elif name not in digests:
            reasons.append(label.said("was removed") if label else f"input '{name}' removed")
        elif old_inputs[name] != digests[name]:
            reasons.append(label.said() if label else f"input '{name}' changed")
    if action.toolchain and last.get("toolchain") != toolchain:
        reasons.append("the toolchain changed")
    if last.get("backend") != action.version:
        reasons.append(f"the code of its kind ({action.kind}) changed")
    # One edit can reach an action through several inputs (a title's text and its box).
    return list(dict.fromkeys(reasons)) or ["its outputs were missing from the cache"]


class Executor:
    def __init__(
        self,
        store: Store,
        graph: ActionGraph,
        *,
        jobs: int,
        keep_going: bool,
        toolchain_digest: str | None,
        on_event: Callable[[str, Action, ActionResult | None], None] | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.store = store
        self.runner = runner
        self.graph = graph
        self.jobs = max(1, jobs)
        self.keep_going = keep_going
        self.toolchain = toolchain_digest
        self.on_event = on_event or (lambda *_: None)
        self._last: dict[str, dict[str, Any] | None] = {}
        self._missed: dict[str, str] = {}  # action -> a key this run found no entry for
        self._sound: dict[str, float] = {}  # action -> seconds of sound it handles
        self._pictures: dict[str, bool] = {}  # action -> pictures lie upstream of it

    def action(self, action_id: str) -> Action:
        return self.graph.actions[action_id]

    def needed(self, targets: set[str]) -> list[str]:
        return self.graph.needed(targets)

    def _digests(self, action: Action, report: ExecutionReport) -> dict[str, str]:
        digests = {}
        for name, source in action.inputs.items():
            if isinstance(source, SourceInput):
                digests[name] = self.store.file_digest(source.path)
            elif isinstance(source, BlobInput):
                digests[name] = source.digest
            elif isinstance(source, ActionInput):
                digests[name] = report.results[source.action].outputs[source.output]
        return digests

    def _execute(
        self, action: Action, key: str, digests: dict[str, str]
    ) -> tuple[dict[str, str], str]:
        # A non-hermetic action's bytes depend on the machine (a Piper line: the
        # CPU), so it runs here and this machine's cache holds this machine's
        # bytes; only one that needs hardware this machine may lack goes out.
        if self.runner is not None and (action.hermetic or action.resources):
            return self.runner.run(action, key, digests)
        return self._execute_here(action, key, digests), "local"

    def _execute_here(self, action: Action, key: str, digests: dict[str, str]) -> dict[str, str]:
        sandbox = self.store.sandbox()
        linked: dict[str, tuple[int, int]] = {}
        try:
            for name, source in action.inputs.items():
                dest = sandbox / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(source, BlobInput):
                    dest.write_bytes(source.data)
                elif isinstance(source, SourceInput):
                    try:
                        place_verified(source.path, dest, digests[name])
                    except DigestMismatch:
                        raise ActionError(
                            f"{source.path.name} changed while the build was running; "
                            "run `reel build` again"
                        ) from None
                elif action.links_inputs:
                    self.store.link_blob(digests[name], dest)
                    linked[digests[name]] = _stamp(self.store.blob_path(digests[name]))
                else:
                    self.store.copy_blob(digests[name], dest)
            try:
                action.execute(sandbox)
            finally:
                if action.in_process:
                    # Its arrays were freed into this pool thread's malloc arena,
                    # which glibc keeps: given back, the build's process stays near
                    # 90 MB beside the renders instead of growing with each such action.
                    give_back_freed_memory()
            self._untouched(action, linked)
            outputs = collect_outputs(self.store, sandbox, action.id, action.outputs)
            self.store.put_action(key, outputs, action.hermetic)
            return outputs
        finally:
            shutil.rmtree(sandbox, ignore_errors=True)

    def _untouched(self, action: Action, linked: dict[str, tuple[int, int]]) -> None:
        """A reader kind's linked inputs are the cache's own files: if one was
        written through its link, the blob is evicted (its digest no longer
        holds) and the action fails, rather than anything reading it later."""
        for digest, stamp in linked.items():
            if _stamp(self.store.blob_path(digest)) != stamp:
                self.store.evict(digest, f"written by {action.id} through its sandbox link")
                raise ActionError(
                    f"{action.id} wrote to an input it only may read (a bug in its kind, "
                    f"{action.kind}); the cache's copy was removed, run `reel build` again"
                )

    def _record(
        self, action: Action, key: str, digests: dict[str, str], seconds: float | None
    ) -> dict[str, Any]:
        """What this run of the action was keyed on, for the next --explain, and
        how long it took, for the next schedule."""
        return {
            "key": key,
            "params": action.params,
            "inputs": digests,
            "toolchain": self.toolchain if action.toolchain else None,
            "backend": action.version,
            "seconds": None if seconds is None else round(seconds, 3),
            # Not keyed: only for the next --explain (an input gone by then keeps its name).
            "labels": {k: [v.what, v.where] for k, v in sorted(action.labels.items())},
        }

    def _last_run(self, action_id: str) -> dict[str, Any] | None:
        """The action's last recorded run, read from the store once per build
        (the schedule and the start of the action both need it)."""
        if action_id not in self._last:
            self._last[action_id] = self.store.last_run(action_id)
        return self._last[action_id]

    def _cost(self, action: Action) -> float:
        """Seconds the action is expected to take: its last run's, else a guess."""
        last = self._last_run(action.id) or {}
        seconds = last.get("seconds")
        if isinstance(seconds, int | float) and seconds >= 0:
            return float(seconds)
        frames = action.params.get("frames")
        if isinstance(frames, int):
            return GUESS_SECONDS + frames / GUESS_FRAMES_PER_SECOND
        return GUESS_SECONDS + self._sound_seconds(action.id) * GUESS_SOUND_SHARE

    def _sound_seconds(self, action_id: str) -> float:
        """The length of sound an action handles, for a never-run guess: its
        own ``samples`` or ``seconds``, else, when everything it reads is sound
        (loudness reads the mix), the longest of what it reads. An action that
        also reads pictures (the mux) is not guessed by its sound."""
        if action_id in self._sound:
            return self._sound[action_id]
        params = self.action(action_id).params
        preds = self.graph.predecessors(action_id)
        seconds = 0.0
        if isinstance(params.get("samples"), int):
            seconds = params["samples"] / SOUND_RATE
        elif isinstance(params.get("seconds"), int | float):
            seconds = float(params["seconds"])
        elif preds and not any(self._reads_pictures(p) for p in preds):
            seconds = max(self._sound_seconds(p) for p in preds)
        self._sound[action_id] = seconds
        return seconds

    def _reads_pictures(self, action_id: str) -> bool:
        """Whether pictures (an action with ``frames``) lie anywhere upstream of
        ``action_id`` or in it: a join of finished pieces reads pictures
        through actions that have no frames of their own."""
        if action_id not in self._pictures:
            self._pictures[action_id] = "frames" in self.action(action_id).params or any(
                self._reads_pictures(p) for p in self.graph.predecessors(action_id)
            )
        return self._pictures[action_id]

    def expected_seconds(self, action_id: str) -> float:
        """What the schedule expects ``action_id`` to take (for a progress ETA)."""
        return self._cost(self.action(action_id))

    def _by_priority(self, pending: list[str]) -> list[str]:
        """``pending`` (in dependency order), the heads of the longest chains of
        remaining work first; ties keep dependency order, so the order is fixed
        for a given graph and record of costs."""
        wanted = set(pending)
        users: dict[str, list[str]] = {a: [] for a in pending}
        for action_id in pending:
            for pred in self.graph.predecessors(action_id):
                if pred in wanted:
                    users[pred].append(action_id)
        chain: dict[str, float] = {}
        for action_id in reversed(pending):  # users before the actions they read
            after = max((chain[u] for u in users[action_id]), default=0.0)
            chain[action_id] = self._cost(self.action(action_id)) + after
        position = {a: i for i, a in enumerate(pending)}
        return sorted(pending, key=lambda a: (-chain[a], position[a]))

    def _hit(self, action: Action, report: ExecutionReport) -> tuple[str, dict[str, str]] | None:
        """Record ``action`` as a cache hit if it is one (None); else its key and
        input digests, for running it."""
        digests = self._digests(action, report)
        key = action.key(digests, self.toolchain)
        if self._missed.get(action.id) == key:
            return key, digests  # looked up already in this run, with these inputs
        last = self._last_run(action.id)
        hit = self.store.get_action(key, action.hermetic, action.outputs)
        if hit is None:
            self._missed[action.id] = key
            return key, digests
        report.results[action.id] = ActionResult(action.id, key, hit, True, 0.0)
        if last is None or last.get("key") != key:
            seconds = (last or {}).get("seconds")
            self.store.record_run(action.id, self._record(action, key, digests, seconds))
        self.on_event("cached", action, report.results[action.id])
        return None

    def _start(
        self,
        action: Action,
        report: ExecutionReport,
        pool: ThreadPoolExecutor,
        running: dict[Future, _Running],
    ) -> None:
        """A cache hit is recorded at once; a miss is submitted to the pool."""
        miss = self._hit(action, report)
        if miss is None:
            return
        key, digests = miss
        reasons = _explain(action, digests, self.toolchain, self._last_run(action.id))
        self.on_event("start", action, None)
        future = pool.submit(self._execute, action, key, digests)
        running[future] = _Running(action, key, digests, reasons, time.perf_counter())

    def _known_hits(self, pending: list[str], report: ExecutionReport) -> list[str]:
        """Take every cache hit that can be known before anything runs (its inputs
        are sources or other such hits) out of ``pending``, so that the first
        progress line already counts only what is left to run. An action after
        one that runs may still turn out a hit (early cutoff): it is known then."""
        left = []
        for action_id in pending:  # in dependency order (see _by_priority)
            preds = self.graph.predecessors(action_id)
            if not all(p in report.results for p in preds) or self._hit(
                self.action(action_id), report
            ):
                left.append(action_id)
        return left

    def _finish(self, job: _Running, future: Future, report: ExecutionReport) -> bool:
        """Record a finished action; False if it failed."""
        action = job.action
        try:
            outputs, ran_on = future.result()
        except ActionError as exc:
            report.failures.append(ActionFailure(action, str(exc), exc.detail))
        except BlobDamaged as exc:
            report.failures.append(ActionFailure(action, str(exc), damaged_blob=True))
        except Exception as exc:  # noqa: BLE001 - report it, never crash mid-build
            report.failures.append(ActionFailure(action, *failure_text(exc)))
        else:
            seconds = time.perf_counter() - job.started
            result = ActionResult(action.id, job.key, outputs, False, seconds, job.reasons, ran_on)
            report.results[action.id] = result
            record = self._record(action, job.key, job.digests, result.seconds)
            self.store.record_run(action.id, record)
            self.on_event("done", action, result)
            return True
        self.on_event("failed", action, None)
        return False

    def run(
        self, targets: set[str], done: dict[str, ActionResult] | None = None
    ) -> ExecutionReport:
        """Run what ``targets`` need. ``done``: results an earlier stage already
        has (the voices), taken as they are. If a damaged blob was found (and
        evicted) on the way, run once more: its action is now a miss and runs
        again, and everything else is a hit."""
        report = self._run_once(targets, done or {})
        if report.failures and all(f.damaged_blob for f in report.failures):
            report = self._run_once(targets, {})
        return report

    @contextlib.contextmanager
    def _cancelled_on_interrupt(self) -> Iterator[None]:
        """On Ctrl-C, tell the runner to give up its actions, so the pool's
        threads (which the pool waits for) return instead of waiting for them."""
        try:
            yield
        except BaseException:
            if self.runner is not None:
                self.runner.cancel()
            raise

    def _run_once(self, targets: set[str], done: dict[str, ActionResult]) -> ExecutionReport:
        report = ExecutionReport()
        self._last = {}  # records this run writes are not read back by it
        self._missed = {}
        needed = self.needed(targets)
        pending = self._by_priority([a for a in needed if a not in done])
        report.results.update({a: done[a] for a in needed if a in done})
        pending = self._known_hits(pending, report)
        failed: set[str] = set()
        running: dict[Future, _Running] = {}
        stop = False
        with ThreadPoolExecutor(max_workers=self.jobs) as pool, self._cancelled_on_interrupt():
            while (pending and not stop) or running:
                for action_id in list(pending):
                    if stop or len(running) >= self.jobs:
                        break
                    preds = list(self.graph.predecessors(action_id))
                    if any(p in failed for p in preds):
                        pending.remove(action_id)
                        failed.add(action_id)
                        report.skipped.append(action_id)
                    elif all(p in report.results for p in preds):
                        pending.remove(action_id)
                        self._start(self.action(action_id), report, pool, running)
                if not running:
                    continue  # everything startable was a cache hit: look again
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    if not self._finish(job, future, report):
                        failed.add(job.action.id)
                        stop = stop or not self.keep_going
            report.skipped.extend(pending)
        self.store.save_memo()
        return report


@dataclass
class _Running:
    action: Action
    key: str
    digests: dict[str, str]
    reasons: list[str]
    started: float


def progress_printer(
    total: int, stream: Any = None
) -> Callable[[str, Action, ActionResult | None], None]:
    """A plain progress line per action that runs (works in logs and CI):
    ``[3/8] segment/pour.s02 (1.2s)``, where 8 is what is left to run of the
    ``total`` actions the build needs. Cache hits are not counted; most are
    known before the first action runs, and one found later (an action whose
    inputs came out the same, early cutoff) lowers the second number."""
    stream = stream or sys.stderr
    state = {"n": 0, "total": total}

    def on_event(kind: str, action: Action, result: ActionResult | None) -> None:
        if kind == "cached":
            state["total"] -= 1
            return
        if kind in ("done", "failed"):
            state["n"] += 1
        if kind == "done" and result is not None:
            print(
                f"[{state['n']}/{state['total']}] {action.id} ({result.seconds:.1f}s)",
                file=stream,
                flush=True,
            )
        elif kind == "failed":
            print(f"[{state['n']}/{state['total']}] {action.id} FAILED", file=stream, flush=True)

    return on_event


def _stamp(path: Path) -> tuple[int, int]:
    """A file's size and modification time (-1, -1 if it is gone)."""
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)
