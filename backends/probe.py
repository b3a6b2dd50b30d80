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
import itertools
from pathlib import Path
from typing import Any

# Bumped whenever a probe reports more or other facts: cached results are
# kept under it, so an older cache is never read as if it had them.
PROBE_VERSION = 2


class ProbeError(Exception):
    pass


# ffmpeg's colour enums (libavutil/pixfmt.h), named as ffmpeg's own
# av_color_*_name() and the -color_* options name them. PyAV hands back the
# numbers only; these values are part of ffmpeg's stable ABI.
PRIMARIES = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}
MATRICES = {
    0: "gbr",
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    12: "chroma-derived-nc",
    13: "chroma-derived-c",
    14: "ictcp",
}
RANGES = {1: "tv", 2: "pc"}
# Dolby Vision in MP4/QuickTime is signalled by its sample entry.
DOLBY_VISION_TAGS = frozenset({"dvh1", "dvhe", "dva1", "dvav"})
# How many video packets are read to tell constant from variable frame rate:
# a phone's clip shows its varying intervals within seconds, and reading every
# packet of a long file would cost its whole size in reads.
VFR_PACKETS = 3000


def probe(
    path: Path,
    *,
    decode: bool = True,
    max_size: tuple[int, int] = (8192, 8192),
    intervals: bool = True,
) -> dict[str, Any]:
    """Streams, dimensions and duration of ``path``; decode one frame to prove
    the file is readable (a truncated or corrupt file fails here).

    A picture larger than ``max_size`` (width, height) is never decoded: its
    size is reported from the header; a still, whose size only its decoder
    knows, reports ``over_pixel_limit`` instead when the decoder refused a
    picture of more than ``max_size`` pixels. ``intervals``: read the first
    packets' times to tell a variable frame rate (``vfr``)."""
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
                _video_info(container, video, info, decode, max_size, intervals)
            if audio is not None:
                layout = audio.codec_context.layout
                info.update(
                    audio_codec=audio.codec_context.name,
                    sample_rate=audio.codec_context.sample_rate,
                    channels=audio.codec_context.channels,
                    audio_layout=layout.name if layout is not None else None,
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
    container: Any,
    video: Any,
    info: dict[str, Any],
    decode: bool,
    max_size: tuple[int, int],
    intervals: bool,
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
    info.update(_colour(video))
    info.update(_recording(container, video))
    if intervals and info["duration"] is not None and info["frames"] != 1:  # a still has none
        info.update(_intervals(container, video))
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
    info["rotation"] = round(frame.rotation or 0) % 360  # the display matrix, turned CCW
    if info.get("hdr") in (None, "hlg", "pq") and any(
        "DOVI" in str(side.type) for side in frame.side_data
    ):
        # Dolby Vision in an `hvc1` track (as an iPhone writes it) shows only in
        # the decoder's output: the RPU it exports with each frame.
        info["hdr"] = "dolby_vision_hlg" if info["hdr"] == "hlg" else "dolby_vision"


def _colour(video: Any) -> dict[str, Any]:
    """What the picture's numbers mean: primaries, transfer, matrix and range as
    the stream says (``None`` where it does not), bit depth, and the HDR kind."""
    cc = video.codec_context
    transfer = TRANSFERS.get(cc.color_trc)
    bits = None
    if cc.format is not None:
        bits = max(c.bits for c in cc.format.components)
    tag = (cc.codec_tag or "").strip("\x00")
    hdr = {"arib-std-b67": "hlg", "smpte2084": "pq"}.get(transfer or "")
    if tag in DOLBY_VISION_TAGS:
        # Profile 8.4 carries an HLG base layer: it plays, and converts, as HLG.
        hdr = "dolby_vision_hlg" if transfer == "arib-std-b67" else "dolby_vision"
    return {
        "pix_fmt": cc.format.name if cc.format is not None else None,
        "bit_depth": bits,
        "colour_primaries": PRIMARIES.get(cc.color_primaries),
        "colour_transfer": transfer,
        "colour_matrix": MATRICES.get(cc.colorspace),
        "colour_range": RANGES.get(cc.color_range),
        "hdr": hdr,
    }


def _recording(container: Any, video: Any) -> dict[str, Any]:
    """The camera's record of when: source timecode (the video stream's, a
    timecode track's, or the container's) and creation time, as written."""
    timecode = video.metadata.get("timecode")
    for stream in container.streams:
        timecode = timecode or stream.metadata.get("timecode")
    timecode = timecode or container.metadata.get("timecode")
    return {"timecode": timecode, "creation_time": container.metadata.get("creation_time")}


def _intervals(container: Any, video: Any) -> dict[str, Any]:
    """Whether the frame rate varies, from the first ``VFR_PACKETS`` packets'
    presentation times (demuxed, not decoded): variable when two intervals
    differ by more than a tick of the stream's clock."""
    stamps = []
    for packet in container.demux(video):
        if packet.pts is not None:
            stamps.append(packet.pts)
        if len(stamps) >= VFR_PACKETS:
            break
    stamps.sort()
    gaps = [b - a for a, b in itertools.pairwise(stamps) if b > a]
    container.seek(0)
    if not gaps or video.time_base is None:
        return {"vfr": False}
    tb = video.time_base
    return {
        "vfr": max(gaps) - min(gaps) > 1,
        "frame_interval_s": [round(float(min(gaps) * tb), 6), round(float(max(gaps) * tb), 6)],
    }
