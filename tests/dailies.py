"""A dailies folder with known answers, made here: Piper speaks the lines,
the pinned ffmpeg draws the picture. Nothing is downloaded.

Six camera-card clips (``A001_C001.mov`` …) with timecodes 30 s apart, so
their order by timecode is their order by name:

=========  ======  ====  =====================================================
clip       line    take  what is in it
=========  ======  ====  =====================================================
A001_C001  1       1     spoken slate "Scene one, take one." then the line
A001_C002  1       2     good
A001_C003  1       3     +24 dB and hard clipped at full scale
A001_C004  2       1     2.5 s of dead air before the line
A001_C005  2       2     good; the picture cuts to colour bars at 2.0 s
A001_C006  -       -     black picture and room tone, no speech
=========  ======  ====  =====================================================

The picture is ffmpeg's moving test pattern (testsrc2), turned to a
different hue per take; sound is 48 kHz mono 16-bit PCM (uncompressed, so a
clipped take's flat tops survive), under -60 dBFS room tone from a seeded
generator. Each take is at most 6 s; the whole folder takes seconds to make.

``make_dailies`` returns the answers: per clip its line, scene and take, the
time its line's speech starts (measured on the voice's own samples, where
they first exceed -40 dBFS, plus where they were placed), whether it is
clipped, black or slated, and the shot change times.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reel.backends.audio import piper
from reel.backends.audio.tts import write_wav
from reel.backends.ffmpeg.toolchain import ffmpeg_exe

VOICE = "en_US-joe-medium"
RATE = 48000
FPS = 24
SIZE = (320, 180)
LINES = {1: "The kettle is already on.", 2: "Then we have time for one more."}
SLATE = "Scene one, take one."
ROOM_TONE_DBFS = -60.0
ONSET_DBFS = -40.0
CLIP_GAIN_DB = 24.0
CUT_AT_S = 2.0

# clip: (line, take, lead silence s, speech rate %, tail s, hue, extra)
TAKES: dict[str, dict[str, Any]] = {
    "A001_C001": {"line": 1, "take": 1, "lead": 0.5, "rate": 100, "hue": 0, "slate": True},
    "A001_C002": {"line": 1, "take": 2, "lead": 0.6, "rate": 95, "hue": 60},
    "A001_C003": {"line": 1, "take": 3, "lead": 0.5, "rate": 105, "hue": 120, "clip": True},
    "A001_C004": {"line": 2, "take": 1, "lead": 2.5, "rate": 100, "hue": 180},
    "A001_C005": {"line": 2, "take": 2, "lead": 0.5, "rate": 95, "hue": 240, "cut": True},
    "A001_C006": {"black": True, "seconds": 3.0},
}
SLATE_PAUSE_S = 0.8
TAIL_S = 0.6


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _say(text: str, rate: int, work: Path) -> np.ndarray:
    """Piper's samples of ``text`` (float, 48 kHz mono)."""
    folder = work / hashlib.sha256(f"{text}|{rate}".encode()).hexdigest()[:12]
    if not (folder / "voice.wav").exists():
        folder.mkdir(parents=True, exist_ok=True)
        piper.synthesise(folder, piper.action_params(text, VOICE, rate, _digest))
    import wave

    with wave.open(str(folder / "voice.wav")) as handle:
        assert handle.getframerate() == RATE and handle.getnchannels() == 1
        data = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768.0


def _onset(samples: np.ndarray) -> float:
    """Seconds to the first sample louder than ``ONSET_DBFS``."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (ONSET_DBFS / 20))
    return float(loud[0]) / RATE if len(loud) else 0.0


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE))


def _timecode(index: int) -> str:
    seconds = 30 * index
    return f"01:{seconds // 60:02d}:{seconds % 60:02d}:00"


def _picture(spec: dict[str, Any], seconds: float) -> str:
    w, h = SIZE
    if spec.get("black"):
        return f"color=c=black:s={w}x{h}:r={FPS}:d={seconds:.4f},format=yuv420p"
    pattern = f"testsrc2=s={w}x{h}:r={FPS}:d={{d:.4f}},hue=h={spec['hue']},format=yuv420p"
    if not spec.get("cut"):
        return pattern.format(d=seconds)
    bars = f"smptebars=s={w}x{h}:r={FPS}:d={seconds - CUT_AT_S:.4f},format=yuv420p"
    return f"{pattern.format(d=CUT_AT_S)}[a];{bars}[b];[a][b]concat=n=2:v=1:a=0"


def _write(path: Path, picture: str, wav: Path, timecode: str) -> None:
    video = ["-c:v", "libx264", "-preset", "ultrafast", "-threads", "1", "-g", str(FPS)]
    camera = ["-timecode", timecode, "-metadata", "creation_time=2026-03-04T10:00:00Z"]
    source = ["-i", str(wav), "-map", "[v]", "-map", "0:a", *video, "-c:a", "pcm_s16le"]
    source += [*camera, "-shortest", str(path)]
    subprocess.run(
        [str(ffmpeg_exe()), "-v", "error", "-y", "-filter_complex", f"{picture}[v]", *source],
        check=True,
    )


def make_dailies(folder: Path) -> dict[str, Any]:
    """Write the dailies into ``folder``; return the known answers by clip name."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(17)
    answers: dict[str, Any] = {"lines": dict(LINES), "slate_text": SLATE, "clips": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for index, (name, spec) in enumerate(TAKES.items()):
            parts: list[np.ndarray] = []
            answer: dict[str, Any] = {"timecode": _timecode(index), "black": False, "slate": None}
            if spec.get("black"):
                parts.append(_silence(spec["seconds"]))
                answer.update(black=True, line=None, speech_start_s=None, clipped=False)
            else:
                parts.append(_silence(spec["lead"]))
                if spec.get("slate"):
                    slate = _say(SLATE, 100, work)
                    parts += [slate, _silence(SLATE_PAUSE_S)]
                    answer["slate"] = {"scene": 1, "take": 1, "said_at_s": spec["lead"]}
                line = _say(LINES[spec["line"]], spec["rate"], work)
                line_at = sum(len(p) for p in parts) / RATE
                parts += [line, _silence(TAIL_S)]
                answer.update(
                    line=spec["line"],
                    take=spec["take"],
                    text=LINES[spec["line"]],
                    line_at_s=round(line_at, 3),
                    line_start_s=round(line_at + _onset(line), 3),
                    line_end_s=round(line_at + len(line) / RATE, 3),
                    speech_start_s=round(spec["lead"] + _onset(parts[1]), 3),
                    clipped=bool(spec.get("clip")),
                )
            audio = np.concatenate(parts)
            frames = int(np.ceil(len(audio) / RATE * FPS))
            seconds = frames / FPS
            audio = np.concatenate([audio, _silence(seconds - len(audio) / RATE)])
            audio = audio + rng.normal(0, 10 ** (ROOM_TONE_DBFS / 20), len(audio))
            if spec.get("clip"):
                audio = audio * 10 ** (CLIP_GAIN_DB / 20)
            pcm = np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768).astype(np.int16)
            wav = work / f"{name}.wav"
            write_wav(wav, pcm, RATE)
            _write(folder / f"{name}.mov", _picture(spec, seconds), wav, answer["timecode"])
            answer["duration_s"] = round(seconds, 3)
            answer["shot_changes"] = [CUT_AT_S] if spec.get("cut") else []
            answers["clips"][f"{name}.mov"] = answer
    return answers
