"""Probe media in process with PyAV: what a file is, its size and duration.

Probing never starts an ffmpeg process. Results depend only on a file's
bytes, so callers cache them by content digest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ProbeError(Exception):
    pass


def probe(path: Path, *, decode: bool = True) -> dict[str, Any]:
    """Streams, dimensions and duration of ``path``; decode one frame to prove
    the file is readable (a truncated or corrupt file fails here)."""
    import av

    try:
        with av.open(str(path)) as container:
            video = next((s for s in container.streams if s.type == "video"), None)
            audio = next((s for s in container.streams if s.type == "audio"), None)
            info: dict[str, Any] = {
                "format": container.format.name,
                "has_video": video is not None,
                "has_audio": audio is not None,
                "duration": None,
            }
            if container.duration is not None:
                info["duration"] = round(container.duration / 1_000_000, 6)
            if video is not None:
                info.update(
                    width=video.codec_context.width,
                    height=video.codec_context.height,
                    codec=video.codec_context.name,
                    frames=video.frames or None,
                )
                rate = video.average_rate or video.base_rate
                info["fps"] = [rate.numerator, rate.denominator] if rate else None
                if video.duration is not None and video.time_base is not None:
                    info["video_duration"] = round(float(video.duration * video.time_base), 6)
                if decode:
                    container.seek(0)
                    next(container.decode(video=0))
            if audio is not None:
                info.update(
                    audio_codec=audio.codec_context.name,
                    sample_rate=audio.codec_context.sample_rate,
                    channels=audio.codec_context.channels,
                )
                if audio.duration is not None and audio.time_base is not None:
                    info["audio_duration"] = round(float(audio.duration * audio.time_base), 6)
                if decode and video is None:
                    container.seek(0)
                    next(container.decode(audio=0))
            return info
    except StopIteration:
        raise ProbeError("it holds no decodable frame") from None
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise ProbeError(str(exc).split(": '")[0]) from None
