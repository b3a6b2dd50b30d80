"""Real servers for the tests and the bench, started on 127.0.0.1: nginx serving
Bazel's HTTP cache protocol (WebDAV PUT), and a Dask scheduler with workers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    client_max_body_size 0;
    location / {{
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }}
  }}
}}
"""


class ServerError(Exception):
    """A server did not start (the message says why)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_exe() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).is_file()), None
    )


@dataclass
class Server:
    url: str
    root: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def files(self, kind: str) -> list[Path]:
        return sorted(p for p in (self.root / kind).glob("*") if p.is_file())


def start_nginx(exe: str, folder: Path) -> Server:
    """nginx as a Bazel HTTP cache, its root and temporary files under ``folder``.
    The root is writable by everyone: when run as root, nginx's workers are nobody."""
    tmp, root = folder / "nginx", folder / "nginx-root"
    tmp.mkdir(parents=True)
    root.mkdir()
    root.chmod(0o777)
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, root=root, port=port))
    process = subprocess.Popen(
        [exe, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    server = Server(url, root, process)
    deadline = time.monotonic() + 15
    while True:  # ready when it answers
        try:
            urllib.request.urlopen(f"{url}/", timeout=1).close()
            return server
        except urllib.error.HTTPError:
            return server  # 403/404: it answers
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                err = process.stderr.read().decode() if process.stderr else ""
                raise ServerError(f"nginx did not start: {err}") from None
            time.sleep(0.05)


@dataclass
class Cluster:
    """A Dask scheduler and its workers, each a real process of its own."""

    folder: Path
    address: str = ""
    scheduler: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def executor(self) -> str:
        return "dask://" + self.address.removeprefix("tcp://")

    def start(self) -> Cluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        info = self.folder / "scheduler.json"
        args = ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        self.scheduler = self._spawn("scheduler", [*args, "--scheduler-file", str(info)])
        deadline = time.monotonic() + 60
        while not info.is_file() or not info.read_text().strip():
            self._check(self.scheduler, "the scheduler", deadline)
            time.sleep(0.05)
        time.sleep(0.05)  # the file is written in one go; let it land
        self.address = json.loads(info.read_text())["address"]
        return self

    def add_worker(
        self, name: str, *, resources: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        """One worker process (no nanny: killing it is a machine lost), one thread,
        its scratch space in ``folder/name``."""
        args = ["worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny"]
        args += ["--local-directory", str(self.folder / name), "--no-dashboard"]
        if resources:
            args += ["--resources", resources]
        self.workers[name] = self._spawn(name, args, env)

    def wait_for(self, count: int, timeout: float = 90) -> None:
        """Until ``count`` workers have registered with the scheduler."""
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(self.address, timeout="30s", set_as_default=False) as client:
            while len(client.scheduler_info(n_workers=-1)["workers"]) < count:
                for name, process in self.workers.items():
                    self._check(process, f"worker {name}", deadline)
                time.sleep(0.1)

    def kill(self, name: str) -> None:
        process = self.workers[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [*self.workers.values(), self.scheduler]:
            if process is not None:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _spawn(
        self, name: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env} if env else None,
        )

    def _check(self, process: subprocess.Popen[bytes], what: str, deadline: float) -> None:
        if process.poll() is not None or time.monotonic() > deadline:
            self.stop()
            logs = "\n".join(p.read_text()[-2000:] for p in sorted(self.folder.glob("*.log")))
            raise ServerError(f"{what} did not start:\n{logs}")


def start_cluster(folder: Path, workers: int = 2) -> Cluster:
    """A scheduler and ``workers`` workers named w1, w2, … (the README's setup)."""
    cluster = Cluster(folder).start()
    for n in range(1, workers + 1):
        cluster.add_worker(f"w{n}")
    cluster.wait_for(workers)
    return cluster
