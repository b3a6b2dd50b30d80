"""Caption sidecars (SRT, WebVTT) with professional line rules.

The rules are parameters of the caption style: characters per line, lines
per event, minimum and maximum time on screen, and the minimum gap between
events. A line of dialogue too long for one event is split at word
boundaries into several, its time shared by their lengths. Files are written
by pysubs2.

Dialogue is the user's text, never markup: each format's writer escapes it so
that ``{\\fs300}``, ``<b>``, ``&amp;`` or ``-->`` typed in a line are shown as
typed and style nothing (see :func:`ass_text`, :func:`srt_text`, :func:`vtt_text`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pysubs2
import pysubs2.formats

from .kind import Kind

# U+2060 WORD JOINER: invisible, no line break at it, ignored by renderers. Put
# after a character it stops that character from starting markup in formats
# that have no escape for it, without changing what the viewer reads.
WORD_JOINER = "\u2060"


def ass_text(text: str) -> str:
    """Typed words as ASS dialogue text that libass draws literally.

    libass reads ``{...}`` as an override block (``{\\fs300\\c&H0000FF&}`` would
    make the text huge and red) and ``\\N``, ``\\n``, ``\\h`` as breaks and hard
    spaces. Braces are written as libass's escapes ``\\{`` and ``\\}``; a
    backslash gets a word joiner after it, which libass draws as nothing, so it
    never forms an escape with the next character.
    """
    text = text.replace("\\", "\\" + WORD_JOINER)
    return text.replace("{", "\\{").replace("}", "\\}")


def srt_text(text: str) -> str:
    """Typed words as SubRip cue text that players show literally.

    SRT has no escape mechanism, and players read markup in it: ffmpeg's SubRip
    decoder (mpv, ffplay, the ``subtitles`` filter) and VLC take ``<b>``, ``<i>``,
    ``<font ...>`` as tags, skip ``{\\...}`` blocks (keeping ``{\\an8}``, which
    moves the caption), and pass ``\\N`` and ``\\h`` on to libass; some decode
    ``&amp;``; and a line holding ``-->`` reads as a timing line to lenient
    parsers. Entities such as ``&lt;`` are shown as typed by most players, so a
    word joiner goes after ``<``, ``{``, ``\\`` and ``&`` and inside ``-->``:
    no tag, block, escape, entity or arrow can form, and the text reads the same.
    """
    for char in ("\\", "<", "{", "&"):
        text = text.replace(char, char + WORD_JOINER)
    return text.replace("-->", "--" + WORD_JOINER + ">")


def vtt_text(text: str) -> str:
    """Typed words as WebVTT cue text: ``&``, ``<`` and ``>`` as the character
    references the WebVTT spec defines (``&amp;``, ``&lt;``, ``&gt;``), which also
    keeps ``-->`` out of a cue."""
    return html.escape(text, quote=False)


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


def on_frames(cues: list[Cue], fps: Fraction, min_gap: float) -> list[Cue]:
    """Cues with each in and out time on the nearest frame of ``fps``.

    A caption changes with the picture: editors and broadcast QC expect cue
    times on frame boundaries, not between them (7.267 s is frame 174.41 at
    24 fps). Times are exact frame times (1001/24000 s steps at 23.976), so the
    file's own rounding (milliseconds, centiseconds) is the only error left.
    Order is kept, every cue lasts at least a frame, and the minimum gap (in
    whole frames, rounded up) is kept by trimming the earlier cue's out time,
    or if that would empty it, by starting the later cue later.
    """
    gap = math.ceil(Fraction(min_gap).limit_denominator(100000) * fps - Fraction(1, 1000))
    spans: list[list[int]] = []
    for cue in cues:
        start = round(Fraction(cue.start).limit_denominator(1000000) * fps)
        end = max(start + 1, round(Fraction(cue.end).limit_denominator(1000000) * fps))
        if spans:
            previous = spans[-1]
            start = max(start, previous[0] + 1)
            previous[1] = max(previous[0] + 1, min(previous[1], start - gap))
            start = max(start, previous[1] + gap)
            end = max(end, start + 1)
        spans.append([start, end])
    return [
        Cue(float(Fraction(start) / fps), float(Fraction(end) / fps), cue.text)
        for (start, end), cue in zip(spans, cues, strict=True)
    ]


def _fps(params: dict[str, Any]) -> Fraction | None:
    """The episode's frame rate, when the action's params carry it."""
    fps = params.get("fps")
    return Fraction(*fps) if fps else None


def _halve(chunk: str, rules: Rules) -> list[str]:
    words = chunk.split()
    middle = len(words) // 2
    return [
        "\n".join(wrap(part, rules.max_chars_per_line)) for part in (words[:middle], words[middle:])
    ]


def _words(sandbox: Path, line: dict[str, Any]) -> tuple[float, list[tuple[str, float]]]:
    """A line's voice length and its words, as written, with absolute start times.

    The speech engine's word events carry character positions; each
    whitespace-separated token of the line (punctuation and contractions
    kept) starts at the first event inside it.
    """
    record = json.loads((sandbox / line["words"]).read_text())
    base = line["start"]
    events = sorted((w["position"], w["start"]) for w in record["words"])
    out: list[tuple[str, float]] = []
    for match in re.finditer(r"\S+", line["text"]):
        inside = [t for p, t in events if match.start() <= p < match.end()]
        if inside:
            start = min(inside)
        else:  # no event for this token: it starts where the last one did
            start = out[-1][1] - base if out else 0.0
        out.append((match.group(), base + start))
    return record["seconds"], out


def timed_lines(sandbox: Path, params: dict[str, Any]) -> list[tuple[float, float, str]]:
    """Each line from its voice's first word to the end of its voice."""
    out = []
    for line in params["lines"]:
        seconds, words = _words(sandbox, line)
        start = words[0][1] if words else line["start"]
        out.append((start, line["start"] + seconds, line["text"]))
    return out


def phrase_words(words: list[str], max_words: int) -> list[list[str]]:
    """Words in phrases of 1 to ``max_words``, breaking after punctuation: the
    phrases of ``captions.ass`` (their times aside), known before any voice runs."""
    groups: list[list[str]] = [[]]
    for word in words:
        groups[-1].append(word)
        if len(groups[-1]) >= max_words or word.rstrip()[-1:] in ",.;:!?":
            groups.append([])
    return [g for g in groups if g]


def is_accent(words: list[str], marked: set[str]) -> bool:
    """Whether a phrase holds a keyword (``marked``: lower case, no punctuation)."""
    return bool({w.strip(".,;:!?\"'").lower() for w in words} & marked)


def phrases(
    words: list[tuple[str, float]], end: float, max_words: int
) -> list[tuple[float, float, list[str]]]:
    """Group words into phrases of 1 to ``max_words``, breaking after punctuation."""
    sizes = [len(g) for g in phrase_words([w for w, _ in words], max_words)]
    groups = []
    at = 0
    for size in sizes:
        groups.append(words[at : at + size])
        at += size
    out = []
    for i, group in enumerate(groups):
        stop = groups[i + 1][0][1] if i + 1 < len(groups) else end
        out.append((group[0][1], stop, [w for w, _ in group]))
    return out


def ass_style(props: dict[str, Any], height: int, name: str) -> pysubs2.SSAStyle:
    colour = props.get("color", "#ffffff").lstrip("#")
    outline = str(props.get("outline", "#000000")).lstrip("#")
    scale = height / 1080
    style = pysubs2.SSAStyle(
        fontname=props.get("font", "DejaVu Sans"),
        fontsize=round(props.get("size", 48) * scale),
        primarycolor=pysubs2.Color(
            int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)
        ),
        outlinecolor=pysubs2.Color(
            int(outline[0:2], 16), int(outline[2:4], 16), int(outline[4:6], 16)
        ),
        bold=bool(props.get("bold", False)),
        outline=max(1, round(props.get("outline_width", 2) * scale)),
        shadow=0,
        alignment=pysubs2.Alignment.BOTTOM_CENTER
        if props.get("position") != "center"
        else pysubs2.Alignment.MIDDLE_CENTER,
        marginv=round(height * 0.08),
    )
    style.name = name
    return style


def write_ass(sandbox: Path, params: dict[str, Any]) -> None:
    """Word-timed phrases in the 70/30 style of seed 004: the base style for
    most phrases, the accent style for phrases holding a keyword (marked
    *like this* in the line, or listed by the caption style), never more than
    ``accent_ratio`` percent of the phrases."""
    spec = params["phrases"]
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"], subs.info["PlayResY"] = str(spec["width"]), str(spec["height"])
    subs.styles = {
        "Base": ass_style(spec["styles"]["base"], spec["height"], "Base"),
        "Accent": ass_style(spec["styles"]["accent"], spec["height"], "Accent"),
    }
    listed = set(spec["keywords"])
    candidates = []
    for line in params["lines"]:
        seconds, words = _words(sandbox, line)
        marked = set(line["keywords"]) | listed
        # A line whose captions would cover a title is moved as a whole (``align``,
        # an ASS numpad position set by the layout check at lowering).
        tag = f"{{\\an{line['align']}}}" if "align" in line else ""
        for start, end, group in phrases(words, line["start"] + seconds, spec["max_words"]):
            candidates.append((start, end, " ".join(group), is_accent(group, marked), tag))
    fps = _fps(params)
    if fps is not None:
        snapped = on_frames([Cue(a, b, t) for a, b, t, _, _ in candidates], fps, 0.0)
        candidates = [
            (cue.start, cue.end, text, accent, tag)
            for cue, (_, _, text, accent, tag) in zip(snapped, candidates, strict=True)
        ]
    last = episode_end(params)
    candidates = [(a, min(b, last), *rest) for a, b, *rest in candidates if a < last]
    budget = int(len(candidates) * spec["accent_ratio"] / 100)
    for start, end, text, accent, tag in candidates:
        use_accent = accent and budget > 0
        budget -= 1 if use_accent else 0
        text = text.upper() if use_accent and spec["styles"]["accent"].get("uppercase") else text
        subs.append(
            pysubs2.SSAEvent(
                start=round(start * 1000),
                end=round(end * 1000),
                text=tag + ass_text(text),
                style="Accent" if use_accent else "Base",
            )
        )
    subs.save(str(sandbox / "captions.ass"), format_="ass")
    for shot in params.get("shots", []):
        shot_file(subs, shot).save(str(sandbox / f"captions-{shot['id']}.ass"), format_="ass")


def shot_file(subs: pysubs2.SSAFile, shot: dict[str, Any]) -> pysubs2.SSAFile:
    """The events one shot shows, cut at its edges and timed from its first frame.

    A deliverable that burns captions does so shot by shot (so an edit
    re-encodes only the shots it touched): an event that spans a cut is split
    in two, one part in each shot, and looks continuous when they are joined.
    The picture a shot's captions are drawn on has none of its own (the
    crossfade blends caption-free frames), so burned text never ghosts.
    """
    start, end = round(shot["start"] * 1000), round(shot["end"] * 1000)
    cut = pysubs2.SSAFile()
    cut.info = dict(subs.info)
    cut.styles = dict(subs.styles)
    for event in subs.events:
        if event.end <= start or event.start >= end:
            continue
        part = event.copy()
        part.start = max(event.start, start) - start
        part.end = min(event.end, end) - start
        cut.append(part)
    return cut


_FORMATS = {"srt": pysubs2.formats.SubripFormat, "vtt": pysubs2.formats.WebVTTFormat}


def cue_file(cues: list[Cue], escape: Callable[[str], str], format_: str) -> str:
    """An SRT or WebVTT file, laid out as pysubs2 writes one (timestamps are its).

    The cue blocks are assembled here rather than by ``SSAFile.save`` because
    pysubs2 reads event text as ASS markup on the way out: it strips ``{...}``
    and turns a typed ``\\N`` or ``\\h`` into a break or a space, whatever the
    options, so it cannot write the user's words as typed.
    """
    stamp = _FORMATS[format_].ms_to_timestamp
    blocks = [
        f"{number}\n{stamp(round(cue.start * 1000))} --> {stamp(round(cue.end * 1000))}\n"
        + "\n".join(escape(row) for row in cue.text.split("\n"))
        + "\n\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return ("WEBVTT\n\n" if format_ == "vtt" else "") + "".join(blocks)


def episode_end(params: dict[str, Any]) -> float:
    """Where the picture ends (the last shot's end), or no limit without shots."""
    return max((shot["end"] for shot in params.get("shots", [])), default=float("inf"))


def within(cues: list[Cue], end: float) -> list[Cue]:
    """Cues cut at the picture's end: a cue's minimum duration, or a voice's
    tail, must not keep a caption on screen after the video has stopped (QC
    checks it; players show such a cue over black or not at all)."""
    return [Cue(c.start, min(c.end, end), c.text) for c in cues if c.start < end]


_SRT_TIME = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3})\s*-->\s*(\d+):(\d\d):(\d\d)[,.](\d{3})")


def read_srt(text: str) -> list[Cue]:
    """The cues of an SRT file as :func:`cue_file` writes it, with the text
    as typed (the word joiners :func:`srt_text` adds are taken out)."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        rows = block.split("\n")
        stamp = next((i for i, row in enumerate(rows) if _SRT_TIME.search(row)), None)
        if stamp is None:
            continue
        h0, m0, s0, f0, h1, m1, s1, f1 = map(int, _SRT_TIME.search(rows[stamp]).groups())  # type: ignore[union-attr]
        body = "\n".join(rows[stamp + 1 :]).replace(WORD_JOINER, "")
        cues.append(
            Cue(h0 * 3600 + m0 * 60 + s0 + f0 / 1000, h1 * 3600 + m1 * 60 + s1 + f1 / 1000, body)
        )
    return cues


def write_sidecars(sandbox: Path, params: dict[str, Any]) -> None:
    rules = Rules.from_params(params["rules"])
    if params["lines"] and "words" in params["lines"][0]:
        timed = timed_lines(sandbox, params)
    else:
        timed = [(c["start"], c["end"], c["text"]) for c in params["lines"]]
    cues = layout(timed, rules)
    fps = _fps(params)
    if fps is not None:
        cues = on_frames(cues, fps, rules.min_gap)
    cues = within(cues, episode_end(params))
    (sandbox / "captions.srt").write_text(cue_file(cues, srt_text, "srt"), encoding="utf-8")
    (sandbox / "captions.vtt").write_text(cue_file(cues, vtt_text, "vtt"), encoding="utf-8")
    if "phrases" in params:
        write_ass(sandbox, params)


class CaptionsParams(TypedDict):
    lines: list[dict[str, Any]]  # start, text, words (a words.json input), keywords
    rules: dict[str, Any]  # line rules: max_chars_per_line, max_lines, durations, gaps
    phrases: dict[str, Any]  # the ASS layout: words per phrase, accents, styles, frame size
    writer: str  # pysubs2's version: its output is part of the key
    fps: list[int]  # cue times snap to these frames
    shots: NotRequired[list[dict[str, Any]]]  # id, start, end (s): one cut ASS per shot


CAPTIONS = Kind(
    name="captions",
    params=CaptionsParams,
    inputs=("words-*.json",),
    outputs=("captions.srt", "captions.vtt", "captions.ass", "captions-*.ass"),
    run=write_sidecars,
    toolchain=False,
    about="SRT, WebVTT and ASS captions timed by the voices; a cut ASS per shot to burn",
)
