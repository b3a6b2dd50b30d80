"""`reel server start | stop | status`: what the CLI asks of a server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import protocol

DEFAULT_MAX_IDLE = 3 * 3600.0  # Bazel's --max_idle_secs default
START_TIMEOUT = 60.0


def ask(message: dict[str, Any], folder: Path | str | None = None) -> dict[str, Any] | None:
    """One question to the running server; None if none answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10.0)
    try:
        sock.connect(protocol.socket_path(str(folder) if folder else None))
        channel = protocol.Channel(sock)
        channel.send(message)
        answer, _ = channel.receive()
        return answer
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def start(
    folder: Path | str | None = None,
    max_idle: float = DEFAULT_MAX_IDLE,
) -> dict[str, Any]:
    """Start a server in the background (a new session, its output to a log
    beside the socket) and wait until it answers; its ping answer, with
    ``already`` if one was running."""
    folder = Path(folder or protocol.directory())
    running = ask({"op": "ping"}, folder)
    if running:
        return {**running, "already": True}
    if not make_private_folder(folder):
        raise RuntimeError(
            f"{folder} is not a folder only you may enter: the server's socket takes your "
            f"environment and terminal, so it lives only in a folder of mode 700 that you own "
            f"(set {protocol.DIR_ENV} to a new path, or `chmod 700` it)"
        )
    log_path = folder / f"server-{protocol.installation()}.log"
    command = [sys.executable, "-m", "reel.server", "--max-idle", str(max_idle)]
    with open(log_path, "ab") as log:
        subprocess.Popen(
            command,
            cwd="/",  # -m puts the folder first on sys.path: none of the user's
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, protocol.DIR_ENV: str(folder)},
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        answer = ask({"op": "ping"}, folder)
        if answer:
            return {**answer, "log": str(log_path)}
        time.sleep(0.05)
    raise RuntimeError(
        f"the build server did not answer within {START_TIMEOUT:.0f}s; see {log_path}"
    )


def make_private_folder(folder: Path) -> bool:
    """Make ``folder`` (mode 700) unless it exists; whether it is private.
    An existing folder is never changed: it may be the user's home."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    return protocol.private_folder(str(folder))


def stop(folder: Path | str | None = None) -> dict[str, Any] | None:
    """Ask the server to stop; its answer, or None if none runs."""
    return ask({"op": "stop"}, folder)


@contextlib.contextmanager
def running(folder: Path | str, max_idle: float = 600) -> Iterator[dict[str, Any]]:
    """A server for the length of a block (the benches and tests use it)."""
    answer = start(folder, max_idle)
    try:
        yield answer
    finally:
        stop(folder)
