"""Regenerate the pilot's media from nothing but the pinned ffmpeg.

Run from anywhere: ``python examples/pilot/assets/make_assets.py``. The files
are committed (so a checkout builds at once); this script is how they were
made, so no third-party media is involved: the pictures come from ffmpeg's
generators, the music bed and effects are synthesised here with numpy. One image the pilot names,
``rooftop.png``, is missing on purpose: it shows placeholders at work.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np

HERE = Path(__file__).resolve().parent
BITEXACT = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1"]

# name -> lavfi graph producing one frame (images) or a clip (videos)
IMAGES = {
    # A warm cafe interior: soft gradient, a window, a table edge.
    "cafe.png": (
        "gradients=s=1280x720:c0=0x3b2416:c1=0xc98b4a:x0=0:y0=0:x1=1280:y1=720:seed=1,"
        "drawbox=x=820:y=90:w=330:h=260:color=0xf3e0b5@0.85:t=fill,"
        "drawbox=x=980:y=90:w=10:h=260:color=0x3b2416:t=fill,"
        "drawbox=x=0:y=560:w=1280:h=160:color=0x2a1a10:t=fill"
    ),
    # Maya: a silhouette (head and shoulders) against a dawn window.
    "maya.png": (
        "gradients=s=1280x720:c0=0x1d2b53:c1=0xff9e6b:x0=0:y0=720:x1=0:y1=0:seed=2,"
        "geq=lum='if(lt(hypot(X-640,Y-300),120)+lt(hypot((X-640)/2.2,Y-720),200),20,lum(X,Y))':"
        "cb='if(lt(hypot(X-640,Y-300),120)+lt(hypot((X-640)/2.2,Y-720),200),128,cb(X,Y))':"
        "cr='if(lt(hypot(X-640,Y-300),120)+lt(hypot((X-640)/2.2,Y-720),200),128,cr(X,Y))'"
    ),
    # The alarm clock: a dark room with a glowing red display.
    "alarm.png": (
        "color=c=0x0b0b14:s=1280x720,"
        "drawbox=x=440:y=260:w=400:h=200:color=0x1a1a24:t=fill,"
        "drawbox=x=470:y=300:w=340:h=120:color=0xff2a2a@0.9:t=fill"
    ),
    # Leo's office: cool blue bands.
    "office.png": (
        "gradients=s=1280x720:c0=0x0f2a3d:c1=0x6fa3c7:x0=0:y0=0:x1=1280:y1=0:seed=3,"
        "drawbox=x=0:y=420:w=1280:h=12:color=0xdde8f0@0.6:t=fill,"
        "drawbox=x=200:y=140:w=240:h=280:color=0x0a1620@0.7:t=fill"
    ),
}
VIDEOS = {
    # A city at night, abstracted: a slow Mandelbrot zoom at 24 fps, 8 seconds.
    "street.mp4": "mandelbrot=s=480x270:rate=24:start_scale=2.5:end_scale=0.6:maxiter=200",
}


RATE = 44100
BPM = 96


def music_bed() -> np.ndarray:
    """Four bars at 96 bpm: a soft Am-F-C-G pad, a kick on every beat and a
    quiet hi-hat on the off-beats. Loops seamlessly (whole bars)."""
    beat = 60 / BPM
    seconds = 16 * beat
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    chords = [
        (220.0, 261.63, 329.63),
        (174.61, 220.0, 261.63),
        (130.81, 164.81, 196.0),
        (196.0, 246.94, 293.66),
    ]
    bar = 4 * beat
    for i, chord in enumerate(chords):
        span = (t >= i * bar) & (t < (i + 1) * bar)
        local = t[span] - i * bar
        swell = np.minimum(1, local / 0.4) * np.minimum(1, (bar - local) / 0.4)
        for f in chord:
            out[span] += (
                0.07 * swell * (np.sin(2 * np.pi * f * local) + 0.3 * np.sin(4 * np.pi * f * local))
            )
    noise = np.random.default_rng(7).standard_normal(len(t))
    for n in range(16):
        k = t - n * beat
        hit = (k >= 0) & (k < 0.25)
        out[hit] += (
            0.5
            * np.sin(2 * np.pi * (50 + 60 * np.exp(-k[hit] * 30)) * k[hit])
            * np.exp(-k[hit] * 14)
        )
        h = t - (n + 0.5) * beat
        hat = (h >= 0) & (h < 0.05)
        out[hat] += 0.05 * noise[hat] * np.exp(-h[hat] * 80)
    return out


def beep() -> np.ndarray:
    t = np.arange(int(0.3 * RATE)) / RATE
    return 0.4 * np.sin(2 * np.pi * 880 * t) * np.minimum(1, t / 0.01) * np.exp(-t * 8)


def whoosh() -> np.ndarray:
    t = np.arange(int(0.7 * RATE)) / RATE
    noise = np.random.default_rng(3).standard_normal(len(t))
    smooth = np.convolve(noise, np.ones(24) / 24, mode="same")
    return 0.6 * smooth * np.sin(np.pi * t / t[-1]) ** 2


def write_audio(name: str, samples: np.ndarray) -> None:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    raw = HERE / f".{Path(name).stem}.tmp.wav"
    with wave.open(str(raw), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(data.tobytes())
    target = HERE / name
    target.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg("-i", str(raw), *BITEXACT, str(target))
    raw.unlink()
    print(f"made {name}")


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def main() -> None:
    for name, graph in IMAGES.items():
        ffmpeg("-f", "lavfi", "-i", graph, "-frames:v", "1", *BITEXACT, str(HERE / name))
        print(f"made {name}")
    for name, graph in VIDEOS.items():
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            graph,
            "-t",
            "8",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "32",
            "-pix_fmt",
            "yuv420p",
            "-threads",
            "1",
            *BITEXACT,
            str(HERE / name),
        )
        print(f"made {name}")
    write_audio("music/bed.flac", music_bed())
    write_audio("sfx/beep.wav", beep())
    write_audio("sfx/whoosh.wav", whoosh())


if __name__ == "__main__":
    main()
