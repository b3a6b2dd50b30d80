"""Distributed execution on a real Dask cluster: a scheduler and worker processes
started on 127.0.0.1 by the tests, with a real nginx as the remote cache that
carries inputs and outputs between the client and the workers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.compiler.dask_exec import Job, environment, run_job
from reel.compiler.hashing import hash_file

from helpers import reel
from servers import Cluster, Server, ServerError, free_port, start_cluster

pytest.importorskip("distributed")

SHOTS = "\n".join(
    f'  shot wide 3s {{ plate solid "#{20 * n:02x}4060" title "Shot {n}" }}' for n in range(1, 9)
)
EPISODE = f"""
episode farm {{
  title "Farm"
  format 640x360 @ 24fps
}}
scene a {{
{SHOTS}
}}
"""
LOGS = ("run_summary.json", "report.html", ".reel-delivered.json")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two workers, w1 and w2."""
    try:
        started = start_cluster(tmp_path / "dask", workers=2)
    except ServerError as exc:
        pytest.fail(str(exc))
    try:
        yield started
    finally:
        started.stop()


def delivered(folder: Path) -> dict[str, str]:
    """Every delivered file but the logs of the run itself."""
    return {
        p.relative_to(folder).as_posix(): hash_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in LOGS
    }


def entries(cache: Path, kind: str) -> dict[str, dict]:
    """The action cache of a cache dir: key file -> the outputs' digests."""
    return {p.name: json.loads(p.read_text()) for p in sorted((cache / kind).glob("*.json"))}


def ran_on(folder: Path) -> dict[str, str]:
    summary = json.loads((folder / "run_summary.json").read_text())
    return {r["action"]: r["on"] for r in summary["ran"]}


def farm(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "farm.episode").write_text(EPISODE)
    return root


def dask_args(cluster: Cluster, nginx: Server) -> tuple[str, ...]:
    return ("--executor", cluster.executor, "--remote-cache", nginx.url, "--progress", "plain")


def test_the_pilot_on_two_workers_has_every_digest_of_a_local_build(
    pilot: dict, tmp_path: Path, nginx: Server, cluster: Cluster
) -> None:
    source = tmp_path / "pilot"
    shutil.copytree(pilot["copy"], source)
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = reel(
        "build",
        str(source),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *dask_args(cluster, nginx),
        cwd=tmp_path,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr
    assert "0 cached" in proc.stdout.splitlines()[-1]  # a clean build: everything ran
    # Every action's outputs have the digests the local build of the pilot gave
    # (hermetic ones in ac/, the Piper voices in ac-local/), and so has every file.
    for kind in ("ac", "ac-local"):
        remote_built, local_built = entries(cache, kind), entries(pilot["cache"], kind)
        assert remote_built
        assert {k: local_built.get(k) for k in remote_built} == remote_built, kind
    assert delivered(out / "pilot") == delivered(pilot["folder"])
    # The work was shared by both workers; only the Piper lines (their samples
    # depend on the CPU) ran on this machine.
    where = ran_on(out / "pilot")
    assert set(where.values()) == {"local", "w1", "w2"}, where
    here = sorted(a for a, w in where.items() if w == "local")
    assert here and all(a.startswith("voice/") for a in here), here


def running_on(client, names: dict[str, str]) -> tuple[str, str] | None:
    """A worker running one of Reel's actions now, and that action's id (the
    last part of the Dask key Reel gives a job)."""
    for address, keys in sorted(client.processing().items()):
        for key in keys:
            if str(key).startswith("reel:"):
                return names[address], str(key).rsplit(":", 1)[1]
    return None


def test_a_worker_killed_mid_build_loses_no_work(
    tmp_path: Path, nginx: Server, cluster: Cluster
) -> None:
    from distributed import Client

    local = farm(tmp_path, "local")
    assert reel("build", "farm.episode", "--cache-dir", "cache", cwd=local).returncode == 0
    root = farm(tmp_path, "farm")
    args = [sys.executable, "-m", "reel.cli", "build", "farm.episode", "--cache-dir", "cache"]
    proc = subprocess.Popen(
        [*args, *dask_args(cluster, nginx)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with Client(cluster.address, set_as_default=False) as client:
            workers = client.scheduler_info(n_workers=-1)["workers"]
            names = {address: about["name"] for address, about in workers.items()}
            busy = None
            deadline = time.monotonic() + 300
            while busy is None and proc.poll() is None and time.monotonic() < deadline:
                busy = running_on(client, names)
                time.sleep(0.05)
        assert busy is not None, "no worker was seen running an action"
        victim, lost = busy
        cluster.kill(victim)
        assert proc.poll() is None, "the build ended before the worker was killed"
        _, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    # The action the killed worker was running ran again on the other one, and
    # everything after the kill ran there; the outputs are the local build's.
    survivor = ({"w1", "w2"} - {victim}).pop()
    where = ran_on(root / "reel-out" / "farm")
    assert where[lost] == survivor, (lost, where)
    assert delivered(root / "reel-out" / "farm") == delivered(local / "reel-out" / "farm")


def odd_toolchain(folder: Path) -> Path:
    """A Python path whose imageio_ffmpeg holds another ffmpeg build: the same
    binary with one byte appended (it still runs, but its digest differs), as a
    worker with another version installed would have."""
    package = folder / "imageio_ffmpeg"
    (package / "binaries").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    exe = package / "binaries" / ffmpeg_exe().name
    exe.write_bytes(ffmpeg_exe().read_bytes() + b"\0")
    exe.chmod(0o755)
    return folder


def test_a_worker_with_another_ffmpeg_gets_no_work_and_refuses_it(
    tmp_path: Path, nginx: Server
) -> None:
    from distributed import Client

    cluster = Cluster(tmp_path / "dask").start()
    try:
        cluster.add_worker("w1")
        cluster.add_worker("odd", env={"PYTHONPATH": str(odd_toolchain(tmp_path / "odd"))})
        cluster.wait_for(2)
        root = farm(tmp_path, "farm")
        proc = reel("build", "farm.episode", *dask_args(cluster, nginx), cwd=root)
        assert proc.returncode == 0, proc.stderr
        assert "Dask worker odd gets no work: its ffmpeg" in proc.stderr, proc.stderr
        assert set(ran_on(root / "reel-out" / "farm").values()) == {"w1"}
        # Sent to it all the same (a client that did not ask), it refuses.
        with Client(cluster.address, set_as_default=False) as client:
            workers = client.scheduler_info(n_workers=-1)["workers"]
            odd = next(a for a, w in workers.items() if w["name"] == "odd")
            job = Job(
                action="segment/a.s01",
                kind="segment",
                params={},
                outputs=("segment.mp4",),
                inputs={},
                key="xxh3-128:" + "0" * 32,
                version="segment/unused",
                toolchain=hash_file(ffmpeg_exe()),
                hermetic=True,
                remote=nginx.url,
                environment=environment(),
            )
            answer = client.submit(run_job, job, workers=[odd], pure=False).result(timeout=60)
        assert "worker odd refused segment/a.s01: its ffmpeg" in answer["error"], answer
    finally:
        cluster.stop()


def test_a_worker_with_another_espeak_package_gets_no_work(tmp_path: Path, nginx: Server) -> None:
    """Its ffmpeg and Reel match, but espeakng-loader (which holds libespeak-ng,
    and so the bytes of every espeak line) is another version."""
    fake = tmp_path / "old" / "espeakng_loader-0.0.1.dist-info"
    fake.mkdir(parents=True)
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: espeakng-loader\nVersion: 0.0.1\n")
    cluster = Cluster(tmp_path / "dask").start()
    try:
        cluster.add_worker("w1")
        cluster.add_worker("old", env={"PYTHONPATH": str(fake.parent)})
        cluster.wait_for(2)
        root = farm(tmp_path, "farm")
        proc = reel("build", "farm.episode", *dask_args(cluster, nginx), cwd=root)
        assert proc.returncode == 0, proc.stderr
        assert "Dask worker old gets no work: its packages differ (espeakng-loader" in proc.stderr
        assert set(ran_on(root / "reel-out" / "farm").values()) == {"w1"}
    finally:
        cluster.stop()


def test_hardware_actions_go_only_to_a_worker_that_offers_it(tmp_path: Path, nginx: Server) -> None:
    cluster = Cluster(tmp_path / "dask").start()
    try:
        cluster.add_worker("linux")
        cluster.wait_for(1)
        root = farm(tmp_path, "farm")
        args = ("build", "farm.episode", "--backend", "videotoolbox", *dask_args(cluster, nginx))
        proc = reel(*args, cwd=root)
        assert proc.returncode == 1
        assert "no Dask worker offers videotoolbox" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        # A worker that says it has the hardware gets the encodes (on this Linux
        # machine its ffmpeg then has no such encoder, and says so from there).
        cluster.add_worker("mac", resources="videotoolbox=1")
        cluster.wait_for(2)
        proc = reel(*args, cwd=root)
        assert proc.returncode == 1
        assert "on worker mac:" in proc.stderr, proc.stderr
        assert "on worker linux:" not in proc.stderr
    finally:
        cluster.stop()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--executor", "dask:8786"), "is not 'local' or dask://HOST:PORT"),
        (("--executor", "dask://127.0.0.1:{port}"), "needs a remote cache"),
        (
            ("--executor", "dask://127.0.0.1:{port}", "--remote-cache", "http://127.0.0.1:9"),
            "cannot reach the Dask scheduler",
        ),
    ],
)
def test_a_dask_build_that_cannot_start_says_why(
    tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    root = farm(tmp_path, "farm")
    port = free_port()  # nothing listens there
    proc = reel("build", "farm.episode", *(a.format(port=port) for a in extra), cwd=root)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (root / "reel-out").exists()
