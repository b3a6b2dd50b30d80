"""The `reel` command: hand the command to a running build server, or run it here.

Bazel's client does the same: a build command goes to a resident server that
has everything loaded, so an edit's rebuild does not pay the interpreter's
start-up. Reel's server is started by hand (`reel server start`) and used by
every `reel` command of the same installation while it runs; with none
running, the command runs in this process exactly as before, and the check
costs one failed connect (tens of microseconds).

Nothing is sent to a socket this user does not own: the folder must be this
user's alone (protocol.private_folder) and the process listening must run as
this user (SO_PEERCRED), or the command runs here.

Standard library only, imported before anything else: see protocol.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

from . import protocol

# Relayed to the command's process group on the server, as a terminal would
# send them to a local command's. Ctrl-Z is relayed, then this process stops.
RELAYED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCONT)


def main() -> None:
    argv = list(sys.argv)
    if len(argv) > 1 and argv[1] in protocol.SERVED:
        code = _served(argv)
        if code is not None:
            sys.exit(code)
    from ..cli import main as run_here

    run_here()


def _served(argv: list[str]) -> int | None:
    """The command's exit code from the server, or None: run it here."""
    sock = _connect()
    if sock is None:
        return None
    channel = protocol.Channel(sock)
    relay = _Relay(channel)
    previous = {sig: signal.signal(sig, relay.forward) for sig in RELAYED}
    previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, relay.suspend)
    try:
        return _exchange(channel, argv, relay)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()


def _connect() -> socket.socket | None:
    """A connection to this user's own server, or None."""
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)  # a closed standard stream cannot be handed over
        folder = protocol.directory()
        if not protocol.private_folder(folder):
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        sock.connect(protocol.socket_path(folder))
        if protocol.peer_uid(sock) != os.getuid():
            raise ConnectionRefusedError("another user's process")
    except OSError:
        sock.close()
        return None
    return sock


def _exchange(channel: protocol.Channel, argv: list[str], relay: _Relay) -> int | None:
    """Send the command; wait for its exit code. None: it was refused."""
    try:
        cwd = os.getcwd()
        where = os.open(".", os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return None  # the folder is gone: running here says so properly
    request: dict[str, Any] = {
        "op": "run",
        "version": protocol.VERSION,
        "argv": argv,
        "cwd": cwd,
        "env": dict(os.environ),
        "umask": _umask(),
        "path0": sys.path[0] if sys.path else "",
        **protocol.interpreter_facts(),
    }
    try:
        channel.send(request, [0, 1, 2, where])
        answer, _ = channel.receive()
    except (OSError, ValueError):
        answer = None
    finally:
        os.close(where)
    if not answer or "refused" in answer:
        if relay.interrupted:
            raise KeyboardInterrupt  # Ctrl-C before the server took it: stop here
        if answer and answer.get("refused") == "stale":
            print(
                "reel: the build server ran older code and has stopped; this command runs "
                "without it (`reel server start` starts a new one)",
                file=sys.stderr,
            )
        return None  # the server's log says why; this process does the work
    while True:
        answer, _ = channel.receive()
        if answer is None:
            print("reel: the build server stopped during the command", file=sys.stderr)
            return 70
        if "exit" in answer:
            return int(answer["exit"])


class _Relay:
    """Signals this process receives, sent on to the command."""

    def __init__(self, channel: protocol.Channel) -> None:
        self.channel = channel
        self.interrupted = False

    def forward(self, signum: int, _frame: Any) -> None:
        self.interrupted |= signum == signal.SIGINT
        self._send(signum)

    def suspend(self, _signum: int, _frame: Any) -> None:
        """Ctrl-Z: stop the command, then this process; `fg` resumes both (the
        shell's SIGCONT reaches this process, which forwards it)."""
        self._send(signal.SIGTSTP)
        # SIGSTOP, as the command's group gets: a SIGTSTP left to its default
        # is dropped in an orphaned process group (a client started by a
        # script or a test), and the command would stop without its client.
        os.kill(os.getpid(), signal.SIGSTOP)

    def _send(self, signum: int) -> None:
        try:
            self.channel.send({"signal": signum})
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


if __name__ == "__main__":  # `python -m reel.server.client ARGS` is `reel ARGS`
    main()
