"""The first phase of a build: render every voice line, because audio is the
clock. Each line is one cached action keyed on its text, its voice and the
speech library's digest, never on where it sits in the episode; its length
then decides the timing of every `auto` shot.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

from reel.backends.audio import align, cleanup, piper, tts, voice
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, InputError
from reel.lang.suggest import hint

from .actions import Action, Label, SourceInput, build_graph, make, where
from .executor import ExecutionReport, Executor, Runner
from .failures import BuildFailed, failure_diagnostics
from .files import is_file
from .store import BlobDamaged, Store
from .timing import DEFAULT_WPM, camera_frames, line_id

DEFAULT_LANGUAGE = "en-us"
DEFAULT_PITCH = 50


def check_voices(episode: ir.Episode) -> None:
    """Every declared voice must exist: in libespeak-ng, or as a Piper voice
    package that is installed (exit 2 otherwise)."""
    diags = Diagnostics()
    for declared in episode.voices:
        if declared.engine == "piper":
            _check_piper(declared, diags)
        elif not tts.known_voice(declared.language, declared.variant):
            shown = tts.voice_name(declared.language, declared.variant)
            diags.error(
                f"unknown voice '{shown}' for {declared.character}",
                declared.span,
                'libespeak-ng voices are language codes such as "en-us", "en" '
                '(British), "fr", "de"; variants such as `variant f2`',
            )
    if diags.has_errors():
        raise InputError(diags.errors)


def _check_piper(declared: ir.Voice, diags: Diagnostics) -> None:
    known = piper.known_voices()
    if declared.language not in known:
        diags.error(
            f"unknown Piper voice '{declared.language}' for {declared.character}",
            declared.span,
            f"{hint(declared.language, known, 'Piper voices')} (for a language no "
            'Piper voice speaks, use espeak-ng: `tts "fr"`)',
        )
        return
    try:
        piper.model_path(declared.language)
    except piper.PiperError as exc:
        diags.error(f"{exc}", declared.span, 'install it, or use espeak-ng: `tts "en-us"`')


def voice_actions(episode: ir.Episode, root: Path, store: Store) -> list[Action]:
    voices = {v.character: v for v in episode.voices}
    library = {
        "engine": "espeak-ng",
        "library": store.file_digest(tts.library_path()),
        "chain": voice.VOCAL_CHAIN,
    }
    actions = []
    aligners: dict[str, str] = {}
    for shot in episode.shots:
        for i, line in enumerate(shot.lines, start=1):
            lid = line_id(shot, i)
            origin = str(line.span) if line.span else None
            said = Label(
                f"what {line.speaker} says in line {i} of shot {shot.id}", where(line.span)
            )
            spec = voices.get(line.speaker)
            voice_at = where(spec.span) if spec else None
            whose = f"{line.speaker}'s voice" if spec else "the default voice"
            recording = _recording(shot, line)
            if recording is not None and is_file(root / recording):
                language = spec.language if spec else DEFAULT_LANGUAGE
                params = {
                    "text": line.text,
                    "clean": _cleanup(shot, line),
                    "chain": voice.VOCAL_CHAIN,
                    "language": language,
                    "aligner": aligners.get(language)
                    or aligners.setdefault(
                        language, align.action_params(language, store.file_digest)
                    ),
                }
                labels = {
                    "text": said,
                    "recording": Label(
                        f"the recording of line {i} of shot {shot.id} ({recording})",
                        where(line.span),
                    ),
                    "clean": Label(f"the cleanup of line {i} of shot {shot.id}", where(line.span)),
                    "chain": Label("the vocal chain"),
                    "language": Label(f"the language of {whose}", voice_at),
                    "aligner": Label("the word aligner (pocketsphinx) and its model"),
                }
                if line.on_camera:  # only camera lines carry a range: recorded keys stay
                    params["range"] = camera_range(shot, episode.fps)
                    labels["recording"] = Label(
                        f"the take of shot {shot.id} ({recording})", where(shot.plate.span)
                    )
                    labels["range"] = Label(
                        f"the in point and length of shot {shot.id}", where(shot.plate.span)
                    )
                actions.append(
                    make(
                        "recorded_voice",
                        f"voice/{lid}",
                        params,
                        {"recording": SourceInput(root / recording)},
                        origin=origin,
                        scene=shot.scene,
                        description=f"{'camera' if line.on_camera else 'recorded'} line {lid}",
                        labels=labels,
                    )
                )
                continue
            if spec is not None and spec.engine == "piper":
                actions.append(
                    make(
                        "piper_voice",
                        f"voice/{lid}",
                        piper.action_params(
                            line.text, spec.language, spec.speed, store.file_digest
                        ),
                        origin=origin,
                        scene=shot.scene,
                        # onnxruntime picks kernels by CPU: the same line may give
                        # other samples on another instruction set (not checkable here)
                        hermetic=False,
                        description=f"say line {lid} (piper)",
                        labels={
                            "text": said,
                            "model": Label(f"the Piper voice of {whose}", voice_at),
                            "length_scale": Label(f"the rate of {whose}", voice_at),
                            "model_digest": Label(f"the Piper voice model ({spec.language})"),
                            "config_digest": Label("the Piper voice's settings file"),
                            "versions": Label("the Piper and onnxruntime versions"),
                            "engine": Label("the speech engine"),
                            "chain": Label("the vocal chain"),
                        },
                    )
                )
                continue
            params = {
                "text": line.text,
                "language": spec.language if spec else DEFAULT_LANGUAGE,
                "rate": spec.rate if spec else DEFAULT_WPM,
                "pitch": spec.pitch if spec else DEFAULT_PITCH,
                "variant": spec.variant if spec else None,
                **library,
            }
            actions.append(
                make(
                    "voice",
                    f"voice/{lid}",
                    params,
                    origin=origin,
                    scene=shot.scene,
                    description=f"say line {lid}",
                    labels={
                        "text": said,
                        **{
                            name: Label(f"the {name} of {whose}", voice_at)
                            for name in ("language", "rate", "pitch", "variant")
                        },
                        "engine": Label("the speech engine"),
                        "library": Label("the speech library (libespeak-ng)"),
                        "chain": Label("the vocal chain"),
                    },
                )
            )
    return actions


def _recording(shot: ir.Shot, line: ir.Line) -> str | None:
    """The file a line's sound comes from: its recording, or for a line spoken on
    camera its shot's take (None: synthesised)."""
    return shot.plate.path if line.on_camera else line.file


def _cleanup(shot: ir.Shot, line: ir.Line) -> str:
    """A line's cleanup: its own `clean`; on camera, else the plate's; else the default."""
    if line.clean is not None:
        return line.clean
    plate_clean = dict(shot.plate.options).get("clean") if line.on_camera else None
    return str(plate_clean) if plate_clean is not None else cleanup.DEFAULT


def camera_range(shot: ir.Shot, fps: Fraction) -> dict[str, float | int]:
    """The part of the take a line spoken on camera is: from the plate's in point
    (rounded to its frame, as the picture reads it) for the shot's length in
    samples at whole frame rates, the same cut the picture and the mix use."""
    frames = camera_frames(shot, fps)
    assert frames is not None
    in_point = shot.plate.in_point
    in_frame = in_point.frames(fps) if in_point is not None else 0
    return {
        "in_s": round(float(Fraction(in_frame) / fps), 6),
        "samples": round(Fraction(frames) / fps * voice.RATE),
    }


def render_voices(
    actions: list[Action],
    store: Store,
    *,
    jobs: int | None,
    toolchain: str,
    runner: Runner | None = None,
) -> tuple[dict[str, float], ExecutionReport]:
    """Run the voice phase; return each line's length and the execution report."""
    executor = Executor(
        store,
        build_graph(actions),
        jobs=jobs or (runner.slots if runner else os.cpu_count() or 1),
        keep_going=True,
        toolchain_digest=toolchain,
        runner=runner,
    )
    for attempt in range(2):
        report = executor.run({a.id for a in actions})
        if report.failures:
            raise BuildFailed(failure_diagnostics(report).errors)
        try:
            return _lengths(actions, report, store), report
        except BlobDamaged:
            if attempt:
                raise  # damaged again at once: the store's disk is failing
    raise AssertionError("unreachable")


def _lengths(actions: list[Action], report: ExecutionReport, store: Store) -> dict[str, float]:
    """Each line's spoken length, from its words.json (checked against its digest;
    a damaged one is evicted, and the caller runs the voices again)."""
    lengths = {}
    for action in actions:
        words = json.loads(store.read_blob(report.results[action.id].outputs["words.json"]))
        lengths[action.id.removeprefix("voice/")] = words["seconds"]
    return lengths


def estimate_warnings(
    episode: ir.Episode, actions: tuple[Action, ...], report: ExecutionReport | None, store: Store
) -> Diagnostics:
    """A warning at each recorded line whose word times are estimated, not aligned
    (another language, a word the aligner does not know, a recording that does
    not match its text): its captions follow the estimate, not the words."""
    diags = Diagnostics()
    if report is None:
        return diags
    kinds = {a.id: a.kind for a in actions}
    for shot in episode.shots:
        for i, line in enumerate(shot.lines, start=1):
            action_id = f"voice/{line_id(shot, i)}"
            result = report.results.get(action_id)
            if kinds.get(action_id) != "recorded_voice" or result is None:
                continue
            words = json.loads(store.read_blob(result.outputs["words.json"]))
            if words.get("why"):
                what = "line spoken on camera" if line.on_camera else "recorded line"
                diags.warning(
                    f"the word times of this {what} are estimated: {words['why']}",
                    line.span,
                    "captions follow an estimate by word length; write the line as it is "
                    "spoken (English words) to have its words aligned to the recording",
                )
    return diags
