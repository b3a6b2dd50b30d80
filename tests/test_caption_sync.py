"""The caption-sync gate: no cue runs past a shot change by more than the
caption style's `cut_tolerance`, and each line's caption starts within 3
frames of its speech as measured in the voice file. Each check fails a
publish deliverable, passes a well-timed one, and only warns for a draft.

Real builds of tiny (160x90) episodes: the gate judges built captions and
rendered or recorded voices."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from reel.backends.audio.voice import speech_onset
from reel.backends.ffmpeg.toolchain import ffmpeg_exe

from helpers import reel, write_tree

LONG = "This line runs on well past the cut of its shot."


def episode(
    body: str, *, publish: bool = True, settings: str = "", extra: str = "", style: str = ""
) -> str:
    return f"""load "std/deliverables"
episode t {{ title "T" format 160x90 @ 24fps voice maya = tts "en-us"
  {settings} }}
cast {{ character maya "Maya" }}
scene s {{
{body}
  shot wide 2s {{ plate solid "#446622" }}
}}
{extra}
deliver master = youtube_1080p {{ resolution 160x90 publish {str(publish).lower()} {style} }}
"""


def build(root: Path, text: str) -> subprocess.CompletedProcess[str]:
    write_tree(root, {"main.episode": text})
    return reel(
        "build", ".", "-q", "--out", "out", "--cache-dir", str(root.parent / "cache"), cwd=root
    )


def sync_results(root: Path) -> list[dict]:
    folder = root / "out" / "t"
    if not folder.is_dir():
        folder = root / "out" / "t.failed"
    output = json.loads((folder / "RenderOutput.json").read_text())
    summary = json.loads((folder / "run_summary.json").read_text())
    gates = [g for g in output["gates"] if g["gate"] == "caption_sync"]
    assert gates == [g for g in summary["gates"] if g["gate"] == "caption_sync"]
    return gates


# ---- cues over a cut ---------------------------------------------------------------------
def test_a_cue_running_past_a_cut_blocks_publish(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shot = f'  shot wide 1s {{ plate solid "#224466" say maya "{LONG}" }}'
    done = build(root, episode(shot))
    assert done.returncode == 1, done.stderr
    assert "error: caption sync gate: cue 1 (line s.s01.l1) at the cut to s.s02" in done.stderr
    assert "past the cut at 1.000s" in done.stderr
    assert "main.episode:6:" in done.stderr  # the line's site
    (gate,) = sync_results(root)
    assert (gate["deliverable"], gate["status"], gate["publish"]) == ("master", "fail", True)
    assert "allows 0.500s (12.0 frames)" in gate["reason"] and "cut_tolerance" in gate["fix"]


def test_a_cue_running_past_a_cut_only_warns_for_a_draft(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shot = f'  shot wide 1s {{ plate solid "#224466" say maya "{LONG}" }}'
    done = build(root, episode(shot, publish=False))
    assert done.returncode == 0, done.stderr
    assert "warning: caption sync gate: cue 1" in done.stderr
    assert [g["status"] for g in sync_results(root)] == ["warn"]


def test_a_cue_within_its_shot_or_its_tolerance_passes(tmp_path: Path) -> None:
    auto = tmp_path / "auto"
    done = build(auto, episode(f'  shot wide {{ plate solid "#224466" say maya "{LONG}" }}'))
    assert done.returncode == 0, done.stderr
    assert [(g["target"], g["status"]) for g in sync_results(auto)] == [("*", "pass")]
    # The blueprint states a wider tolerance in its own caption style.
    style = "caption_style loose { max_lines 2 cut_tolerance 3s }"
    wide = tmp_path / "wide"
    shot = f'  shot wide 1s {{ plate solid "#224466" say maya "{LONG}" }}'
    done = build(wide, episode(shot, extra=style, style="caption_style loose"))
    assert done.returncode == 0, done.stderr
    assert [g["status"] for g in sync_results(wide)] == ["pass"]


def test_cut_tolerance_is_a_time(tmp_path: Path) -> None:
    root = tmp_path / "p"
    style = 'caption_style loose { cut_tolerance "soon" }'
    done = build(root, episode('  shot wide 1s { plate solid "#224466" }', extra=style))
    assert done.returncode == 2
    assert "expected a time" in done.stderr and "main.episode:9:37" in done.stderr


# ---- onset against the measured speech ---------------------------------------------------
def recording(path: Path, silence_ms: int) -> None:
    """A 440 Hz "voice" of 1.5 s after ``silence_ms`` of silence, 48 kHz mono."""
    subprocess.run(
        [
            *(str(ffmpeg_exe()), "-v", "error", "-y", "-f", "lavfi"),
            *("-i", "sine=frequency=440:sample_rate=48000:duration=1.5"),
            *("-af", f"adelay={silence_ms},apad=pad_dur=0.2,volume=-6dB", "-ac", "1"),
            str(path),
        ],
        check=True,
    )


def recorded_episode(silence_ms: int, root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    recording(root / "vo.wav", silence_ms)
    # French: no aligner, so the words are estimated from the file's first
    # sample, and a long silence before the speech puts the caption up early.
    text = episode(
        '  shot wide { plate solid "#224466" say maya "Bonjour." file "vo.wav" clean off }',
        extra='asset "vo.wav" { license_type "CC0" redistributable true }',
    )
    return text.replace('tts "en-us"', 'tts "fr"')


def test_speech_onset_is_measured_from_the_samples(tmp_path: Path) -> None:
    recording(tmp_path / "late.wav", 1200)
    recording(tmp_path / "prompt.wav", 0)
    late = speech_onset(tmp_path / "late.wav")
    assert late is not None and 1.19 <= late <= 1.21
    assert speech_onset(tmp_path / "prompt.wav") == 0.0


def test_a_caption_before_its_speech_blocks_publish(tmp_path: Path) -> None:
    root = tmp_path / "p"
    done = build(root, recorded_episode(800, root))
    assert done.returncode == 1, done.stderr
    assert "error: caption sync gate: line s.s01.l1: its caption starts at" in done.stderr
    assert "before its speech is heard" in done.stderr
    (gate,) = sync_results(root)
    assert (gate["target"], gate["status"]) == ("line s.s01.l1", "fail")
    assert gate["site"].startswith("main.episode:6:")


def test_a_caption_on_its_speech_passes(tmp_path: Path) -> None:
    # A recording that starts speaking at once, and a synthesised line.
    root = tmp_path / "p"
    done = build(root, recorded_episode(0, root))
    assert done.returncode == 0, done.stderr
    assert [g["status"] for g in sync_results(root)] == ["pass"]
    tts = tmp_path / "tts"
    done = build(tts, episode('  shot wide { plate solid "#224466" say maya "Hello there." }'))
    assert done.returncode == 0, done.stderr
    assert [g["status"] for g in sync_results(tts)] == ["pass"]
