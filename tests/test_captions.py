"""Caption line rules: characters per line, lines per event, durations, gaps."""

from __future__ import annotations

from pathlib import Path

import pysubs2

from reel.backends.captions import Rules, layout, split_line, write_sidecars

RULES = Rules(
    max_chars_per_line=42, max_lines=2, min_duration=5 / 6, max_duration=7.0, min_gap=2 / 24
)
LONG = (
    "When the alarm went off at five every single morning I told myself that this was "
    "discipline, that this was the price, and that everyone who had ever made anything "
    "had paid it too, without complaint, for years"
)


def test_short_lines_stay_whole() -> None:
    assert split_line("I used to wake up at five.", RULES) == ["I used to wake up at five."]


def test_long_lines_split_into_events_of_two_lines_of_42() -> None:
    chunks = split_line(LONG, RULES)
    assert len(chunks) > 1
    for chunk in chunks:
        rows = chunk.split("\n")
        assert len(rows) <= 2 and all(len(r) <= 42 for r in rows)
    assert " ".join(c.replace("\n", " ") for c in chunks) == LONG


def test_two_line_events_are_balanced() -> None:
    (chunk,) = split_line("Everyone said discipline would fix everything, always.", RULES)
    top, bottom = chunk.split("\n")
    assert abs(len(top) - len(bottom)) <= 10


def test_time_is_shared_by_length_and_capped_at_seven_seconds() -> None:
    cues = layout([(0.0, 30.0, LONG)], RULES)
    assert all(c.end - c.start <= 7.0 + 1e-9 for c in cues)
    assert cues[0].start == 0.0 and cues[-1].end <= 30.0 + 1e-9
    assert len(cues) >= 5  # 30 s of speech needs at least five events of 7 s or less


def test_minimum_duration_and_gap() -> None:
    cues = layout([(0.0, 0.2, "Hi."), (1.5, 1.6, "Yes."), (1.65, 3.0, "Then what?")], RULES)
    assert cues[0].end - cues[0].start >= 5 / 6 - 1e-9  # extended to the minimum
    assert cues[2].start - cues[1].end >= 2 / 24 - 1e-9  # the gap wins over the minimum


def test_sidecars_are_written_and_read_back(tmp_path: Path) -> None:
    params = {
        "rules": {"max_chars_per_line": 32, "max_lines": 1},
        "lines": [{"start": 1.0, "end": 4.0, "text": "A caption that is too long for one line"}],
    }
    write_sidecars(tmp_path, params)
    srt = pysubs2.load(str(tmp_path / "captions.srt"))
    vtt = (tmp_path / "captions.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    assert [e.plaintext for e in srt] == ["A caption that is too long for", "one line"]
    assert srt[0].start == 1000
    assert 4000 <= srt[-1].end <= srt[-1].start + 834  # extended to the 5/6 s minimum
