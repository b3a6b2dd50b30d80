"""The build server (`reel server start`): a command it runs is the command the
client would have run. Each test starts its own server on its own socket
folder, runs the real `reel` entry point against it, and compares what the
user sees: the bytes built, the exit codes, the messages, Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from reel.server import control

from helpers import write_tree

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")

EPISODE = """
episode srv {
  title "Served"
  format 160x90 @ 12fps
}
scene one {
  shot wide 1s { plate gradient "#102030" "#ffffff" title "One" }
  shot close 10f { plate checker "#000000" "#ff0000" cell 10 title "Two" }
}
"""


def reel_command() -> list[str]:
    """The installed `reel` script (the client), else the same entry by -m."""
    beside = Path(sys.executable).parent / "reel"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "reel.server.client"]


def client(
    *args: str, cwd: Path, folder: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*reel_command(), *args],
        cwd=cwd,
        env={**os.environ, "REEL_SERVER_DIR": str(folder), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "srv"
    with control.running(folder, max_idle=300):
        yield folder


def served(folder: Path) -> int:
    answer = control.ask({"op": "ping"}, folder)
    assert answer is not None, "the server is not running"
    return answer["served"]


def delivered(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("run_summary.json", "report.html")  # timings
    }


def test_a_build_through_the_server_is_the_build_run_here(tmp_path: Path, server: Path) -> None:
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE})
    args = ("build", ".", "--out", "out", "--cache-dir", "cache", "-j", "2")
    before = served(server)
    through = client(*args, cwd=project, folder=server)
    assert through.returncode == 0, through.stderr
    assert served(server) == before + 1  # it was the server's child that built
    here = client(
        *args[:2],
        "--out",
        "out2",
        "--cache-dir",
        "cache2",
        cwd=project,
        folder=tmp_path / "no-server",
    )
    assert here.returncode == 0, here.stderr
    assert served(server) == before + 1
    assert delivered(project / "out") == delivered(project / "out2")
    for done in (through, here):
        assert "built srv: 1 scenes, 2 shots" in done.stderr + done.stdout
    # Relative paths were the client's: nothing landed in the server's folder.
    assert not (server / "out").exists()


def test_errors_and_exit_codes_are_the_clients(tmp_path: Path, server: Path) -> None:
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE.replace("1s {", "1s { bogus")})
    through = client("build", ".", "--out", "out", cwd=project, folder=server)
    here = client("build", ".", "--out", "out", cwd=project, folder=tmp_path / "none")
    assert through.returncode == here.returncode == 2  # a syntax error
    assert through.stderr == here.stderr
    assert "main.episode:" in through.stderr and "Traceback" not in through.stderr
    assert not (project / "out").exists()


def test_another_locale_is_refused_and_runs_here(tmp_path: Path, server: Path) -> None:
    """A variable Python reads at start-up differs: the fork could not be the
    client's process, so the client runs the command itself."""
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE})
    before = served(server)
    done = client("check", ".", cwd=project, folder=server, env={"LC_ALL": "C.UTF-8"})
    assert done.returncode == 0, done.stderr
    assert served(server) == before  # refused, and still running


def test_a_changed_module_stops_the_server_and_the_command_runs_here(tmp_path: Path) -> None:
    """Bazel restarts its server when its binary changes; Reel's stops when a
    module it imported changes on disk (here a plugin module it preloaded)."""
    plugin = write_tree(tmp_path / "plugins", {"reel_test_plugin.py": "VALUE = 1\n"})
    folder = tmp_path / "srv"
    paths = [str(plugin), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE})
    old = dict(os.environ)
    os.environ.update(env)  # the server is started with the client's search path
    try:
        with control.running(folder, preload=("reel_test_plugin",)):
            assert client("check", ".", cwd=project, folder=folder, env=env).returncode == 0
            assert served(folder) == 1
            module = plugin / "reel_test_plugin.py"
            module.write_text("VALUE = 22\n")
            done = client("check", ".", cwd=project, folder=folder, env=env)
            assert done.returncode == 0, done.stderr
            assert control.ask({"op": "ping"}, folder) is None  # it stopped
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_ctrl_c_reaches_the_build_and_its_ffmpeg(tmp_path: Path, server: Path) -> None:
    """SIGINT to the client ends the build on the server as Ctrl-C would end a
    local one: 'interrupted', exit 130, and no ffmpeg left running."""
    shots = "\n".join(
        f'  shot wide 4s {{ plate gradient "#10{n:02d}30" "#fff" move push_in 1.2 title "S{n}" }}'
        for n in range(12)
    )
    text = 'episode big {\n  title "Big"\n  format 1280x720 @ 24fps\n}\nscene one {\n'
    project = write_tree(tmp_path / "p", {"main.episode": text + shots + "\n}\n"})
    proc = subprocess.Popen(
        [*reel_command(), "build", ".", "--out", "out", "--cache-dir", "cache", "-j", "2"],
        cwd=project,
        env={**os.environ, "REEL_SERVER_DIR": str(server)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server_pid = control.ask({"op": "ping"}, server)["pid"]
    encoders = _wait_for_ffmpeg(server_pid)
    assert encoders, "no ffmpeg started on the server"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "reel: interrupted" in err
    _, alive = psutil.wait_procs(encoders, timeout=30)
    assert not alive, f"ffmpeg still running: {alive}"
    assert not (project / "out" / "big" / "master.mp4").exists()


def _wait_for_ffmpeg(server_pid: int) -> list[psutil.Process]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [
            p for p in psutil.Process(server_pid).children(recursive=True) if "ffmpeg" in p.name()
        ]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_a_client_killed_outright_cancels_its_build(tmp_path: Path, server: Path) -> None:
    """No client to report to: the build is ended, not left running."""
    shots = "\n".join(
        f'  shot wide 4s {{ plate gradient "#20{n:02d}30" "#ffffff" move push_in 1.2 }}'
        for n in range(12)
    )
    text = 'episode big {\n  title "Big"\n  format 1280x720 @ 24fps\n}\nscene one {\n'
    project = write_tree(tmp_path / "p", {"main.episode": text + shots + "\n}\n"})
    proc = subprocess.Popen(
        [*reel_command(), "build", ".", "--out", "out", "--cache-dir", "cache"],
        cwd=project,
        env={**os.environ, "REEL_SERVER_DIR": str(server)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server_pid = control.ask({"op": "ping"}, server)["pid"]
    encoders = _wait_for_ffmpeg(server_pid)
    assert encoders
    builds = [
        p for p in psutil.Process(server_pid).children(recursive=True) if "python" in p.name()
    ]
    proc.kill()
    proc.wait()
    _, alive = psutil.wait_procs([*encoders, *builds], timeout=60)
    assert not alive, f"still running after the client died: {alive}"


def test_status_stop_and_idle(tmp_path: Path) -> None:
    folder = tmp_path / "srv"
    env = {**os.environ, "REEL_SERVER_DIR": str(folder)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [*reel_command(), "server", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    assert run("status").returncode == 1
    started = run("start", "--max-idle", "2")
    assert started.returncode == 0 and "started, pid" in started.stdout, started.stderr
    again = run("start")
    assert "already running" in again.stdout
    assert run("status").returncode == 0
    time.sleep(4)  # idle for longer than --max-idle: it stopped by itself
    assert run("status").returncode == 1
    assert not list(folder.glob("*.sock"))
    run("start")
    assert "stopped pid" in run("stop").stdout
    assert run("status").returncode == 1


def test_the_client_imports_nothing_of_reel_before_it_asks() -> None:
    """The point of the server is the import time it saves: the client itself
    must not pay it (nor click's) when a server answers."""
    code = (
        "import sys, reel.server.client; "
        "print(sorted(m for m in sys.modules if m.startswith(('reel', 'click'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        done.stdout.strip()
        == "['reel', 'reel.server', 'reel.server.client', 'reel.server.protocol']"
    )
