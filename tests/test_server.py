"""The build server (`reel server start`): a command it runs is the command the
client would have run. Each test starts its own server on its own socket
folder, runs the real `reel` entry point against it, and compares what the
user sees: the bytes built, the exit codes, the messages, Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
    other = "C" if os.environ.get("LC_ALL") == "C.UTF-8" else "C.UTF-8"
    done = client("check", ".", cwd=project, folder=server, env={"LC_ALL": other})
    assert done.returncode == 0, done.stderr
    assert served(server) == before  # refused, and still running


def test_a_changed_module_stops_the_server_and_the_command_runs_here(tmp_path: Path) -> None:
    """Bazel restarts its server when its binary changes; Reel's stops when a
    module it imported changes on disk. Here the module is a sitecustomize on
    the search path, which both the server and the client import at start-up."""
    site = write_tree(tmp_path / "site", {"sitecustomize.py": "VALUE = 1\n"})
    folder = tmp_path / "srv"
    paths = [str(site), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE})
    old = dict(os.environ)
    os.environ.update(env)  # the server is started with the client's search path
    try:
        with control.running(folder):
            assert client("check", ".", cwd=project, folder=folder, env=env).returncode == 0
            assert served(folder) == 1
            (site / "sitecustomize.py").write_text("VALUE = 22\n")
            done = client("check", ".", cwd=project, folder=folder, env=env)
            assert done.returncode == 0, done.stderr
            assert "ran older code and has stopped" in done.stderr
            assert control.ask({"op": "ping"}, folder) is None  # it stopped
    finally:
        os.environ.clear()
        os.environ.update(old)


def long_episode(folder: Path, tint: str) -> Path:
    """Twelve 4 s 720p shots: a build long enough to interrupt (``tint``
    makes its plates its own, so no other test's cache holds them)."""
    shots = "\n".join(
        f'  shot wide 4s {{ plate gradient "#{tint}{n:02d}30" "#fff" move push_in 1.2 }}'
        for n in range(12)
    )
    text = 'episode big {\n  title "Big"\n  format 1280x720 @ 24fps\n}\nscene one {\n'
    return write_tree(folder, {"main.episode": text + shots + "\n}\n"})


def test_ctrl_z_and_ctrl_c_reach_the_build_and_its_ffmpeg(tmp_path: Path, server: Path) -> None:
    """SIGTSTP to the client stops the build's processes with it, SIGCONT
    resumes them; SIGINT ends the build on the server as Ctrl-C would end a
    local one: 'interrupted', exit 130, and no ffmpeg left running."""
    project = long_episode(tmp_path / "p", "10")
    proc = subprocess.Popen(
        [*reel_command(), "build", ".", "--out", "out", "--cache-dir", "cache", "-j", "2"],
        cwd=project,
        env={**os.environ, "REEL_SERVER_DIR": str(server)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server_pid = control.ask({"op": "ping"}, server)["pid"]
        encoders = _wait_for_ffmpeg(server_pid)
        assert encoders, "no ffmpeg started on the server"
        # Ctrl-Z stops the client and the build's processes; `fg` (SIGCONT) resumes them.
        proc.send_signal(signal.SIGTSTP)
        assert _settles(lambda: psutil.Process(proc.pid).status() == psutil.STATUS_STOPPED)
        assert _settles(lambda: _all_stopped(encoders))
        proc.send_signal(signal.SIGCONT)
        assert _settles(lambda: not _all_stopped(encoders))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()  # on a failure: the server then ends the build (and wakes it)
    assert proc.returncode == 130, err
    assert "reel: interrupted" in err
    _, alive = psutil.wait_procs(encoders, timeout=30)
    assert not alive, f"ffmpeg still running: {alive}"
    assert not (project / "out" / "big" / "master.mp4").exists()


def _descendants(pid: int, name: str) -> list[psutil.Process]:
    """The server's descendants whose name holds ``name`` (gone ones skipped)."""
    found = []
    for proc in psutil.Process(pid).children(recursive=True):
        try:
            if name in proc.name():
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


def _settles(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _all_stopped(procs: list[psutil.Process]) -> bool:
    """Every process that is still there is stopped (Ctrl-Z)."""
    states = []
    for proc in procs:
        try:
            states.append(proc.status())
        except psutil.NoSuchProcess:
            continue
    return bool(states) and all(state == psutil.STATUS_STOPPED for state in states)


def _wait_for_ffmpeg(server_pid: int) -> list[psutil.Process]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = _descendants(server_pid, "ffmpeg")
        if found:
            return found
        time.sleep(0.05)
    return []


def test_a_client_killed_outright_cancels_its_build(tmp_path: Path, server: Path) -> None:
    """No client to report to: the build is ended, not left running, even
    when Ctrl-Z had stopped it first."""
    project = long_episode(tmp_path / "p", "20")
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
    builds = _descendants(server_pid, "python")
    proc.send_signal(signal.SIGTSTP)
    assert _settles(lambda: _all_stopped(encoders))
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

    try:
        assert run("status").returncode == 1
        started = run("start", "--max-idle", "1")
        assert started.returncode == 0 and "started, pid" in started.stdout, started.stderr
        assert "already running" in run("start").stdout
        deadline = time.monotonic() + 30  # idle for longer than --max-idle: it stops itself
        while run("status").returncode == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert run("status").returncode == 1
        assert not list(folder.glob("*.sock"))
        run("start")
        assert "stopped pid" in run("stop").stdout
        assert run("status").returncode == 1
    finally:
        run("stop")


def test_a_folder_others_may_enter_is_never_used(tmp_path: Path, server: Path) -> None:
    """The socket takes the user's environment and terminal: a server folder
    others may enter is not trusted by the client (it runs the command itself)
    and not made or changed by `reel server start`."""
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE})
    before = served(server)
    server.chmod(0o755)
    try:
        done = client("check", ".", cwd=project, folder=server)
        assert done.returncode == 0, done.stderr
        assert served(server) == before  # not asked
    finally:
        server.chmod(0o700)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    env = {**os.environ, "REEL_SERVER_DIR": str(shared)}
    refused = subprocess.run(
        [*reel_command(), "server", "start"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert "only you may enter" in refused.stderr and "Traceback" not in refused.stderr
    assert shared.stat().st_mode & 0o777 == 0o755 and not list(shared.iterdir())


def test_a_command_that_fails_in_its_fork_leaves_the_server_serving(
    tmp_path: Path, server: Path
) -> None:
    """A request the command's fork cannot take on (here a umask that is not a
    number) ends that fork with exit 70; the server still answers, and its
    socket is where it was."""
    import socket as sockets

    from reel.server import protocol

    sock = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
    sock.connect(protocol.socket_path(str(server)))
    channel = protocol.Channel(sock)
    where = os.open(str(tmp_path), os.O_PATH | os.O_DIRECTORY)
    null = os.open(os.devnull, os.O_RDWR)
    request = {
        "op": "run",
        "version": protocol.VERSION,
        "argv": ["reel", "check", "."],
        "cwd": str(tmp_path),
        "env": dict(os.environ),
        "umask": "not a number",
        **_plain_interpreter_facts(),
    }
    try:
        channel.send(request, [null, null, null, where])
        assert channel.receive()[0] == {"accepted": True}
        assert channel.receive()[0] == {"exit": 70}
    finally:
        for fd in (where, null):
            os.close(fd)
        sock.close()
    assert control.ask({"op": "ping"}, server) is not None
    assert list(server.glob("*.sock"))


def _plain_interpreter_facts() -> dict:
    """What a `reel` client says of its interpreter (this test process's own
    search path is pytest's)."""
    code = "import json; from reel.server import protocol; "
    code += "print(json.dumps(protocol.interpreter_facts()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_fork_takes_on_the_clients_folder_umask_and_environment(tmp_path: Path) -> None:
    """What child.adopt does, in a real fork: the folder by descriptor, the
    umask, the environment, and what Python derived from the server's own
    (the temporary folder) read again from the client's."""
    from reel.server import child

    client_tmp = tmp_path / "client-tmp"
    client_tmp.mkdir()
    here = tmp_path / "here"
    here.mkdir()
    import tempfile

    tempfile.gettempdir()  # cached, as the server's preloading caches it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open(os.devnull, os.O_RDWR)
            fds = [os.dup(null), os.dup(null), os.dup(null)]
            fds.append(os.open(str(here), os.O_PATH | os.O_DIRECTORY))
            env = {"TMPDIR": str(client_tmp), "REEL_PROBE": "yes", "PATH": os.environ["PATH"]}
            request = {"argv": ["reel"], "umask": 0o027, "env": env, "path0": "/nowhere"}
            child.adopt(request, fds)
            mask = os.umask(0)
            facts = [os.getcwd(), oct(mask), tempfile.gettempdir(), os.environ.get("REEL_PROBE")]
            facts += [str("HOME" in os.environ), sys.path[0]]
            os.write(write, "\n".join(facts).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        facts = answer.read().split("\n")
    os.waitpid(pid, 0)
    assert facts == [str(here), "0o27", str(client_tmp), "yes", "False", "/nowhere"]


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


def _on_a_terminal(args: list[str], cwd: Path, folder: Path) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its standard streams, as a user's
    shell would; its exit code and everything it drew."""
    import pty

    main, side = pty.openpty()
    env = {**os.environ, "REEL_SERVER_DIR": str(folder), "TERM": "xterm-256color"}
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=side, stdout=side, stderr=side)
    os.close(side)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other side closed: the command is done
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    return proc.wait(timeout=300), drawn.decode(errors="replace")


def test_on_a_terminal_the_served_build_draws_live_progress(tmp_path: Path, server: Path) -> None:
    """The child writes to the client's terminal itself, so it sees a terminal:
    live progress redrawn in place, as a local build draws it; not the plain
    one-line-per-action log a pipe gets."""
    project = write_tree(tmp_path / "p", {"main.episode": EPISODE})
    args = [*reel_command(), "build", ".", "--cache-dir", "cache", "-j", "2"]
    before = served(server)
    code, drawn = _on_a_terminal([*args, "--out", "out"], project, server)
    assert code == 0, drawn
    assert served(server) == before + 1
    local_code, local = _on_a_terminal([*args, "--out", "out2"], project, tmp_path / "none")
    assert local_code == 0, local
    for screen in (drawn, local):
        assert "\x1b[" in screen  # drawn in place (cursor moves, colour)
        assert "built srv" in screen
    pipe = client("build", ".", "--cache-dir", "c3", "--out", "out3", cwd=project, folder=server)
    assert "\x1b[" not in pipe.stderr and "[1/" in pipe.stderr  # a pipe gets plain lines
