"""Caption sidecars (SRT, WebVTT) with professional line rules.

The rules are parameters of the caption style: characters per line, lines
per event, minimum and maximum time on screen, and the minimum gap between
events. A line of dialogue too long for one event is split at word
boundaries into several, its time shared by their lengths. Files are written
by pysubs2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysubs2


@dataclass(frozen=True)
class Rules:
    max_chars_per_line: int = 42
    max_lines: int = 2
    min_duration: float = 5 / 6
    max_duration: float = 7.0
    min_gap: float = 2 / 24

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Rules:
        return cls(**{k: params[k] for k in cls.__dataclass_fields__ if k in params})


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # lines joined by "\n"


def wrap(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and len(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def split_line(text: str, rules: Rules) -> list[str]:
    """Chunks of at most ``max_lines`` lines of ``max_chars_per_line``, balanced."""
    words = text.split()
    lines = wrap(words, rules.max_chars_per_line)
    chunks = [
        "\n".join(lines[i : i + rules.max_lines]) for i in range(0, len(lines), rules.max_lines)
    ]
    return [_balance(chunk, rules) for chunk in chunks]


def _balance(chunk: str, rules: Rules) -> str:
    """Two lines of similar length read better than a long line and a stub."""
    lines = chunk.split("\n")
    if len(lines) != 2:
        return chunk
    words = chunk.split()
    best = chunk
    best_diff = abs(len(lines[0]) - len(lines[1]))
    for cut in range(1, len(words)):
        a, b = " ".join(words[:cut]), " ".join(words[cut:])
        if len(a) <= rules.max_chars_per_line and len(b) <= rules.max_chars_per_line:
            diff = abs(len(a) - len(b))
            if diff < best_diff:
                best, best_diff = f"{a}\n{b}", diff
    return best


def layout(lines: list[tuple[float, float, str]], rules: Rules) -> list[Cue]:
    """Timed dialogue lines → caption events obeying the rules."""
    cues: list[Cue] = []
    for start, end, text in lines:
        chunks = split_line(text, rules)
        # Split further while a chunk would stay on screen too long.
        while (end - start) / len(chunks) > rules.max_duration:
            longest = max(range(len(chunks)), key=lambda i: len(chunks[i].split()))
            if len(chunks[longest].split()) < 2:
                break
            chunks[longest : longest + 1] = _halve(chunks[longest], rules)
        total = sum(len(c) for c in chunks)
        t = start
        for chunk in chunks:
            share = (end - start) * len(chunk) / total
            cues.append(Cue(t, t + share, chunk))
            t += share
    # Minimum duration, then minimum gaps, in order.
    fixed: list[Cue] = []
    for i, cue in enumerate(cues):
        limit = cues[i + 1].start - rules.min_gap if i + 1 < len(cues) else float("inf")
        end = max(cue.end, cue.start + rules.min_duration)
        end = min(end, limit, cue.start + rules.max_duration)
        fixed.append(Cue(cue.start, max(end, cue.start + 0.001), cue.text))
    return fixed


def _halve(chunk: str, rules: Rules) -> list[str]:
    words = chunk.split()
    middle = len(words) // 2
    return [
        "\n".join(wrap(part, rules.max_chars_per_line)) for part in (words[:middle], words[middle:])
    ]


def write_sidecars(sandbox: Path, params: dict[str, Any]) -> None:
    rules = Rules.from_params(params["rules"])
    cues = layout([(c["start"], c["end"], c["text"]) for c in params["lines"]], rules)
    subs = pysubs2.SSAFile()
    for cue in cues:
        subs.append(
            pysubs2.SSAEvent(
                start=round(cue.start * 1000),
                end=round(cue.end * 1000),
                text=cue.text.replace("\n", "\\N"),
            )
        )
    subs.save(str(sandbox / "captions.srt"), format_="srt")
    subs.save(str(sandbox / "captions.vtt"), format_="vtt")
