"""The planner that always works: rules an assistant editor follows on a
first assembly, from the analysis alone, offline and deterministic.

- Drop what cannot be used: a take with no picture, one black for most of its
  length, one with no speech (said so in the plan's message).
- Takes of the same line are those whose transcripts agree (word-level
  similarity, so a misheard word does not split a line); a spoken slate's
  words are left out of the comparison.
- The best take of a line: not clipped if any take is clean, then one whose
  picture does not break (a shot change inside a single-camera take is a
  camera fault: a cut to bars, a dropout), then the most continuous speech
  (no dead air), then loudness nearest a dialogue level, then the clearer
  picture, then the later take (directors print the last good one); ties
  by clip name, so the choice is deterministic.
- Cut dead air: in ``LEAD_S`` before the first word (after the slate), out
  ``TAIL_S`` after the last.
- Order by slate (scene, take), then by timecode, then by name; one scene per
  slated scene (an unslated line joins the scene before it).
- Given the script (``--script``: the lines as written), each take is matched
  to the script line its words resemble most, lines come in script order, and
  captions use the script's words rather than the recogniser's guesses; a
  take that matches no line is dropped and named.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .. import contract as c
from ..edits import Blueprint

NAME = "heuristic"
SAME_LINE = 0.6  # word-sequence similarity at which two transcripts are one line
# A take matches a script line at this similarity: the recogniser's words for a
# line's takes measured 0.78-1.0 against their own line, 0.41-0.46 against another
# (tests/test_dailies_analysis.py).
SAME_SCRIPT_LINE = 0.55
LEAD_S = 0.35  # kept before the first word
TAIL_S = 0.5  # kept after the last word
BLACK = 0.5  # a take black for this share of its length is dropped
DIALOGUE_LUFS = -20.0  # the level a clean dialogue take is nearest to
SLATE_WORDS = re.compile(r"\b(scene|take|slate|mark)\b", re.IGNORECASE)
NUMBERS = {
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty",
}  # fmt: skip


@dataclass
class _Line:
    takes: list  # Take models of director.analysis
    scene: int | None = None
    written: str | None = None  # the script's words for this line, if there is a script

    @property
    def words(self) -> list[str]:
        return _words(self.takes[0])


def _words(take) -> list[str]:  # noqa: ANN001 - a director.analysis.Take
    words = [w.text.lower() for w in take.words] or take.transcript.lower().split()
    if take.slate is not None and take.slate.source == "spoken":
        words = [
            w.text.lower() for w in take.words if w.start_s >= take.slate.ends_s - 0.05
        ] or words
    return [w for w in words if w.isalpha() or "'" in w]


def _similar(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio() if a and b else 0.0


def _order_key(take) -> tuple:  # noqa: ANN001
    slate = take.slate
    return (
        (slate.scene, slate.take) if slate else (10**6, 0),
        take.timecode or "",
        take.clip,
    )


def _why_dropped(take) -> str | None:  # noqa: ANN001
    if not getattr(take, "readable", True):
        return take.notes[0] if take.notes else "unreadable"
    if not take.has_video:
        return "no picture"
    if take.black_fraction >= BLACK:
        return f"black for {take.black_fraction:.0%} of the take"
    if not take.speech or take.speech_start_s is None:
        return "no speech"
    return None


def _score(take) -> tuple:  # noqa: ANN001
    span = (take.speech_end_s or 0) - (take.speech_start_s or 0)
    spoken = sum(i.end_s - i.start_s for i in take.speech)
    dead = sum(
        i.end_s - i.start_s
        for i in take.dead_air
        if take.speech_start_s is not None
        and i.start_s >= take.speech_start_s
        and i.end_s <= (take.speech_end_s or 0)
    )
    coverage = spoken / span if span > 0 else 0.0
    level = -abs(
        (take.integrated_lufs if take.integrated_lufs is not None else -70) - DIALOGUE_LUFS
    )
    start, end = _range(take)
    broken = any(start < t < end for t in take.shot_changes)
    return (
        not take.clipping,
        not broken,
        round(coverage - dead / max(span, 1e-6), 2),
        round(level, 0),
        not take.blurry,
        _order_key(take),
    )


def _describe(take) -> str:  # noqa: ANN001
    parts = []
    if take.integrated_lufs is not None:
        parts.append(f"{take.integrated_lufs:.1f} LUFS")
    parts.append("clipped" if take.clipping else "no clipping")
    start, end = _range(take)
    breaks = [t for t in take.shot_changes if start < t < end]
    if breaks:
        parts.append("picture breaks at " + ", ".join(f"{t:.1f} s" for t in breaks))
    span = (take.speech_end_s or 0) - (take.speech_start_s or 0)
    spoken = sum(i.end_s - i.start_s for i in take.speech)
    if span > 0:
        parts.append(f"speech {spoken / span:.0%} of its span")
    return ", ".join(parts)


def _range(take) -> tuple[float, float]:  # noqa: ANN001
    start = take.speech_start_s or 0.0
    floor = take.slate.ends_s if take.slate is not None else 0.0
    in_s = max(floor, start - LEAD_S, 0.0)
    out_s = min(take.duration_s, (take.speech_end_s or take.duration_s) + TAIL_S)
    return round(in_s, 3), round(out_s, 3)


def _text(take) -> str:  # noqa: ANN001
    words = _words(take)
    if take.slate is not None and take.slate.source == "spoken":
        # the slate's own words are no part of the line
        while words and (SLATE_WORDS.match(words[0]) or words[0] in NUMBERS):
            words = words[1:]
    text = " ".join(words).strip()
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _free_scene_ids(bp: Blueprint | None, count: int) -> list[str]:
    taken = {s.name for s in bp.scenes()} if bp is not None else set()
    out, n = [], 1
    while len(out) < count:
        name = f"s{n:02d}"
        if name not in taken:
            out.append(name)
        n += 1
    return out


def script_lines(text: str) -> list[str]:
    """A script as the Director reads it: one line of dialogue per line of
    text; blank lines and ``#`` comments are skipped."""
    return [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _by_script(usable: list, script: list[str], dropped: list[str]) -> list[_Line]:
    lines = [_Line([], written=text) for text in script]
    for take in usable:
        words = _words(take)
        ratios = [_similar(_tokens(text), words) for text in script]
        best = max(range(len(script)), key=lambda i: ratios[i])
        if ratios[best] >= SAME_SCRIPT_LINE:
            lines[best].takes.append(take)
        else:
            dropped.append(f"{take.clip} (matches no line of the script)")
    for line in lines:
        if not line.takes:
            dropped.append(f'no take of "{line.written}"')
    return [line for line in lines if line.takes]


def plan(
    analysis,  # noqa: ANN001
    blueprint_text: str | None,
    speaker: str = "speaker",
    script: list[str] | None = None,
) -> c.ActionPlan:
    """An Action Plan for the dailies in ``analysis``, added to the blueprint."""
    dropped: list[str] = []
    usable = []
    for take in sorted(analysis.takes, key=_order_key):
        why = _why_dropped(take)
        if why:
            dropped.append(f"{take.clip} ({why})")
        else:
            usable.append(take)
    if not usable:
        return c.ActionPlan(
            message="No take has both picture and speech, so there is nothing to cut.",
            needs_clarification=(
                "Which clips should the cut use? None of them has speech on a visible "
                "picture: " + ", ".join(dropped)
            ),
        )
    lines: list[_Line] = _by_script(usable, script, dropped) if script else []
    for take in usable if not script else []:
        words = _words(take)
        match = max(lines, key=lambda ln: _similar(ln.words, words), default=None)
        if match is not None and _similar(match.words, words) >= SAME_LINE:
            match.takes.append(take)
        else:
            lines.append(_Line([take]))
    for line in [ln for ln in lines if all(t.clipping for t in ln.takes)]:
        # distorted beyond use; without the script it cannot be told which line it was
        lines.remove(line)
        dropped += [
            f"{t.clip} (clipped: {t.clipped_samples} samples at full scale)" for t in line.takes
        ]
    scene_of_previous: int | None = None
    for line in lines:
        slated = [t.slate.scene for t in line.takes if t.slate is not None]
        line.scene = min(slated) if slated else scene_of_previous
        scene_of_previous = line.scene
    numbers = sorted({ln.scene if ln.scene is not None else 1 for ln in lines})
    bp = Blueprint(blueprint_text) if blueprint_text else None
    ids = dict(zip(numbers, _free_scene_ids(bp, len(numbers)), strict=True))
    actions: list[c.Action] = []
    notes: list[str] = []
    for number in numbers:
        scene = ids[number]
        actions.append(c.AddScene(scene=scene, why=f"scene {number} of the dailies"))
        for line in (ln for ln in lines if (ln.scene if ln.scene is not None else 1) == number):
            ranked = sorted(line.takes, key=_score, reverse=True)
            best, others = ranked[0], ranked[1:]
            in_s, out_s = _range(best)
            text = line.written or _text(best)
            rest = "; ".join(f"{t.clip}: {_describe(t)}" for t in others)
            why = f"best of {len(line.takes)} take(s): {best.clip} ({_describe(best)})"
            if rest:
                why += f"; not {rest}"
            actions.append(
                c.AddShot(
                    scene=scene,
                    clip=best.clip,
                    in_s=in_s,
                    out_s=out_s,
                    speaker=speaker if text else None,
                    text=text or None,
                    why=why[:500],
                )
            )
            notes.append(f'"{text}" from {best.clip} ({in_s:.2f}–{out_s:.2f} s)')
    message = (
        f"Assembled {len(lines)} line(s) in {len(numbers)} scene(s) from "
        f"{len(analysis.takes)} clip(s): " + "; ".join(notes) + "."
    )
    if dropped:
        message += " Dropped: " + ", ".join(dropped) + "."
    message += (
        " Captions are the script's words."
        if script
        else " Captions are the recogniser's words for each take: read them, and fix a "
        "misheard word with `fix_caption` or in the blueprint (or give the script: --script)."
    )
    return c.ActionPlan(actions=actions, message=message)
