"""Word times of a recorded line by forced alignment of its known text.

Why: a recorded line's words used to be spread over its length by character
count, so captions and 70/30 phrases drifted off the words. The text of the
line is known, so the recording can be aligned to it: pocketsphinx (CMU
Sphinx) ships an English acoustic model and pronouncing dictionary inside its
wheel, runs offline, in process, on one thread, and gives the same frames for
the same samples (a deterministic Viterbi search), so word times can enter a
line's outputs. Its frames are 10 ms long.

It speaks only (US) English, and knows only the words of its dictionary. A
line in another language, a word it does not know (``5AM``: spell it as it is
said) or a recording that does not match its text falls back to the estimate
(by character count), and ``why`` says so; the compiler turns that into a
warning at the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ALIGN_RATE = 16000  # the acoustic model's sample rate
FRAME = 0.01  # seconds per pocketsphinx frame
ENGINE = "pocketsphinx"
# Wide beams: the search is constrained to the line's words, so a wide beam
# costs little, and the default (1e-48) loses the path on synthetic or noisy
# speech ("final result does not match the grammar").
BEAMS = {"beam": 1e-100, "wbeam": 1e-80, "pbeam": 1e-100}
_TOKEN = re.compile(r"\S+")
_SPOKEN = re.compile(r"[^a-z0-9']")


@dataclass(frozen=True)
class Aligned:
    """Each token's start (seconds), or why there are none."""

    starts: list[float] | None
    why: str | None = None


def aligns(language: str) -> bool:
    """Whether the aligner has a model for this language (English only)."""
    return language.lower().replace("_", "-").split("-")[0] == "en"


def model_dir() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path())


def model_files() -> list[Path]:
    """The files whose bytes decide the alignment: acoustic model and dictionary."""
    root = model_dir() / "en-us"
    acoustic = sorted(p for p in (root / "en-us").iterdir() if p.is_file())
    return [*acoustic, root / "cmudict-en-us.dict"]


def action_params(language: str, digest: Callable[[Path], str]) -> str:
    """The aligner as a key part: engine, version and the model's digests; empty
    when the language has no model (the line's words are then estimated)."""
    if not aligns(language):
        return ""
    from importlib.metadata import version

    files = ",".join(f"{p.name}:{digest(p)}" for p in model_files())
    return f"{ENGINE} {version('pocketsphinx')} [{files}]"


def tokens(text: str) -> list[re.Match[str]]:
    """The line's words as written (the units captions show)."""
    return list(_TOKEN.finditer(text))


def spoken(token: str) -> str:
    """A written word as the dictionary spells it: lower case, no punctuation."""
    return _SPOKEN.sub("", token.lower())


def _decoder() -> object:
    """A fresh decoder per line: a decoder's cepstral mean adapts from one
    utterance to the next, and a line's times must depend on that line only."""
    from pocketsphinx import Decoder

    return Decoder(loglevel="FATAL", bestpath=False, **BEAMS)


def align(raw: bytes, text: str) -> Aligned:
    """Align 16 kHz mono 16-bit samples to ``text``; each written token's start.

    A token with no letters or digits (a dash) takes the start of the word
    after it (or before it, at the end)."""
    decoder = _decoder()
    words = [spoken(m.group()) for m in tokens(text)]
    said = [w for w in words if w]
    if not said:
        return Aligned(None, "the line has no words to align")
    unknown = sorted({w for w in said if decoder.lookup_word(w) is None})  # type: ignore[attr-defined]
    if unknown:
        return Aligned(
            None,
            f"the aligner's dictionary lacks {', '.join(unknown)}: spell numbers and "
            "abbreviations as they are said",
        )
    decoder.set_align_text(" ".join(said))  # type: ignore[attr-defined]
    decoder.start_utt()  # type: ignore[attr-defined]
    decoder.process_raw(raw, full_utt=True)  # type: ignore[attr-defined]
    decoder.end_utt()  # type: ignore[attr-defined]
    if decoder.hyp() is None:  # type: ignore[attr-defined]
        return Aligned(None, "the aligner could not match the text to the recording")
    found = [
        s.start_frame * FRAME
        for s in decoder.seg()  # type: ignore[attr-defined]
        if not (s.word.startswith(("<", "[")))
    ]
    if len(found) != len(said):  # pragma: no cover - the search follows the text
        return Aligned(None, "the aligner's words do not match the text")
    starts: list[float | None] = []
    it = iter(found)
    for w in words:
        starts.append(next(it) if w else None)
    filled = _fill(starts)
    return Aligned([round(t, 6) for t in filled])


def _fill(starts: list[float | None]) -> list[float]:
    """Give a token without a time the next known time (or the last one)."""
    out: list[float] = []
    following: float | None = None
    for t in reversed(starts):
        following = t if t is not None else following
        out.append(following if following is not None else 0.0)
    out.reverse()
    last = 0.0
    for i, t in enumerate(starts):
        if t is None and all(s is None for s in starts[i:]):
            out[i] = last
        elif t is not None:
            last = t
    return out
