"""Regenerate this example's "phone footage" with nothing but the pinned ffmpeg
and libespeak-ng: ``python examples/phone/make_assets.py``.

The files are committed, so a checkout builds at once; this script is how they
were made. They stand in for what a creator copies off an iPhone (seed 001):

* ``footage/IMG_0001.MOV``: HEVC Main10, BT.2020 primaries, HLG, a display
  matrix that turns it upright (it was filmed holding the phone sideways),
  variable frame timestamps, a timecode track, stereo sound (a tone and room
  noise: a kettle on in the kitchen);
* ``footage/IMG_0002.MOV``: an SDR BT.709 clip at 30 fps with a voice on it,
  spoken to camera in a noisy room;
* ``vo/line1.flac``: a voice-over recorded at a desk, with the desk's hiss.

The clips are made with ``tests/footage.py``, the generator the tests use, so
the example and the tests show the same kind of file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests"))

from footage import phone_clip  # noqa: E402

from reel.backends.audio.tts import synthesise_in_worker  # noqa: E402
from reel.backends.audio.voice import RATE, read_wav, write_wav  # noqa: E402
from reel.backends.ffmpeg.toolchain import ffmpeg_exe  # noqa: E402

KITCHEN = (
    "gradients=s={w}x{h}:c0=0x2f4f6f:c1=0xd9a066:x0=0:y0=0:x1={w}:y1={h}:seed=3:r={rate}:d={d},"
    "drawbox=x={half}:y=20:w=60:h=90:color=0xf0f0e8:t=fill,"
    "drawbox=x='20+t*40':y={hh}:w=50:h=50:color=0xc03030:t=fill,format=gbrp"
)
DESK = (
    "gradients=s={w}x{h}:c0=0x20302a:c1=0x8a9a7a:x0=0:y0={h}:x1={w}:y1=0:seed=5:r={rate}:d={d},"
    "drawbox=x=200:y=80:w=240:h=200:color=0xe8d0b0:t=fill,"
    "drawbox=x=290:y='120+4*sin(t*3)':w=60:h=60:color=0x402820:t=fill,format=gbrp"
)


def speech(text: str, folder: Path) -> np.ndarray:
    """``text`` said by libespeak-ng, at 48 kHz mono."""
    folder.mkdir(parents=True, exist_ok=True)
    synthesise_in_worker(
        folder, {"text": text, "language": "en-us", "rate": 150, "pitch": 50, "variant": None}
    )
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", "speech.wav", "-ar", str(RATE), "s48.wav"],
        cwd=folder,
        check=True,
    )
    return read_wav(folder / "s48.wav")[:, 0]


def noisy(samples: np.ndarray, lead: float, below_db: float, seed: int) -> np.ndarray:
    """``samples`` after ``lead`` seconds of room noise, noise ``below_db`` under the speech."""
    pad = np.zeros(int(lead * RATE))
    clean = np.concatenate([pad, samples, pad])
    noise = np.random.default_rng(seed).normal(0, 1, len(clean))
    level = np.sqrt(np.mean(samples**2)) * 10 ** (-below_db / 20)
    return clean + noise * level


def main() -> None:
    footage, vo, work = HERE / "footage", HERE / "vo", HERE / ".work"
    footage.mkdir(exist_ok=True)
    vo.mkdir(exist_ok=True)
    phone_clip(footage / "IMG_0001.MOV", seconds=3.0, size=(640, 360), picture=KITCHEN)
    said = noisy(
        speech("Okay. This is the kitchen, at five in the morning.", work / "a"), 0.3, 20, 1
    )
    write_wav(work / "camera.wav", np.stack([said, said], axis=1))
    clip = phone_clip(
        work / "desk.mov", seconds=len(said) / RATE, size=(640, 360), hlg=False, vfr=False,
        rotation=0, picture=DESK, sound=False,
    )  # fmt: skip
    mux = ["-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-i", str(work / "camera.wav"),
         *mux, "-shortest", str(footage / "IMG_0002.MOV")],
        check=True,
    )  # fmt: skip
    line = speech("Every morning I tell myself the same thing: just start.", work / "b")
    write_wav(work / "line1.wav", noisy(line, 0.5, 24, 2)[:, None])
    exact = ["-fflags", "+bitexact", "-map_metadata", "-1"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(work / "line1.wav"), "-c:a", "flac",
         *exact, str(vo / "line1.flac")],
        check=True,
    )  # fmt: skip
    for path in sorted(work.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
