"""What runs in the server's forks: one command, as the client's own process.

Two forks per command. The first (the supervisor) stays connected to the
client: it relays the client's signals to the command's process group, ends
the command as Ctrl-C would if the client goes away, and sends the exit code
back. The second becomes the client: its standard streams, folder, umask,
environment and arguments; it runs the CLI and exits as Python would.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import protocol

Run = Callable[..., Any]

_OLD_STREAMS: list[Any] = []  # kept alive: collecting them would close fds 0-2


def supervise(channel: protocol.Channel, request: dict[str, Any], fds: list[int], run: Run) -> None:
    """The first fork. The caller ends the process if this returns or raises."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)  # ours to relay, not to act on
    channel.sock.settimeout(None)
    channel.send({"accepted": True})
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.setpgid(0, 0)
            channel.sock.close()
            code = _command(request, fds, run)
        except BaseException as exc:  # noqa: BLE001 (the fork must end here, not in the loop)
            print(f"reel: the build server could not run the command: {exc!r}", file=sys.stderr)
        finally:
            os._exit(code)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # both sides set it: no signal can arrive before
    for fd in fds:
        os.close(fd)
    try:
        code = _watch(channel, pid)
    except BaseException:  # noqa: BLE001 (the command's end must still be reported)
        traceback.print_exc()  # to the server's log
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    with contextlib.suppress(OSError):
        channel.send({"exit": 128 - code if code < 0 else code})


def _watch(channel: protocol.Channel, pid: int) -> int:
    """Relay the client's signals until the command ends; its wait status as
    an exit code (negative: the signal that ended it)."""
    waiting = os.pidfd_open(pid)
    client_here = True
    while True:
        watched = [waiting, channel.sock] if client_here else [waiting]
        ready, _, _ = select.select(watched, [], [])
        if waiting in ready:
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        try:
            message, _ = channel.receive()
        except (OSError, ValueError):
            message = None
        if message is None:  # the client is gone: end the command as Ctrl-C would
            client_here = False
            _signal_group(pid, signal.SIGINT)
            # ... and wake it if Ctrl-Z had stopped it, as a shell's `kill` of a
            # stopped job does: a stopped group would keep the signal pending.
            _signal_group(pid, signal.SIGCONT)
        elif "signal" in message:
            signum = int(message["signal"])
            # Ctrl-Z: SIGSTOP, which a process group outside the terminal's
            # session obeys whatever it does with SIGTSTP.
            _signal_group(pid, signal.SIGSTOP if signum == signal.SIGTSTP else signum)


def _signal_group(pid: int, signum: int) -> None:
    """The whole group, as a terminal's Ctrl-C reaches ffmpeg's processes too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _command(request: dict[str, Any], fds: list[int], run: Run) -> int:
    """The second fork: become the client's process, run its command."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # first: Ctrl-C works from here
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_DFL)
    adopt(request, fds)
    code = exit_code(lambda: run(args=sys.argv[1:], prog_name=os.path.basename(sys.argv[0])))
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()  # what an interpreter's exit would run (piper's workers)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return code


def adopt(request: dict[str, Any], fds: list[int]) -> None:
    """Take on the client's standard streams, folder (by descriptor: the one
    it is in, whatever its name), umask, environment, search path and
    arguments, and forget what the server's own start-up derived from its own
    (the folder for temporary files, the time zone)."""
    stdio, where = fds[:3], fds[3]
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
        os.close(fd)
    os.fchdir(where)
    os.close(where)
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # gettempdir() reads $TMPDIR again
    time.tzset()
    if sys.path and "path0" in request:
        sys.path[0] = request["path0"]  # the rest is the server's, equal by the check
    sys.argv = list(request["argv"])
    _standard_streams()


def exit_code(call: Callable[[], Any]) -> int:
    """What ``python -c call()`` would exit with."""
    try:
        call()
        return 0
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code & 0xFF
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 (as Python itself: print it, exit 1)
        traceback.print_exc()
        return 1


def _standard_streams() -> None:
    """Text streams on the client's descriptors, buffered as Python buffers
    its own: a terminal's stdout by line, a pipe's by block."""
    old = (sys.stdin, sys.stdout, sys.stderr)
    _OLD_STREAMS.extend(old)

    def text(fd: int, like: Any, line: bool) -> io.TextIOWrapper:
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        return io.TextIOWrapper(
            buffered,
            encoding=getattr(like, "encoding", None) or "utf-8",
            errors=getattr(like, "errors", None) or "strict",
            line_buffering=line,
            write_through=getattr(like, "write_through", False),  # -u / PYTHONUNBUFFERED
        )

    sys.stdin = sys.__stdin__ = text(0, old[0], False)
    sys.stdout = sys.__stdout__ = text(1, old[1], os.isatty(1))
    sys.stderr = sys.__stderr__ = text(2, old[2], True)
