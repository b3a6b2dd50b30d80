"""Director Mode's analysis of a generated dailies folder whose answers are
known (tests/dailies.py): the clipped take, the black clip, the dead air, the
spoken slate, the lines' words, loudness, the cut inside a take.

Each figure is checked against something the analysis did not compute:
the generator's own placement of the samples, PyAV's decode of the file,
ffmpeg's ebur128 run here with its own arguments, the script's text.

The tests of the analysed folder are slow (making six clips and analysing
them takes 10-20 s); the file-name slate parser and the blur measure are not.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from dailies import make_dailies

from reel.backends.analysis import blur, slate
from reel.backends.ffmpeg.toolchain import ffmpeg_exe
from reel.director.analysis import DailiesAnalysis, Take, analyse_dailies

# A transcript is matched to its line by difflib's ratio over lower-case words.
# Measured on these dailies (pocketsphinx's default en-us model, Piper's voice):
# the unclipped takes of line 1 read "the cat was already on" (0.78 against
# their line, 0.42 against the other), those of line 2 read their line exactly
# (1.0 against it, 0.41 against the other). 0.6 sits between: every clean take
# matches its own line, and none matches the other. The clipped take is left
# out: clipping distorts the words (it reads "the cameras at the end"), which
# is why the planner must drop it.
SIMILAR = 0.6
# The meter run here: a filter graph on the decoded stream, not the analysis's -af.
METER = ["-filter_complex", "[0:a]ebur128=peak=true:framelog=quiet", "-f", "null", "-"]


@pytest.fixture(scope="module")
def dailies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("shoot") / "dailies"
    return folder, make_dailies(folder)


@pytest.fixture(scope="module")
def analysis(dailies: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple:
    folder, answers = dailies
    cache = tmp_path_factory.mktemp("cache")
    seen: list[tuple[str, int, int]] = []
    result = analyse_dailies(folder, lambda *a: seen.append(a), cache_dir=cache)
    return result, answers, cache, seen


def _take(result: DailiesAnalysis, clip: str) -> Take:
    return next(t for t in result.takes if t.clip == clip)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def _pcm(path: Path) -> np.ndarray:
    """Int16 samples of the first audio stream, decoded by PyAV (not the analysis's pipe)."""
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
    return np.concatenate(chunks, axis=1).astype(np.int32)


@pytest.mark.slow
def test_every_clip_is_analysed_in_order_with_relative_paths(analysis) -> None:
    result, answers, _, seen = analysis
    clips = sorted(answers["clips"])
    assert [t.clip for t in result.takes] == clips
    assert [s[0] for s in seen] == clips and {s[2] for s in seen} == {len(clips)}
    assert result.folder == "dailies"
    text = result.to_json()
    assert "/" not in result.folder and "/tmp" not in text and str(Path.home()) not in text
    assert set(result.tools) == {"ffmpeg", "pocketsphinx"}
    # Order by timecode (what the planner sorts by) is the order of the takes as shot.
    by_tc = sorted(result.takes, key=lambda t: t.timecode or "")
    assert [t.timecode for t in by_tc] == [answers["clips"][c]["timecode"] for c in clips]


@pytest.mark.slow
def test_probe_facts(analysis) -> None:
    result, answers, _, _ = analysis
    for take in result.takes:
        want = answers["clips"][take.clip]
        assert (take.width, take.height, take.fps) == (320, 180, 24.0)
        assert take.has_video and take.has_audio
        assert take.duration_s == pytest.approx(want["duration_s"], abs=0.05)
        assert take.creation_time is not None and take.creation_time.startswith("2026-03-04")


@pytest.mark.slow
def test_only_the_clipped_take_is_flagged_and_pyav_counts_the_same_flat_tops(
    analysis, dailies
) -> None:
    result, answers, _, _ = analysis
    folder, _ = dailies
    for take in result.takes:
        samples = _pcm(folder / take.clip)[0]
        # Within 0.01 dB of full scale, in runs of three or more: counted here on
        # PyAV's int16 samples (the analysis reads float samples from an ffmpeg pipe).
        pinned = np.abs(samples) >= 32768 * 10 ** (-0.01 / 20)
        edges = np.diff(np.concatenate(([0], pinned.astype(np.int8), [0])))
        lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        runs = int(lengths[lengths >= 3].sum())
        assert take.clipping is answers["clips"][take.clip]["clipped"], take.clip
        assert take.clipped_samples == runs, take.clip
        if take.clipping:
            assert runs > 1000
            assert any(n.startswith("clipped: ") for n in take.notes)


@pytest.mark.slow
def test_the_black_clip_is_black_and_silent(analysis) -> None:
    result, answers, _, _ = analysis
    for take in result.takes:
        if answers["clips"][take.clip]["black"]:
            assert take.black_fraction > 0.9
            assert take.speech == [] and take.words == [] and take.transcript == ""
            assert take.speech_start_s is None
            assert take.sharpness is None and not take.blurry
            assert "no speech" in take.notes
        else:
            assert take.black_fraction == 0.0 and take.black == []
            assert take.sharpness is not None and not take.blurry


@pytest.mark.slow
def test_black_agrees_with_the_decoded_frames(analysis, dailies) -> None:
    result, _, _, _ = analysis
    folder, _ = dailies
    for take in result.takes:
        with av.open(str(folder / take.clip)) as container:
            means = [f.to_ndarray(format="gray").mean() for f in container.decode(video=0)]
        dark = sum(m < 20 for m in means) / len(means)
        assert take.black_fraction == pytest.approx(dark, abs=1 / 24 + 0.02), take.clip


@pytest.mark.slow
def test_speech_starts_where_the_generator_put_the_first_words(analysis) -> None:
    result, answers, _, _ = analysis
    for take in result.takes:
        want = answers["clips"][take.clip]
        if want["speech_start_s"] is None:
            continue
        # Measured: within 0.03 s (one 30 ms detector frame) at both ends; 0.1 allows
        # three frames, still tight enough to catch a region that swallows a pause.
        assert take.speech_start_s == pytest.approx(want["speech_start_s"], abs=0.1), take.clip
        assert take.speech_end_s is not None
        assert take.speech_end_s == pytest.approx(want["line_end_s"], abs=0.1), take.clip
        assert take.dead_air == [], take.clip  # no pause over 1 s between words


@pytest.mark.slow
def test_the_dead_air_take_starts_speaking_after_two_and_a_half_seconds(analysis) -> None:
    result, _, _, _ = analysis
    take = _take(result, "A001_C004.mov")
    assert take.speech_start_s == pytest.approx(2.5, abs=0.3)
    assert take.leading_silence_s == take.speech_start_s
    assert any("silence before the first words" in n for n in take.notes)


@pytest.mark.slow
def test_the_spoken_slate_is_found_and_ends_before_the_line(analysis) -> None:
    result, answers, _, _ = analysis
    for take in result.takes:
        want = answers["clips"][take.clip]["slate"]
        if want is None:
            assert take.slate is None, take.clip  # dialogue is never taken for a slate
            continue
        assert take.slate is not None
        assert (take.slate.scene, take.slate.take, take.slate.source) == (1, 1, "spoken")
        line_start = answers["clips"][take.clip]["line_start_s"]
        assert want["said_at_s"] < take.slate.ends_s < line_start
        # What follows the slate is the line, not the slate.
        after = " ".join(w.text for w in take.words if w.start_s >= take.slate.ends_s)
        assert "take" not in after.split()


@pytest.mark.slow
def test_transcripts_match_their_own_line_and_not_the_other(analysis) -> None:
    result, answers, _, _ = analysis
    lines = answers["lines"]
    for take in result.takes:
        want = answers["clips"][take.clip]
        if want["line"] is None or want["clipped"]:
            continue
        start = take.slate.ends_s if take.slate else 0.0
        said = _words(" ".join(w.text for w in take.words if w.start_s >= start))
        ratios = {
            n: difflib.SequenceMatcher(None, said, _words(text)).ratio()
            for n, text in lines.items()
        }
        assert ratios[want["line"]] >= SIMILAR, (take.clip, said, ratios)
        assert all(r < SIMILAR for n, r in ratios.items() if n != want["line"]), (take.clip, said)
        assert all(a.end_s <= b.start_s + 1e-9 for a, b in itertools.pairwise(take.words))


@pytest.mark.slow
def test_loudness_agrees_with_ebur128_run_here(analysis, dailies) -> None:
    result, _, _, _ = analysis
    folder, _ = dailies
    for take in result.takes:
        proc = subprocess.run(
            [str(ffmpeg_exe()), "-nostats", "-i", str(folder / take.clip), "-vn", *METER],
            capture_output=True,
            text=True,
            check=True,
        )
        integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", proc.stderr)[-1])
        peak = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", proc.stderr)[-1])
        if integrated > -70:
            assert take.integrated_lufs == pytest.approx(integrated, abs=0.11), take.clip
        assert take.true_peak_dbtp == pytest.approx(peak, abs=0.11), take.clip
        # True peak is never below the sample peak (PyAV's samples, not ffmpeg's meter).
        sample_peak = 20 * np.log10(max(1, np.abs(_pcm(folder / take.clip)).max()) / 32768)
        assert sample_peak - 0.1 <= take.true_peak_dbtp <= sample_peak + 3.1, take.clip


@pytest.mark.slow
def test_the_clipped_take_is_loud_and_the_good_takes_are_alike(analysis) -> None:
    result, _, _, _ = analysis
    clipped = _take(result, "A001_C003.mov")
    good = _take(result, "A001_C002.mov")
    assert clipped.integrated_lufs is not None and good.integrated_lufs is not None
    assert clipped.integrated_lufs > good.integrated_lufs + 10
    assert clipped.true_peak_dbtp is not None and clipped.true_peak_dbtp >= 0


@pytest.mark.slow
def test_the_cut_inside_a_take_is_a_shot_change(analysis) -> None:
    result, answers, _, _ = analysis
    for take in result.takes:
        want = answers["clips"][take.clip]["shot_changes"]
        assert len(take.shot_changes) == len(want), take.clip
        for got, expected in zip(take.shot_changes, want, strict=True):
            assert got == pytest.approx(expected, abs=1.5 / 24)


@pytest.mark.slow
def test_the_cache_gives_back_the_same_record(analysis, dailies) -> None:
    result, _, cache, _ = analysis
    folder, _ = dailies
    records = sorted((cache / "analysis" / "v1").glob("*.json"))
    assert [r.stem for r in records] == sorted(t.sha256 for t in result.takes)
    again = analyse_dailies(folder, cache_dir=cache)
    assert again.to_json() == result.to_json()


@pytest.mark.slow
def test_a_take_is_analysed_the_same_twice(analysis, dailies) -> None:
    """Deterministic: a fresh analysis (no cache) gives the same record."""
    result, _, _, _ = analysis
    folder, _ = dailies
    from reel.director.analysis import analyse_take, sha256

    path = folder / "A001_C001.mov"
    fresh = analyse_take(path, "A001_C001.mov", sha256(path))
    assert fresh == _take(result, "A001_C001.mov")


def test_a_soft_picture_is_blurry_and_the_sharp_one_is_not(tmp_path: Path) -> None:
    for name, chain in (("sharp", "null"), ("soft", "boxblur=6:2")):
        path = tmp_path / f"{name}.mp4"
        pattern = ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=1", "-vf", chain]
        subprocess.run(
            [str(ffmpeg_exe()), "-v", "error", *pattern, "-c:v", "libx264", str(path)],
            check=True,
        )
        sharp = blur.sharpness(path, 1.0, 320, 180)
        assert sharp.frames == blur.SAMPLES
        assert sharp.blurry is (name == "soft"), (name, sharp.value)


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("S01_T02.mov", (1, 2)),
        ("s3t4.mp4", (3, 4)),
        ("sc12-tk3.MOV", (12, 3)),
        ("Scene2_Take5.mxf", (2, 5)),
        ("interview_S04_T01_cam-b.mov", (4, 1)),
        ("A001C002.mov", None),
        ("A001_C002.mov", None),
        ("B003_C014_0917XY.MXF", None),
        ("IMG_0042.MOV", None),
        ("sunset.mov", None),
    ],
)
def test_slate_from_file_name(name: str, want: tuple[int, int] | None) -> None:
    found = slate.from_filename(name)
    assert (None if found is None else (found.scene, found.take)) == want
    if found is not None:
        assert (found.source, found.ends_s) == ("filename", 0.0)


def test_an_unreadable_file_is_reported_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "A001_C001.mov").write_bytes(b"not a movie" * 100)
    (folder / ".hidden.mov").write_bytes(b"skipped")
    (folder / "notes.txt").write_text("not media")
    result = analyse_dailies(folder)
    assert [t.clip for t in result.takes] == ["A001_C001.mov"]
    take = result.takes[0]
    assert not take.readable and take.notes[0].startswith("unreadable: ")
    assert take.sha256 == hashlib.sha256(b"not a movie" * 100).hexdigest()
