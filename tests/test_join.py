"""Joining per-shot files by stream copy (``backends/ffmpeg/stream_copy.py`` and
the ``join`` kind), checked with readers that are not Reel's: ffmpeg's framemd5
of every decoded frame, ffmpeg's own concat demuxer, and PyAV's packets and
timestamps."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from reel.backends.ffmpeg import assemble, stream_copy
from reel.backends.ffmpeg.toolchain import ffmpeg_exe

X264 = ["-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-pix_fmt", "yuv420p"]


def ffmpeg(cwd: Path, *args: str) -> None:
    subprocess.run([str(ffmpeg_exe()), "-v", "error", "-y", *args], cwd=cwd, check=True)


def shot(
    cwd: Path,
    name: str,
    source: str,
    frames: int = 30,
    extra: tuple[str, ...] = (),
    rate: str = "24",
) -> None:
    """A small H.264 file like Reel's segments: no B-frames, a keyframe every 12."""
    timescale = rate.split("/")[0]
    ffmpeg(
        cwd,
        *("-f", "lavfi", "-i", f"{source}=size=160x90:rate={rate}"),
        *("-frames:v", str(frames), *X264, "-g", "12", "-sc_threshold", "0", "-bf", "0", *extra),
        *("-video_track_timescale", timescale, "-movflags", "+faststart", name),
    )


def frame_digests(path: Path, stream: str = "v") -> list[str]:
    """The MD5 of each decoded frame of one stream, by ffmpeg's framemd5 muxer."""
    argv = [str(ffmpeg_exe()), "-v", "error", "-i", str(path), "-map", f"0:{stream}"]
    out = subprocess.run(
        [*argv, "-f", "framemd5", "-"], capture_output=True, text=True, check=True
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line[:1].isdigit()]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    for i, source in enumerate(["testsrc2", "smptebars", "mandelbrot"], start=1):
        shot(tmp_path, f"piece-{i:04d}.mp4", source, frames=20 + 7 * i)
    names = [f"piece-{i:04d}.mp4" for i in (1, 2, 3)]
    (tmp_path / "list.txt").write_bytes(assemble.concat_list(names))
    ffmpeg(
        tmp_path,
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4"),
        *("-ac", "2", "-c:a", "aac", "-b:a", "128k", "audio.m4a"),
    )
    return tmp_path


def test_the_joined_file_decodes_to_every_frame_of_every_shot_in_order(shots: Path) -> None:
    assemble.join_files(shots, "joined.mp4", sound=True)
    expected = [d for i in (1, 2, 3) for d in frame_digests(shots / f"piece-{i:04d}.mp4")]
    assert frame_digests(shots / "joined.mp4") == expected
    assert frame_digests(shots / "joined.mp4", "a") == frame_digests(shots / "audio.m4a", "a")
    assert sorted(p.name for p in shots.iterdir() if "piece" not in p.name) == [
        "audio.m4a",
        "joined.mp4",
        "list.txt",
    ]  # nothing else is left behind
    with av.open(str(shots / "joined.mp4")) as container:
        video = container.streams.video[0]
        packets = [p for p in container.demux(video) if p.size]
        assert [p.pts for p in packets] == [p.dts for p in packets]  # no reordering
        assert [p.pts * video.time_base * 24 for p in packets] == list(range(len(expected)))
        keyframes = [i for i, p in enumerate(packets) if p.is_keyframe]
        assert keyframes == [0, 12, 24, 27, 39, 51, 61, 73, 85, 97]  # each shot starts on one


def test_the_fast_join_matches_the_concat_demuxer(shots: Path, tmp_path: Path) -> None:
    """Same packets, same pictures as ffmpeg's own concat demuxer gives."""
    assemble.join_files(shots, "joined.mp4", sound=False)
    ffmpeg(shots, *assemble.CONCAT_INPUT, "-c", "copy", "reference.mp4")
    assert frame_digests(shots / "joined.mp4") == frame_digests(shots / "reference.mp4")

    def payloads(path: Path) -> list[str]:
        with av.open(str(path)) as container:
            return [hashlib.md5(bytes(p)).hexdigest() for p in container.demux() if p.size]

    assert payloads(shots / "joined.mp4") == payloads(shots / "reference.mp4")


def test_files_with_b_frames_are_refused_and_joined_by_the_concat_demuxer(shots: Path) -> None:
    shot(shots, "bframes.mp4", "testsrc2", extra=("-bf", "2"))
    with pytest.raises(stream_copy.NotJoinable, match="B-frames"):
        stream_copy.read_track((shots / "bframes.mp4").read_bytes())
    shutil.copy(shots / "bframes.mp4", shots / "piece-0002.mp4")
    assemble.join_files(shots, "joined.mp4", sound=False)
    expected = [d for i in (1, 2, 3) for d in frame_digests(shots / f"piece-{i:04d}.mp4")]
    assert frame_digests(shots / "joined.mp4") == expected


def test_files_encoded_differently_are_not_laid_end_to_end(shots: Path) -> None:
    shot(shots, "wider.mp4", "testsrc2", extra=("-vf", "scale=192:108"))
    paths = [shots / "piece-0001.mp4", shots / "wider.mp4"]
    with pytest.raises(stream_copy.NotJoinable, match="decoder configuration"):
        stream_copy.join(paths, shots / "out.mp4", None)
    assert not (shots / "out.mp4").exists()


def test_a_damaged_file_is_refused(shots: Path) -> None:
    original = (shots / "piece-0001.mp4").read_bytes()
    data = bytearray(original)
    data[:4] = (10**9).to_bytes(4, "big")  # the first box claims a gigabyte
    with pytest.raises(stream_copy.NotJoinable, match="damaged"):
        stream_copy.read_track(bytes(data))
    data = bytearray(original)
    at = data.index(b"stsc") + 8  # its entry count, after version and flags
    data[at : at + 4] = (0xFFFF).to_bytes(4, "big")  # more entries than the box holds
    with pytest.raises(stream_copy.NotJoinable, match="damaged"):
        stream_copy.read_track(bytes(data))


def test_the_join_is_the_same_bytes_every_run(shots: Path) -> None:
    """Picture and sound are interleaved by timestamp, whatever else runs (when
    ffmpeg muxed straight from a raw stream, its reader threads decided: one
    run in two laid the pilot's master out differently)."""
    digests = set()
    for _ in range(4):
        assemble.join_files(shots, "joined.mp4", sound=True)
        digests.add(hashlib.sha256((shots / "joined.mp4").read_bytes()).hexdigest())
    assert len(digests) == 1


def test_every_frame_lasts_exactly_one_frame_at_29_97(tmp_path: Path) -> None:
    """At 30000/1001 each frame must last 1001 ticks of 1/30000 s, as the concat
    demuxer gives; timed from the raw demuxer's clock, half of them lasted 1002."""
    names = [f"piece-{i:04d}.mp4" for i in (1, 2, 3)]
    for name, frames in zip(names, (34, 34, 34), strict=True):
        shot(tmp_path, name, "testsrc2", frames=frames, rate="30000/1001")
    (tmp_path / "list.txt").write_bytes(assemble.concat_list(names))
    assemble.join_files(tmp_path, "joined.mp4", sound=False)
    with av.open(str(tmp_path / "joined.mp4")) as container:
        video = container.streams.video[0]
        assert video.time_base == Fraction(1, 30000)
        assert video.average_rate == Fraction(30000, 1001)
        pts = [p.pts for p in container.demux(video) if p.size]
    assert pts == [1001 * k for k in range(102)]


def test_every_frame_lasts_exactly_one_frame_at_29_97_with_sound(tmp_path: Path) -> None:
    """With sound, the movie's clock counts audio samples; the picture keeps
    one frame per 1001 ticks of 1/30000 s, and the sound its every packet."""
    names = [f"piece-{i:04d}.mp4" for i in (1, 2)]
    for name in names:
        shot(tmp_path, name, "testsrc2", frames=40, rate="30000/1001")
    (tmp_path / "list.txt").write_bytes(assemble.concat_list(names))
    ffmpeg(
        tmp_path,
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3"),
        *("-ac", "2", "-c:a", "aac", "-b:a", "128k", "audio.m4a"),
    )
    assemble.join_files(tmp_path, "joined.mp4", sound=True)
    with av.open(str(tmp_path / "joined.mp4")) as container:
        video = container.streams.video[0]
        pts = [p.pts * video.time_base for p in container.demux(video) if p.size]
    assert pts == [Fraction(1001 * k, 30000) for k in range(80)]
    assert frame_digests(tmp_path / "joined.mp4", "a") == frame_digests(tmp_path / "audio.m4a", "a")


@pytest.mark.parametrize(
    ("extra", "moov_first"),
    [
        (("-vf", "setsar=4/3"), True),  # pixels wider than tall: the track's width says so
        (("-vf", "setsar=0"), True),  # an aspect nobody declared
        ((), False),  # the samples before the moov box
    ],
    ids=["wide-pixels", "undeclared-aspect", "moov-last"],
)
def test_pieces_the_fast_join_was_not_made_for_join_as_the_concat_demuxer_does(
    tmp_path: Path, extra: tuple[str, ...], moov_first: bool
) -> None:
    names = [f"piece-{i:04d}.mp4" for i in (1, 2)]
    for name in names:
        flags = "+faststart" if moov_first else "-faststart"
        timescale = ("-video_track_timescale", "24", "-movflags", flags)
        source = "size=160x90:rate=24"
        ffmpeg(
            tmp_path,
            *("-f", "lavfi", "-i", f"testsrc2={source}", "-frames:v", "20", *X264),
            *("-g", "12", "-bf", "0", *extra, *timescale, name),
        )
    (tmp_path / "list.txt").write_bytes(assemble.concat_list(names))
    assemble.join_files(tmp_path, "joined.mp4", sound=False)
    ffmpeg(tmp_path, *assemble.CONCAT_INPUT, "-c", "copy", "reference.mp4")
    assert frame_digests(tmp_path / "joined.mp4") == frame_digests(tmp_path / "reference.mp4")

    def shape(path: Path) -> tuple[object, object, float]:
        """The aspect PyAV reads (from ``pasp``), and the display width in the
        track header, which QuickTime and Safari size the picture by (read
        here by its place in ISO/IEC 14496-12's ``tkhd``: the first track's)."""
        data = path.read_bytes()
        body = data.index(b"tkhd") + 4
        width_at = body + (88 if data[body] == 1 else 76)
        width = int.from_bytes(data[width_at : width_at + 4], "big") / 65536
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            return video.sample_aspect_ratio, video.display_aspect_ratio, width

    assert shape(tmp_path / "joined.mp4") == shape(tmp_path / "reference.mp4")
    assert shape(tmp_path / "joined.mp4") == shape(tmp_path / names[0])
