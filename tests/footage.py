"""Camera footage made here with the pinned ffmpeg, never downloaded.

``phone_clip`` writes what an iPhone hands a creator (seed 001): HEVC Main10
in a QuickTime file, BT.2020 primaries with the HLG transfer, a display
matrix that rotates the picture, variable frame timestamps, a timecode
track, a creation time and stereo AAC sound. Every property is a parameter,
so a test can ask for the one it examines and know the true value.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from reel.backends.ffmpeg.toolchain import ffmpeg_exe

# 18% grey and a saturated-ish colour patch, as SDR BT.709 full-range RGB:
# the two references a colour test measures (seed 001's "mid-grey and a patch").
TEST_CARD = (
    "color=c=0x696969:s={w}x{h}:r={rate}:d={d}[g];"
    "color=c=0xb4502d:s={half}x{h}:r={rate}:d={d}[p];"
    "[g][p]overlay=x={half}:y=0,format=gbrp"
)
# SDR → HLG as BT.2408 maps it: SDR reference white lands near 75% HLG
# signal when zimg's nominal peak luminance is the HLG reference white, 203 cd/m².
SDR_TO_HLG = (
    "zscale=tin=709:pin=709:min=gbr:rin=full:t=arib-std-b67:p=2020:m=2020_ncl:r=limited:npl=203,"
    "format=yuv420p10le"
)
X265_QUIET = "log-level=error:pools=1:frame-threads=1"


def _run(args: list[str]) -> None:
    subprocess.run([str(ffmpeg_exe()), "-v", "error", "-y", *args], check=True)


def vfr_timestamps(frames: int, rate: int) -> str:
    """A setpts expression whose frame intervals vary as a phone's do: the first
    half at ``rate``, the second at two thirds of it (a camera slowing in low
    light). Timestamps stay strictly increasing."""
    half = frames // 2
    slow = rate * 2 / 3
    return f"if(lt(N,{half}),N/{rate},{half}/{rate}+(N-{half})/{slow:.6f})/TB"


def phone_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 180),
    rate: int = 30,
    rotation: int = 90,
    vfr: bool = True,
    hlg: bool = True,
    timecode: str | None = "01:02:03:04",
    creation_time: str | None = "2026-01-02T03:04:05Z",
    sound: bool = True,
    picture: str | None = None,
) -> Path:
    """Write an iPhone-like clip to ``path`` (a .mov) and return it.

    ``picture`` is a lavfi graph giving SDR RGB frames (``{w}``, ``{h}``,
    ``{half}``, ``{hh}`` (half the height), ``{rate}`` and ``{d}`` are filled in); the test card by
    default. With ``hlg`` it is converted to BT.2020/HLG 10-bit; without, it
    is encoded as BT.709 8-bit. ``rotation`` is the display matrix's
    counter-clockwise turn in degrees (0 for none), as ffmpeg's
    ``-display_rotation`` sets it."""
    w, h = size
    frames = round(seconds * rate)
    graph = (picture or TEST_CARD).format(w=w, h=h, half=w // 2, hh=h // 2, rate=rate, d=seconds)
    chain = f"{graph},trim=end_frame={frames}"
    if vfr:
        chain += f",settb=1/90000,setpts='{vfr_timestamps(frames, rate)}'"
    if hlg:
        chain += f",{SDR_TO_HLG}"
        codec = ["-c:v", "libx265", "-x265-params", X265_QUIET, "-profile:v", "main10"]
        codec += ["-tag:v", "hvc1", "-color_primaries", "bt2020", "-color_trc", "arib-std-b67"]
        codec += ["-colorspace", "bt2020nc", "-color_range", "tv"]
    else:
        chain += (
            ",zscale=min=gbr:rin=full:pin=709:tin=709:p=709:t=709:m=709:r=limited,format=yuv420p"
        )
        codec = ["-c:v", "libx264", "-threads", "1", "-color_primaries", "bt709"]
        codec += ["-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]
    args = ["-filter_complex", f"{chain}[v]", "-map", "[v]"]
    if sound:
        args = ["-f", "lavfi", "-i", f"sine=f=440:r=48000:d={seconds}", *args]
        args += ["-map", "0:a", "-af", "pan=stereo|c0=c0|c1=0.5*c0", "-c:a", "aac", "-b:a", "96k"]
    raw = path.with_suffix(".raw.mov")
    _run(
        [
            *args,
            *codec,
            "-fps_mode",
            "passthrough",
            "-enc_time_base:v",
            "1/600",
            "-f",
            "mov",
            str(raw),
        ]
    )
    # The display matrix, timecode and creation time are container facts: set
    # on a stream copy (ffmpeg takes -display_rotation only on an input).
    remux = ["-display_rotation", str(rotation)] if rotation else []
    remux += ["-i", str(raw), "-map", "0", "-c", "copy"]
    if timecode:
        remux += ["-timecode", timecode]
    if creation_time:
        remux += ["-metadata", f"creation_time={creation_time}"]
    _run([*remux, "-movflags", "+write_colr", "-f", "mov", str(path)])
    raw.unlink()
    return path
