"""Distributed execution on a Dask cluster: ``reel build --executor dask://HOST:PORT``.

Like Bazel's remote execution, on a scheduler Reel does not write. The
executor (``executor.py``) still decides what runs and in which order; each
action it would run here is shipped to a Dask worker as a ``Job``: its kind,
parameters, output names and the digests of its inputs, never a path of this
machine. The remote cache is how bytes travel, as the CAS is in Bazel: the
client sends the inputs the server lacks; a worker fetches them (checked
against both digests, like any download), runs the action in a sandbox of its
own cache, and sends the outputs back to the server; the client downloads them
into its store. A worker killed mid-action loses nothing: Dask gives the task
to another worker, and what the first had finished is a cache hit there.

A worker runs an action only if it makes the bytes the client's key promises:
its ffmpeg binary must have the client's toolchain digest and its code of
every kind the client's version. The client asks each worker when it first
sees it and gives work only to those that match (saying why the others are
left out); a worker checks again before each job and refuses a mismatch.

Hardware tags route actions (``Action.resources``): an action that needs
"videotoolbox" goes only to workers started with ``--resources
videotoolbox=1``; if no worker offers it, the action fails at once instead of
waiting for one forever.

``distributed`` is an optional dependency (``pip install 'reel[dask]'``),
imported only when a build asks for Dask.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reel.backends import registry
from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.lang.diagnostics import Diagnostics, InputError

from .actions import Action, BlobInput, SourceInput
from .executor import ActionError, collect_outputs, failure_text
from .hashing import hash_file
from .remote import RemoteCache, Unavailable
from .store import BlobDamaged, Store

if TYPE_CHECKING:
    from distributed import Client

SCHEME = "dask://"
CONNECT_TIMEOUT = "10s"
POLL = 2.0  # seconds between checks that a waiting job still has a worker to run on


@dataclass(frozen=True)
class Job:
    """One action as a worker needs it: data only, no path of the client."""

    action: str  # its label, for messages
    kind: str
    params: dict[str, Any]
    outputs: tuple[str, ...]
    # name -> (xxh3 digest, SHA-256 on the server), or the bytes themselves (small ones)
    inputs: dict[str, tuple[str, str] | bytes]
    key: str
    version: str  # the client's code of the kind
    toolchain: str | None  # the client's ffmpeg digest, when the kind is keyed on it
    hermetic: bool
    remote: str  # the remote cache's URL


def scheduler_address(executor: str) -> str:
    """``dask://HOST:PORT`` as Dask names it (``tcp://HOST:PORT``)."""
    rest = executor.removeprefix(SCHEME)
    return rest if "://" in rest else f"tcp://{rest}"


def check_executor(executor: str) -> str | None:
    """Why ``executor`` names no executor, or None."""
    if executor == "local":
        return None
    rest = executor.removeprefix(SCHEME)
    host, _, port = rest.rpartition(":")
    if not executor.startswith(SCHEME) or not host or not port.isdigit():
        return f"'{executor}' is not 'local' or dask://HOST:PORT (e.g. dask://127.0.0.1:8786)"
    return None


def _fail(message: str, fix: str) -> InputError:
    diags = Diagnostics()
    diags.error(message, None, fix)
    return InputError(diags.errors)


# ---- on a worker ----------------------------------------------------------------------


class _WorkerState:
    """What a worker process keeps between jobs: its own cache, in the Dask
    worker's local directory, and its toolchain's digest (hashed once)."""

    _lock = threading.Lock()
    _stores: dict[str, Store] = {}  # noqa: RUF012 - one per process, by design
    _toolchain: str | None = None

    @classmethod
    def store(cls, folder: str) -> Store:
        with cls._lock:
            if folder not in cls._stores:
                cls._stores[folder] = Store(Path(folder) / "reel-cache")
            return cls._stores[folder]

    @classmethod
    def toolchain(cls) -> str:
        with cls._lock:
            if cls._toolchain is None:
                cls._toolchain = hash_file(ffmpeg_exe())
            return cls._toolchain


def identity() -> dict[str, Any]:
    """What a worker would make bytes with: run on each worker by the client."""
    return {"toolchain": _WorkerState.toolchain(), "kinds": registry.versions()}


def _refusal(job: Job) -> str | None:
    if job.toolchain is not None and job.toolchain != _WorkerState.toolchain():
        return (
            f"its ffmpeg ({_WorkerState.toolchain()}) is not the client's ({job.toolchain}); "
            "install the same imageio-ffmpeg on both"
        )
    if registry.version(job.kind) != job.version:
        return f"its code of '{job.kind}' differs from the client's; install the same Reel on both"
    return None


def run_job(job: Job) -> dict[str, Any]:
    """Run ``job`` on this Dask worker (the function the client submits)."""
    from distributed import get_worker

    worker = get_worker()
    name = str(worker.name)
    refused = _refusal(job)
    if refused is not None:
        return {"worker": name, "error": f"worker {name} refused {job.action}: {refused}"}
    store = _WorkerState.store(worker.local_directory)
    # A cache per job: one that gave up on a flaky server must not stay down for
    # the worker's whole life.
    remote = RemoteCache(job.remote)
    try:
        outputs = _run_or_reuse(job, store, remote)
        sent = {n: [d, remote.send_blob(store.blob_path(d))] for n, d in outputs.items()}
        if job.hermetic:
            remote.put_entry(job.key, {n: {"digest": d, "sha256": s} for n, (d, s) in sent.items()})
    except ActionError as exc:
        return {"worker": name, "error": f"on worker {name}: {exc}", "detail": exc.detail}
    except Unavailable:
        why = "; ".join(remote.warnings) or "it did not answer"
        return {"worker": name, "error": f"worker {name} lost the remote cache: {why}"}
    except BlobDamaged as exc:
        return {"worker": name, "error": f"on worker {name}: {exc}"}
    except Exception as exc:  # noqa: BLE001 - a tool's failure, told to the client
        message, detail = failure_text(exc)
        return {"worker": name, "error": f"on worker {name}: {message}", "detail": detail}
    return {"worker": name, "outputs": sent, "warnings": remote.warnings}


def _run_or_reuse(job: Job, store: Store, remote: RemoteCache) -> dict[str, str]:
    """The job's outputs: from the cache when another worker (or a killed
    one, before it died) already made them, else made here."""
    if job.hermetic:
        hit = store.get_local_action(job.key, True, job.outputs) or remote.fetch(
            store, job.key, job.outputs
        )
        if hit is not None:
            return hit
    sandbox = store.sandbox()
    try:
        for name, source in job.inputs.items():
            dest = sandbox / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                dest.write_bytes(source)
                continue
            digest, sha = source
            if not remote.fetch_blob(store, digest, sha, name):
                raise ActionError(
                    f"the input {name} of {job.action} could not be fetched from the remote "
                    "cache (missing, damaged, or changed while the build ran)"
                )
            store.copy_blob(digest, dest)
        registry.get(job.kind).execute(sandbox, job.params)
        outputs = collect_outputs(store, sandbox, job.action, job.outputs)
        store.put_action(job.key, outputs, job.hermetic, share=False)
        return outputs
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


# ---- on the client --------------------------------------------------------------------


class DaskRunner:
    """Runs the executor's actions on a Dask cluster (see executor.Runner)."""

    def __init__(self, client: Client, store: Store, remote: RemoteCache, toolchain: str) -> None:
        self.client = client
        self.store = store
        self.remote = remote
        self.toolchain = toolchain
        self.kinds = registry.versions()
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._checked: dict[str, str | None] = {}  # worker address -> why refused (None: ok)
        self._resources: dict[str, dict[str, float]] = {}
        self._nthreads: dict[str, int] = {}
        self._sent: dict[str, str] = {}  # xxh3 digest -> SHA-256 of blobs the server has
        self._refresh()
        if not self.workers:
            raise _fail(
                f"no Dask worker at {client.scheduler.address} can run Reel's actions",
                "start one with the same Reel and ffmpeg: `dask worker "
                f"{client.scheduler.address} --nthreads 1`"
                + (f" ({'; '.join(self.warnings)})" if self.warnings else ""),
            )

    @classmethod
    def connect(
        cls, executor: str, store: Store, remote: RemoteCache | None, toolchain: str
    ) -> DaskRunner:
        address = scheduler_address(executor)
        if remote is None:
            raise _fail(
                f"--executor {executor} needs a remote cache",
                "add --remote-cache URL (workers fetch inputs from it and send outputs "
                "to it; see the README's 'Beyond one machine')",
            )
        if not remote.upload:
            raise _fail(
                "a Dask build sends inputs and outputs through the remote cache",
                "drop --no-remote-upload (or build with --executor local)",
            )
        try:
            from distributed import Client
        except ImportError:
            raise _fail(
                "--executor dask:// needs the 'distributed' package",
                "pip install 'reel[dask]'",
            ) from None
        logging.getLogger("distributed").setLevel(logging.ERROR)
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise _fail(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                "start one with `dask scheduler --host HOST --port PORT`, "
                "or build with --executor local",
            ) from None
        try:
            return cls(client, store, remote, toolchain)
        except BaseException:
            client.close()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # ---- which workers may run what ----------------------------------------------------
    @property
    def workers(self) -> list[str]:
        return sorted(a for a, why in self._checked.items() if why is None)

    @property
    def slots(self) -> int:
        return max(1, sum(self._nthreads.get(a, 1) for a in self.workers))

    def _refresh(self) -> set[str]:
        """Ask workers the client has not seen yet what they run; the live
        addresses of those allowed."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        with self._lock:
            new = sorted(a for a in info if a not in self._checked)
        if new:
            answers = self.client.run(identity, workers=new, on_error="return")
            with self._lock:
                for address in new:
                    why = self._mismatch(answers.get(address))
                    self._checked[address] = why
                    if why is not None:
                        name = info[address].get("name", address)
                        self.warnings.append(f"Dask worker {name} gets no work: {why}")
        with self._lock:
            for address, about in info.items():
                self._resources[address] = dict(about.get("resources") or {})
                self._nthreads[address] = int(about.get("nthreads") or 1)
            return {a for a in info if self._checked.get(a) is None}

    def _mismatch(self, answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return f"it could not say what it runs ({answer}); is Reel installed there?"
        if answer.get("toolchain") != self.toolchain:
            return (
                f"its ffmpeg ({answer.get('toolchain')}) is not this machine's "
                f"({self.toolchain}); install the same imageio-ffmpeg"
            )
        theirs = answer.get("kinds") or {}
        names = self.kinds.keys() | theirs.keys()
        differ = sorted(k for k in names if self.kinds.get(k) != theirs.get(k))
        if differ:
            return f"its Reel code differs ({', '.join(differ[:4])}); install the same Reel"
        return None

    def _able(self, action: Action, alive: set[str]) -> list[str]:
        return [
            a
            for a in sorted(alive)
            if all(self._resources.get(a, {}).get(r, 0) > 0 for r in action.resources)
        ]

    # ---- running ------------------------------------------------------------------------
    def run(self, action: Action, key: str, digests: dict[str, str]) -> tuple[dict[str, str], str]:
        able = self._able(action, self._refresh())
        if not able:
            raise ActionError(self._nobody(action))
        job = Job(
            action=action.id,
            kind=action.kind,
            params=action.params,
            outputs=action.outputs,
            inputs={name: self._input(action, name, digests) for name in action.inputs},
            key=key,
            version=action.version,
            toolchain=self.toolchain if action.toolchain else None,
            hermetic=action.hermetic,
            remote=self.remote.url,
        )
        future = self.client.submit(
            run_job,
            job,
            key=f"reel-{action.id}-{key.rpartition(':')[2][:16]}",
            pure=False,
            workers=able,
            allow_other_workers=False,
            resources={r: 1 for r in action.resources} or None,
        )
        try:
            answer = self._wait(future, action)
        finally:
            future.release()
        return self._receive(action, key, answer), str(answer["worker"])

    def _nobody(self, action: Action) -> str:
        if action.resources:
            wanted = ", ".join(action.resources)
            return (
                f"no Dask worker offers {wanted}, which {action.id} needs; start one where "
                f"it exists with `dask worker ADDRESS --resources {action.resources[0]}=1`"
            )
        return f"no Dask worker able to run {action.id} is left"

    def _wait(self, future: Any, action: Action) -> dict[str, Any]:
        """The job's answer. While it waits, the workers it may go to are
        watched: if every one has gone (killed, and none like it joined),
        Dask would wait forever, so the action fails instead."""
        from distributed import TimeoutError as DaskTimeout

        while True:
            try:
                answer = future.result(timeout=POLL)
            except (DaskTimeout, TimeoutError):
                if not self._able(action, self._refresh()):
                    future.cancel()
                    raise ActionError(self._nobody(action)) from None
                continue
            except Exception as exc:  # noqa: BLE001 - Dask's own failure (KilledWorker...)
                why = f"{type(exc).__name__}: {exc}"
                raise ActionError(f"Dask could not run {action.id}: {why}") from None
            if not isinstance(answer, dict):  # pragma: no cover - a foreign task under our key
                raise ActionError(f"Dask returned no result for {action.id}")
            if "error" in answer:
                raise ActionError(str(answer["error"]), str(answer.get("detail") or ""))
            return answer

    def _input(self, action: Action, name: str, digests: dict[str, str]) -> tuple[str, str] | bytes:
        """An input as the worker gets it: small bytes inline, anything else
        sent to the remote cache first (once) and named by its digests."""
        source = action.inputs[name]
        if isinstance(source, BlobInput):
            return source.data
        digest = digests[name]
        sha = self._sent.get(digest)
        if sha is None:
            path = source.path if isinstance(source, SourceInput) else self.store.blob_path(digest)
            try:
                sha = self.remote.send_blob(path)
            except Unavailable:
                raise ActionError(
                    f"the remote cache is unavailable, so {action.id}'s inputs cannot reach "
                    "the Dask workers; check the server or build with --executor local"
                ) from None
            self._sent[digest] = sha
        return digest, sha

    def _receive(self, action: Action, key: str, answer: dict[str, Any]) -> dict[str, str]:
        """Download the outputs a worker sent into the local store."""
        outputs = {}
        for name, (digest, sha) in answer["outputs"].items():
            if not self.remote.fetch_blob(self.store, digest, sha, name):
                raise ActionError(
                    f"{action.id} ran on {answer['worker']}, but its output {name} could not "
                    "be downloaded from the remote cache"
                )
            self._sent[digest] = sha
            outputs[name] = digest
        if set(outputs) != set(action.outputs):  # pragma: no cover - a worker's bug
            raise ActionError(f"{action.id} came back with other outputs: {sorted(outputs)}")
        self.store.put_action(key, outputs, action.hermetic, share=False)
        for warning in answer.get("warnings") or ():
            self.warnings.append(f"worker {answer['worker']}: {warning}")
        return outputs
