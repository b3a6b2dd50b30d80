"""Regenerate the small media the documentation's examples name.

Run from anywhere: ``python examples/docs/make_assets.py``. The files are
committed, so the README's "language in one screen" (``one_screen.episode``
here) and the examples in docs/language.md work as pasted; this script is how
they were made, deterministically, from the pinned ffmpeg and numpy alone:

* ``assets/maya.png``: 640x360, a dawn gradient with a silhouette;
* ``assets/bed.wav``: one 4/4 bar at 96 bpm (2.5 s, mono 16 kHz), loops;
* ``assets/sfx/whoosh.wav``: 0.4 s of swept, seeded noise.

``assets/missing.png`` is missing on purpose: the docs show a placeholder.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
RATE = 16000
BPM = 96


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def bed() -> np.ndarray:
    """An A-minor pad with a soft kick on each of the bar's four beats."""
    beat = 60 / BPM
    t = np.arange(int(4 * beat * RATE)) / RATE
    pad = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63)) * 0.08
    kick = np.zeros_like(t)
    for i in range(4):
        local = t - i * beat
        on = local >= 0
        kick[on] += np.sin(2 * np.pi * 60 * local[on]) * np.exp(-local[on] * 18) * 0.5
    return pad + kick


def whoosh() -> np.ndarray:
    t = np.arange(int(0.4 * RATE)) / RATE
    noise = np.random.default_rng(4).standard_normal(t.size)
    smooth = np.convolve(noise, np.ones(8) / 8, mode="same")
    envelope = np.sin(np.pi * t / t[-1]) ** 2
    return smooth * envelope * 0.6


def picture(path: Path) -> None:
    graph = (
        "gradients=s=640x360:c0=0x1d2b53:c1=0xff9e6b:x0=0:y0=360:x1=0:y1=0:seed=2,"
        "geq=lum='if(lt(hypot(X-320,Y-150),60)+lt(hypot((X-320)/2.2,Y-360),100),20,lum(X,Y))':"
        "cb='if(lt(hypot(X-320,Y-150),60)+lt(hypot((X-320)/2.2,Y-360),100),128,cb(X,Y))':"
        "cr='if(lt(hypot(X-320,Y-150),60)+lt(hypot((X-320)/2.2,Y-360),100),128,cr(X,Y))'"
    )
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", graph]
    cmd += ["-frames:v", "1", "-fflags", "+bitexact", "-flags", "+bitexact"]
    cmd += ["-map_metadata", "-1", str(path)]
    subprocess.run(cmd, check=True)


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    picture(ASSETS / "maya.png")
    write_wav(ASSETS / "bed.wav", bed())
    write_wav(ASSETS / "sfx" / "whoosh.wav", whoosh())


if __name__ == "__main__":
    main()
