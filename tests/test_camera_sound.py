"""A video plate's own sound, and a clip shorter than its shot, measured from
the outside: clips are made here with the pinned ffmpeg, the builds' outputs
are decoded (ffmpeg, PyAV) and read with OpenTimelineIO and an XML parser,
never from Reel's own parameters."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import numpy as np
import pytest
from test_conformance_timeline import assert_valid_fcpxml

from reel.backends.audio.voice import RATE, read_wav, write_wav
from reel.backends.ffmpeg.toolchain import ffmpeg_exe

from helpers import build_episode, reel, run_plan, write_tree

FPS = 24
SHOT_A = 1.0  # the first shot, before the clip: its start is the clip's offset
NOISE = "anoisesrc=d={d}:c=white:seed=7:a=0.3:r=48000"

HEAD = """
load "std/deliverables"
episode t {{ title "T" format 240x90 @ 24fps  voice maya = tts "en-us" }}
cast {{ character maya "Maya" age 34 }}
scene s {{
  shot wide 1s {{ plate solid red }}
{body}
}}
deliver master = youtube_1080p {{ resolution 240x90 }}
deliver edit = resolve_timeline
"""


def make_clip(path: Path, seconds: float, sound: bool = True) -> None:
    """A clip whose frame N shows a white bar 10*(N+1) pixels wide (a frame
    counter a decoder can read), with white noise (seeded) as its sound."""
    picture = (
        f"color=c=black:s=240x90:r={FPS}:d={seconds},format=gray,"
        "geq=lum='if(lt(X\\,10*(N+1))\\,235\\,16)'"
    )
    args = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", picture]
    if sound:
        args += ["-f", "lavfi", "-i", NOISE.format(d=seconds), "-c:a", "pcm_s16le"]
    args += ["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", "-t", str(seconds), str(path)]
    subprocess.run(args, check=True)


def decode_audio(path: Path) -> np.ndarray:
    """A file's sound as mono float samples at 48 kHz, decoded by ffmpeg."""
    args = ["-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le"]
    raw = subprocess.run(
        [ffmpeg_exe(), *args, "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0


def counters(path: Path) -> list[int]:
    """The frame counter each decoded frame shows (the width of its bar / 10)."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    return [round(int((frame[45, :] > 128).sum()) / 10) for frame in frames]


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x**2) + 1e-20))


def build(root: Path, body: str, target: str = "", out: str = "reel-out") -> Path:
    return build_episode(root, HEAD.format(body=body), target, out) / "t"


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A clip with sound after a 1 s shot; then the same clip, ducked, under a line."""
    root = tmp_path_factory.mktemp("camera")
    make_clip(root / "clip.mov", 2.0)
    body = """  shot wide 1s { plate video "clip.mov" }
  shot wide 2s { plate video "clip.mov" duck -20dB gain -6dB  say maya "Hello there, friend." }"""
    folder = build(root, body)
    stems = build(root, body, ":stems", "stems-out") / "stems"
    return {"root": root, "folder": folder, "stems": stems}


def test_a_clips_sound_is_heard_in_the_master_at_its_shots_first_sample(camera: dict) -> None:
    clip = decode_audio(camera["root"] / "clip.mov")[: RATE // 2]
    master = decode_audio(camera["folder"] / "master.mp4")
    window = master[: int(1.8 * RATE)]  # the first shot and the clip's own shot
    corr = np.correlate(window, clip, "valid")
    lag = int(np.argmax(np.abs(corr)))
    error_ms = abs(lag / RATE - SHOT_A) * 1000
    assert error_ms <= 1.0, f"the clip's sound is at {lag / RATE:.4f}s, its shot at {SHOT_A}s"
    # It is the clip's sound, not a coincidence: the peak stands far above the rest.
    others = np.delete(np.abs(corr), range(max(0, lag - 480), lag + 480))
    assert np.abs(corr[lag]) > 5 * others.max()


def test_the_camera_stem_holds_the_clips_sound_and_nothing_before_it(camera: dict) -> None:
    stem = read_wav(camera["stems"] / "camera.wav").mean(axis=1)
    first, second = stem[: RATE - 48], stem[RATE + 48 : 2 * RATE - 48]
    assert np.abs(first).max() == 0.0
    assert rms_db(second) > -20.0  # white noise at 0.3 amplitude: about -15 dBFS
    # the other stems carry none of it
    for name in ("music.wav", "effects.wav"):
        assert np.abs(read_wav(camera["stems"] / name)[RATE : 2 * RATE]).max() == 0.0


def test_camera_sound_ducks_under_a_line_when_the_plate_says_duck(camera: dict) -> None:
    stem = read_wav(camera["stems"] / "camera.wav").mean(axis=1)
    voice = np.abs(read_wav(camera["stems"] / "voice.wav").mean(axis=1))
    loud = np.nonzero(voice > 10 ** (-40 / 20))[0]
    start, end = loud[0] / RATE, loud[-1] / RATE
    assert start >= 2.0 - 1 / FPS  # the line is in the third shot
    under = stem[int((start + 0.2) * RATE) : int((end - 0.2) * RATE)]
    clear = stem[RATE + 48 : 2 * RATE - 48]  # the same clip, not ducked, at 0 dB
    # -6 dB of gain and -20 dB of ducking under the line
    assert rms_db(clear) - rms_db(under) == pytest.approx(26.0, abs=1.5)


def test_camera_sound_has_its_own_lane_in_the_otio_and_fcp7_xml(camera: dict) -> None:
    import opentimelineio as otio

    folder = camera["folder"] / "edit"
    timeline = otio.adapters.read_from_file(str(folder / "timeline.otio"))
    lane = next(
        t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio and "camera" in t.name
    )
    placed = [(c.range_in_parent(), c.media_reference.target_url) for c in lane.find_clips()]
    assert [(r.start_time.value, r.duration.value) for r, _ in placed] == [(24, 24), (48, 48)]
    media = [folder / url for _, url in placed]
    assert all(read_wav(m).std() > 0.01 for m in media)
    # FCP7 XML, read as XML: a fourth audio track with both clips at the shots' frames
    root = ET.parse(folder / "timeline.xml").getroot()
    tracks = root.findall(".//sequence/media/audio/track")
    assert len(tracks) == 4
    found = [
        (item.findtext("file/pathurl"), int(item.findtext("start")), int(item.findtext("end")))
        for item in tracks[3].findall("clipitem")
    ]
    assert found == [
        ("media/camera-s.s02.wav", 24, 48),
        ("media/camera-s.s03.wav", 48, 96),
    ]
    assert_valid_fcpxml(folder / "timeline.fcpxml")


def test_sound_off_leaves_the_clip_silent(tmp_path: Path) -> None:
    make_clip(tmp_path / "clip.mov", 1.0)
    stems = build(tmp_path, '  shot wide 1s { plate video "clip.mov" sound off }', ":stems")
    assert not (stems / "stems" / "camera.wav").exists()
    assert sorted(p.name for p in (stems / "stems").iterdir()) == [
        "effects.wav",
        "music.wav",
        "voice.wav",
    ]


@pytest.mark.parametrize(
    "extend, expected",
    [
        ("hold", [*range(1, 25), *[24] * 24]),
        ("loop", [*range(1, 25), *range(1, 25)]),
        ("pingpong", [*range(1, 25), *range(23, 0, -1), 2]),
        ("speed", [n for n in range(1, 25) for _ in (0, 1)]),
    ],
)
def test_a_short_clip_fills_its_shot_as_extend_says(
    tmp_path: Path, extend: str, expected: list[int]
) -> None:
    make_clip(tmp_path / "clip.mov", 1.0)
    folder = build(
        tmp_path, f'  shot wide 2s {{ plate video "clip.mov" extend {extend} }}', ":stems"
    )
    # the picture: every frame of the 2 s shot, read back from the master's segment
    write = reel("build", ".:master", "-q", "--out", "m", cwd=tmp_path)
    assert write.returncode == 0, write.stderr
    assert counters(tmp_path / "m" / "t" / "master.mp4")[24:] == expected
    # the sound follows the picture
    stem = read_wav(folder / "stems" / "camera.wav").mean(axis=1)
    clip = decode_audio(tmp_path / "clip.mov")
    first = stem[RATE : 2 * RATE]
    if extend != "speed":  # the clip's sound, from its first sample at the shot's first
        assert np.corrcoef(first[:4800], clip[:4800])[0, 1] > 0.99
    after = stem[2 * RATE : 3 * RATE]
    if extend == "hold":
        assert np.abs(after).max() == 0.0  # silence once the clip has ended
    elif extend == "loop":
        assert np.array_equal(after, first)  # the same sound again, from the clip's start
    elif extend == "pingpong":
        frame = RATE // FPS
        back = after[: 22 * frame]  # frames 23..2 (0-based 22..1), played backwards
        assert np.array_equal(back, first[frame : 23 * frame][::-1])
    else:  # speed: the sound is stretched over the whole shot (pitch kept)
        assert rms_db(stem[int(2.5 * RATE) : int(2.95 * RATE)]) > -25.0
        assert rms_db(first) > -25.0


def test_a_held_clip_warns_with_how_long_and_how_to_change_it(tmp_path: Path) -> None:
    make_clip(tmp_path / "clip.mov", 1.25)
    write_tree(
        tmp_path, {"main.episode": HEAD.format(body='  shot wide 3s { plate video "clip.mov" }')}
    )
    outcome = run_plan(tmp_path)
    assert outcome.exit_code == 0
    held = [w for w in outcome.warnings if "held" in w.message]
    assert len(held) == 1
    warning = held[0]
    assert warning.message == (
        "clip clip.mov is 1.25 s, shot s.s02 is 3.00 s: its last frame is held for 1.75 s"
    )
    assert (warning.span.line, warning.span.column) == (7, 18)
    assert "extend loop" in warning.help and "extend speed" in warning.help
    # said explicitly, holding is a choice: no warning
    write_tree(
        tmp_path,
        {"main.episode": HEAD.format(body='  shot wide 3s { plate video "clip.mov" extend hold }')},
    )
    assert not [w for w in run_plan(tmp_path).warnings if "held" in w.message]


def test_sound_on_for_a_clip_without_sound_is_an_error(tmp_path: Path) -> None:
    make_clip(tmp_path / "mute.mov", 1.0, sound=False)
    write_tree(
        tmp_path,
        {"main.episode": HEAD.format(body='  shot wide 1s { plate video "mute.mov" sound on }')},
    )
    done = reel("check", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "mute.mov has no sound" in done.stderr and "main.episode:7:18" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_misspelt_extend_or_sound_value_is_an_input_error(tmp_path: Path) -> None:
    make_clip(tmp_path / "clip.mov", 1.0)
    write_tree(
        tmp_path,
        {
            "main.episode": HEAD.format(
                body='  shot wide 1s { plate video "clip.mov" extend lop sound yes }'
            )
        },
    )
    outcome = run_plan(tmp_path)
    assert outcome.exit_code == 2
    messages = sorted(e.message for e in outcome.errors)
    assert messages == ["unknown extend mode 'lop'", "unknown sound setting 'yes'"]
    assert any("loop" in (e.help or "") for e in outcome.errors)


def test_clean_lowers_the_noise_floor_of_camera_dialogue(tmp_path: Path) -> None:
    """Speech-like bursts over steady noise, as a clip records them: `clean
    strong` lowers the floor between the bursts by at least 10 dB, measured
    on the camera stem; without `clean` (off by default) the noise stays."""
    t = np.arange(2 * RATE) / RATE
    bursts = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.5) < 0.25)
    noise = np.random.default_rng(5).normal(0, 0.02, len(t))
    write_wav(tmp_path / "sound.wav", np.stack([bursts + noise] * 2, axis=1))
    picture = f"color=c=gray:s=240x90:r={FPS}:d=2"
    inputs = ["-f", "lavfi", "-i", picture, "-i", "sound.wav"]
    codecs = ["-c:v", "libx264", "-c:a", "pcm_s16le", "-shortest"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", *inputs, *codecs, "clip.mov"],
        cwd=tmp_path,
        check=True,
    )

    def floor(options: str, out: str) -> float:
        body = f'  shot wide 2s {{ plate video "clip.mov" {options} }}'
        stem = read_wav(build(tmp_path, body, ":stems", out) / "stems" / "camera.wav")
        shot = stem[RATE : 3 * RATE].mean(axis=1)
        gaps = (np.mod(np.arange(len(shot)) / RATE, 0.5) > 0.3) & (
            np.mod(np.arange(len(shot)) / RATE, 0.5) < 0.45
        )
        return rms_db(shot[gaps])

    plain, cleaned = floor("", "plain"), floor("clean strong", "cleaned")
    print(f"camera noise floor: off {plain:.1f} dBFS, strong {cleaned:.1f} dBFS")
    assert plain - cleaned >= 10.0, (plain, cleaned)
