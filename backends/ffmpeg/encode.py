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
CODECS = (X264, VIDEOTOOLBOX)


def is_hermetic(codec: str) -> bool:
    return codec == X264


def videotoolbox_quality(crf: int) -> int:
    """VideoToolbox's -q:v (1..100, higher is better) for an x264 CRF, so one
    profile or preset setting means roughly the same quality on both backends."""
    return max(1, min(100, 100 - 2 * crf))


def encoder_params(codec: str, *, preset: str, crf: int, threads: int, gop: int) -> dict[str, Any]:
    """An action's encoder parameters: only what the codec reads enters its key."""
    if codec == VIDEOTOOLBOX:
        return {"codec": codec, "quality": videotoolbox_quality(crf), "gop": gop}
    return {"codec": codec, "preset": preset, "crf": crf, "threads": threads, "gop": gop}


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
            "-pix_fmt",
            "yuv420p",
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
        ]
    raise ValueError(f"unknown video codec {codec}")  # pragma: no cover - set by the plan


def decode_args(enc: dict[str, Any]) -> dict[str, str]:
    """Input options for a decoded video: VideoToolbox decodes on the media engine,
    handing frames back in memory, so the CPU filters after it are unchanged."""
    if enc.get("codec", X264) == VIDEOTOOLBOX:
        return {"hwaccel": "videotoolbox"}
    return {}
