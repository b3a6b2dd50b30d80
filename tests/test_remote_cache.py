"""The shared remote cache, against a real nginx serving Bazel's HTTP cache
protocol with WebDAV PUT: two clean cache dirs play two machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from reel.compiler import remote as remote_mod
from reel.compiler.build import build
from reel.compiler.hashing import hash_file
from reel.compiler.remote import RemoteCache
from reel.lang.diagnostics import Diagnostics

from helpers import reel
from servers import Server, free_port

TINY = """
episode tiny {
  title "Tiny"
  format 160x90 @ 24fps
}
scene a {
  shot wide 1s { plate solid "#204060" title "One" }
  shot wide 12f { plate solid "#602040" }
}
"""


def outputs(folder: Path) -> dict[str, str]:
    """The delivered files but the two logs of the run itself (what ran, timings)."""
    return {
        p.relative_to(folder).as_posix(): hash_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("run_summary.json", "report.html", ".reel-delivered.json")
    }


def machine(tmp_path: Path, name: str) -> Path:
    """A checkout of the tiny episode with its own (empty) cache."""
    root = tmp_path / name
    root.mkdir()
    (root / "tiny.episode").write_text(TINY)
    return root


def api_build(root: Path, remote: RemoteCache | None):
    diags = Diagnostics()
    result = build(
        root / "tiny.episode",
        out=root / "out",
        cache_dir=root / "cache",
        diags=diags,
        progress=False,
        jobs=2,
        remote=remote,
    )
    return result, [w.message for w in diags.warnings if "remote cache" in w.message]


def test_a_second_machine_downloads_everything_and_runs_nothing(
    tmp_path: Path, nginx: Server
) -> None:
    first_root, second_root = machine(tmp_path, "one"), machine(tmp_path, "two")
    args = ("build", "tiny.episode", "--cache-dir", "cache", "--remote-cache", nginx.url)
    first = reel(*args, cwd=first_root)
    assert first.returncode == 0, first.stderr
    assert " 0 action(s) ran" not in first.stdout
    assert nginx.files("ac") and nginx.files("cas")
    # Blobs are named on the wire by the SHA-256 of their bytes (bazel-remote checks it).
    for blob in nginx.files("cas"):
        assert remote_mod.sha256_file(blob) == blob.name
    second = reel(*args, cwd=second_root)
    assert second.returncode == 0, second.stderr
    assert "; 0 action(s) ran" in second.stdout, second.stdout
    assert "remote cache" not in second.stderr, second.stderr
    first_out = outputs(first_root / "reel-out" / "tiny")
    assert first_out and outputs(second_root / "reel-out" / "tiny") == first_out


def test_a_corrupted_blob_on_the_server_is_caught_and_rebuilt(
    tmp_path: Path, nginx: Server
) -> None:
    first_root, second_root = machine(tmp_path, "one"), machine(tmp_path, "two")
    result, warnings = api_build(first_root, RemoteCache(nginx.url))
    assert not warnings and result.report.ran
    first_out = outputs(first_root / "out" / "tiny")
    # Poison one blob (a flipped byte) and truncate another.
    blobs = sorted(nginx.files("cas"), key=lambda p: p.stat().st_size, reverse=True)
    data = bytearray(blobs[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    blobs[0].write_bytes(bytes(data))
    blobs[1].write_bytes(blobs[1].read_bytes()[:10])
    result, warnings = api_build(second_root, RemoteCache(nginx.url, upload=False))
    damaged = [w for w in warnings if "does not have its digest" in w]
    assert len(damaged) == 2, warnings
    assert len(result.report.ran) >= 2  # the actions whose blobs were bad ran here
    assert outputs(second_root / "out" / "tiny") == first_out


def test_a_server_stopped_mid_build_does_not_fail_it(
    tmp_path: Path, nginx: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_root, second_root = machine(tmp_path, "one"), machine(tmp_path, "two")
    api_build(first_root, RemoteCache(nginx.url))
    first_out = outputs(first_root / "out" / "tiny")
    monkeypatch.setattr(remote_mod, "BACKOFF", 0.01)
    remote = RemoteCache(nginx.url, timeout=2)
    real = remote._once
    calls = []

    def once(*args):
        calls.append(args[:2])
        if remote.downloaded == 1 and nginx.process.poll() is None:
            nginx.stop()  # one action's entry and blobs came down: now the server goes away
        return real(*args)

    monkeypatch.setattr(remote, "_once", once)
    result, warnings = api_build(second_root, remote)
    assert any("is unavailable" in w for w in warnings), warnings
    assert len([w for w in warnings if "unavailable" in w]) == 1  # said once
    assert remote.downloaded >= 1  # taken from the server before it stopped
    assert result.report.ran  # the rest was built here
    assert outputs(second_root / "out" / "tiny") == first_out


def test_a_closed_port_does_not_fail_the_build(tmp_path: Path) -> None:
    root = machine(tmp_path, "one")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    proc = reel(
        "build", "tiny.episode", "--cache-dir", "cache", cwd=root, env={"REEL_REMOTE_CACHE": url}
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("is unavailable") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_remote_upload_sends_nothing_but_still_reads(tmp_path: Path, nginx: Server) -> None:
    root = machine(tmp_path, "one")
    args = ("build", "tiny.episode", "--cache-dir", "cache", "--remote-cache", nginx.url)
    proc = reel(*args, "--no-remote-upload", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert not nginx.files("ac") and not nginx.files("cas")
    # A developer's read-only build still takes what CI uploaded.
    ci = machine(tmp_path, "ci")
    assert reel(*args, cwd=ci).returncode == 0
    again = machine(tmp_path, "dev2")
    proc = reel(*args, "--no-remote-upload", cwd=again)
    assert proc.returncode == 0, proc.stderr
    assert "; 0 action(s) ran" in proc.stdout, proc.stdout


def test_a_url_that_is_not_http_is_a_usage_error(tmp_path: Path) -> None:
    root = machine(tmp_path, "one")
    proc = reel("build", "tiny.episode", "--remote-cache", "cache.local:8080", cwd=root)
    assert proc.returncode == 2
    assert "not an http:// or https:// URL" in proc.stderr
    assert not (root / "reel-out").exists()
