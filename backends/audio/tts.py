"""Text to speech with libespeak-ng from the espeakng-loader wheel, in process.

Why by hand: no maintained Python package wraps libespeak-ng's synchronous
API with word events; the C API we need is five functions, bound here with
ctypes. Synthesis is deterministic for a given text, voice and library, and
returns the samples plus each word's start time (the word events), which
drive word-timed captions.

libespeak-ng keeps global state that changes its output from one utterance
to the next (measured: the same line gives different samples on its second
synthesis in a process, even after espeak_Terminate and a re-seed). So each
line is synthesised by a fresh worker process (``python -m
reel.backends.audio.tts``), where it is always the first utterance: a pure
function of its text, its voice and the library. Within a process every call
holds one lock.
"""

from __future__ import annotations

import ctypes
import functools
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
CHARS_UTF8 = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_MSG_TERMINATED = 6
RATE, VOLUME, PITCH = 1, 2, 3
SEED = 1
_LOCK = threading.Lock()


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class VoiceError(Exception):
    pass


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the line's audio
    position: int  # index of its first character in the line's text


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # int16, mono
    rate: int
    words: tuple[Word, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def library_path() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.get_library_path())


def data_path() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.get_data_path())


class _Engine:
    def __init__(self) -> None:
        self.lib = ctypes.CDLL(str(library_path()))
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int, int]] = []
        self._callback = _CALLBACK(self._on_audio)  # kept alive: C holds the pointer
        self.rate = 0

    def _fresh(self) -> None:
        """Start from a clean engine. libespeak-ng carries state from one
        utterance to the next (its output for the same text drifts from call to
        call), so every line gets a newly initialised engine: each line is then
        a pure function of its text, its voice and the library."""
        self.lib.espeak_Terminate()
        root = str(data_path().parent).encode()
        self.rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, root, 0)
        if self.rate <= 0:
            raise VoiceError("libespeak-ng failed to initialise")
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_ng_SetRandSeed(SEED)

    def has_voice(self, voice: str) -> bool:
        self._fresh()
        return self.lib.espeak_SetVoiceByName(voice.encode()) == 0

    def _on_audio(self, wav, count, events) -> int:  # noqa: ANN001 - ctypes signature
        if count > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == EVENT_WORD:
                self.events.append((event.text_position, event.length, event.audio_position))
            i += 1
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> Speech:
        self._fresh()
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise VoiceError(f"unknown voice '{voice}'")
        self.lib.espeak_SetParameter(RATE, rate, 0)
        self.lib.espeak_SetParameter(PITCH, pitch, 0)
        self.lib.espeak_SetParameter(VOLUME, 100, 0)
        self.chunks, self.events = [], []
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if status != 0:
            raise VoiceError(f"libespeak-ng could not synthesise the line (error {status})")
        samples = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        words = []
        chars = text  # text_position counts characters, 1-based
        for position, length, audio_ms in self.events:
            word = chars[position - 1 : position - 1 + length]
            words.append(Word(word, audio_ms / 1000, position - 1))
        return Speech(samples.astype(np.int16), self.rate, tuple(words))


@functools.lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


def voice_name(language: str, variant: str | None) -> str:
    return f"{language}+{variant}" if variant else language


@functools.lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """Languages with a voice file in libespeak-ng's data, lower case."""
    lang_dir = data_path() / "lang"
    return tuple(sorted(p.name.lower() for p in lang_dir.rglob("*") if p.is_file()))


@functools.lru_cache(maxsize=1)
def variants() -> tuple[str, ...]:
    """The voice variants in libespeak-ng's data (``f2``, ``m3``, ``whisper`` ...)."""
    return tuple(sorted(p.name for p in (data_path() / "voices" / "!v").iterdir() if p.is_file()))


# A language is a code such as "en", "en-us" or "cmn-latn-pinyin". Checked before
# libespeak-ng sees it: the library copies a voice's variant part (after a "+")
# into a 40-byte buffer unchecked, and a longer one aborts the whole process
# ("buffer overflow detected"), and it stops reading a name at a NUL byte.
_LANGUAGE = re.compile(r"[A-Za-z0-9-]{1,40}")


@functools.lru_cache(maxsize=64)
def known_voice(language: str, variant: str | None = None) -> bool:
    """Whether libespeak-ng has this voice: the variant must be one of its
    variant files (the library itself accepts any, or crashes on a long one),
    and the library must accept the language."""
    if not _LANGUAGE.fullmatch(language) or (variant is not None and variant not in variants()):
        return False
    with _LOCK:
        return _engine().has_voice(voice_name(language, variant))


def speak(text: str, language: str, rate: int, pitch: int, variant: str | None = None) -> Speech:
    """Synthesise in this process (only the first call of a process is reproducible)."""
    with _LOCK:
        return _engine().speak(text, voice_name(language, variant), rate, pitch)


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> None:
    import wave

    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())


def synthesise_in_worker(folder: Path, request: dict) -> None:
    """Run one synthesis in a fresh process; it writes speech.wav and words.json."""
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-P", "-m", "reel.backends.audio.tts"],  # -P: never import from the cwd
        cwd=folder,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C"},
    )
    if proc.returncode != 0:
        raise VoiceError(
            proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"the speech worker exited with {proc.returncode}"
        )


def _worker_main() -> None:
    import json
    import sys

    request = json.loads(sys.stdin.read())
    try:
        speech = speak(
            request["text"],
            request["language"],
            request["rate"],
            request["pitch"],
            request.get("variant"),
        )
    except VoiceError as exc:
        sys.exit(f"VoiceError: {exc}")
    write_wav(Path("speech.wav"), speech.samples, speech.rate)
    words = [{"text": w.text, "start": w.start, "position": w.position} for w in speech.words]
    Path("words.json").write_text(
        json.dumps({"rate": speech.rate, "seconds": speech.seconds, "words": words}, sort_keys=True)
    )


if __name__ == "__main__":
    _worker_main()
