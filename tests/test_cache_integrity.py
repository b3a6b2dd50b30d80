"""A cache that checks itself: no wrong byte is ever served with exit 0.

Every kind of file under the cache directory is damaged in turn (blobs
flipped, truncated or swapped; records replaced by garbage) and the next
build must notice it (rebuild, warn) and deliver what a clean build delivers;
`reel verify` must notice what a build does not read. Also: outputs are
copies, a missing input that appears invalidates the no-op record, and a file
rewritten in place with its size and mtime restored is seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reel.compiler.build import build
from reel.compiler.hashing import hash_file
from reel.compiler.store import Store, read_checked, write_checked
from reel.lang.diagnostics import Diagnostics

from helpers import reel
from test_incremental import BASE, outputs, tiny_project


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The tiny episode built once; each test works on a copy of project and cache."""
    work = tmp_path_factory.mktemp("cache-base")
    project = tiny_project(work / "proj", dict(BASE))
    result = build(
        project, out=work / "out", cache_dir=work / "cache", diags=Diagnostics(), progress=False
    )
    digests = {action_id: res.outputs for action_id, res in result.report.results.items()}
    voices = {r.action: r.outputs for r in result.plan.voice_report.results.values()}
    return {
        "work": work,
        "digests": {**digests, **voices},
        "expected": outputs(work / "out" / "tiny"),
    }


@pytest.fixture
def copy(base: dict, tmp_path: Path) -> dict:
    shutil.copytree(base["work"] / "proj", tmp_path / "proj")
    shutil.copytree(base["work"] / "cache", tmp_path / "cache")
    shutil.copytree(base["work"] / "out", tmp_path / "out")
    return {
        "project": tmp_path / "proj",
        "cache": tmp_path / "cache",
        "out": tmp_path / "out",
        "folder": tmp_path / "out" / "tiny",
    }


def run(c: dict, *extra: str) -> subprocess.CompletedProcess:
    args = ("build", str(c["project"]), "--out", str(c["out"]), "--cache-dir", str(c["cache"]))
    proc = reel(*args, *extra, cwd=c["project"])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


def blob(c: dict, digest: str) -> Path:
    path = Store(c["cache"]).blob_path(digest)
    os.chmod(path, 0o644)
    return path


def damage(path: Path, how: str, other: Path) -> None:
    data = path.read_bytes()
    if how == "flip":
        middle = len(data) // 2
        path.write_bytes(
            data[:middle]
            + bytes(b ^ 0xFF for b in data[middle : middle + 16])
            + data[middle + 16 :]
        )
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 3])
    else:  # replaced by another blob's bytes
        path.write_bytes(other.read_bytes())


ROLES = {
    # role: (action, output, does the next build need an edit elsewhere to read it?)
    "master": ("mux", "joined.mp4", False),
    "segment": ("segment/one.s01", "segment.mp4", True),
    "voice words": ("voice/one.s02.l1", "words.json", False),
    "loudness report": ("loudness", "loudness.json", False),
    "captions": ("captions", "captions.srt", False),
}


@pytest.mark.parametrize("how", ["flip", "truncate", "replace"])
@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_damaged_blob_is_rebuilt_with_a_warning(base: dict, copy: dict, role: str, how: str):
    action, output, needs_edit = ROLES[role]
    digests = base["digests"]
    assert action in digests, sorted(digests)
    other = blob(copy, digests["captions"]["captions.vtt"])
    damage(blob(copy, digests[action][output]), how, other)
    if needs_edit:
        # The campaign's case: a damaged segment reached the master on the next
        # edit of *another* shot (the master's join reads every segment).
        tiny_project(copy["project"], dict(BASE, t2="Deux"))
    else:
        shutil.rmtree(copy["cache"] / "noop")  # not a no-op: the build reads its blobs
    proc = run(copy)
    assert proc.returncode == 0, proc.stderr
    assert "was damaged" in proc.stderr
    assert hash_file(blob(copy, digests[action][output])) == digests[action][output]
    if not needs_edit:
        assert outputs(copy["folder"]) == base["expected"]
    else:
        clean = dict(copy, out=copy["out"].parent / "clean-out", cache=copy["out"].parent / "c2")
        assert run(clean).returncode == 0
        assert outputs(copy["folder"]) == outputs(clean["out"] / "tiny")


GARBAGE = {
    "a list": b"[]",
    "no outputs": b'{"outputs": {}}',
    "wrong shape": b'{"outputs": {"segment.mp4": "xxh3-128:zz"}, "params": 1, "inputs": []}',
    "binary": b"\x00\xff\xfe garbage",
    "cut short": b'{"outputs": {"a": "xxh3',
}


@pytest.mark.parametrize("record", ["ac", "memo", "probe", "explain", "noop"])
def test_garbage_in_any_cache_record_is_a_miss_never_a_crash(copy: dict, base: dict, record: str):
    assert run(copy).returncode == 0  # writes the no-op record too
    for label, junk in GARBAGE.items():
        records = sorted((copy["cache"] / record).rglob("*.json"))
        assert records, f"no {record} record to damage"
        for path in records:
            path.write_bytes(junk)
        proc = run(copy, "--explain")
        assert proc.returncode == 0, (label, proc.stderr)
        assert outputs(copy["folder"]) == base["expected"], label


def test_verify_rehashes_blobs_a_build_never_reads(copy: dict, base: dict) -> None:
    digest = base["digests"]["voice/one.s02.l1"]["voice.wav"]  # read only by the mix
    damage(blob(copy, digest), "flip", blob(copy, digest))
    quiet = run(copy)
    assert "0 action(s) ran" in quiet.stdout and "damaged" not in quiet.stderr  # unread...
    proc = reel(
        "verify", str(copy["project"]), "--cache-dir", str(copy["cache"]), cwd=copy["project"]
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # ...but verify re-hashes it
    assert "voice/one.s02.l1: the cached voice.wav does not have its digest" in proc.stderr
    again = reel(
        "verify", str(copy["project"]), "--cache-dir", str(copy["cache"]), cwd=copy["project"]
    )
    assert again.returncode == 0, again.stderr  # evicted, made again: the cache is whole


def test_garbage_in_a_self_checking_record_reads_as_a_miss(tmp_path: Path) -> None:
    """Probes and detected tempi (beats/) are stored with their own checksum."""
    path = tmp_path / "record.json"
    write_checked(path, {"bpm": 96.0, "offset": 0.1})
    assert read_checked(path) == {"bpm": 96.0, "offset": 0.1}
    for junk in [*GARBAGE.values(), b'{"value": {"bpm": 1}, "check": "xxh3-128:0"}']:
        path.write_bytes(junk)
        assert read_checked(path) is None


def test_outputs_are_copies_an_edit_in_place_never_reaches_the_cache(copy: dict, base: dict):
    shutil.rmtree(copy["folder"])
    assert run(copy).returncode == 0  # delivered from the CAS
    master = copy["folder"] / "master.mp4"
    digest = base["digests"]["mux"]["joined.mp4"]
    assert master.stat().st_nlink == 1
    assert master.stat().st_ino != blob(copy, digest).stat().st_ino
    with master.open("r+b") as handle:  # as root, permissions would not stop this
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    assert hash_file(blob(copy, digest)) == digest
    proc = run(copy)
    assert proc.returncode == 0 and "up to date" not in proc.stdout
    assert hash_file(master) == digest


def test_a_missing_image_that_appears_is_noticed(copy: dict, base: dict) -> None:
    image = copy["project"] / "a.png"
    kept = image.read_bytes()
    image.unlink()
    first = run(copy)
    assert first.returncode == 0 and "placeholder" in first.stderr
    assert hash_file(copy["folder"] / "master.mp4") != base["expected"]["master.mp4"]
    assert "up to date" in run(copy).stdout
    image.write_bytes(kept)
    added = run(copy)
    assert "up to date" not in added.stdout and "placeholder" not in added.stderr
    assert outputs(copy["folder"]) == base["expected"]  # the image is in the master again


def test_a_source_rewritten_with_size_and_mtime_restored_is_noticed(copy: dict) -> None:
    assert run(copy).returncode == 0 and "up to date" in run(copy).stdout
    entry = copy["project"] / "tiny.episode"
    stat = entry.stat()
    text = entry.read_text()
    assert '"One"' in text
    entry.write_text(text.replace('"One"', '"Uno"'))  # the same size
    os.utime(entry, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert entry.stat().st_size == stat.st_size and entry.stat().st_mtime_ns == stat.st_mtime_ns
    proc = run(copy, "--explain")
    assert "up to date" not in proc.stdout
    assert "explain: segment/one.s01" in proc.stdout
