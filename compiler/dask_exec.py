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
import platform
import shutil
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reel.backends import registry
from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.lang.diagnostics import Diagnostics, InputError

from .actions import Action, BlobInput, SourceInput
from .executor import ActionError, collect_outputs, failure_text
from .files import DigestMismatch
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
    environment: dict[str, str]  # the client's (see environment())


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


# ---- what a machine makes bytes with -----------------------------------------------------


def environment() -> dict[str, str]:
    """The platform and the version of every package Reel's actions run with
    (Reel's requirements, their requirements, and so on). Two machines that
    agree here and on ffmpeg and the kinds' code make the same bytes under the
    same key: a worker with another espeakng-loader (so another libespeak-ng)
    would not, though its ffmpeg and Reel match."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found = {"python": platform.python_version(), "platform": _platform()}
    seen: set[tuple[str, str]] = set()
    stack = [("reel", "")]
    while stack:
        name, extra = stack.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
            continue
        found[name] = dist.version
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                child = canonicalize_name(req.name)
                stack += [(child, "")] + [(child, e) for e in sorted(req.extras)]
    return dict(sorted(found.items()))


def _platform() -> str:
    return f"{sys.platform}-{platform.machine()}"


# ---- on a worker ----------------------------------------------------------------------


class _WorkerState:
    """What a worker process keeps between jobs: its own cache, in the Dask
    worker's local directory, and its toolchain's digest (hashed again only
    when the binary's size or time changes: an upgrade in place is seen)."""

    _lock = threading.Lock()
    _stores: dict[str, Store] = {}  # noqa: RUF012 - one per process, by design
    _toolchain: tuple[tuple[int, int], str] | None = None
    _environment: dict[str, str] | None = None

    @classmethod
    def store(cls, folder: str) -> Store:
        with cls._lock:
            if folder not in cls._stores:
                cls._stores[folder] = Store(Path(folder) / "reel-cache")
            return cls._stores[folder]

    @classmethod
    def toolchain(cls) -> str:
        exe = ffmpeg_exe()
        info = exe.stat()
        stamp = (info.st_size, info.st_mtime_ns)
        with cls._lock:
            if cls._toolchain is None or cls._toolchain[0] != stamp:
                cls._toolchain = (stamp, hash_file(exe))
            return cls._toolchain[1]

    @classmethod
    def environment(cls) -> dict[str, str]:
        with cls._lock:
            if cls._environment is None:
                cls._environment = environment()
            return cls._environment


def identity() -> dict[str, Any]:
    """What a worker would make bytes with: run on each worker by the client."""
    return {
        "toolchain": _WorkerState.toolchain(),
        "kinds": registry.versions(),
        "environment": _WorkerState.environment(),
    }


def _refusal(job: Job) -> str | None:
    if job.toolchain is not None and job.toolchain != _WorkerState.toolchain():
        return (
            f"its ffmpeg ({_WorkerState.toolchain()}) is not the client's ({job.toolchain}); "
            "install the same imageio-ffmpeg on both"
        )
    # Packages first: a kind keyed on a library (Kind.libraries) differs when
    # the library does, and the library is what to name.
    differ = _differences(job.environment, _WorkerState.environment())
    if differ:
        return f"its packages differ from the client's ({differ}); install the same versions"
    if registry.version(job.kind) != job.version:
        return f"its code of '{job.kind}' differs from the client's; install the same Reel on both"
    return None


def _differences(ours: dict[str, str], theirs: dict[str, str]) -> str:
    """``name ours≠theirs`` for the first few entries that differ ("" if none)."""
    names = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    return ", ".join(f"{n} {ours.get(n, '-')}≠{theirs.get(n, '-')}" for n in names[:4])


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
        try:
            sent = _made_and_sent(job, store, remote)
        except DigestMismatch as exc:  # damaged in this worker's cache: make it again
            store.evict(exc.expected, "evicted")
            sent = _made_and_sent(job, store, remote)
        if job.hermetic:
            remote.put_entry(job.key, {n: {"digest": d, "sha256": s} for n, (d, s) in sent.items()})
    except ActionError as exc:
        return {"worker": name, "error": f"on worker {name}: {exc}", "detail": exc.detail}
    except Unavailable:
        why = "; ".join(remote.warnings) or "it did not answer"
        return {"worker": name, "error": f"worker {name} lost the remote cache: {why}"}
    except DigestMismatch as exc:  # a blob of its cache was damaged: made again next time
        store.evict(exc.expected, "evicted")
        return {"worker": name, "error": f"on worker {name}: cache blob {exc.expected} was damaged"}
    except BlobDamaged as exc:
        return {"worker": name, "error": f"on worker {name}: {exc}"}
    except Exception as exc:  # noqa: BLE001 - a tool's failure, told to the client
        message, detail = failure_text(exc)
        return {"worker": name, "error": f"on worker {name}: {message}", "detail": detail}
    return {"worker": name, "outputs": sent, "warnings": remote.warnings}


def _made_and_sent(job: Job, store: Store, remote: RemoteCache) -> dict[str, list[str]]:
    """The job's outputs, each sent to the remote cache: name -> [digest, SHA-256]."""
    outputs = _run_or_reuse(job, store, remote)
    return {n: [d, remote.send_blob(store.blob_path(d), d)] for n, d in outputs.items()}


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
        self.environment = environment()
        self.warnings: list[str] = []
        self._run_id = uuid.uuid4().hex[:8]  # Dask keys of this build only
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # Workers asked so far, by address and the worker's own id (a worker
        # restarted on the same port is asked again): None, or why it gets no work.
        self._checked: dict[tuple[str, str], str | None] = {}
        self._about: dict[str, dict[str, Any]] = {}  # address -> what the scheduler says
        self._sent: dict[str, str] = {}  # xxh3 digest -> SHA-256 of blobs the server has
        self._refresh()
        if not self.workers:
            raise _fail(
                f"no Dask worker at {self.address} can run Reel's actions",
                f"start one with the same Reel and ffmpeg: `dask worker {self.address} "
                "--nthreads 1`" + (f" ({'; '.join(self.warnings)})" if self.warnings else ""),
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
                "to it; see the README's 'Many machines (Dask)')",
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

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def cancel(self) -> None:
        """Stop waiting (Ctrl-C or a failed build): every job still out is
        cancelled, and the threads waiting for one return at once."""
        self._stopping.set()

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(Exception):
            self.client.close()

    # ---- which workers may run what ----------------------------------------------------
    @property
    def workers(self) -> list[str]:
        with self._lock:
            return sorted(
                a
                for a, about in self._about.items()
                if self._checked.get((a, str(about.get("id")))) is None
            )

    @property
    def slots(self) -> int:
        with self._lock:
            about = dict(self._about)
        return max(1, sum(int(about[a].get("nthreads") or 1) for a in self.workers))

    def _refresh(self) -> set[str]:
        """The live workers allowed to run Reel's actions, asking any the client
        has not seen yet what they run. Asked of the scheduler each time (not
        the client's cached copy, which a background refresh empties)."""
        try:
            info = self.client.sync(self.client.scheduler.identity, n_workers=-1)["workers"]
        except Exception as exc:  # noqa: BLE001 - the scheduler is gone or unreachable
            raise ActionError(f"lost the Dask scheduler at {self.address}: {exc}") from None
        new = sorted(a for a in info if (a, str(info[a].get("id"))) not in self._checked)
        if new:
            answers = self.client.run(identity, workers=new, on_error="return")
            with self._lock:
                for address in new:
                    why = self._mismatch(answers.get(address))
                    self._checked[(address, str(info[address].get("id")))] = why
                    if why is not None:
                        name = info[address].get("name", address)
                        self.warnings.append(f"Dask worker {name} gets no work: {why}")
        with self._lock:
            self._about = dict(info)
        return set(self.workers)

    def _mismatch(self, answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return f"it could not say what it runs ({answer}); is Reel installed there?"
        if answer.get("toolchain") != self.toolchain:
            return (
                f"its ffmpeg ({answer.get('toolchain')}) is not this machine's "
                f"({self.toolchain}); install the same imageio-ffmpeg"
            )
        differ = _differences(self.environment, answer.get("environment") or {})
        if differ:  # before the kinds: a kind keyed on a library differs with it
            return f"its packages differ ({differ}); install the same versions"
        differ = _differences(self.kinds, answer.get("kinds") or {})
        if differ:
            return f"its Reel code differs ({differ}); install the same Reel"
        return None

    def _able(self, action: Action, alive: set[str]) -> list[str]:
        with self._lock:
            about = dict(self._about)
        return [
            a
            for a in sorted(alive)
            if all((about[a].get("resources") or {}).get(r, 0) > 0 for r in action.resources)
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
            environment=self.environment,
        )
        answer = self._wait(job, action, able)
        return self._receive(action, key, answer), str(answer["worker"])

    def _submit(self, job: Job, action: Action, able: list[str]) -> Any:
        return self.client.submit(
            run_job,
            job,
            # Unique to this build: two clients building one action at once may
            # use two caches, and each must get its outputs from its own.
            key=f"reel:{self._run_id}:{job.key.rpartition(':')[2][:16]}:{action.id}",
            pure=False,
            workers=able,
            allow_other_workers=False,
            resources={r: 1 for r in action.resources} or None,
        )

    def _nobody(self, action: Action) -> str:
        if action.resources:
            wanted = ", ".join(action.resources)
            return (
                f"no Dask worker offers {wanted}, which {action.id} needs; start one where "
                f"it exists with `dask worker ADDRESS --resources {action.resources[0]}=1`"
            )
        return f"no Dask worker able to run {action.id} is left"

    def _wait(self, job: Job, action: Action, able: list[str]) -> dict[str, Any]:
        """The job's answer. While it waits, the workers it was given to are
        watched: Dask would wait forever once all of them are gone, so the job
        goes to the workers that can run it now (one that joined, a restarted
        one), or the action fails if there are none."""
        from distributed import TimeoutError as DaskTimeout

        future = self._submit(job, action, able)
        try:
            while True:
                try:
                    answer = future.result(timeout=POLL)
                except (DaskTimeout, TimeoutError):
                    if self._stopping.is_set():
                        future.cancel()
                        raise ActionError(f"{action.id} was cancelled") from None
                    now = self._able(action, self._refresh())
                    if not now:
                        future.cancel()
                        raise ActionError(self._nobody(action)) from None
                    if not set(able) & set(now):  # every worker it was given is gone
                        future.cancel()
                        future.release()
                        able = now
                        future = self._submit(job, action, able)
                    continue
                except Exception as exc:  # noqa: BLE001 - Dask's own failure (KilledWorker...)
                    why = f"{type(exc).__name__}: {exc}"
                    raise ActionError(f"Dask could not run {action.id}: {why}") from None
                if not isinstance(answer, dict):  # pragma: no cover - a foreign task
                    raise ActionError(f"Dask returned no result for {action.id}")
                if "error" in answer:
                    raise ActionError(str(answer["error"]), str(answer.get("detail") or ""))
                return answer
        finally:
            future.release()

    def _input(self, action: Action, name: str, digests: dict[str, str]) -> tuple[str, str] | bytes:
        """An input as the worker gets it: small bytes inline, anything else
        sent to the remote cache first (once, checked against its digest on
        the way) and named by its digests."""
        source = action.inputs[name]
        if isinstance(source, BlobInput):
            return source.data
        digest = digests[name]
        sha = self._sent.get(digest)
        if sha is None:
            path = source.path if isinstance(source, SourceInput) else self.store.blob_path(digest)
            try:
                sha = self.remote.send_blob(path, digest)
            except Unavailable:
                raise ActionError(
                    f"the remote cache is unavailable, so {action.id}'s inputs cannot reach "
                    "the Dask workers; check the server or build with --executor local"
                ) from None
            except DigestMismatch:
                if isinstance(source, SourceInput):
                    raise ActionError(
                        f"{source.path.name} changed while the build was running; "
                        "run `reel build` again"
                    ) from None
                self.store.evict(digest, "evicted; the action that made it runs again")
                raise BlobDamaged(digest) from None
            except FileNotFoundError:
                if isinstance(source, SourceInput):
                    raise ActionError(f"{source.path.name} was removed during the build") from None
                raise BlobDamaged(digest, " (missing)") from None
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
        with self._lock:
            for warning in answer.get("warnings") or ():
                self.warnings.append(f"worker {answer['worker']}: {warning}")
        return outputs
