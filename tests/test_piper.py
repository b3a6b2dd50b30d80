"""Piper, the natural voice engine: the line it speaks is measured from the
outside (PyAV reads the WAV, RMS finds the speech), its word times must sit
where the sound is, it is the same bytes from process to process, and a bad
voice name is an error at its line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from reel.backends.audio import piper

from helpers import REPO, reel, write_tree

VOICE = "en_US-joe-medium"
LINE = "Wait. Now listen to me, all of you."
AB = REPO / "examples" / "voice_ab"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _speak(folder: Path, text: str, rate: float = 100) -> dict:
    """One Piper line, run as the build runs it (a worker, then the vocal chain)."""
    folder.mkdir(parents=True, exist_ok=True)
    piper.synthesise(folder, piper.action_params(text, VOICE, rate, _digest))
    return json.loads((folder / "words.json").read_text())


def _decode(path: Path) -> tuple[np.ndarray, int, int]:
    """The WAV through PyAV (not Reel's reader): mono samples, rate, channels."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate, channels = stream.rate, stream.codec_context.channels
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    data = np.concatenate(chunks, axis=1).astype(np.float64) / 32768.0
    return data[0], rate, channels


def _db(samples: np.ndarray) -> float:
    return 20 * np.log10(max(1e-9, float(np.sqrt(np.mean(samples**2)))))


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("piper") / "line"
    words = _speak(folder, LINE)
    samples, rate, channels = _decode(folder / "voice.wav")
    return {"folder": folder, "words": words, "samples": samples, "rate": rate, "ch": channels}


def test_the_wav_is_48khz_mono_and_as_long_as_words_json_says(spoken: dict) -> None:
    assert (spoken["rate"], spoken["ch"]) == (48000, 1)
    seconds = len(spoken["samples"]) / spoken["rate"]
    assert abs(seconds - spoken["words"]["seconds"]) < 0.001
    assert 1.5 < seconds < 5.0, seconds  # eight words of speech, not silence or a loop


def test_every_word_is_timed_in_order_inside_the_audio(spoken: dict) -> None:
    words = spoken["words"]
    assert not words["estimated"]  # matched word for word, not spread
    assert [w["text"] for w in words["words"]] == LINE.split()
    starts = [w["start"] for w in words["words"]]
    assert starts == sorted(set(starts)), starts
    assert 0 <= starts[0] and starts[-1] < words["seconds"] - 0.1
    assert [w["position"] for w in words["words"]] == [
        LINE.index(w) for w in ("Wait.", "Now", "listen", "to", "me,", "all", "of", "you.")
    ]


def test_speech_energy_is_where_the_words_say(spoken: dict) -> None:
    """The pause after "Wait." ends where "Now" is said to start: the 80 ms
    before it are far quieter than the 150 ms after it; every word's stretch
    holds sound; and nothing loud comes before the first word."""
    samples, rate = spoken["samples"], spoken["rate"]
    starts = [w["start"] for w in spoken["words"]["words"]]
    now = int(starts[1] * rate)
    before, after = samples[now - int(0.08 * rate) : now], samples[now : now + int(0.15 * rate)]
    assert _db(after) - _db(before) > 15, (_db(before), _db(after))
    ends = [*starts[1:], spoken["words"]["seconds"]]
    for word, start, end in zip(spoken["words"]["words"], starts, ends, strict=True):
        stretch = samples[int(start * rate) : int(end * rate)]
        assert _db(stretch) > -35, (word, _db(stretch))
    assert _db(samples[: max(1, int(starts[0] * rate))]) < _db(samples) - 6 or starts[0] < 0.05


def test_the_same_line_is_the_same_bytes_in_another_process(spoken: dict, tmp_path: Path) -> None:
    """A worker serves line after line; what it said before never changes a line:
    the line again after another one (the same worker), then from a fresh worker."""
    _speak(tmp_path / "other", "Something else entirely, said first.")
    _speak(tmp_path / "again", LINE)
    piper._stop_workers()  # the next line starts a new worker process
    _speak(tmp_path / "fresh", LINE)
    for folder in ("again", "fresh"):
        for name in ("voice.wav", "words.json"):
            assert _digest(tmp_path / folder / name) == _digest(spoken["folder"] / name), name


def test_a_worker_imports_nothing_from_the_users_folder(
    spoken: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m` puts the working folder first on sys.path: an `onnx.py` where the
    user runs `reel` would have replaced the real module in every worker."""
    (tmp_path / "onnx.py").write_text("raise ImportError('shadowed by the cwd')\n")
    monkeypatch.chdir(tmp_path)
    piper._stop_workers()  # a worker started here, in the shadowing folder
    _speak(tmp_path / "line", LINE)
    assert _digest(tmp_path / "line" / "voice.wav") == _digest(spoken["folder"] / "voice.wav")


def test_a_worker_that_dies_is_a_clear_error_and_is_replaced(tmp_path: Path) -> None:
    idle = piper._worker()
    idle.proc.kill()
    idle.proc.wait()
    with piper._IDLE_LOCK:
        piper._IDLE.append(idle)  # died while idle: never handed a line
    _speak(tmp_path / "after_idle", LINE)
    folder = tmp_path / "crash"
    folder.mkdir()
    with pytest.raises(piper.PiperError, match="KeyError"):  # dies mid-line: its last words
        piper.synthesise_in_worker(folder, {"model": VOICE, "length_scale": 1.0})
    _speak(tmp_path / "next", LINE)  # a new worker takes over
    assert (tmp_path / "next" / "voice.wav").is_file()


def test_rate_changes_the_pace_and_the_key(spoken: dict, tmp_path: Path) -> None:
    fast = _speak(tmp_path / "fast", LINE, rate=150)
    assert fast["seconds"] < spoken["words"]["seconds"] * 0.8
    params = [piper.action_params(LINE, VOICE, r, _digest) for r in (100, 150)]
    assert params[0]["length_scale"] == 1.0 and params[1]["length_scale"] == pytest.approx(2 / 3)
    assert params[0]["model_digest"] == _digest(piper.model_path(VOICE))
    assert params[0]["threads"] == 1 and params[0]["noise_scale"] == 0


def test_a_number_spoken_as_two_words_keeps_the_words_after_it_in_place(tmp_path: Path) -> None:
    words = _speak(tmp_path / "n", "Up at 5AM, then out.")
    assert not words["estimated"]
    texts = [w["text"] for w in words["words"]]
    assert texts == ["Up", "at", "5AM,", "then", "out."]


def _bad(tmp_path: Path, voice: str) -> str:
    write_tree(
        tmp_path,
        {
            "main.episode": (
                'episode t {\n  title "T"\n  format 640x360 @ 24fps\n'
                f"  {voice}\n}}\n"
                'cast { character ann "Ann" age 30 }\n'
                'scene s { shot wide { plate solid "#000000" say ann "Hello." } }\n'
            )
        },
    )
    proc = reel("check", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    return proc.stderr


def test_an_unknown_piper_voice_is_an_error_at_its_line(tmp_path: Path) -> None:
    err = _bad(tmp_path, 'voice ann = piper "en_US-jo-medium"')
    assert "error: unknown Piper voice 'en_US-jo-medium' for ann" in err
    assert "main.episode:4:3" in err
    assert "did you mean 'en_US-joe-medium'?" in err


def test_an_unknown_engine_and_an_espeak_option_are_errors(tmp_path: Path) -> None:
    err = _bad(tmp_path / "a", 'voice ann = pipr "en_US-joe-medium"')
    assert "unknown voice engine 'pipr'" in err and "did you mean 'piper'?" in err
    err = _bad(tmp_path / "b", 'voice ann = piper "en_US-joe-medium" pitch 40')
    assert "unknown option 'pitch' for a piper voice" in err
    err = _bad(tmp_path / "c", 'voice ann = piper "en_US-joe-medium" rate 300%')
    assert "300% is out of range" in err


def _build(where: Path) -> Path:
    """A clean build of the A/B example: its own copy, output folder and cache."""
    shutil.copytree(AB, where / "src")
    args = ("--out", str(where / "out"), "--cache-dir", str(where / "cache"))
    proc = reel("build", str(where / "src"), *args, cwd=where)
    assert proc.returncode == 0, proc.stderr
    return where / "out" / "voice_ab"


def _files(folder: Path) -> dict[str, str]:
    return {
        p.name: _digest(p)
        for p in sorted(folder.iterdir())
        if p.name not in ("run_summary.json", "report.html")
    }


@pytest.mark.slow
def test_the_ab_example_builds_identically_twice_with_both_voices_heard(tmp_path: Path) -> None:
    first, second = _build(tmp_path / "1"), _build(tmp_path / "2")
    assert _files(first) == _files(second)
    # the Piper line is non-hermetic (kept in this machine's ac-local/, never shared)
    assert len(list((tmp_path / "1" / "cache" / "ac-local").glob("*.json"))) == 1
    manifest = json.loads((first / "AssetManifest.json").read_text())
    engines = [line["voice"]["engine"] for line in manifest["vo_lines"]]
    assert engines == ["espeak-ng", "piper"]
    shots = json.loads((first / "ShotList.json").read_text())["shots"]
    samples, rate, _ = _decode_audio(first / "podcast.m4a")
    for shot in shots:  # each line is heard inside its own shot
        cue = shot["lines"][0]
        start = (shot["start_frame"] + cue["start_frame"]) / 24
        end = (shot["start_frame"] + cue["end_frame"]) / 24
        assert _db(samples[int(start * rate) : int(end * rate)]) > -30


def _decode_audio(path: Path) -> tuple[np.ndarray, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        rate = stream.rate
    data = np.concatenate(chunks, axis=1)
    return data.mean(axis=0).astype(np.float64), rate, 1
