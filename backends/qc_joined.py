"""QC of a joined deliverable from its pieces: each shot measured once, as it is made.

A deliverable Reel joins (the master, a rendition, the review proxy) is its
per-shot pieces laid end to end by stream copy, with the sound of one loudness
pass. Decoding the whole joined file after the join made QC the slowest step
of a build (21 s for a 72 s 1080p master, on the critical path, after every
shot) and of every edit (an edited title re-decoded the whole episode). So QC
measures where the work already is:

- Each piece's render runs QC's picture detectors on the frames it encodes
  (``ffmpeg/detect.py``), nearly free; a master segment's also takes the
  report's thumbnail.
- ``measure_piece``: one piece's coded pictures digested, and its detectors'
  spans read from its render's log, which must have seen as many frames as
  the piece holds; for a ``publish true`` deliverable (or a log that does not
  match), the piece is decoded and the same detectors run on what it decodes
  to instead.
- ``measure_audio``: the sound measured once per loudness pass (silent spans,
  then loudness, each an ffmpeg decode), and a digest of its packets.
- ``qc_joined``: the joined file read without decoding a picture. PyAV (an
  independent reader, not Reel's own joiner) demuxes its packets: each run of
  them must be byte for byte the coded pictures of the piece QC measured
  (parameter sets and delimiters aside: the joiner repeats them in band; the
  parameter sets are compared as a set), each picture one frame after the
  last from zero, and its sound the packets of the measured sound. Then the
  pieces' measurements, placed at their times, are the file's. If anything
  differs, the file was not a stream copy of the pieces QC measured, and the
  whole file is decoded (``qc.measure``). What this does not see: the sound's timing in
  the file (an edit list that delays it); the probe's duration check does.

The result has the shape of ``qc.measure``'s, so the judge (``compiler/qc.py``)
is the same for both.

Why black spans are detected at any length in a piece and filtered after
merging: a black run that crosses a cut is one span of the file, and two
frames either side of a cut are a span no piece would report alone. One
difference from a whole-file decode, on purpose: a run black to the file's
end ends at its end here, where blackdetect ends it a frame early (it ends a
run still open at the end of its input at the last frame's time). Frozen
spans are not merged across cuts: the judge only counts frozen time inside
one moving shot, which its own piece measures whole.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypedDict

import xxhash

from .audio.loudness import _finite, measure_ebur128
from .ffmpeg import detect
from .ffmpeg.toolchain import ffmpeg_report
from .kind import Kind
from .probe import ProbeError, probe
from .qc import BLACK_MIN_SECONDS, FACTS, FRAME_LOG, detect_spans, logged_spans, measure

# H.264 NAL unit types the joiner may add or move (SPS, PPS, access unit
# delimiter): they are compared as sets, not as part of each picture.
PARAMETER_SETS = {7, 8}
DELIMITER = 9


class PieceParams(TypedDict):
    fps: list[int]  # the episode's rate [num, den]: a piece's length in seconds
    decode: bool  # decode the piece and measure that (a `publish true` deliverable's)


class JoinedParams(TypedDict):
    media: str  # "video": what the file is meant to hold
    fps: list[int]


def _nal_units(packet: bytes, length_size: int) -> list[bytes]:
    units, at = [], 0
    while at + length_size <= len(packet):
        size = int.from_bytes(packet[at : at + length_size], "big")
        units.append(packet[at + length_size : at + length_size + size])
        at += length_size + size
    return units


def _avcc_parameter_sets(extradata: bytes | None) -> tuple[int, set[str]]:
    """The NAL length size and the SPS/PPS of an ``avcC`` record (ISO/IEC 14496-15)."""
    if not extradata or len(extradata) < 7 or extradata[0] != 1:
        return 4, set()
    length_size = (extradata[4] & 3) + 1
    found: set[str] = set()
    at = 5
    for mask in (0x1F, 0xFF):  # the SPS count (low five bits), then the PPS count
        if at >= len(extradata):
            break  # a truncated record: what is missing differs from a piece's, so it falls back
        count = extradata[at] & mask
        at += 1
        for _ in range(count):
            size = int.from_bytes(extradata[at : at + 2], "big")
            found.add(extradata[at + 2 : at + 2 + size].hex())
            at += 2 + size
    return length_size, found


@dataclass
class Packets:
    """What a file's packets are, read in one pass without decoding."""

    pictures: list[str] = field(default_factory=list)  # each coded picture's digest
    parameter_sets: set[str] = field(default_factory=set)  # in ``avcC`` and in band
    times: list[int] = field(default_factory=list)  # each picture's time, in ``time_base``
    time_base: Fraction = Fraction(1)  # the picture stream's unit of time, seconds
    sound: str | None = None  # one digest of the first sound stream's packets


def read_packets(path: Path) -> Packets:
    """Each coded picture's digest (parameter sets and delimiters left out) in
    decode order, every parameter set, each picture's presentation time, and a
    digest of the sound's packets: one demux of the file, whatever it holds."""
    import av  # lazily: the registry imports every backend module on each build

    found = Packets()
    with _demuxer(av, path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        length_size = 4
        if video is not None:
            length_size, found.parameter_sets = _avcc_parameter_sets(video.codec_context.extradata)
            found.time_base = video.time_base
        sound = xxhash.xxh3_128()
        for packet in container.demux([s for s in (video, audio) if s is not None]):
            if packet.size == 0:
                continue
            data = bytes(packet)
            if packet.stream is audio:
                sound.update(len(data).to_bytes(4, "big") + data)
                continue
            found.times.append(packet.pts or 0)
            picture = xxhash.xxh3_128()
            for unit in _nal_units(data, length_size):
                kind = unit[0] & 0x1F if unit else 0
                if kind in PARAMETER_SETS:
                    found.parameter_sets.add(unit.hex())
                elif kind != DELIMITER:
                    picture.update(len(unit).to_bytes(4, "big") + unit)
            found.pictures.append(picture.hexdigest())
        if audio is not None:
            found.sound = sound.hexdigest()
    return found


# An MP4's streams are all in its header (moov): nothing need be decoded to
# know them. FFmpeg's stream probing decodes a 1080p picture anyway, a fifth of
# the QC of a title edit's master; it is skipped for the formats that need none.
_HEADER_ONLY = {"probesize": "32", "analyzeduration": "0"}
_MP4 = "mov,mp4,m4a,3gp,3g2,mj2"


def _demuxer(av: Any, path: Path) -> Any:
    """``path`` opened for demuxing, probed only as far as its format needs."""
    container = av.open(str(path), options=_HEADER_ONLY)
    if container.format.name == _MP4:
        return container
    container.close()
    return av.open(str(path))


def _seconds(frames: int, fps: Fraction) -> float:
    return float(Fraction(frames) / fps)


# ---- a detectors' log ----------------------------------------------------------

_SEEN = re.compile(rf"^{re.escape(detect.SEEN)}=1$", re.MULTILINE)


def read_log(text: str, end_of_piece: float) -> dict[str, Any]:
    """The frames the detectors saw (``seen``), and the black and frozen spans
    in a ``metadata`` print of them (``ffmpeg/detect.py``), in seconds from
    the piece's start; a frozen span still open at the end of the piece closes
    there (freezedetect reports it only in its own log). Black times keep six
    decimals: runs from two pieces are joined at a cut (``merge_black``)."""
    return {
        "seen": len(_SEEN.findall(text)),
        "black": logged_spans(text, "black", end_of_piece, digits=6),
        "freeze": logged_spans(text, "freeze", end_of_piece),
    }


# ---- one piece ---------------------------------------------------------------------
def run_measure_piece(sandbox: Path, params: PieceParams) -> None:
    fps = Fraction(*params["fps"])
    packets = read_packets(sandbox / "piece.mp4")
    frames = len(packets.pictures)
    duration = _seconds(frames, fps)
    log = sandbox / detect.LOG
    decoded = None
    spans = None
    if not params["decode"]:
        spans = read_log(log.read_text(), round(duration, 3))
        # The log must cover the frames the piece holds, one by one; else the
        # render's frames were not the encoded ones (a frame-rate step
        # dropped or repeated some): decode them instead.
        spans = spans if spans["seen"] == frames else None
    if spans is None:
        # The same detectors, on what the piece decodes to; their log is new
        # (the render's, an input, is removed first, never written over).
        log.unlink(missing_ok=True)
        args = ["-threads", "2", "-i", "piece.mp4", "-vf", detect.detector_chain()]
        text = ffmpeg_report([*args, "-f", "null", "-"], sandbox)
        counted = FRAME_LOG.findall(text)
        decoded = max(int(counted[-1]) - 1, 0) if counted else 0  # less the white pad
        spans = read_log(log.read_text(), round(duration, 3))
        log.unlink()
    spans.pop("seen")
    result = {
        "frames": frames,
        "frames_decoded": decoded,
        "measured": "rendered" if decoded is None else "decoded",
        "seconds": round(duration, 6),
        **spans,
        "pictures": packets.pictures,
        "parameter_sets": sorted(packets.parameter_sets),
    }
    (sandbox / "piece.json").write_text(json.dumps(result, sort_keys=True))


MEASURE_PIECE = Kind(
    name="measure_piece",
    params=PieceParams,
    inputs=("piece.mp4", detect.LOG),
    outputs=("piece.json",),
    run=run_measure_piece,
    links_inputs=True,
    about="one shot's piece: its coded pictures and its detectors' spans (rendered or decoded)",
)


# ---- the sound ---------------------------------------------------------------------
def run_measure_audio(sandbox: Path, params: dict[str, Any]) -> None:
    path = sandbox / "audio.m4a"
    info = probe(path)
    end = round(float(info.get("audio_duration") or info.get("duration") or 0.0), 3)
    spans = detect_spans(path.name, sandbox, False, True, end)
    figures = _finite(measure_ebur128(path.name, sandbox))
    result = {
        "end": end,
        "silence": spans["silence"],
        "loudness": {k: round(v, 2) for k, v in sorted(figures.items())},
        "packets": read_packets(path).sound,
    }
    (sandbox / "audio.json").write_text(json.dumps(result, sort_keys=True))


class AudioParams(TypedDict):
    pass


MEASURE_AUDIO = Kind(
    name="measure_audio",
    params=AudioParams,
    inputs=("audio.m4a",),
    outputs=("audio.json",),
    run=run_measure_audio,
    links_inputs=True,
    about="decode a deliverable's sound once: silent spans and loudness",
)


# ---- the joined file ---------------------------------------------------------------
def merge_black(pieces: list[tuple[float, list[list[float]]]], frame: float) -> list[list[float]]:
    """Each piece's black runs at its place in the file; runs that meet at a
    cut become one; then only runs as long as blackdetect's minimum remain."""
    runs: list[list[float]] = []
    for start, spans in pieces:
        for a, b in spans:
            a, b = start + a, start + b
            if runs and abs(runs[-1][1] - a) < frame / 2:
                runs[-1][1] = b
            else:
                runs.append([a, b])
    # blackdetect's own rule (d=0.08): a run at least that long, to the microsecond.
    return [[round(a, 3), round(b, 3)] for a, b in runs if b - a >= BLACK_MIN_SECONDS - 1e-6]


def _how(decoded: list[int | None]) -> str:
    """How the pieces were measured, for qc.json's ``decoded``."""
    if None not in decoded:
        return "pieces"
    return "pieces as rendered" if set(decoded) == {None} else "pieces, some as rendered"


def assemble(
    facts: dict[str, Any],
    pieces: list[dict[str, Any]],
    sound: dict[str, Any] | None,
    fps: Fraction,
) -> dict[str, Any]:
    """The measurement of the whole file from its pieces' and its sound's."""
    frame = float(1 / fps)
    decoded = [p.get("frames_decoded") for p in pieces]
    starts, at = [], 0
    for piece in pieces:
        starts.append(_seconds(at, fps))
        at += piece["frames"]
    duration = round(float(facts.get("duration") or 0.0), 3)
    out: dict[str, Any] = {
        "has_video": True,
        "has_audio": sound is not None,
        **facts,
        # Only when every piece was decoded: else the judge counts the file's frames.
        "frames_decoded": None if None in decoded else sum(decoded),
        "black": merge_black([(s, p["black"]) for s, p in zip(starts, pieces, strict=True)], frame),
        "freeze": [
            [round(s + a, 3), round(s + b, 3)]
            for s, p in zip(starts, pieces, strict=True)
            for a, b in p["freeze"]
        ],
        "silence": [],
        "loudness": None,
        "decoded": _how(decoded),
    }
    if sound is not None:
        # A silence still open when the sound ended closes where the file does.
        out["silence"] = [[a, duration if b == sound["end"] else b] for a, b in sound["silence"]]
        out["loudness"] = sound["loudness"]
    return out


def stream_copy_of(
    packets: Packets, pieces: list[dict[str, Any]], sound: dict[str, Any] | None, fps: Fraction
) -> str | None:
    """None when the file's packets are the pieces' and the sound's, in order;
    else what differs (the reason the whole file is decoded instead)."""
    pictures, times = packets.pictures, packets.times
    expected = [d for p in pieces for d in p["pictures"]]
    if len(pictures) != len(expected):
        return f"{len(pictures)} coded pictures, the pieces have {len(expected)}"
    # Frame i at i / fps seconds, in whole numbers (a Fraction per packet cost
    # a tenth of this action's time): pts * tb == i / fps.
    tb = packets.time_base
    scale, per_frame = tb.numerator * fps.numerator, tb.denominator * fps.denominator
    if [t * scale for t in sorted(times)] != [i * per_frame for i in range(len(times))]:
        return "the pictures are not one frame apart from the start"
    at = 0
    for index, piece in enumerate(pieces, 1):
        n = len(piece["pictures"])
        if pictures[at : at + n] != piece["pictures"]:
            return f"piece {index}'s pictures differ"
        at += n
    wanted = {s for p in pieces for s in p["parameter_sets"]}
    if packets.parameter_sets != wanted:
        return "the parameter sets differ from the pieces'"
    if sound is not None and packets.sound != sound["packets"]:
        return "the sound differs from the measured sound"
    return None


def _probed_and_read(media: Path) -> tuple[dict[str, Any], Packets]:
    """The file's stream facts and its packets, read side by side: FFmpeg
    decodes the probe's picture with the GIL released, so the two cost one
    (70 ms, not 110, for a 72 s 1080p master). A probe's error comes first,
    as if it had run alone. No frame-rate scan: the packets' times are
    checked one by one."""
    with ThreadPoolExecutor(1) as pool:
        probing = pool.submit(probe, media, intervals=False)
        try:
            packets, failed = read_packets(media), None
        except Exception as exc:  # noqa: BLE001 (raised below, after the probe's own)
            packets, failed = Packets(), exc
        info = probing.result()
    if failed is not None and info.get("has_video"):
        raise failed  # (without a picture the packets are never compared)
    return info, packets


def run_qc_joined(sandbox: Path, params: JoinedParams) -> None:
    import av

    media = sandbox / "media.mp4"
    names = sorted(
        (p.name for p in sandbox.iterdir() if p.name.startswith("piece-")),
        key=lambda name: int(name.removeprefix("piece-").split(".")[0]),
    )
    pieces = [json.loads((sandbox / n).read_text()) for n in names]
    sound_file = sandbox / "audio.json"
    sound = json.loads(sound_file.read_text()) if sound_file.exists() else None
    fps = Fraction(*params["fps"])
    try:
        info, packets = _probed_and_read(media)
        facts = {key: info.get(key) for key in FACTS}
        heard = sound if info.get("has_audio") else None
        differs = "no picture"
        if info.get("has_video"):
            differs = stream_copy_of(packets, pieces, heard, fps)
        if differs is None:
            result = assemble(facts, pieces, heard, fps)
        else:
            result = measure(media)
            result["decoded"] = f"whole file: {differs}"
    except (ProbeError, av.FFmpegError) as exc:
        result = {"unreadable": str(exc)}
    result["media"] = params["media"]
    (sandbox / "qc.json").write_text(json.dumps(result, sort_keys=True, indent=2))


QC_JOINED = Kind(
    name="qc_joined",
    params=JoinedParams,
    inputs=("media.mp4", "piece-*.json", "audio.json"),
    outputs=("qc.json",),
    run=run_qc_joined,
    links_inputs=True,
    about="check a joined file is its measured pieces and sound; their measurements placed",
)
