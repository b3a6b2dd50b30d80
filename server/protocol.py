"""What the `reel` client and the build server say to each other, and where.

Standard library only: the client imports this before anything else, and the
point of the server is that a command's first 0.4 s (Python importing Reel)
is already spent. Messages are JSON behind a 4-byte length, over a Unix
socket in a folder only this user can open; the client's standard streams
travel with its request as file descriptors (SCM_RIGHTS), so the server's
child writes to the user's terminal or pipe directly, as the client would.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
import sys
from typing import Any

VERSION = 1
DIR_ENV = "REEL_SERVER_DIR"  # where the socket lives (tests, or two servers side by side)

# The commands a server runs for the client: those that build or read a build.
# `watch` is resident already; `direct` may ask questions; `server` is the
# client's own.
SERVED = frozenset({"build", "check", "verify", "qc", "query", "graph"})

_HEADER = struct.Struct(">I")
MAX_MESSAGE = 16 * 1024 * 1024


def directory() -> str:
    """The server's folder: $REEL_SERVER_DIR, else a per-user runtime folder.
    (Paths are strings here: importing pathlib would cost the client 8 ms.)"""
    chosen = os.environ.get(DIR_ENV)
    if chosen:
        return os.path.abspath(chosen)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "reel")
    return f"/tmp/reel-{os.getuid()}"


def installation() -> str:
    """One server per installation: this environment, interpreter and copy of Reel.

    Two virtual environments on one machine get two servers, each importing
    its own code."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    # sys.prefix tells virtual environments apart; the executable's real path
    # makes `python` and `python3` (the `reel` script's) one installation.
    python = os.path.realpath(sys.executable)
    text = f"{sys.prefix}\n{python}\n{here}\n{sys.version}"
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def socket_path(folder: str | None = None) -> str:
    return os.path.join(folder or directory(), f"server-{installation()}.sock")


def private_folder(folder: str) -> bool:
    """Whether ``folder`` is a real folder (no symlink) that this user owns and
    no one else may enter: the only kind a socket is trusted in, or made in."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def peer_uid(sock: socket.socket) -> int:
    """The user the process at the socket's other end runs as (Linux)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def interpreter_facts() -> dict[str, Any]:
    """What a request must share with the server for a forked child to be the
    process the client would have been: the module search path (without its
    first entry, the script's folder or the current one), every variable
    Python or the C library reads once, at start-up, and Python's flags."""
    fixed = {
        name: value
        for name, value in os.environ.items()
        if name.startswith(("PYTHON", "LC_")) or name in ("LANG", "LANGUAGE")
    }
    return {
        "path": sys.path[1:],
        "startup_env": dict(sorted(fixed.items())),
        # -O, -u, -X dev, -W and the like: set when Python starts, never after.
        "flags": [repr(sys.flags), sorted(sys.warnoptions), sorted(map(str, sys._xoptions))],
    }


class Channel:
    """A socket's messages, one at a time (two may arrive in one read)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message, sort_keys=True).encode()
        payload = _HEADER.pack(len(data)) + data
        if fds:
            sent = socket.send_fds(self.sock, [payload], fds)
            payload = payload[sent:]
        if payload:
            self.sock.sendall(payload)

    def receive(self, maxfds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
        """One message and any descriptors sent with it; (None, []) at end of stream."""
        fds: list[int] = []
        while len(self._buffer) < _HEADER.size + _length(self._buffer):
            if maxfds and not fds:
                chunk, got, _flags, _addr = socket.recv_fds(self.sock, 65536, maxfds)
                fds.extend(got)
            else:
                chunk = self.sock.recv(65536)
            if not chunk:
                for fd in fds:
                    os.close(fd)
                return None, []
            self._buffer += chunk
        size = _length(self._buffer)
        end = _HEADER.size + size
        message, self._buffer = json.loads(self._buffer[_HEADER.size : end]), self._buffer[end:]
        return message, fds


def _length(buffer: bytes) -> int:
    """The length the buffer's header announces (0 until a header is whole)."""
    if len(buffer) < _HEADER.size:
        return 0
    (size,) = _HEADER.unpack_from(buffer)
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes is not Reel's")
    return size
