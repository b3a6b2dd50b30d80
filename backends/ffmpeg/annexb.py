"""H.264 samples of Reel's own MP4 files, rewritten as one Annex B stream.

Why this exists: joining per-shot files with ffmpeg's concat demuxer opens and
probes every file, and probing H.264 decodes its first frames: about 40 ms for
each 1080p shot, a second for a 24-shot episode, paid again on every edit. The
files Reel joins were all written by its own encoder with one set of
parameters, so their samples can simply be laid end to end: this module reads
each file's sample table (ISO/IEC 14496-12 ``stsz``/``stsc``/``stco``) and its
decoder configuration (ISO/IEC 14496-15 ``avcC``), and writes the samples with
start codes instead of length prefixes, each file's SPS and PPS in front of
its first frame, exactly what ffmpeg's ``h264_mp4toannexb`` filter writes.
ffmpeg then reads one stream, probes it once and muxes it by stream copy.

Written by hand because no library here reads a sample table without libav
(pymp4 leaves ``stsz``/``stsc``/``stco`` unparsed), and libav is what costs
the time. It reads only what it needs and refuses anything it was not made
for (:class:`NotJoinable`): a file with B-frames (``ctts``), an edit list
that skips frames, more than one track, a codec other than H.264, a variable
frame rate, or files whose frame rates or decoder configurations differ. The
caller then falls back to the concat demuxer.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

START_CODE = b"\x00\x00\x00\x01"
# Boxes whose body is nothing but child boxes, on the way to the sample table.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}
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
    """The one H.264 track of an MP4 file whose bytes are ``data``; a file this
    reader cannot follow, damaged in any way, is NotJoinable (the concat
    demuxer then gets it, and reports it in its own words)."""
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
    return Track(samples, rate, config, sets, length_size)


def _write_sample(out: BinaryIO, data: bytes, length_size: int) -> None:
    sample, at = memoryview(data), 0
    while at < len(sample):
        size = int.from_bytes(sample[at : at + length_size], "big")
        at += length_size
        if at + size > len(sample):
            raise NotJoinable("a NAL unit runs past the end of its sample")
        out.write(START_CODE)
        out.write(sample[at : at + size])
        at += size


def write_annexb(paths: list[Path], out: BinaryIO) -> Fraction:
    """The files' samples, in order, as one Annex B stream; returns the frame rate.

    Raises NotJoinable before writing anything if any file cannot be joined."""
    tracks: list[Track] = []
    for path in paths:
        if path.stat().st_size == 0:
            raise NotJoinable(f"{path.name} is empty")
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            tracks.append(read_track(data))
    first = tracks[0]
    for path, track in zip(paths, tracks, strict=True):
        if (track.rate, track.config) != (first.rate, first.config):
            raise NotJoinable(f"{path.name}: a frame rate or decoder configuration of its own")
    for path, track in zip(paths, tracks, strict=True):
        for parameter_set in track.parameter_sets:
            out.write(START_CODE)
            out.write(parameter_set)
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            # Each sample is copied out of the map (bytes, not a view of it): a
            # view still held by an exception's traceback would keep the map
            # from closing, and hide the exception behind a BufferError.
            for offset, size in track.samples:
                _write_sample(out, data[offset : offset + size], track.length_size)
    return first.rate
