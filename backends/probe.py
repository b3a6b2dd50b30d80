"""Probe media in process with PyAV: what a file is, its size and duration.

Probing never starts an ffmpeg process. Results depend only on a file's
bytes, so callers cache them by content digest.

Probing reads headers, and decodes one frame only when the header's picture
size is within the caller's limit: ffmpeg's decoders are told (``max_pixels``)
to refuse any larger frame, including the one ``avformat_find_stream_info``
decodes while opening, so a PNG whose header claims 16000×16000 pixels costs
a few kilobytes, not a gigabyte. The file's size is the caller's to check
before calling: ffmpeg's image demuxers read a still whole.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any


class ProbeError(Exception):
    pass


def probe(
    path: Path, *, decode: bool = True, max_size: tuple[int, int] = (8192, 8192)
) -> dict[str, Any]:
    """Streams, dimensions and duration of ``path``; decode one frame to prove
    the file is readable (a truncated or corrupt file fails here).

    A picture larger than ``max_size`` (width, height) is never decoded: its
    size is reported from the header; a still, whose size only its decoder
    knows, reports ``over_pixel_limit`` instead when the decoder refused a
    picture of more than ``max_size`` pixels."""
    import av

    limit = {"max_pixels": str(max_size[0] * max_size[1])}
    try:
        with av.open(str(path), options=limit) as container:
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
                video.codec_context.options = limit  # for the decoder opened below
                _video_info(container, video, info, decode, max_size)
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


def _video_info(
    container: Any, video: Any, info: dict[str, Any], decode: bool, max_size: tuple[int, int]
) -> None:
    """Add the video stream's header facts to ``info``; decode its first frame
    only if the header's size is within ``max_size`` or unknown (a still's)."""
    import av

    width, height = video.codec_context.width, video.codec_context.height
    info.update(
        width=width or None,
        height=height or None,
        codec=video.codec_context.name,
        frames=video.frames or None,
    )
    rate = video.average_rate or video.base_rate
    info["fps"] = [rate.numerator, rate.denominator] if rate else None
    if video.duration is not None and video.time_base is not None:
        info["video_duration"] = round(float(video.duration * video.time_base), 6)
    if not decode or width > max_size[0] or height > max_size[1]:
        return
    container.seek(0)
    try:
        frame = next(container.decode(video=0))
    except av.error.FFmpegError as exc:
        if width or exc.errno != errno.EINVAL:
            raise
        info["over_pixel_limit"] = True  # the decoder refused to size it (max_pixels)
        return
    if not width:
        info.update(width=frame.width, height=frame.height)
