"""Lines spoken on camera (`say NAME "…" from camera`), measured from the outside.

A take is made here: a 320x180, 24 fps lavfi picture whose sound is 1.0 s of
room tone (seeded noise), then a line spoken by libespeak-ng (Reel's own TTS
worker), then room tone again, so the speech's onset in the take is known to
the sample. The built master is decoded by ffmpeg and compared with the take
by cross-correlation (numpy); the captions are read with pysubs2; nothing is
taken from Reel's own parameters.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from reel.backends.audio.tts import synthesise_in_worker
from reel.backends.audio.voice import RATE, VOCAL_CHAIN, read_wav, recorded, write_wav
from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.compiler.timing import plan_timing
from reel.lang.diagnostics import Diagnostics, InputError
from reel.lang.resolve import analyse

from helpers import build_episode, reel, write_tree

FPS = 24
FRAME = 1 / FPS
TEXT = "Every morning I tell myself the same thing."
ROOM_TONE = 1.0  # seconds of room tone before the line in the take
TAIL = 0.8  # seconds of room tone after it
IN_POINT = 0.5  # the plate's in point: the line is heard 0.5 s into the shot
SHOT_A = 1.0  # the first shot (a solid), so the take's shot starts at 1.0 s
ONSET = SHOT_A + ROOM_TONE - IN_POINT  # where the line should be heard in the master

HEAD = """
load "std/deliverables"
episode t {{ title "T" format 320x180 @ 24fps  voice maya = tts "en-us" }}
cast {{ character maya "Maya" age 34 }}
scene s {{
  shot wide 1s {{ plate solid red }}
{body}
}}
deliver master = youtube_1080p {{ resolution 320x180 }}
"""


def _speech(folder: Path) -> np.ndarray:
    """The line from libespeak-ng at 48 kHz, cut to its audible samples."""
    folder.mkdir()
    request = {"text": TEXT, "language": "en-us", "rate": 165, "pitch": 50, "variant": None}
    synthesise_in_worker(folder, request)
    args = ["-v", "error", "-i", "speech.wav", "-ar", str(RATE), "s48.wav"]
    subprocess.run([ffmpeg_exe(), *args], cwd=folder, check=True)
    samples = read_wav(folder / "s48.wav")[:, 0]
    heard = np.nonzero(np.abs(samples) > 10 ** (-40 / 20))[0]
    return samples[heard[0] : heard[-1] + 1]


def make_take(folder: Path) -> dict:
    """A take with the line at ROOM_TONE seconds; returns its sound and lengths."""
    speech = _speech(folder / "tts")
    tone = np.random.default_rng(7).normal(0.0, 10 ** (-50 / 20), int(ROOM_TONE * RATE))
    tail = np.random.default_rng(8).normal(0.0, 10 ** (-50 / 20), int(TAIL * RATE))
    sound = np.concatenate([tone, speech, tail])
    write_wav(folder / "take.wav", sound)
    seconds = len(sound) / RATE
    picture = f"testsrc2=s=320x180:r={FPS}:d={seconds:.6f}"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-i", "take.wav",
         "-c:v", "libx264", "-threads", "1", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
         "-t", f"{seconds:.6f}", "take.mov"],
        cwd=folder,
        check=True,
    )  # fmt: skip
    # the out point: the line's end and a little room tone, on a whole frame
    out = round((ROOM_TONE + len(speech) / RATE + 0.3) * FPS) / FPS
    return {"sound": sound, "speech_s": len(speech) / RATE, "out": out}


def decode_audio(path: Path) -> np.ndarray:
    """A file's sound as mono float samples at 48 kHz, decoded by ffmpeg."""
    args = ["-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le"]
    raw = subprocess.run([ffmpeg_exe(), *args, "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0


def onset(samples: np.ndarray, after: float = 0.0) -> float:
    """Seconds to the first 10 ms window within 20 dB of the loudest (after ``after``)."""
    width = RATE // 100
    skip = int(after * RATE)
    power = np.convolve(samples[skip:] ** 2, np.ones(width) / width, "valid")
    first = int(np.nonzero(power > power.max() * 10 ** (-20 / 10))[0][0])
    return (skip + first) / RATE


def lag_of(haystack: np.ndarray, needle: np.ndarray) -> tuple[int, np.ndarray]:
    """Where ``needle`` best matches in ``haystack`` (FFT cross-correlation)."""
    n = len(haystack) + len(needle)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size)), size)
    corr = np.abs(corr[: len(haystack) - len(needle) + 1])
    return int(np.argmax(corr)), corr


def build(root: Path, body: str, target: str = "", out: str = "reel-out") -> Path:
    return build_episode(root, HEAD.format(body=body), target, out) / "t"


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("camera-line")
    take = make_take(root)
    body = (
        f'  shot close {{ plate video "take.mov" in {IN_POINT}s out {take["out"]:.6f}s '
        f'sound on  say maya "{TEXT}" from camera }}'
    )
    folder = build(root, body)
    stems = build(root, body, ":stems", "stems-out") / "stems"
    return {"root": root, "take": take, "folder": folder, "stems": stems}


def test_the_line_is_heard_in_the_master_when_the_take_has_it(spoken: dict) -> None:
    take = spoken["take"]
    # the take's range the shot uses, as an independent cut of the take's sound
    cut = take["sound"][int(IN_POINT * RATE) : int(take["out"] * RATE)]
    master = decode_audio(spoken["folder"] / "master.mp4")
    lag, _ = lag_of(master, cut)
    error = abs(lag / RATE - SHOT_A)
    assert error <= FRAME, f"the take's sound is at {lag / RATE:.4f}s, its shot at {SHOT_A}s"
    # the speech's onset, measured on the master, is where the take puts it
    heard = onset(master, after=SHOT_A)
    assert abs(heard - ONSET) <= FRAME, f"speech heard at {heard:.4f}s, expected {ONSET:.4f}s"
    print(f"sync: correlation lag {error * 1000:.2f} ms, onset {abs(heard - ONSET) * 1000:.2f} ms")


def test_the_captions_fall_on_the_words(spoken: dict) -> None:
    subs = pysubs2.load(str(spoken["folder"] / "captions.srt"))
    cues = [e for e in subs if e.text.strip()]
    assert cues, "no caption cue"
    said = " ".join(c.plaintext.replace("\n", " ") for c in cues)
    assert "morning" in said and "same thing" in said
    first = cues[0].start / 1000
    # the onset measured in the take itself, placed where the shot puts it
    expected = SHOT_A + onset(spoken["take"]["sound"]) - IN_POINT
    assert abs(first - expected) <= 3 * FRAME, f"cue at {first:.3f}s, words at {expected:.3f}s"
    print(f"sync: first cue {abs(first - expected) * 1000:.1f} ms from the speech onset")


def test_the_takes_sound_is_heard_once_as_the_line(spoken: dict) -> None:
    stems = spoken["stems"]
    # `sound on` or not, the take's sound is the line: no camera stem mixes it again
    assert not (stems / "camera.wav").exists()
    voice = read_wav(stems / "voice.wav").mean(axis=1)
    take = spoken["take"]
    cut = take["sound"][int(IN_POINT * RATE) : int(take["out"] * RATE)]
    lag, _ = lag_of(voice, cut)
    assert abs(lag / RATE - SHOT_A) <= FRAME
    # the master holds one copy: it is the voice stem at one gain, nothing else
    master = decode_audio(spoken["folder"] / "master.mp4")
    n = min(len(master), len(voice))
    gain = np.dot(master[:n], voice[:n]) / np.dot(voice[:n], voice[:n])
    residual = master[:n] - gain * voice[:n]
    # twice the take (voice and camera) would leave a copy of it after the voice is removed
    assert np.sqrt(np.mean(residual**2)) < 0.1 * np.sqrt(np.mean(master[:n] ** 2))


def test_the_script_lists_the_line(spoken: dict) -> None:
    script = json.loads((spoken["folder"] / "Script.json").read_text())
    lines = [line for scene in script["scenes"] for line in scene["lines"]]
    assert [(x["speaker_id"], x["text"]) for x in lines] == [("maya", TEXT)]
    assets = json.loads((spoken["folder"] / "AssetManifest.json").read_text())
    (vo,) = assets["vo_lines"]
    assert (vo["source"], vo["asset_id"]) == ("camera", "take.mov")


def test_a_camera_line_resolves_to_the_shots_take(tmp_path: Path) -> None:
    body = """  shot close 2s { plate video "take.mov" in 12f
    say maya "Hi there." from camera clean strong }
  shot close { plate video "take.mov" in 1s out 3s  say maya "Hello." from camera }"""
    write_tree(tmp_path, {"main.episode": HEAD.format(body=body), "take.mov": ""})
    episode = analyse(tmp_path / "main.episode", Diagnostics())
    first, second = (shot.lines[0] for shot in episode.shots[1:])
    assert (first.source, first.clean, first.file, first.on_camera) == (
        "camera",
        "strong",
        None,
        True,
    )
    assert second.on_camera and second.clean is None
    timeline = plan_timing(episode, Diagnostics())
    two, three = timeline.shots[1:]
    # no pre-roll: each line starts at its shot's first frame and lasts the shot
    assert (two.frames, [(x.start_frame, x.end_frame) for x in two.lines]) == (48, [(0, 48)])
    assert (three.frames, [(x.start_frame, x.end_frame) for x in three.lines]) == (48, [(0, 48)])
    assert three.source == "auto" and Fraction(three.frames, FPS) == 2


@pytest.mark.parametrize(
    ("body", "message", "where"),
    [
        (
            '  shot close 2s { plate solid red  say maya "Hi." from camera }',
            "needs a `plate video`",
            "main.episode:7:36",
        ),
        (
            '  shot close 2s { plate video "take.mov"  say maya "Hi." from camera'
            '  say maya "Bye." }',
            "has no other line",
            "main.episode:7:71",
        ),
        (
            '  shot close { plate video "take.mov" in 1s  say maya "Hi." from camera }',
            "how much of the take",
            "main.episode:7:46",
        ),
        (
            '  shot close 2s { plate video "take.mov"  say maya "Hi." from camra }',
            "did you mean 'camera'",
            "main.episode:7:",
        ),
        (
            '  shot close 2s { plate video "take.mov"  say maya "Hi." from camera file "a.wav" }',
            "no recording of its own",
            "main.episode:7:",
        ),
    ],
    ids=["no-video-plate", "two-lines", "no-length", "unknown-source", "with-file"],
)
def test_a_misplaced_camera_line_is_refused_with_its_place(
    tmp_path: Path, body: str, message: str, where: str
) -> None:
    write_tree(tmp_path, {"main.episode": HEAD.format(body=body), "take.mov": "", "a.wav": ""})
    done = reel("check", ".", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and where in done.stderr, done.stderr
    with pytest.raises(InputError):
        analyse(tmp_path / "main.episode", Diagnostics())


def test_a_take_without_sound_cannot_carry_a_line(tmp_path: Path) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s=320x180:r={FPS}:d=2",
         "-c:v", "libx264", "-threads", "1", "-pix_fmt", "yuv420p", "mute.mov"],
        cwd=tmp_path,
        check=True,
    )  # fmt: skip
    body = '  shot close 2s { plate video "mute.mov"  say maya "Hi." from camera }'
    write_tree(tmp_path, {"main.episode": HEAD.format(body=body)})
    done = reel("build", ".", "-q", "--out", "reel-out", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "has no sound" in done.stderr and "main.episode:7:" in done.stderr


def test_cleanup_keeps_the_takes_sound_in_its_place(spoken: dict, tmp_path: Path) -> None:
    """afftdn delays what it denoises by 25 ms; cleaned sound is moved back, so
    `clean light|strong` does not put a line on camera behind the lips."""
    take = spoken["take"]["sound"]
    samples = 3 * RATE
    cut = take[int(IN_POINT * RATE) : int(IN_POINT * RATE) + samples]
    for level in ("off", "light", "strong"):
        folder = tmp_path / level
        folder.mkdir()
        (folder / "recording").write_bytes((spoken["root"] / "take.mov").read_bytes())
        params = {"text": TEXT, "clean": level, "chain": VOCAL_CHAIN, "language": "fr"}
        recorded(folder, {**params, "aligner": "", "range": {"in_s": IN_POINT, "samples": samples}})
        line = read_wav(folder / "voice.wav")[:, 0]
        assert len(line) == samples  # the shot's length, untrimmed
        size = 1 << (2 * samples).bit_length()
        corr = np.fft.irfft(np.fft.rfft(line, size) * np.conj(np.fft.rfft(cut, size)), size)
        near = np.r_[corr[: RATE // 10], corr[-RATE // 10 :]]
        peak = int(np.argmax(np.abs(near)))
        lag = peak if peak < RATE // 10 else peak - 2 * (RATE // 10)
        assert abs(lag) <= 2, f"{level}: the line is {lag} samples from the take"


def test_the_canon_hears_a_dead_character_speak_on_camera(tmp_path: Path) -> None:
    body = """  fact maya dead
  shot close 2s { plate video "take.mov"  say maya "Hi." from camera }"""
    write_tree(tmp_path, {"main.episode": HEAD.format(body=body), "take.mov": ""})
    done = reel("check", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Maya (maya) is dead but speaks in shot s.s02" in done.stderr, done.stderr
