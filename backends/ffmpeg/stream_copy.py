"""Reel's own MP4 pieces joined by stream copy into one MP4, in process.

Why this exists: ffmpeg's concat demuxer opens and probes every file, and
probing H.264 decodes its first frames (about 40 ms for each 1080p shot, a
second for a 24-shot episode, paid again on every edit); going through a raw
H.264 stream instead cost two more ffmpeg runs, each writing the whole file
(0.37 s for a 72 s 1080p master). The files Reel joins were all written by
its own encoder with one set of parameters, so their samples can simply be
laid end to end: this module reads each file's sample table (ISO/IEC 14496-12
``stsz``/``stsc``/``stco``/``stss``) and decoder configuration (ISO/IEC
14496-15 ``avcC``), and hands the samples, with each file's SPS and PPS in
front of its first frame (as a stream copy through Annex B and back gives
them), to libavformat's MP4 muxer through PyAV, with the sound's packets: one
pass, one file written (0.15 s), the same bytes as the two ffmpeg runs wrote
(for the pilot's every joined file).

The sample-table reader is written by hand because no library here reads one
without libav probing the file (pymp4 leaves ``stsz``/``stsc``/``stco``
unparsed). It reads only what it needs and refuses anything it was not made
for (:class:`NotJoinable`): a file with B-frames (``ctts``), an edit list
that skips frames, more than one track, a codec other than H.264, a variable
frame rate, files whose frame rates or decoder configurations differ, pixels
that are not square (the track header's display width follows the stream's
own aspect ratio, which PyAV cannot set), or samples stored before the
``moov`` box. The caller then falls back to the concat demuxer.

The muxer is PyAV's libavformat, not the pinned ffmpeg binary: the kinds that
call it are keyed on PyAV's version and wheel (``Kind.libraries``, ``registry``).
"""

from __future__ import annotations

import contextlib
import io
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

# A VisualSampleEntry's fixed fields before its child boxes (14496-12, 12.1.3).
_VISUAL_ENTRY = 78


class NotJoinable(ValueError):
    """The file is not one this module can join: use the concat demuxer."""


@dataclass(frozen=True)
class Track:
    """What the join needs from one file: where each sample is, and how to decode it."""

    samples: list[tuple[int, int]]  # (offset in the file, size), in decode order
    rate: Fraction  # frames per second
    config: bytes  # the avcC box body: equal across files, or they cannot share a stream
    parameter_sets: list[bytes]  # SPS then PPS NAL units
    length_size: int  # bytes of each NAL unit's length prefix
    keyframes: frozenset[int] | None  # sample numbers (from 0) of the sync samples; None: all


def _boxes(data: bytes | mmap.mmap, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, box end) of each box between start and end."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        body = at + 8
        if size == 1:  # a 64-bit size follows the type
            (size,) = struct.unpack_from(">Q", data, body)
            body += 8
        elif size == 0:  # the box runs to the end of its parent
            size = end - at
        if size < body - at or at + size > end:
            raise NotJoinable(f"a damaged {kind!r} box at byte {at}")
        yield kind, body, at + size
        at += size


def _children(data: bytes | mmap.mmap, start: int, end: int) -> dict[bytes, list[tuple[int, int]]]:
    found: dict[bytes, list[tuple[int, int]]] = {}
    for kind, body, stop in _boxes(data, start, end):
        found.setdefault(kind, []).append((body, stop))
    return found


def _one(boxes: dict[bytes, list[tuple[int, int]]], kind: bytes) -> tuple[int, int]:
    found = boxes.get(kind, [])
    if len(found) != 1:
        raise NotJoinable(f"expected one {kind.decode()} box, found {len(found)}")
    return found[0]


def _table(data: bytes | mmap.mmap, body: int, fields: str) -> list[tuple[int, ...]]:
    """A full box's table: version and flags, an entry count, then entries."""
    (count,) = struct.unpack_from(">I", data, body + 4)
    row = struct.calcsize(">" + fields)
    return [struct.unpack_from(">" + fields, data, body + 8 + i * row) for i in range(count)]


def _avcc(data: bytes | mmap.mmap, start: int, end: int) -> tuple[bytes, list[bytes], int]:
    entries = _children(data, start, end)
    if b"avc1" not in entries or len(entries) != 1:
        raise NotJoinable(f"not one H.264 sample entry: {sorted(k.decode() for k in entries)}")
    entry, stop = _one(entries, b"avc1")
    avcc_body, avcc_end = _one(_children(data, entry + _VISUAL_ENTRY, stop), b"avcC")
    config = bytes(data[avcc_body:avcc_end])
    length_size = (config[4] & 0x03) + 1
    sets: list[bytes] = []
    at = 5
    for mask in (0x1F, 0xFF):  # the SPS count shares its byte with reserved bits; PPS's does not
        count = config[at] & mask
        at += 1
        for _ in range(count):
            (size,) = struct.unpack_from(">H", config, at)
            sets.append(config[at + 2 : at + 2 + size])
            at += 2 + size
    return config, sets, length_size


def _check_edits(
    data: bytes | mmap.mmap,
    mvhd_parent: int,
    trak: dict[bytes, list[tuple[int, int]]],
    seconds: Fraction,
) -> None:
    """Refuse an edit list that starts after the first frame or ends before the last:
    the concat demuxer honours it, laying samples end to end would not."""
    mvhd, _ = _one(_children(data, mvhd_parent, len(data)), b"mvhd")
    (movie_timescale,) = struct.unpack_from(">I", data, mvhd + (20 if data[mvhd] == 1 else 12))
    for body, _ in _children(data, *_one(trak, b"edts")).get(b"elst", []):
        rows = _table(data, body, "QqI" if data[body] == 1 else "IiI")
        if len(rows) != 1 or rows[0][1] != 0:
            raise NotJoinable("an edit list that does not start at the first frame")
        if abs(Fraction(rows[0][0], movie_timescale) - seconds) > Fraction(1, 1000):
            raise NotJoinable("an edit list that does not show every frame")


def read_track(data: bytes | mmap.mmap) -> Track:
    """The one H.264 track of an MP4 file whose bytes are ``data``; a file
    whose boxes this reader cannot follow, or whose sample table does not fit
    the file, is NotJoinable (the concat demuxer then gets it, and reports it
    in its own words). The samples' contents are not read."""
    try:
        return _read_track(data)
    except (struct.error, IndexError, StopIteration, ValueError, ZeroDivisionError) as exc:
        if isinstance(exc, NotJoinable):
            raise
        raise NotJoinable(f"a damaged sample table ({type(exc).__name__})") from exc


def _read_track(data: bytes | mmap.mmap) -> Track:
    top = _children(data, 0, len(data))
    moov = _one(top, b"moov")
    traks = _children(data, *moov).get(b"trak", [])
    if len(traks) != 1:
        raise NotJoinable(f"expected one track, found {len(traks)}")
    trak = _children(data, *traks[0])
    mdia = _children(data, *_one(trak, b"mdia"))
    mdhd, _ = _one(mdia, b"mdhd")
    timescale_at = mdhd + (20 if data[mdhd] == 1 else 12)
    (timescale,) = struct.unpack_from(">I", data, timescale_at)
    stbl = _children(data, *_one(_children(data, *_one(mdia, b"minf")), b"stbl"))
    if b"ctts" in stbl:
        raise NotJoinable("the file has B-frames (a ctts box): decode and display orders differ")
    stsd, stsd_end = _one(stbl, b"stsd")
    config, sets, length_size = _avcc(data, stsd + 8, stsd_end)
    deltas = {delta for _, delta in _table(data, _one(stbl, b"stts")[0], "II")}
    if len(deltas) != 1:
        raise NotJoinable("frames of different durations (a variable frame rate)")
    rate = Fraction(timescale, deltas.pop())
    stsz = _one(stbl, b"stsz")[0]
    fixed, count = struct.unpack_from(">II", data, stsz + 4)
    sizes = [fixed] * count if fixed else list(struct.unpack_from(f">{count}I", data, stsz + 12))
    if b"co64" in stbl:
        offsets = [row[0] for row in _table(data, _one(stbl, b"co64")[0], "Q")]
    else:
        offsets = [row[0] for row in _table(data, _one(stbl, b"stco")[0], "I")]
    runs = _table(data, _one(stbl, b"stsc")[0], "III")
    samples: list[tuple[int, int]] = []
    for chunk, offset in enumerate(offsets, start=1):
        per_chunk = next(n for first, n, _ in reversed(runs) if first <= chunk)
        for _ in range(per_chunk):
            size = sizes[len(samples)]
            samples.append((offset, size))
            offset += size
    if len(samples) != count or any(o + s > len(data) for o, s in samples):
        raise NotJoinable("the sample table does not match the file")
    if b"edts" in trak:
        _check_edits(data, moov[0], trak, count / rate)
    keyframes = None
    if b"stss" in stbl:
        keyframes = frozenset(row[0] - 1 for row in _table(data, _one(stbl, b"stss")[0], "I"))
    return Track(samples, rate, config, sets, length_size, keyframes)


def _header(data: bytes | mmap.mmap) -> bytes:
    """The file's ftyp and moov boxes, whole, in that order: all libavformat
    needs to describe the stream, without reading (or probing) a sample."""
    found: dict[bytes, bytes] = {}
    at = 0
    for kind, _, stop in _boxes(data, 0, len(data)):
        if kind in (b"ftyp", b"moov"):
            found.setdefault(kind, bytes(data[at:stop]))
        at = stop
    return found.get(b"ftyp", b"") + found[b"moov"]


def _read(path: Path) -> Track:
    if path.stat().st_size == 0:
        raise NotJoinable(f"{path.name} is empty")
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return read_track(data)


def read_tracks(paths: list[Path]) -> list[Track]:
    """Every file's track, or NotJoinable (before anything is written) if any
    file cannot be read or cannot share one stream with the first."""
    tracks = [_read(path) for path in paths]
    first = tracks[0]
    for path, track in zip(paths, tracks, strict=True):
        if (track.rate, track.config) != (first.rate, first.config):
            raise NotJoinable(f"{path.name}: a frame rate or decoder configuration of its own")
    return tracks


# libavformat options: moov first (a player starts before the file is whole),
# the colour atom written, no encoder name or time in the file.
MUXER_OPTIONS = {"movflags": "+faststart+write_colr", "fflags": "+bitexact"}
MOVIE_TIMESCALE = 48000  # Reel's audio rate, and a whole number of ticks per frame at 24, 25, 30
# The movie's clock of a picture alone: a whole number of ticks per frame at
# 23.976, 24, 25, 29.97, 30, 50, 59.94 and 60 fps (and what ffmpeg's raw H.264
# reader gave the join before, so its files keep their bytes).
PICTURE_MOVIE_TIMESCALE = 1_200_000


def join(paths: list[Path], output: Path, sound: Path | None) -> None:
    """The files' samples, in order, as the picture of one MP4 at ``output``,
    with ``sound``'s packets (an MP4 audio file) as its sound.

    Raises NotJoinable before opening ``output`` if any file cannot be joined.
    Frame N is shown at N frame durations (no B-frames: checked). With sound,
    the movie's clock counts audio samples: at the default (1000) the sound's
    edit list is rounded to a millisecond and its last frame loses samples.
    Without, the picture's clock counts frames, so a 29.97 fps frame lasts
    exactly 1001 ticks of 1/30000 s. Picture and sound are handed to the
    muxer in time order, so it holds a few packets at a time, not the file."""
    import av  # lazily: the registry imports every backend module on each build

    tracks = read_tracks(paths)
    rate = tracks[0].rate
    frame = Fraction(1, 1) / rate  # a frame's length in seconds
    options = dict(MUXER_OPTIONS)
    if sound is None:
        options["video_track_timescale"] = str(rate.numerator)
        options["movie_timescale"] = str(PICTURE_MOVIE_TIMESCALE)
    else:
        options["movie_timescale"] = str(MOVIE_TIMESCALE)
    with (
        _template(av, paths[0], tracks[0]) as template,
        _sound(av, sound) as heard,
        av.open(str(output), "w", format="mp4", options=options) as out,
    ):
        given = template.streams.video[0]
        picture = out.add_stream_from_template(given)
        picture.time_base = frame
        # What a probe that decodes would have found (the header alone leaves
        # it unset), and not what a probe of the first file alone would say:
        # its bit rate is not the whole stream's.
        if given.sample_aspect_ratio:
            picture.codec_context.sample_aspect_ratio = given.sample_aspect_ratio
        picture.codec_context.bit_rate = 0
        audio = out.add_stream_from_template(heard.streams.audio[0]) if heard else None
        sound_packets = heard.demux(heard.streams.audio[0]) if heard else iter(())
        waiting = next(sound_packets, None)
        # A sound packet goes in before frame N when it is decoded no later:
        # dts * tb <= N / rate, cross-multiplied into whole numbers (Fractions
        # per packet took half the time of a 6-minute join).
        tb = heard.streams.audio[0].time_base if heard else Fraction(1)
        per_tick, per_frame = tb.numerator * rate.numerator, tb.denominator * rate.denominator

        def sound_until(number: int | None) -> None:
            """Mux the sound packets due before frame ``number`` (None: all left)."""
            nonlocal waiting
            while waiting is not None and (
                number is None
                or waiting.dts is None
                or waiting.dts * per_tick <= number * per_frame
            ):
                if waiting.size:
                    waiting.stream = audio
                    out.mux(waiting)
                waiting = next(sound_packets, None)

        number = 0
        for path, track in zip(paths, tracks, strict=True):
            prefix = b"".join(
                len(unit).to_bytes(track.length_size, "big") + unit for unit in track.parameter_sets
            )
            with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                for index, (offset, size) in enumerate(track.samples):
                    sound_until(number)
                    # Copied out of the map (bytes, not a view of it): a view
                    # still held by an exception's traceback would keep the map
                    # from closing, and hide the exception behind a BufferError.
                    sample = data[offset : offset + size]
                    packet = av.Packet(prefix + sample if index == 0 else sample)
                    packet.stream = picture
                    packet.time_base = frame
                    packet.pts = packet.dts = number
                    packet.duration = 1
                    packet.is_keyframe = track.keyframes is None or index in track.keyframes
                    out.mux(packet)
                    number += 1
        sound_until(None)


def _template(av: Any, path: Path, track: Track) -> Any:
    """The stream as libavformat describes it, read from an in-memory copy of
    the file's ftyp and moov boxes alone, so no sample is read or decoded;
    NotJoinable if that description cannot be the joined file's."""
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        header = _header(data)
    if track.samples and min(offset for offset, _ in track.samples) < len(header):
        # The samples come before the moov: in the copy, their offsets would
        # point into the header itself. (Reel writes every piece moov first.)
        raise NotJoinable(f"{path.name}: its samples come before its moov box")
    try:
        template = av.open(io.BytesIO(header), format="mp4")
    except av.FFmpegError as exc:
        raise NotJoinable(f"{path.name}: libavformat cannot read its header ({exc})") from exc
    video = template.streams.video
    shape = video[0].sample_aspect_ratio if video else None
    if not video or shape not in (None, 0, 1):
        template.close()
        # The track's display width follows the stream's own aspect ratio,
        # which PyAV cannot set: the concat demuxer gets it right.
        why = f"pixels of aspect {shape}, not square" if video else "no picture in its header"
        raise NotJoinable(f"{path.name}: {why}")
    return template


def _sound(av: Any, sound: Path | None) -> Any:
    """The sound file opened (its first sound stream is muxed), or a stand-in
    for none; NotJoinable if it holds no sound (the concat demuxer's ffmpeg
    then says so in its own words)."""
    if sound is None:
        return contextlib.nullcontext()
    heard = av.open(str(sound))
    if not heard.streams.audio:
        heard.close()
        raise NotJoinable(f"{sound.name} holds no sound")
    return heard
