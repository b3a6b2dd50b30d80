"""Fixtures shared by the tests."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import HEADER, PILOT, Outcome, reel, run_plan, write_tree
from servers import Server, ServerError, nginx_exe, start_nginx

# Slow tests in files whose owners are changing them now; each would rather carry its own
# @pytest.mark.slow. A test here renders real media for many seconds or loops for long.
SLOW_ELSEWHERE = {
    "test_cache_integrity.py::test_verify_rehashes_blobs_a_build_never_reads",
    "test_deliverables.py::test_the_4k_and_broadcast_presets_deliver_what_they_promise",
    "test_fuzz.py::test_fuzz_check",
    "test_incremental.py::test_incremental_build_equals_clean_build",
    "test_incremental.py::test_two_clean_builds_in_different_directories_give_identical_digests",
    "test_incremental.py::test_an_interrupted_build_keeps_old_outputs_and_the_next_finishes",
    "test_output_safety.py::test_concurrent_builds_of_one_episode_never_collide",
    "test_properties.py::test_formatting_noise_never_changes_the_artifacts",
    "test_timing.py::test_the_nearest_beat_is_the_one_listing_every_beat_finds",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow every test that reads the pilot build (it takes minutes to make), and
    the tests named in SLOW_ELSEWHERE."""
    for item in items:
        name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        if {"pilot", "pilot_copy"} & set(getattr(item, "fixturenames", ())) or (
            name in SLOW_ELSEWHERE
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def episode(tmp_path: Path):
    """Write HEADER + body as main.episode (plus extra files) and plan it."""

    def make(body: str, files: dict[str, str] | None = None, header: str = HEADER) -> Outcome:
        write_tree(tmp_path, {"main.episode": header + body, **(files or {})})
        return run_plan(tmp_path)

    return make


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Server]:
    """A real nginx on 127.0.0.1 serving Bazel's HTTP cache protocol, empty."""
    exe = nginx_exe()
    if exe is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    try:
        server = start_nginx(exe, tmp_path / "cache-server")
    except ServerError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


# ---- the pilot, built once per test run ----------------------------------------------------
# Every deliverable of a 1-minute 720p episode takes minutes on a busy 2-core machine, so the
# whole run (all pytest-xdist workers) shares one build. Tests only read it; a test that edits
# the pilot or rebuilds it takes `pilot_copy`, a private copy of source, cache and outputs.


def _build_pilot(work: Path) -> str | None:
    """Copy the bundled pilot into ``work`` and build it: every deliverable into
    ``out``, then the stems (a target of their own, so their own set) into
    ``stems-out``, both with the cache ``work/cache``. None, or why it failed."""
    copy = work / "pilot"
    shutil.copytree(PILOT, copy)
    # The full build first, so its run_summary.json records every action it ran.
    for label, out in ((str(copy), "out"), (f"{copy}:stems", "stems-out")):
        args = ("--out", str(work / out), "--cache-dir", str(work / "cache"))
        try:
            proc = reel("build", label, *args, cwd=work, timeout=1800)
        except subprocess.TimeoutExpired as exc:
            return f"reel build {label} did not finish in {exc.timeout:.0f} s"
        if proc.returncode != 0:
            return f"reel build {label} exited {proc.returncode}:\n{proc.stderr}"
    return None


def _shared_pilot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the run's one pilot build, made by whichever worker asks first.

    Without pytest-xdist this is a folder of the session. Under xdist, every worker
    runs session fixtures itself, so the workers share a folder beside their own
    base temporary folders (as the pytest-xdist docs recommend): the first to take
    the lock builds, the others wait for it and reuse the build. A failed build is
    recorded, so the other workers fail at once with its message instead of
    building again.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        work = tmp_path_factory.mktemp("pilot")
        failure = _build_pilot(work)
        if failure:
            pytest.fail(failure, pytrace=False)
        return work
    # Under xdist this parent is the run's own numbered folder (pytest-N), never
    # shared with another run.
    root = tmp_path_factory.getbasetemp().parent
    work, status = root / "pilot", root / "pilot.status"
    with (root / "pilot.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or its worker dies
        if not status.exists():
            shutil.rmtree(work, ignore_errors=True)  # left by a worker that died building
            work.mkdir()
            failure = _build_pilot(work)  # an interrupt leaves no status: another may try
            status.write_text(f"failed\n{failure}" if failure else "ok\n")
    text = status.read_text()
    if not text.startswith("ok"):
        pytest.fail(f"the run's pilot build failed: {text.removeprefix('failed')}", pytrace=False)
    return work


def _describe(work: Path) -> dict:
    folder = work / "out" / "pilot"
    return {
        "work": work,
        "copy": work / "pilot",
        "cache": work / "cache",
        "folder": folder,
        "stems": work / "stems-out" / "pilot" / "stems",
        "shotlist": json.loads((folder / "ShotList.json").read_text()),
    }


def _snapshot(work: Path) -> dict[str, tuple[int, int, int]]:
    """Size, mtime and inode of every file of the pilot's source, delivered sets and
    cache blobs (the blobs pilot_copy hard-links)."""
    files = {}
    for name in ("pilot", "out", "stems-out", "cache/cas"):
        for path in (work / name).rglob("*"):
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode):
                files[str(path.relative_to(work))] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return files


@pytest.fixture(scope="session")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The bundled pilot, copied and built with every deliverable (and its stems),
    once per test run. Read only: a test that edits or rebuilds takes `pilot_copy`;
    at the end of the session this checks that no test changed the shared build."""
    work = _shared_pilot(tmp_path_factory)
    before = _snapshot(work)
    yield _describe(work)
    after = _snapshot(work)
    changed = sorted(
        path
        for path in before.keys() | after.keys()
        # A blob added to the cache changes nothing a test reads; one changed does.
        if before.get(path) != after.get(path)
        and not (path.startswith("cache/") and path not in before)
    )
    assert not changed, f"a test changed the shared pilot build (use pilot_copy): {changed[:10]}"


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@pytest.fixture
def pilot_copy(pilot: dict, tmp_path: Path) -> dict:
    """A private copy of the built pilot: its source, cache and delivered sets, so a
    test can edit and rebuild (cache hits except for what it edits) without touching
    the build the other tests read. Cache blobs are hard links, since Reel never writes
    into a stored blob (a new blob replaces the old by rename, eviction unlinks); every
    other file (records, sources, outputs) is a real copy. A test that damages blobs on
    purpose must copy them first (the session checks that none changed)."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("pilot", "out", "stems-out"):
        shutil.copytree(pilot["work"] / name, work / name, symlinks=True)
    cache = pilot["work"] / "cache"
    shutil.copytree(cache, work / "cache", symlinks=True, ignore=shutil.ignore_patterns("cas"))
    shutil.copytree(cache / "cas", work / "cache" / "cas", copy_function=_link_or_copy)
    return _describe(work)
