"""Sonic-first audio, measured from the audio: loudness, ducking, voice and
caption placement, per-line caching, beats, recorded voice, bad input."""

from __future__ import annotations

import json
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from reel.backends.audio import beats, tts
from reel.backends.audio.loudness import measure_ebur128
from reel.backends.audio.voice import RATE, read_wav, recorded
from reel.backends.ffmpeg.toolchain import ffmpeg_exe

from helpers import HEADER, reel, write_tree

FPS = 24
FRAME = 1 / FPS


@pytest.fixture(scope="module")
def pilot(pilot: dict) -> dict:
    """The run's one pilot build (conftest.py), its stems and every line's place."""
    lines = [
        (
            (shot["start_frame"] + cue["start_frame"]) / FPS,
            (shot["start_frame"] + cue["end_frame"]) / FPS,
            cue["line_id"],
        )
        for shot in pilot["shotlist"]["shots"]
        for cue in shot["lines"]
    ]
    return {**pilot, "lines": lines}


def onset(signal: np.ndarray, around: float, threshold_db: float = -40) -> float:
    """First sample above the threshold in [around - 2 frames, around + 0.5 s]."""
    level = 10 ** (threshold_db / 20)
    lo, hi = int((around - 2 * FRAME) * RATE), int((around + 0.5) * RATE)
    loud = np.nonzero(np.abs(signal[lo:hi]).max(axis=1) > level)[0]
    assert len(loud), f"no sound near {around:.3f}s"
    return (lo + loud[0]) / RATE


def test_master_loudness_measured_by_ffmpeg_ebur128(pilot: dict) -> None:
    figures = measure_ebur128("master.mp4", pilot["folder"])
    assert abs(figures["integrated"] - -14.0) <= 1.0, figures
    assert figures["true_peak"] <= -1.0, figures
    record = json.loads((pilot["folder"] / "RenderOutput.json").read_text())["loudness"]
    assert record["reached"] and record["target_lufs"] == -14.0
    summary = json.loads((pilot["folder"] / "run_summary.json").read_text())
    assert summary["loudness"]["output"]["integrated_lufs"] == record["output"]["integrated_lufs"]


def test_music_ducks_at_least_10_db_under_speech(pilot: dict) -> None:
    music = read_wav(pilot["stems"] / "music.wav").mean(axis=1)
    total = len(music) / RATE
    under, clear = np.zeros(len(music), bool), np.ones(len(music), bool)
    for start, end, _ in pilot["lines"]:
        under[int((start + 0.1) * RATE) : int((end - 0.1) * RATE)] = True
        clear[int((start - 0.6) * RATE) : int((end + 0.6) * RATE)] = False
    clear[: int(1.0 * RATE)] = clear[int((total - 2.5) * RATE) :] = False  # the bed's fades

    def level(mask: np.ndarray) -> float:
        return 10 * np.log10(np.mean(music[mask] ** 2))

    assert under.sum() > RATE * 5 and clear.sum() > RATE * 5
    assert level(clear) - level(under) >= 10.0


def test_each_voice_line_starts_within_one_frame_of_its_place(pilot: dict) -> None:
    voice = read_wav(pilot["stems"] / "voice.wav")
    for start, _, line_id in pilot["lines"]:
        heard = onset(voice, start)
        assert abs(heard - start) <= FRAME, (line_id, heard, start)


def test_each_caption_starts_within_three_frames_of_its_voice(pilot: dict) -> None:
    voice = read_wav(pilot["stems"] / "voice.wav")
    srt = pysubs2.load(str(pilot["folder"] / "captions.srt"))
    script = json.loads((pilot["folder"] / "Script.json").read_text())
    texts = {line["id"]: line["text"] for s in script["scenes"] for line in s["lines"]}
    for start, _, line_id in pilot["lines"]:
        first_words = " ".join(texts[line_id].split()[:2])
        event = next(e for e in srt if e.plaintext.replace("\n", " ").startswith(first_words))
        assert abs(event.start / 1000 - onset(voice, start)) <= 3 * FRAME, line_id


def test_the_ass_file_uses_both_styles_within_the_70_30_rule(pilot: dict) -> None:
    ass = pysubs2.load(str(pilot["folder"] / "captions.ass"))
    styles = [e.style for e in ass]
    assert set(ass.styles) == {"Base", "Accent"}
    assert "Accent" in styles and styles.count("Accent") <= 0.3 * len(styles)
    accents = [e.plaintext for e in ass if e.style == "Accent"]
    assert any("FIVE" in text for text in accents)  # marked *five* in the blueprint
    assert all(1 <= len(e.plaintext.split()) <= 4 for e in ass)


def test_editing_one_line_resynthesises_only_that_line(pilot_copy: dict) -> None:
    copy, work = pilot_copy["copy"], pilot_copy["work"]
    act2 = copy / "scenes" / "act2.episode"
    original = act2.read_text()
    act2.write_text(
        original.replace("She built a whole life anyway.", "She built a whole, happy life anyway.")
    )
    # The master alone: voices are planned for every target, and the master's segments
    # are the ones that follow the line's new length (the other deliverables would only
    # re-encode the whole episode again).
    proc = reel(
        "build",
        f"{copy}:master",
        "--out",
        str(work / "out"),
        "--cache-dir",
        str(pilot_copy["cache"]),
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((pilot_copy["folder"] / "run_summary.json").read_text())
    assert summary["voices"]["ran"] == ["voice/the_call.s02.l1"]
    segments = [r["action"] for r in summary["ran"] if r["action"].startswith("segment/")]
    assert segments and all(s.startswith("segment/the_call.") for s in segments)


def test_stems_are_delivered(pilot: dict) -> None:
    stems = sorted(p.name for p in (pilot["stems"]).iterdir())
    assert stems == ["effects.wav", "music.wav", "voice.wav"]
    effects = read_wav(pilot["stems"] / "effects.wav")
    assert np.abs(effects).max() > 0.01  # the whooshes and beeps are there


def test_shotlist_records_voice_timing_and_the_beat_grid(pilot: dict) -> None:
    shotlist = pilot["shotlist"]
    assert shotlist["timing"]["method"] == "voice"
    assert shotlist["beat_grid"] == {
        "bpm": 96.0,
        "offset_seconds": 0.0,
        "source": "declared",
        "snap_tolerance_frames": None,
        "snapped_cuts": 0,
    }


# ---- beats -----------------------------------------------------------------------------
def click_track(bpm: float, offset: float, seconds: float = 8.0) -> np.ndarray:
    track = np.zeros(int(seconds * beats.RATE))
    for k in range(int((seconds - offset) * bpm / 60)):
        i = int((offset + k * 60 / bpm) * beats.RATE)
        track[i : i + 200] = np.hanning(200)
    return track


@pytest.mark.parametrize("bpm, offset", [(120, 0.1), (96, 0.0), (140, 0.25)])
def test_beat_detection(bpm: float, offset: float) -> None:
    found_bpm, found_offset = beats.detect(click_track(bpm, offset))
    assert abs(found_bpm - bpm) < 0.5
    period = 60 / bpm
    assert min(abs(found_offset - offset), period - abs(found_offset - offset)) < 0.02


def test_cuts_snap_to_the_nearest_beat(tmp_path: Path) -> None:
    from helpers import run_plan

    body = (
        'episode t { title "T" format 320x180 @ 24fps music "bed.wav" bpm 120 snap 4f }\n'
        "scene a {\n  shot wide 1100ms { }\n  shot wide 900ms { }\n  shot wide 1s { }\n}\n"
    )
    write_tree(tmp_path, {"main.episode": body})
    write_click_wav(tmp_path / "bed.wav")
    out = run_plan(tmp_path)
    assert out.exit_code == 0, [e.render() for e in out.errors]
    starts = [s.start_frame for s in out.result.shotlist.shots]
    assert starts == [0, 24, 48]  # 1100 ms = 26 frames, 900 ms = 22: a beat every 12 frames
    assert out.result.shotlist.beat_grid.snapped_cuts == 2  # 26 -> 24 and 46 -> 48


def write_click_wav(path: Path) -> None:
    data = (click_track(120, 0.0, 4.0) * 20000).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(beats.RATE)
        handle.writeframes(data.tobytes())


# ---- recorded voice -------------------------------------------------------------------------
def test_a_recorded_line_is_cut_at_its_quietest_points_with_fades(tmp_path: Path) -> None:
    t = np.arange(int(2.0 * RATE)) / RATE
    signal = 0.3 * np.sin(2 * np.pi * 220 * t)
    signal[int(0.20 * RATE) : int(0.23 * RATE)] = 0.0  # the quiet point near the start
    signal[int(1.70 * RATE) : int(1.73 * RATE)] = 0.0  # and near the end
    data = (signal * 32767).astype("<i2")
    with wave.open(str(tmp_path / "recording"), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(data.tobytes())
    recorded(
        tmp_path,
        {"text": "A recorded line.", "clean": "off", "chain": "", "language": "fr", "aligner": ""},
    )
    words = json.loads((tmp_path / "words.json").read_text())
    start, end = words["trimmed"]
    assert 0.20 <= start <= 0.22 and 1.70 <= end <= 1.74
    clip = read_wav(tmp_path / "voice.wav")[:, 0]
    assert abs(clip[0]) < 1e-3 and abs(clip[-1]) < 1e-3  # 10 ms fades
    assert words["estimated"] and [w["text"] for w in words["words"]] == ["A", "recorded", "line."]


# ---- bad input --------------------------------------------------------------------------------
BAD = """
episode t {{
  title "T"
  format 320x180 @ 24fps
  {voice}
}}
cast {{ character ann "Ann" }}
scene a {{
  shot wide 1s {{ {item} }}
}}
"""


def bad(tmp_path: Path, voice: str = "", item: str = "", files: dict | None = None):
    write_tree(tmp_path, {"main.episode": BAD.format(voice=voice, item=item), **(files or {})})
    return reel("build", "main.episode", "--out", "out", "--cache-dir", "cache", cwd=tmp_path)


def test_missing_audio_file(tmp_path: Path) -> None:
    proc = bad(tmp_path, item='sfx "boom.wav" at 0s')
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "error: boom.wav does not exist" in proc.stderr and "main.episode:9:18" in proc.stderr
    assert not (tmp_path / "out" / "t" / "master.mp4").exists()


def test_corrupt_audio_file(tmp_path: Path) -> None:
    proc = bad(tmp_path, item='sfx "boom.wav" at 0s', files={"boom.wav": "RIFF nonsense"})
    assert proc.returncode == 1
    assert "error: boom.wav is not a readable audio file" in proc.stderr


def test_a_file_with_no_audio_stream(tmp_path: Path) -> None:
    (tmp_path / "picture.png").parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(ffmpeg_exe()),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=s=32x32",
            "-frames:v",
            "1",
            str(tmp_path / "picture.png"),
        ],
        check=True,
    )
    proc = bad(tmp_path, item='sfx "picture.png"')
    assert proc.returncode == 1
    assert "error: picture.png is a file with no audio stream" in proc.stderr


def test_unknown_voice(tmp_path: Path) -> None:
    proc = bad(tmp_path, voice='voice ann = tts "xx-nowhere"')
    assert proc.returncode == 2
    assert "error: unknown voice 'xx-nowhere' for ann" in proc.stderr
    assert "main.episode:5:3" in proc.stderr


def test_a_bpm_of_zero(tmp_path: Path) -> None:
    proc = bad(tmp_path, voice='music "bed.wav" bpm 0')
    assert proc.returncode == 2
    assert "error: 0 is out of range" in proc.stderr and "main.episode:5:23" in proc.stderr


def test_frames_to_samples_is_exact() -> None:
    assert Fraction(1, 24) * RATE == 2000


# ---- found by the fuzzer (tests/test_fuzz.py) ----------------------------------------------


def test_a_long_voice_variant_is_an_unknown_voice_not_an_abort(tmp_path: Path) -> None:
    """libespeak-ng copies a variant name into a 40-byte buffer: a longer one
    aborted the whole process ("buffer overflow detected"). A subprocess, so a
    regression fails this test instead of killing the test run."""
    long_variant = "v" * 40
    header = HEADER.replace(
        "format 640x360 @ 24fps",
        f'format 640x360 @ 24fps\n  voice maya = tts "en-us" variant {long_variant}\n'
        f'  voice leo = tts "en+{long_variant}"',
    )
    write_tree(tmp_path, {"main.episode": header + 'scene a { shot wide 1s { say maya "Hi." } }'})
    proc = reel("check", "main.episode", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"error: unknown voice 'en-us+{long_variant}' for maya" in proc.stderr
    assert "main.episode:5:3" in proc.stderr
    assert f"error: unknown voice 'en+{long_variant}' for leo" in proc.stderr
    assert "main.episode:6:3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_voices_are_checked_before_libespeak_sees_them() -> None:
    assert tts.known_voice("en-us") and tts.known_voice("en", "f2")
    assert not tts.known_voice("en", "no_such_variant")  # the library said yes to any
    assert not tts.known_voice("en\x00us")  # the library read only up to the NUL
    assert not tts.known_voice("en+" + "v" * 40)


# ---- the mix, block by block ------------------------------------------------------------
def test_the_mix_does_not_depend_on_its_block_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mix is computed in blocks so its memory stays flat; a line, an effect
    and a duck ramp that straddle block edges come out to the same bytes."""
    from reel.backends.audio import mix as mixing
    from reel.backends.audio.voice import write_wav

    rng = np.random.default_rng(7)
    total = 5000
    write_wav(tmp_path / "voice-a.wav", rng.uniform(-0.5, 0.5, (900, 1)))
    write_wav(tmp_path / "voice-b.wav", rng.uniform(-0.5, 0.5, (700, 1)))
    write_wav(tmp_path / "effect-0.wav", rng.uniform(-0.5, 0.5, (400, 2)))
    write_wav(tmp_path / "music.wav", rng.uniform(-0.3, 0.3, (4800, 2)))  # ends early
    params = {
        "samples": total,
        "voices": [{"file": "voice-a.wav", "start": 950}, {"file": "voice-b.wav", "start": 2100}],
        "effects": [{"file": "effect-0.wav", "gain_db": -3.0, "start": 1990}],
        "music": True,
        "duck": {"gain_db": -12.0, "attack": 0.005, "release": 0.01},  # 240 and 480 samples
    }
    outputs = {}
    for block in (1 << 20, 1000, 333):
        monkeypatch.setattr(mixing, "BLOCK", block)
        mixing.mix(tmp_path, params)
        outputs[block] = {
            name: (tmp_path / name).read_bytes()
            for name in ("mix.wav", "voice-stem.wav", "music-stem.wav", "effects-stem.wav")
        }
    assert outputs[1000] == outputs[1 << 20] == outputs[333]
    music = read_wav(tmp_path / "music-stem.wav")
    assert len(music) == total and not music[4800:].any()  # the bed's end, then silence
    # Ducked under the first line, in the clear between the two ramps' reach.
    bed = read_wav(tmp_path / "music.wav")
    assert np.allclose(music[1200], bed[1200] * 10 ** (-12 / 20), atol=2 / 32768)
    assert np.allclose(music[200], bed[200], atol=1 / 32768)
