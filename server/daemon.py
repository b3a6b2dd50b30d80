"""The build server: one resident process with Reel imported, forking a child
per command.

A fork is the whole design. Each command runs in a child that starts as a
copy of a process that has imported Reel and nothing more, is handed the
client's standard streams, working folder, umask, environment and arguments,
and exits when the command does: no state passes from one build to the next,
so a build through the server is the build the client would have run (the
tests compare the bytes). What the fork saves is the interpreter's start-up
and Reel's imports, about 0.45 s of a 2.4 s one-shot edit on this machine.

The server refuses a request, and the client runs the command itself, when
the child could not be that process: another module search path, or another
value of a variable Python reads only at start-up (PYTHON*, LC_*, LANG). It
stops when a module it imported has changed on disk since (an upgrade, or an
edit to Reel's own code), as Bazel's server restarts when its binary changes;
modules a child imports later are read fresh by each child. It also stops
after ``max_idle`` seconds without a command (Bazel's default is 3 hours).

Linux only (pidfd_open, SCM_RIGHTS), like the rest of Reel's sandboxing.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import os
import pkgutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import child, control, protocol
from .control import DEFAULT_MAX_IDLE

# What a build imports, imported once by the server. A module missing here is
# still imported by each child when it needs it, only not in advance.
PRELOAD = (
    "reel.cli",
    "reel.compiler.build",
    "reel.compiler.session",
    "reel.compiler.executor",
    "reel.compiler.qc",
    "reel.compiler.report",
    "reel.lang.parser",
    "reel.compiler.noop",
    # What the backends import lazily (each module's import-time cost is kept
    # off builds that never need it), and a build through the server would
    # otherwise pay on its critical path: PyAV alone is 0.1 s.
    "av",
    "PIL.Image",
    "PIL.ImageFont",
    "espeakng_loader",
    "packaging.version",
)
PRELOAD_PACKAGES = ("reel.backends", "reel.compiler.rules")
SKIPPED = (".__main__", ".run_action")


def serve(
    run: Callable[..., Any],
    folder: Path | str,
    max_idle: float = DEFAULT_MAX_IDLE,
) -> int:
    """Answer commands on the installation's socket in ``folder`` until stopped,
    idle for ``max_idle`` seconds, or out of date. ``run`` is the CLI's entry
    (a click group), called in each command's child."""
    folder = Path(folder)
    if not control.make_private_folder(folder):
        _log(f"{folder} is not a folder only this user may enter (mode 700): not serving there")
        return 1
    lock = open(folder / f"server-{protocol.installation()}.lock", "w")  # held for life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _log("another server is running for this installation")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the socket file goes too
    server = Server(run, Path(protocol.socket_path(str(folder))), lock)
    try:
        server.loop(max_idle)
    finally:
        server.close()
    return 0


class Server:
    """The resident process's state: what it imported, and its children."""

    def __init__(self, run: Callable[..., Any], path: Path, lock: Any) -> None:
        self.run, self.path, self.lock = run, path, lock
        self.started = time.monotonic()
        _preload()
        self.files = _watched(_warm())
        gc.freeze()  # the preloaded heap is never collected: children need not scan (copy) it
        self.facts = protocol.interpreter_facts()
        self.children: set[int] = set()
        self.served = 0
        self.last_used = time.monotonic()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.inode = os.stat(path).st_ino
        self.listener.listen(16)
        self.listener.settimeout(1.0)
        _log(
            f"ready in {time.monotonic() - self.started:.2f}s, pid {os.getpid()}, "
            f"{len(self.files)} modules"
        )

    def loop(self, max_idle: float) -> None:
        """Serve until stopped; idle means no command running or asked for
        (a status question is not use)."""
        while True:
            self.children -= _reaped(self.children)
            if self.children:
                self.last_used = time.monotonic()
            elif time.monotonic() - self.last_used > max_idle:
                _log(f"idle for {max_idle:.0f}s: stopping")
                return
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            if not self.answer(conn):
                return

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self.inode:
                self.path.unlink()  # ours still (a newer server may have bound the name)
        self.listener.close()

    def answer(self, conn: socket.socket) -> bool:
        """Handle one connection; False when the server should stop."""
        # A client sends its request as it connects; one that does not is not
        # waited for long, since the server answers one connection at a time.
        conn.settimeout(2.0)
        channel = protocol.Channel(conn)
        fds: list[int] = []
        try:
            if protocol.peer_uid(conn) != os.getuid():
                return True
            request, fds = channel.receive(maxfds=4)
            op = (request or {}).get("op")
            if op == "ping":
                channel.send(self.status())
            elif op == "stop":
                channel.send({"stopping": os.getpid()})
                return False
            elif op == "run" and request is not None:
                return self.take(channel, request, fds)
        except (OSError, ValueError) as exc:
            _log(f"a connection failed: {exc}")
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            conn.close()
        return True

    def status(self) -> dict[str, Any]:
        self.children -= _reaped(self.children)  # a command that just ended is not running
        return {
            "pid": os.getpid(),
            "up_s": round(time.monotonic() - self.started, 1),
            "running": len(self.children),
            "served": self.served,
            "modules": len(self.files),
        }

    def take(self, channel: protocol.Channel, request: dict[str, Any], fds: list[int]) -> bool:
        """Run a command in a child, or refuse it (the client then runs it);
        False when the server is out of date and must stop."""
        self.last_used = time.monotonic()
        changed = _changed(self.files)
        if changed:
            channel.send({"refused": "stale", "changed": changed})
            _log(f"{changed} changed on disk since start: stopping")
            return False
        refusal = _refusal(request, self.facts, fds)
        if refusal:
            channel.send({"refused": refusal})
            _log(f"refused a command: {refusal}")
            return True
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            channel.send({"refused": f"cannot fork: {exc}"})
            return True
        if pid == 0:  # the child: whatever happens, it never returns to this loop
            code = 70
            try:
                self.listener.close()
                self.lock.close()  # a long build must not keep a new server from starting
                child.supervise(channel, request, list(fds), self.run)
                code = 0
            finally:
                os._exit(code)
        self.children.add(pid)
        self.served += 1
        return True


def _refusal(request: dict[str, Any], facts: dict[str, Any], fds: list[int]) -> str | None:
    """Why a fork of this server could not be the client's process, if so."""
    if request.get("version") != protocol.VERSION:
        return f"protocol {request.get('version')}, the server speaks {protocol.VERSION}"
    if len(fds) != 4:
        return "the standard streams and the folder did not arrive"
    try:
        here, theirs = os.stat(request["cwd"]), os.fstat(fds[3])
    except (OSError, KeyError, TypeError):
        return "the client's folder cannot be seen from the server"
    if (here.st_dev, here.st_ino) != (theirs.st_dev, theirs.st_ino):
        return "the client's folder is not the one of that name here (another mount namespace?)"
    if request.get("flags") != facts["flags"]:
        return "Python's flags differ (-O, -u, -X, -W)"
    if request.get("path") != facts["path"]:
        return "another module search path (sys.path)"
    if request.get("startup_env") != facts["startup_env"]:
        theirs, ours = request.get("startup_env") or {}, facts["startup_env"]
        names = sorted(n for n in {*theirs, *ours} if theirs.get(n) != ours.get(n))
        return "start-up variables differ: " + ", ".join(names)
    return None


def _preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    for package_name in PRELOAD_PACKAGES:
        package = importlib.import_module(package_name)
        found = pkgutil.walk_packages(package.__path__, package_name + ".")
        for info in sorted(found, key=lambda i: i.name):
            if not info.name.endswith(SKIPPED):
                importlib.import_module(info.name)


def _warm() -> list[str]:
    """Do once what every build would do first and what depends only on files
    the server watches: build the grammar's parser, find the kinds and compute
    their versions (each a digest of its modules' source). About 40 ms a
    build. The files read, besides modules, are returned to be watched."""
    from reel.backends import registry
    from reel.lang import parser

    grammar = parser.prepare()
    registry.versions()  # every backend kind's, computed and cached
    return [str(grammar)]


def _watched(extra: list[str]) -> dict[str, tuple[int, int]]:
    """Every imported module's file, and ``extra``, with its modification time
    and size; and their folders, whose times change when a file is added (a
    new backend module would be a new kind)."""
    names = {getattr(m, "__file__", None) for m in list(sys.modules.values())} | set(extra)
    files = sorted(n for n in names if n)
    found: dict[str, tuple[int, int]] = {}
    for name in [*files, *sorted({os.path.dirname(n) for n in files})]:
        with contextlib.suppress(OSError):
            stat = os.stat(name)
            found[name] = (stat.st_mtime_ns, stat.st_size)
    return found


def _changed(files: dict[str, tuple[int, int]]) -> str | None:
    """The first imported file that is not as it was at start-up, if any."""
    for name, (mtime, size) in files.items():
        try:
            stat = os.stat(name)
        except OSError:
            return name
        if (stat.st_mtime_ns, stat.st_size) != (mtime, size):
            return name
    return None


def _reaped(children: set[int]) -> set[int]:
    done = set()
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                done.add(pid)
    return done


def _log(text: str) -> None:
    print(f"reel server: {text}", file=sys.stderr, flush=True)
