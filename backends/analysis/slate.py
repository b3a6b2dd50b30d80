"""A take's slate: spoken ("scene four, take two") or in its file name.

Spoken: the first speech of the take is decoded against a JSGF grammar that
only knows ``scene <n> take <n>`` (n one to twenty). A grammar always finds
*some* path, so a line of dialogue would also "match"; the match is kept only
when the recogniser is confident of the words ``scene`` and ``take``: their
acoustic score per 10 ms frame (log10) must be above ``MIN_CONFIDENCE``.
Measured on the generated dailies: a real slate scores about -0.5 per frame,
dialogue forced through the grammar -3 to -4.

The slate must be its own speech region: said with a pause (0.3 s or more)
before the line, as a slate is. Said straight into the line, it is missed,
and the take keeps the file name's slate, if any.

File names: ``S01_T02``, ``sc3-tk4``, ``scene2_take5`` carry a slate; camera
card names such as ``A001C002`` or ``A001_C002`` do not.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .decode import SPEECH_RATE
from .words import FRAME_S

NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
GRAMMAR = (
    "#JSGF V1.0;\ngrammar slate;\n"
    "public <slate> = scene <n> take <n>;\n"
    f"<n> = {' | '.join(NUMBERS)};\n"
)
SEARCH_S = 4.0  # a slate is said in the first seconds of a take
MAX_SLATE_S = 4.0  # and takes no longer than this
MIN_CONFIDENCE = -2.0
PAD_S = 0.15

_FILE = re.compile(
    r"(?:^|[^a-z0-9])(?:s|sc|scn|scene)[ _-]?(\d{1,3})"
    r"[ _-]*(?:t|tk|take)[ _-]?(\d{1,3})(?:[^0-9]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Slate:
    scene: int
    take: int
    source: str  # "spoken" or "filename"
    ends_s: float  # where the slate ends in the take (0 for a file name)
    confidence: float | None = None  # log10 acoustic score per frame (spoken only)


def from_filename(name: str) -> Slate | None:
    """Scene and take from a file name such as ``S01_T02.mov``; None for a
    camera card name (``A001C002``) or anything without both numbers."""
    match = _FILE.search(Path(name).stem)
    if match is None:
        return None
    return Slate(int(match.group(1)), int(match.group(2)), "filename", 0.0)


def spoken(pcm: bytes, regions: tuple[tuple[float, float], ...]) -> Slate | None:
    """A spoken slate in the first speech region that starts within
    ``SEARCH_S`` seconds and lasts no more than ``MAX_SLATE_S``, or None."""
    from pocketsphinx import Decoder

    first = next((r for r in regions if r[0] < SEARCH_S), None)
    if first is None or first[1] - first[0] > MAX_SLATE_S:
        return None
    begin = max(0, int((first[0] - PAD_S) * SPEECH_RATE))
    end = min(len(pcm) // 2, int((first[1] + PAD_S) * SPEECH_RATE))
    with tempfile.TemporaryDirectory() as tmp:
        grammar = Path(tmp) / "slate.gram"
        grammar.write_text(GRAMMAR)
        decoder = Decoder(loglevel="FATAL", jsgf=str(grammar))
    decoder.start_utt()
    decoder.process_raw(pcm[begin * 2 : end * 2], full_utt=True)
    decoder.end_utt()
    if decoder.hyp() is None:
        return None
    segs = [s for s in decoder.seg() if not s.word.startswith(("<", "["))]
    names = [s.word.split("(")[0] for s in segs]
    if len(names) != 4 or names[0] != "scene" or names[2] != "take":
        return None
    scores = []
    for seg in (segs[0], segs[2]):
        frames = max(1, seg.end_frame - seg.start_frame + 1)
        scores.append(math.log10(max(seg.ascore, 1e-300)) / frames)
    confidence = round(min(scores), 3)
    if confidence < MIN_CONFIDENCE:
        return None
    ends = round(begin / SPEECH_RATE + (segs[3].end_frame + 1) * FRAME_S, 3)
    return Slate(
        NUMBERS.index(names[1]) + 1, NUMBERS.index(names[3]) + 1, "spoken", ends, confidence
    )
