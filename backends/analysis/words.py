"""What was said, with each word's time: pocketsphinx's recogniser.

The default en-us acoustic model, pronouncing dictionary and trigram language
model all ship inside the pocketsphinx wheel: nothing is downloaded. It is a
small model, and on synthetic voices it mishears words ("the couple was
already on" for "the kettle is already on"); callers match a transcript to
the script fuzzily, never exactly.

Each speech region is decoded as its own utterance (with a little of the
silence round it), the way the recogniser is meant to be fed: one long
utterance of speech and silence drifts, and silence becomes words.
"""

from __future__ import annotations

from dataclasses import dataclass

from .decode import SPEECH_RATE

FRAME_S = 0.01  # pocketsphinx frames are 10 ms
PAD_S = 0.2


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Transcript:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _clean(word: str) -> str | None:
    """A dictionary entry as a plain word (``was(2)`` → ``was``), or None for
    silence and fillers (``<sil>``, ``[NOISE]``)."""
    if word.startswith(("<", "[", "+")):
        return None
    return word.split("(")[0]


def decode(pcm: bytes, start_s: float, end_s: float, decoder: object | None = None) -> list[Word]:
    """The words of samples between ``start_s`` and ``end_s`` (seconds of the take)."""
    from pocketsphinx import Decoder

    dec = decoder if decoder is not None else Decoder(loglevel="FATAL")
    first = max(0, int((start_s - PAD_S) * SPEECH_RATE))
    last = min(len(pcm) // 2, int((end_s + PAD_S) * SPEECH_RATE))
    offset = first / SPEECH_RATE
    dec.start_utt()  # type: ignore[attr-defined]
    dec.process_raw(pcm[first * 2 : last * 2], full_utt=True)  # type: ignore[attr-defined]
    dec.end_utt()  # type: ignore[attr-defined]
    if dec.hyp() is None:  # type: ignore[attr-defined]
        return []
    out = []
    for seg in dec.seg():  # type: ignore[attr-defined]
        text = _clean(seg.word)
        if text:
            out.append(
                Word(
                    text,
                    round(offset + seg.start_frame * FRAME_S, 3),
                    round(offset + (seg.end_frame + 1) * FRAME_S, 3),
                )
            )
    return out


def transcribe(pcm: bytes, regions: tuple[tuple[float, float], ...]) -> Transcript:
    """Words of every speech region, in order; one decoder per take, so the
    result depends on this take's samples only."""
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL")
    words: list[Word] = []
    for start, end in regions:
        words.extend(decode(pcm, start, end, decoder))
    return Transcript(tuple(words))
