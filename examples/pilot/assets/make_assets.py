"""Regenerate the pilot's media from nothing but the pinned ffmpeg.

Run from anywhere: ``python examples/pilot/assets/make_assets.py``. The files
are committed (so a checkout builds at once); this script is how they were
made, so no third-party media is involved. One image the pilot names,
``rooftop.png``, is missing on purpose: it shows placeholders at work.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

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


if __name__ == "__main__":
    main()
