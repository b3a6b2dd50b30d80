"""Voice line actions: one per line, position-independent.

* ``synthesise``: TTS in a fresh worker, then the vocal chain (high-pass,
  gentle compression, resample to 48 kHz mono). Outputs ``voice.wav`` and
  ``words.json`` (each word's start, seconds from the line's first sample).
* ``recorded``: a recorded file, decoded to 48 kHz mono, cleaned up (high-pass,
  denoise, de-ess, the vocal chain: ``cleanup``), its in and out points moved
  to the quietest 10 ms within 500 ms of the file's start and end (seed 004
  §3.7), with 10 ms fades. Word times come from forced alignment of the
  line's text (``align``), or, where that is not possible, are spread by
  length (estimated, with the reason).
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..ffmpeg.toolchain import PCM_OUT, run_ffmpeg
from ..kind import Kind
from . import align, cleanup
from .tts import synthesise_in_worker

RATE = 48000
# Seed 004 §2.1, the global vocal chain: rumble filter, compression, and a peak
# limiter, so speech peaks sit close to its loudness and the mix can reach its
# loudness target with linear gain under the true-peak ceiling.
VOCAL_CHAIN = (
    "highpass=f=80,acompressor=threshold=-24dB:ratio=3:attack=5:release=100,"
    # Drive into a limiter run at 4x the rate, so it holds true (inter-sample)
    # peaks, not just sample peaks, at -6 dBFS.
    "volume=12dB,aresample=192000,"
    "alimiter=limit=0.5:attack=5:release=50:level=false:latency=true,"
    f"aresample={RATE}"
)
WINDOW = 0.010  # seconds: the unit of the quiet-point search and of the fades
SEARCH = 0.5  # seconds either side of the file's edges
ONSET_LEVEL = 10 ** (-50 / 20)  # -50 dBFS: where a synthesised line is first heard


def read_wav(path: Path) -> np.ndarray:
    """16-bit PCM WAV → float64 array (samples × channels)."""
    with wave.open(str(path), "rb") as handle:
        return read_frames(handle, handle.getnframes())


def read_frames(handle: wave.Wave_read, count: int) -> np.ndarray:
    """The next ``count`` frames (fewer at the end) of an open 16-bit WAV, as float64."""
    data = np.frombuffer(handle.readframes(count), dtype="<i2")
    return data.reshape(-1, handle.getnchannels()).astype(np.float64) / 32768.0


def pcm16(samples: np.ndarray) -> np.ndarray:
    """float samples → 16-bit PCM values, rounded and clipped."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")


def write_wav(path: Path, samples: np.ndarray) -> None:
    """float array (samples × channels) → 16-bit PCM WAV at 48 kHz, clipped."""
    data = pcm16(samples)
    if data.ndim == 1:
        data = data[:, None]
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(data.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(data.tobytes())


def synthesise(sandbox: Path, params: dict[str, Any]) -> None:
    synthesise_in_worker(
        sandbox, {k: params[k] for k in ("text", "language", "rate", "pitch", "variant")}
    )
    finish_speech(sandbox)


def finish_speech(sandbox: Path) -> None:
    """A speech engine's ``speech.wav`` and ``words.json`` (word starts in seconds
    from its first sample) → ``voice.wav`` through the vocal chain at 48 kHz,
    starting at its first audible sample, and ``words.json`` shifted to match.
    Word times the engine marked as estimated stay marked."""
    run_ffmpeg(
        [
            "-i",
            "speech.wav",
            "-af",
            VOCAL_CHAIN,
            "-ac",
            "1",
            *PCM_OUT,
            "voice.wav",
        ],
        sandbox,
    )
    spoken = json.loads((sandbox / "words.json").read_text())
    samples = read_wav(sandbox / "voice.wav")[:, 0]
    # The speech engine starts with a little near-silence; the line's place in
    # the ShotList is where it is heard, so start at the first audible sample.
    audible = np.nonzero(np.abs(samples) > ONSET_LEVEL)[0]
    lead = int(audible[0]) if len(audible) else 0
    write_wav(sandbox / "voice.wav", samples[lead:])
    shift = lead / RATE
    words = [{**w, "start": round(max(0.0, w["start"] - shift), 6)} for w in spoken["words"]]
    _write_words(
        sandbox,
        (len(samples) - lead) / RATE,
        words,
        estimated=bool(spoken.get("estimated", False)),
        trimmed=[round(shift, 6), len(samples) / RATE],
    )


def _quietest(samples: np.ndarray, start: int, stop: int) -> int:
    """The start of the quietest WINDOW-long stretch in [start, stop)."""
    width = int(WINDOW * RATE)
    stop = max(start + width, min(stop, len(samples)))
    energy = np.convolve(samples[start:stop] ** 2, np.ones(width), mode="valid")
    return start + int(np.argmin(energy)) if len(energy) else start


def _decode_range(sandbox: Path, params: dict[str, Any]) -> np.ndarray:
    """A line spoken on camera: the take's sound from its in point for exactly
    the shot's samples (``params["range"]``), cut as the camera sound is (``-ss``
    and ``-t`` on the input), silence after a take that ends sooner."""
    cut = params["range"]
    total = int(cut["samples"])
    seek = ["-ss", f"{cut['in_s']:.6f}"] if cut["in_s"] else []
    run_ffmpeg(
        [
            *seek,
            "-t",
            f"{total / RATE:.6f}",
            "-i",
            "recording",
            "-map",
            "0:a:0",
            "-af",
            f"aresample={RATE}",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            *PCM_OUT,
            "decoded.wav",
        ],
        sandbox,
    )
    samples = read_wav(sandbox / "decoded.wav")[:, 0]
    return np.pad(samples, (0, max(0, total - len(samples))))[:total]


def recorded(sandbox: Path, params: dict[str, Any]) -> None:
    """Decode, clean up (``params["clean"]``), trim, fade, and time the words:
    by forced alignment when there is an aligner for the line's language, else
    estimated by character count (``why`` in words.json says which).

    A line spoken on camera (``params["range"]``, which only such lines carry) is
    the take's sound over the shot, as the picture cuts it: never trimmed or
    faded at quiet points, so it stays in sync with the lips."""
    if "range" in params:
        samples = _decode_range(sandbox, params)
        start, end = 0, len(samples)
        cut = [params["range"]["in_s"] or 0.0, (params["range"]["in_s"] or 0.0) + end / RATE]
    else:
        run_ffmpeg(
            ["-i", "recording", "-ac", "1", "-ar", str(RATE), *PCM_OUT, "decoded.wav"], sandbox
        )
        samples = read_wav(sandbox / "decoded.wav")[:, 0]
        # The cut points come from the recording as recorded, so a line's length
        # (and the episode's timing) does not change when its cleanup level does.
        search = int(SEARCH * RATE)
        start = _quietest(samples, 0, search)
        end = _quietest(samples, max(0, len(samples) - search), len(samples)) + int(WINDOW * RATE)
        cut = [start / RATE, end / RATE]
    filters = cleanup.chain(params["clean"], cleanup.noise_floor_db(samples, RATE), VOCAL_CHAIN)
    if filters:  # the whole recording: the denoiser learns the noise from all of it
        run_ffmpeg(["-i", "decoded.wav", "-af", filters, *PCM_OUT, "cleaned.wav"], sandbox)
        cleaned = read_wav(sandbox / "cleaned.wav")[:, 0]
        samples = cleanup.realign(cleaned, len(samples))
    clip = samples[start : max(start + 1, end)].copy()
    fade = min(int(WINDOW * RATE), len(clip) // 2) if "range" not in params else 0
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    write_wav(sandbox / "voice.wav", clip)
    seconds = len(clip) / RATE
    text = params["text"]
    why = f"no aligner for {params['language']} (English only)"
    if params["aligner"]:
        run_ffmpeg(
            ["-i", "voice.wav", "-ar", str(align.ALIGN_RATE), "-f", "s16le", "aligned.raw"],
            sandbox,
        )
        found = align.align((sandbox / "aligned.raw").read_bytes(), text)
        if found.starts is not None:
            words = [
                {"text": m.group(), "start": t, "position": m.start()}
                for m, t in zip(align.tokens(text), found.starts, strict=True)
            ]
            _write_words(sandbox, seconds, words, estimated=False, trimmed=cut)
            return
        why = found.why or why
    _write_words(
        sandbox,
        seconds,
        _spread(text, seconds),
        estimated=True,
        trimmed=cut,
        why=why,
    )


def _spread(text: str, seconds: float) -> list[dict[str, Any]]:
    """Word starts estimated by character count: the fallback when unaligned."""
    tokens = align.tokens(text)
    total = sum(len(m.group()) for m in tokens) or 1
    spread, t = [], 0.0
    for match in tokens:
        spread.append({"text": match.group(), "start": round(t, 6), "position": match.start()})
        t += seconds * len(match.group()) / total
    return spread


def _write_words(
    sandbox: Path,
    seconds: float,
    words: list[dict[str, Any]],
    *,
    estimated: bool,
    trimmed: list[float] | None = None,
    why: str | None = None,
) -> None:
    record: dict[str, Any] = {"seconds": round(seconds, 6), "words": words, "estimated": estimated}
    if why is not None:
        record["why"] = why  # why the word times are estimated (a warning at the line)
    if trimmed is not None:
        record["trimmed"] = [round(x, 6) for x in trimmed]
    (sandbox / "words.json").write_text(json.dumps(record, sort_keys=True))


class VoiceParams(TypedDict):
    text: str
    language: str
    rate: int
    pitch: int
    variant: str | None
    engine: str
    library: str  # the speech library's file digest
    chain: str  # VOCAL_CHAIN


class CameraRange(TypedDict):
    in_s: float | None  # where the picture starts reading the take (its in point)
    samples: int  # the shot's length


class _RecordedRequired(TypedDict):
    text: str
    clean: str  # cleanup.LEVELS
    chain: str  # VOCAL_CHAIN (cleanup ends with it)
    language: str  # the speaker's voice's language: whether the words can be aligned
    aligner: str  # align.action_params: engine, version, model digests ("" = estimate)


class _CameraLineParams(TypedDict, total=False):
    # Only a line spoken on camera carries it (so recorded lines keep their
    # parameters): the take's range, decoded whole and untrimmed.
    range: CameraRange


class RecordedParams(_RecordedRequired, _CameraLineParams):
    pass


VOICE = Kind(
    name="voice",
    params=VoiceParams,
    inputs=(),
    outputs=("voice.wav", "words.json"),
    run=synthesise,
    about="one line spoken by libespeak-ng, through the vocal chain, with its word times",
)
RECORDED_VOICE = Kind(
    name="recorded_voice",
    params=RecordedParams,
    inputs=("recording",),
    outputs=("voice.wav", "words.json"),
    run=recorded,
    about="one recorded line, cleaned up, trimmed to its speech (a line spoken on camera: "
    "the take's range, untrimmed), its words aligned to the text",
)


SPEECH_BELOW_PEAK_DB = 30.0  # a window this far under the line's loudest is not yet speech
SPEECH_FLOOR_DBFS = -60.0  # and never quieter than this, however quiet the line


def speech_onset(path: Path) -> float | None:
    """Where speech is first heard in a voice file, in seconds from its first
    sample, measured from the samples: the first 10 ms window whose RMS is
    within ``SPEECH_BELOW_PEAK_DB`` of the file's loudest window (and above
    ``SPEECH_FLOOR_DBFS``). The threshold is relative so that a recording's
    room tone or a cleaned-up noise floor does not count as speech. None for
    a file with no window that loud (silence).

    This is independent of the word times the captions are written from
    (the speech engine's events, the aligner, or an estimate), which is why
    the caption-sync gate measures with it."""
    samples = read_wav(path)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    width = int(WINDOW * RATE)
    count = len(mono) // width
    if count == 0:
        return None
    windows = mono[: count * width].reshape(count, width)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    peak = float(rms.max())
    if peak <= 0.0:
        return None
    level = max(peak * 10 ** (-SPEECH_BELOW_PEAK_DB / 20), 10 ** (SPEECH_FLOOR_DBFS / 20))
    loud = np.nonzero(rms >= level)[0]
    return round(int(loud[0]) * WINDOW, 6) if len(loud) else None
