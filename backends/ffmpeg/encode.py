"""Video encoder settings for each backend: the only place the two differ.

Both backends lower the same action graph to ffmpeg commands. The ffmpeg
backend encodes with libx264 at fixed settings (a fixed thread count, closed
GOP, no B-frames), which is what makes its output bit-exact and its segments
joinable by stream copy. The VideoToolbox backend swaps in Apple's hardware
H.264 encoder and hardware decoding for a Mac: much faster there, but its bytes
differ run to run, so its actions are marked non-hermetic (never shared, never
verified) by the lowering.
"""

from __future__ import annotations

from typing import Any

X264 = "libx264"
VIDEOTOOLBOX = "h264_videotoolbox"
# HEVC Main10 for the HLG deliverable (``dynamic_range hlg``), on every backend:
# one worker pool and one frame thread make its bytes the same run to run.
X265 = "libx265"
CODECS = (X264, VIDEOTOOLBOX, X265)
HLG_TAGS = [
    "-color_primaries",
    "bt2020",
    "-color_trc",
    "arib-std-b67",
    "-colorspace",
    "bt2020nc",
    "-color_range",
    "tv",
]


# Every picture Reel writes is HD or larger, and is BT.709, limited range: the
# matrix the pixels are converted with, and the tags a player reads to undo it
# (H.264 VUI from the encoder options, the MP4 `colr` box from the muxer).
# Untagged HD is *assumed* BT.709 by players, so an untagged BT.601 conversion
# shows the wrong colours; tagging alone (without converting) is no better.
COLOUR_TAGS = [
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-colorspace",
    "bt709",
    "-color_range",
    "tv",
]
# MP4 muxer flags for a file with a picture: the `colr` box, and the index first.
MOVFLAGS = ["-movflags", "+faststart+write_colr"]
# The last filters of a picture chain: RGB (or YUV of any matrix) → BT.709
# limited-range 4:2:0, then the frame's own tags set to match, since ffmpeg's
# encoder takes a frame's tags over its options.
TO_BT709 = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
# Reading a picture Reel wrote (decoded BT.709 Y'CbCr) into a filter that may
# convert it to RGB: say which matrix it was made with.
FROM_BT709 = "in_color_matrix=bt709:in_range=tv"


def is_hermetic(codec: str) -> bool:
    return codec in (X264, X265)


def hardware(codec: str) -> tuple[str, ...]:
    """The hardware an encode with ``codec`` needs, as a Dask resource tag: a
    VideoToolbox encode runs only on a worker started with ``--resources
    videotoolbox=1`` (a Mac); libx264 runs anywhere."""
    return ("videotoolbox",) if codec == VIDEOTOOLBOX else ()


def videotoolbox_quality(crf: int) -> int:
    """VideoToolbox's -q:v (1..100, higher is better) for an x264 CRF, so one
    profile or preset setting means roughly the same quality on both backends."""
    return max(1, min(100, 100 - 2 * crf))


def encoder_params(codec: str, *, preset: str, crf: int, threads: int, gop: int) -> dict[str, Any]:
    """An action's encoder parameters: only what the codec reads enters its key."""
    if codec == VIDEOTOOLBOX:
        return {"codec": codec, "quality": videotoolbox_quality(crf), "gop": gop}
    if codec == X265:
        # ``space``: the segment renders in HLG (see ffmpeg.tonemap); x265's
        # threads are fixed in its own parameters (see video_args).
        return {"codec": codec, "preset": preset, "crf": crf, "gop": gop, "space": "hlg"}
    return {"codec": codec, "preset": preset, "crf": crf, "threads": threads, "gop": gop}


# x264 splits each frame into one slice per thread and encodes the slices at
# once, instead of encoding `threads` frames at once (frame threading): fewer
# frames in flight, so each 1080p encoder holds 20-30 MB less, which keeps two
# concurrent renders of a 10-minute episode under 500 MB. Measured on a 3 s
# 1080p shot at crf 20: the same PSNR and SSIM, 0.2% more bytes. The bytes
# still depend only on the thread count, which is fixed.
X264_PARAMS = "sliced-threads=1"


def video_args(enc: dict[str, Any]) -> list[str]:
    """Encoder options for one output, from the RenderPlan's encoder settings."""
    gop = str(enc["gop"])
    codec = enc.get("codec", X264)
    if codec == X264:
        return [
            "-c:v",
            X264,
            "-preset",
            enc["preset"],
            "-crf",
            str(enc["crf"]),
            "-threads",
            str(enc["threads"]),
            "-g",
            gop,
            "-keyint_min",
            gop,
            "-sc_threshold",
            "0",
            "-bf",
            "0",
            "-x264-params",
            X264_PARAMS,
            "-pix_fmt",
            "yuv420p",
            *COLOUR_TAGS,
        ]
    if codec == X265:
        # Closed GOPs of fixed length opening on an IDR frame and no B-frames,
        # as x264's; pools=1:frame-threads=1 makes the output deterministic
        # (x265's frame threads change what it encodes).
        x265 = f"pools=1:frame-threads=1:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
        return [
            "-c:v",
            X265,
            "-preset",
            enc["preset"],
            "-crf",
            str(enc["crf"]),
            "-x265-params",
            f"{x265}:open-gop=0:log-level=error",
            "-profile:v",
            "main10",
            "-pix_fmt",
            "yuv420p10le",
            "-tag:v",
            "hvc1",
            *HLG_TAGS,
        ]
    if codec == VIDEOTOOLBOX:
        # -q:v is VideoToolbox's constant-quality mode (Apple Silicon only);
        # -allow_sw 0 refuses a silent fall-back to Apple's software encoder;
        # -realtime 0 and -prio_speed 0 ask for quality over speed, as a render.
        return [
            "-c:v",
            VIDEOTOOLBOX,
            "-profile:v",
            "high",
            "-q:v",
            str(enc["quality"]),
            "-allow_sw",
            "0",
            "-realtime",
            "0",
            "-prio_speed",
            "0",
            "-g",
            gop,
            "-bf",
            "0",
            "-pix_fmt",
            "yuv420p",
            *COLOUR_TAGS,
        ]
    raise ValueError(f"unknown video codec {codec}")  # pragma: no cover - set by the plan


def decode_args(enc: dict[str, Any]) -> dict[str, str]:
    """Input options for a decoded video: VideoToolbox decodes on the media engine,
    handing frames back in memory, so the CPU filters after it are unchanged."""
    if enc.get("codec", X264) == VIDEOTOOLBOX:
        return {"hwaccel": "videotoolbox"}
    return {}
