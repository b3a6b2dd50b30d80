"""The `reel` command: hand the command to a running build server, or run it here.

Bazel's client does the same: a build command goes to a resident server that
has everything loaded, so an edit's rebuild does not pay the interpreter's
start-up. Reel's server is started by hand (`reel server start`) and used by
every `reel` command of the same installation while it runs; with none
running, the command runs in this process exactly as before, and the check
costs one failed connect (tens of microseconds).

Standard library only, imported before anything else: see protocol.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

from . import protocol

RELAYED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


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
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return None  # a closed standard stream cannot be handed over
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(protocol.socket_path())
    except OSError:
        sock.close()
        return None
    channel = protocol.Channel(sock)
    request: dict[str, Any] = {
        "op": "run",
        "version": protocol.VERSION,
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": _umask(),
        **protocol.interpreter_facts(),
    }
    try:
        channel.send(request, [0, 1, 2])
        answer, _ = channel.receive()
    except (OSError, ValueError):
        return None
    if not answer or "refused" in answer:
        return None  # the server said why in its log; this process does the work
    previous = {sig: signal.signal(sig, _relay(channel)) for sig in RELAYED}
    try:
        while True:
            try:
                answer, _ = channel.receive()
            except InterruptedError:
                continue
            if answer is None:
                print("reel: the build server stopped during the command", file=sys.stderr)
                return 70
            if "exit" in answer:
                return int(answer["exit"])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()


def _relay(channel: protocol.Channel) -> Any:
    """Ctrl-C and the like reach the command's process group on the server,
    as they would reach a local command's through the terminal."""

    def handler(signum: int, _frame: Any) -> None:
        try:
            channel.send({"signal": signum})
        except OSError:
            pass

    return handler


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


if __name__ == "__main__":  # `python -m reel.server.client ARGS` is `reel ARGS`
    main()
