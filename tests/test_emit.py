"""`reel build --emit-commands`, the VideoToolbox backend and `reel verify`."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

from reel.backends import registry
from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.backends.kind import Kind
from reel.compiler.actions import Action, build_graph
from reel.compiler.executor import Executor
from reel.compiler.store import Store

from helpers import reel

GOLDEN = Path(__file__).resolve().parent / "golden"
VIDEO_KINDS = {"segment", "finish_shot"}

SMALL = """
load "std/deliverables"
episode vt {
  title "VT"
  format 320x180 @ 24fps
}
cast { character ann "Ann" }
scene a {
  shot wide 1s focus left {
    plate image "halves.png"
    title "Hello" style title
    say ann "Left."
  }
  shot wide 1s {
    plate video "clip.mp4" in 0s out 1s
    transition crossfade 6f
  }
}
deliver master = youtube_1080p { resolution 320x180 }
deliver review = review_proxy { resolution 160x90 }
deliver shorts = shorts_vertical { resolution 180x320 }
"""


def make_small(folder: Path) -> Path:
    """A two-shot episode with every kind of video action: an image and a video
    plate, a title, a crossfade, a proxy and a vertical rendition with captions."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vt.episode").write_text(SMALL)
    ff = [str(ffmpeg_exe()), "-v", "error", "-f", "lavfi"]
    subprocess.run(
        [*ff, "-i", "color=c=red:s=160x180,pad=320:180:0:0:blue", "-frames:v", "1", "halves.png"],
        cwd=folder,
        check=True,
    )
    subprocess.run(
        [*ff, "-i", "testsrc=s=320x180:r=24:d=1", "-c:v", "libx264", "-threads", "1", "clip.mp4"],
        cwd=folder,
        check=True,
    )
    return folder


def emit(label: str, dest: Path, cwd: Path, *extra: str) -> dict:
    proc = reel(
        "build", label, "--emit-commands", str(dest), "--cache-dir", "cache", *extra, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((dest / "plan.json").read_text())


# ---- emit equals execute -------------------------------------------------------------------
def test_the_emitted_script_run_by_hand_reproduces_the_master(pilot: dict, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    proc = reel(
        "build",
        f"{pilot['copy']}:master",
        "--emit-commands",
        str(bundle),
        "--cache-dir",
        str(pilot["work"] / "cache"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run(
        ["sh", str(bundle / "build.sh")],
        cwd=empty,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    built = (pilot["folder"] / "master.mp4").read_bytes()
    assert (empty / "pilot" / "master.mp4").read_bytes() == built
    # In-process steps (voices, the mix, loudness, the join) ran through the backend runner.
    script = (bundle / "build.sh").read_text()
    assert "py voice/" in script and "py mix" in script and "py mux" in script
    assert "ff -filter_threads 1" in script  # and the shots as ffmpeg commands


def test_an_emitted_bundle_names_no_absolute_path_and_is_deterministic(tmp_path: Path) -> None:
    project = make_small(tmp_path / "project")
    first = emit("vt.episode", tmp_path / "one", project)
    emit("vt.episode", tmp_path / "two", project)
    for name in ("build.sh", "plan.json"):
        one = (tmp_path / "one" / name).read_text()
        assert one == (tmp_path / "two" / name).read_text()
        assert str(tmp_path) not in one and str(Path.home()) not in one
    assert sorted(os.listdir(tmp_path / "one" / "inputs")) == sorted(
        os.listdir(tmp_path / "two" / "inputs")
    )
    # Every file an action reads is in the bundle; nothing points outside it.
    for entry in first["actions"]:
        for source in entry["inputs"].values():
            if "file" in source:
                assert (tmp_path / "one" / source["file"]).is_file()
            else:
                assert source["action"] in first["folders"]


def test_emit_does_not_overwrite_a_folder_it_did_not_write(tmp_path: Path) -> None:
    project = make_small(tmp_path / "project")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    proc = reel("build", "vt.episode", "--emit-commands", str(mine), cwd=project)
    assert proc.returncode == 2
    assert "is not an earlier emission" in proc.stderr and "Traceback" not in proc.stderr
    assert (mine / "notes.txt").read_text() == "keep me" and len(os.listdir(mine)) == 1


# ---- the VideoToolbox backend -------------------------------------------------------------
def golden_text(plan: dict) -> str:
    """Each action's commands (or its in-process function) as a shell line."""
    out = []
    for entry in plan["actions"]:
        flag = "" if entry["hermetic"] else "  # not hermetic"
        out.append(f"# {entry['id']}{flag}")
        for args in entry["commands"] or []:
            out.append("ffmpeg " + " ".join(shlex.quote(a) for a in args))
        if entry["run"]:
            out.append(f"python -m reel.backends.run_action plan.json {entry['id']}")
    return "\n".join(out) + "\n"


def test_golden_videotoolbox_commands(tmp_path: Path) -> None:
    project = make_small(tmp_path / "project")
    plan = emit("vt.episode", tmp_path / "vt", project, "--backend", "videotoolbox")
    text = golden_text(plan)
    golden = GOLDEN / "videotoolbox.commands.txt"
    if os.environ.get("REEL_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), (
        "the VideoToolbox commands changed; if that is intended, run the tests with "
        "REEL_UPDATE_GOLDEN=1 and review the diff of tests/golden/videotoolbox.commands.txt"
    )


def test_videotoolbox_differs_from_ffmpeg_only_in_its_video_encodes(tmp_path: Path) -> None:
    project = make_small(tmp_path / "project")
    vt = emit("vt.episode", tmp_path / "vt", project, "--backend", "videotoolbox")
    cpu = emit("vt.episode", tmp_path / "cpu", project)
    assert vt["backend"] == "videotoolbox" and cpu["backend"] == "ffmpeg"
    vt_actions = {e["id"]: e for e in vt["actions"]}
    cpu_actions = {e["id"]: e for e in cpu["actions"]}
    assert vt_actions.keys() == cpu_actions.keys()  # the same graph, lowered twice
    encodes = set()
    for action_id, entry in vt_actions.items():
        other = cpu_actions[action_id]
        assert {k: v for k, v in entry["inputs"].items() if "action" in v} == {
            k: v for k, v in other["inputs"].items() if "action" in v
        }
        lines = [" ".join(args) for args in entry["commands"] or []]
        if any(
            "-c:v" in args and args[args.index("-c:v") + 1] != "copy"
            for args in entry["commands"] or []
        ):
            encodes.add(action_id)
            assert not entry["hermetic"] and other["hermetic"]
            assert all("h264_videotoolbox" in line and "libx264" not in line for line in lines)
            assert all("-allow_sw 0" in line for line in lines)
        else:
            assert entry["hermetic"], action_id
            assert entry["commands"] == other["commands"] and entry["run"] == other["run"]
    assert {vt_actions[a]["kind"] for a in encodes} == VIDEO_KINDS
    # Decoding the video plate and the proxy's downscale use the Mac's hardware.
    plate = " ".join(vt_actions["segment/a.s02"]["commands"][0])
    assert re.search(r"-hwaccel videotoolbox (-\S+ \S+ )*-i plate-video", plate)
    assert "scale_vt=w=160:h=90" in " ".join(vt_actions["piece@review/a.s01"]["commands"][0])


def test_videotoolbox_build_here_says_how_to_emit_instead(tmp_path: Path) -> None:
    project = make_small(tmp_path / "project")
    proc = reel("build", "vt.episode", "--backend", "videotoolbox", cwd=project)
    assert proc.returncode == 1
    assert "no h264_videotoolbox encoder" in proc.stderr and "--emit-commands" in proc.stderr
    assert "Traceback" not in proc.stderr and not (project / "reel-out").exists()


# ---- non-hermetic actions stay out of the shared cache -------------------------------------
def _noise(sandbox: Path, params: dict) -> None:
    (sandbox / "out.bin").write_bytes(os.urandom(16))  # a stand-in for a hardware encode


def _copy(sandbox: Path, params: dict) -> None:
    (sandbox / "copy.bin").write_bytes((sandbox / "in.bin").read_bytes())


class NoParams(TypedDict):
    pass


NOISE = registry.register(Kind("test_noise", NoParams, (), ("out.bin",), run=_noise))
COPY = registry.register(Kind("test_copy", NoParams, ("in.bin",), ("copy.bin",), run=_copy))


def test_non_hermetic_results_are_cached_locally_but_never_shared(tmp_path: Path) -> None:
    from reel.compiler.actions import ActionInput

    actions = [
        Action("encode", NOISE.name, {}, {}, ("out.bin",), hermetic=False, deterministic=False),
        Action("copy", COPY.name, {}, {"in.bin": ActionInput("encode", "out.bin")}, ("copy.bin",)),
    ]
    graph = build_graph(actions)
    store = Store(tmp_path / "cache")

    def run() -> dict:
        executor = Executor(store, graph, jobs=1, keep_going=False, toolchain_digest=None)
        return executor.run({"copy"}).results

    first = run()
    assert len(os.listdir(store.root / "ac-local")) == 1  # the encode
    assert len(os.listdir(store.root / "ac")) == 1  # the copy, keyed on the encode's digest
    second = run()
    assert second["encode"].cached and second["copy"].cached
    assert second["encode"].outputs == first["encode"].outputs
    assert not graph.reproducible("encode") and not graph.reproducible("copy")
    assert not graph.repeatable("encode") and not graph.repeatable("copy")  # verify skips both


def test_a_deterministic_but_machine_bound_action_is_verified_but_not_shared() -> None:
    """A Piper line: the same bytes every run here, perhaps not on another CPU."""
    from reel.compiler.actions import ActionInput

    voice = Action("voice", COPY.name, {}, {}, ("copy.bin",), hermetic=False)
    mix = Action("mix", COPY.name, {}, {"in.bin": ActionInput("voice", "copy.bin")}, ("copy.bin",))
    graph = build_graph([voice, mix])
    assert graph.repeatable("voice") and graph.repeatable("mix")  # `reel verify` compares
    assert not graph.reproducible("voice") and not graph.reproducible("mix")  # never shared


# ---- reel verify ---------------------------------------------------------------------------
TINY = """
episode tiny {
  title "Tiny"
  format 160x90 @ 24fps
}
scene a {
  shot wide 1s { plate solid "#204060" }
  shot wide 1s { plate solid "#602040" }
}
"""


def test_verify_rebuilds_from_clean_and_catches_a_poisoned_cache(tmp_path: Path) -> None:
    (tmp_path / "tiny.episode").write_text(TINY)
    first = reel("verify", "tiny.episode", "--cache-dir", "cache", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "identical when rebuilt from clean" in first.stdout
    assert not (tmp_path / "reel-out").exists()  # verify writes no outputs
    # Point the cached result of the first shot at the second shot's bytes.
    store = Store(tmp_path / "cache")
    records = {
        name: store.last_run(f"segment/a.{name}")["key"]
        for name in ("s01", "s02")  # type: ignore[index]
    }
    wrong = store.get_action(records["s02"])
    assert wrong is not None
    store.put_action(records["s01"], wrong)
    second = reel("verify", "tiny.episode", "--cache-dir", "cache", cwd=tmp_path)
    assert second.returncode == 1
    assert "segment/a.s01: segment.mp4 differs when rebuilt from clean" in second.stderr
    assert "Traceback" not in second.stderr
