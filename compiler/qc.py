"""The QC verifier (seed 000): a deliverable is checked before the build says
it succeeded.

The backends measure: a file Reel joins from per-shot pieces (the master, a
rendition, the review proxy) is measured from its pieces, each once by a
cached ``measure/PIECE`` action as it is made (from the detectors its render
ran on the frames it encoded; decoded, for a ``publish true`` deliverable),
and its sound's (``backends/qc_joined.py``); ``qc@NAME`` then checks the
joined file is those pieces and that sound, packet for packet, or decodes it
whole. Any other delivered video or audio file is decoded whole by
``qc@NAME`` (``backends/qc.py``). This module decides what each file should
have been, from the plan's own artifacts (ShotList: frames, shots, dips,
lines; RenderPlan: sizes, encoder, colour tags, loudness targets), and
judges. The verdicts are ``QCReport.json``, an artifact beside the others; a
failed check fails the build (exit 1) naming the deliverable, the check,
what was measured against what was expected, and the fix. `reel qc PATH`
runs the same judge on a delivered folder, decoding each file whole.

Why QC is actions and not a step of delivery: decoding takes seconds for a
long master, so it must be cached like a render. Each measurement is keyed by
the bytes it reads and the toolchain, so a no-op build measures nothing (the
no-op fast path never even plans), an edit decodes only the pieces it
changed, and `reel verify` compares it like any result. Judging is cheap and
runs on every build, so a change of plan that leaves the bytes alone is still
judged against the new plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from reel.backends.ffmpeg import detect
from reel.backends.qc import caption_cues, measure
from reel.lang.diagnostics import Diagnostics

from . import artifacts as a
from .actions import Action, ActionInput, make

LOUDNESS_TOLERANCE_LU = 1.0  # what the loudness pass itself calls reached (loudness.py)
TRUE_PEAK_TOLERANCE_DB = 0.1  # the meter's resolution
DEFAULT_LOUDNESS = -14.0  # roles.DEFAULT_LOUDNESS: a video deliverable that does not say
DEFAULT_TRUE_PEAK = -1.0
# A freeze is a fault only where the plan has motion that shows (a textured
# plate that moves, or a video), and only when one frozen span holds at least
# this share of the shot and this long: eased moves start and end slowly, and
# freezedetect sees their first and last half second as still.
FREEZE_SHARE = 0.5
FREEZE_MIN_SECONDS = 1.0
# Plates that look the same however they move: a move over them is no motion.
SMOOTH_PLATES = frozenset({"solid", "gradient", "radial", "placeholder"})
DARK_LUMA = 0.10  # blackdetect's pixel threshold: a plate this dark is black to it
SPEECH_SILENT_SHARE = 0.5  # a line silent for over half its span is missing
MEDIA_SUFFIXES = {".mp4": "video", ".m4a": "audio"}
CAPTION_SUFFIXES = (".srt", ".vtt", ".ass")


class QCCheck(a.Model):
    name: str
    target: str = Field(description="What the plan says the file should be")
    measured: str = Field(description="What was decoded from the file")
    passed: bool
    reason: str = ""
    fix: str = ""
    blocking: bool = Field(
        default=True,
        description="False: a failure only warns (loudness on a deliverable not marked "
        "`publish`: a review proxy may pass what a publish master may not)",
    )


class QCFile(a.Model):
    deliverable: str
    path: str = Field(description="Relative to the episode's output folder")
    media: str = Field(description="video, audio or captions")
    passed: bool
    checks: list[QCCheck]


class QCReport(a.Artifact):
    """What QC decoded from each delivered file and how it compares to the plan."""

    kind: ClassVar[str] = "QCReport"
    passed: bool
    files: list[QCFile]


@dataclass(frozen=True)
class Expected:
    """What one delivered file should be, read from the artifacts."""

    deliverable: str
    media: str
    width: int
    height: int
    fps: Fraction
    frames: int
    seconds: float
    encoder: a.EncoderSettings
    loudness: float
    true_peak: float
    publish: bool = False  # `publish true`: a loudness miss blocks it


# ---- lowering: the measurement actions ---------------------------------------------
def action_id(relative: str) -> str:
    return f"qc@{Path(relative).stem}"


def checked(relative: str) -> str | None:
    """What QC measures a delivered file as: a deliverable's own file at the top
    of the set (not the per-shot media a timeline references), or None."""
    return None if "/" in relative else MEDIA_SUFFIXES.get(Path(relative).suffix)


def piece_action_id(piece: str) -> str:
    """The action that decodes one piece of a joined file (a shot's segment)."""
    return f"measure/{piece}"


def qc_actions(
    actions: list[Action],
    delivers: dict[str, list[tuple[str, str]]],
    fps: list[int],
    published: frozenset[str] = frozenset(),
) -> list[Action]:
    """A QC action for each delivered video or audio file. A file Reel joins
    from per-shot pieces (``join``) is checked from its pieces, each measured
    once by its own cached action (``measure/PIECE``), and its sound's
    (``measure/SOUND``): see ``backends/qc_joined.py``. A piece is measured as
    it was rendered, unless a deliverable in ``published`` (the names marked
    `publish true`) joins it: then it is decoded. Any other file is decoded
    whole (``qc``)."""
    by_id = {x.id: x for x in actions}
    decode = _published_pieces(actions, delivers, published)
    out: dict[str, Action] = {}
    # In the order delivery copies files: where two actions deliver one name (a
    # deliverable called master that is a rendition), the later one's file is the
    # one delivered, so its check is the one kept.
    for producer, files in delivers.items():
        for output, relative in files:
            media = checked(relative)
            if media is None:
                continue
            joined = by_id.get(producer)
            if media == "video" and joined is not None and joined.kind == "join":
                for made in _joined_qc(joined, output, relative, fps, by_id, decode):
                    out[made.id] = made
                continue
            made = make(
                "qc",
                action_id(relative),
                {"media": media},
                {f"media{Path(relative).suffix}": ActionInput(producer, output)},
                description=f"QC: decode {relative} and measure it",
            )
            out[made.id] = made
    return list(out.values())


def _published_pieces(
    actions: list[Action], delivers: dict[str, list[tuple[str, str]]], published: frozenset[str]
) -> set[str]:
    """The pieces a `publish true` deliverable joins: QC decodes those. Each
    delivered file is its last deliverer's (a deliverable called master that
    is a rendition shadows the master's join), as in ``qc_actions``."""
    joins = {x.id: x for x in actions if x.kind == "join"}
    delivered: dict[str, str] = {}  # relative path -> the action whose file it is
    for producer, files in delivers.items():
        for _, relative in files:
            delivered[relative] = producer
    pieces: set[str] = set()
    for relative, producer in delivered.items():
        if producer in joins and Path(relative).stem in published:
            pieces |= {
                source.action
                for name, source in joins[producer].inputs.items()
                if name.startswith("piece-") and isinstance(source, ActionInput)
            }
    return pieces


def _joined_qc(
    joined: Action,
    output: str,
    relative: str,
    fps: list[int],
    by_id: dict[str, Action],
    decode: set[str],
) -> list[Action]:
    """The piece and sound measurements of one joined file, and its check."""
    made: list[Action] = []
    inputs: dict[str, ActionInput] = {"media.mp4": ActionInput(joined.id, output)}
    pieces = sorted(n for n in joined.inputs if n.startswith("piece-"))
    for name in pieces:
        source = joined.inputs[name]
        assert isinstance(source, ActionInput)
        producer = by_id.get(source.action)
        # A piece's render logs the detectors (ffmpeg/detect.py); one that did
        # not, or one a published deliverable joins, is decoded.
        rendered = producer is not None and detect.LOG in producer.outputs
        decoded = source.action in decode or not rendered
        measure_inputs = {"piece.mp4": source}
        if not decoded:
            measure_inputs[detect.LOG] = ActionInput(source.action, detect.LOG)
        measured = make(
            "measure_piece",
            piece_action_id(source.action),
            {"fps": fps, "decode": decoded},
            measure_inputs,
            description=f"QC: {'decode' if decoded else 'read the measures of'} {source.action}",
            scene=by_id[source.action].scene if source.action in by_id else None,
        )
        made.append(measured)
        inputs[name.replace(".mp4", ".json")] = ActionInput(measured.id, "piece.json")
    sound = joined.inputs.get("audio.m4a")
    if isinstance(sound, ActionInput):
        heard = make(
            "measure_audio",
            piece_action_id(sound.action),
            {},
            {"audio.m4a": sound},
            description=f"QC: decode the sound of {sound.action}",
        )
        made.append(heard)
        inputs["audio.json"] = ActionInput(heard.id, "audio.json")
    made.append(
        make(
            "qc_joined",
            action_id(relative),
            {"media": "video", "fps": fps},
            dict(inputs),
            description=f"QC: check {relative} is its measured pieces",
        )
    )
    return made


def wanted_checks(delivers: dict[str, list[tuple[str, str]]], wanted: set[str]) -> set[str]:
    """The qc actions of the files the wanted actions deliver."""
    return {
        action_id(relative)
        for producer in wanted
        for _, relative in delivers.get(producer, [])
        if checked(relative)
    }


# ---- what each file should be ------------------------------------------------------
def _size(value: Any, default: tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, str) and "x" in value:
        w, h = value.split("x", 1)
        return int(w), int(h)
    return default


def expected(
    relative: str, shotlist: a.ShotList, plan: a.RenderPlan, media: str
) -> Expected | None:
    """The plan's facts for a delivered file: its deliverable (by file name; a
    build with no `deliver` makes master.mp4 at the plan's own settings)."""
    stem = Path(relative).stem
    specs = {d.name: d for d in plan.deliverables}
    spec = specs.get(stem)
    if spec is None and not (stem == "master" and media == "video"):
        return None
    settings = spec.settings if spec is not None else {}
    if spec is not None and spec.kind not in ("video", "audio"):
        return None
    # A deliverable that names no loudness has the master's sound (a review proxy).
    primary = next((d for d in plan.deliverables if d.role == "master"), None)
    fallback = primary.settings if primary is not None else {}
    return Expected(
        deliverable=stem,
        media=spec.kind if spec is not None else "video",
        width=_size(settings.get("resolution"), (plan.width, plan.height))[0],
        height=_size(settings.get("resolution"), (plan.width, plan.height))[1],
        fps=Fraction(shotlist.fps_num, shotlist.fps_den),
        frames=shotlist.total_frames,
        seconds=shotlist.total_seconds,
        encoder=(spec.encoder if spec is not None and spec.encoder else plan.encoder),
        loudness=float(settings.get("loudness", fallback.get("loudness", DEFAULT_LOUDNESS))),
        true_peak=float(settings.get("true_peak", fallback.get("true_peak", DEFAULT_TRUE_PEAK))),
        publish=settings.get("publish") is True,
    )


def _dark(colour: str) -> bool:
    text = colour.lstrip("#")
    if len(text) < 6:
        return colour.lower() == "black"
    r, g, b = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < DARK_LUMA


def intended_black(shotlist: a.ShotList) -> list[tuple[float, float]]:
    """Where the plan makes the picture black: dips to black (each shot's fade
    in, the first shot's crossfade too: nothing to fade from) and shots on a
    plate dark all over (``plate solid black``)."""
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    spans = []
    for index, shot in enumerate(shotlist.shots):
        start = float(shot.start_frame / fps)
        kind = shot.transition.kind
        if shot.transition.frames and (
            kind == "dip_to_black" or (kind == "crossfade" and index == 0)
        ):
            spans.append((start, float((shot.start_frame + shot.transition.frames) / fps)))
        if shot.plate.colours and all(_dark(c) for c in shot.plate.colours):
            spans.append((start, float((shot.start_frame + shot.duration_frames) / fps)))
    return spans


def moving(shotlist: a.ShotList) -> list[tuple[str, float, float]]:
    """Shots whose picture the plan makes change: a video plate, or a move
    over a plate with texture."""
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    out = []
    for shot in shotlist.shots:
        moves = shot.motion.kind != "static" and shot.plate.kind not in SMOOTH_PLATES
        if shot.plate.kind == "video" or moves:
            end = shot.start_frame + shot.duration_frames
            if shot.plate.kind == "video" and shot.motion.kind == "static":
                clip = _clip_frames(shot)
                if shot.plate.options.get("extend") == "hold" and clip:
                    end = min(end, shot.start_frame + clip)  # the held tail is meant to freeze
            out.append((shot.id, float(shot.start_frame / fps), float(end / fps)))
    return out


def _clip_frames(shot: a.ShotEntry) -> int | None:
    if shot.plate.in_frame is not None and shot.plate.out_frame is not None:
        return shot.plate.out_frame - shot.plate.in_frame
    return None


def speech(shotlist: a.ShotList) -> list[tuple[str, float, float]]:
    """Every dialogue line's span in the episode's time."""
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    return [
        (
            line.line_id,
            float((shot.start_frame + line.start_frame) / fps),
            float((shot.start_frame + line.end_frame) / fps),
        )
        for shot in shotlist.shots
        for line in shot.lines
    ]


# ---- judging ---------------------------------------------------------------------
def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _uncovered(span: list[float], covers: list[tuple[float, float]], slack: float) -> float:
    """How much of ``span`` no intended span (widened by ``slack``) covers."""
    pieces = [(span[0], span[1])]
    for c0, c1 in covers:
        c0, c1 = c0 - slack, c1 + slack
        nxt = []
        for p0, p1 in pieces:
            if c1 <= p0 or c0 >= p1:
                nxt.append((p0, p1))
                continue
            if p0 < c0:
                nxt.append((p0, c0))
            if c1 < p1:
                nxt.append((c1, p1))
        pieces = nxt
    return sum(p1 - p0 for p0, p1 in pieces)


def _check(name: str, target: str, measured: str, ok: bool, reason: str, fix: str) -> QCCheck:
    return QCCheck(
        name=name,
        target=target,
        measured=measured,
        passed=ok,
        reason="" if ok else reason,
        fix="" if ok else fix,
    )


def _rate(fps: Fraction) -> str:
    return f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f}"


REBUILD = "rebuild it with `reel build` (the file is not what the plan made)"


def judge_media(m: dict[str, Any], want: Expected, shotlist: a.ShotList) -> list[QCCheck]:
    """Every check of one decoded video or audio file against its plan."""
    if "unreadable" in m:
        return [
            _check("decodes", "a readable file", m["unreadable"], False, "cannot decode", REBUILD)
        ]
    checks: list[QCCheck] = []
    frame = 1 / float(want.fps)
    video = want.media == "video"
    if video:
        if not m.get("has_video"):
            checks.append(_check("video stream", "one", "none", False, "no picture", REBUILD))
            return checks
        frames = m.get("frames_decoded") or m.get("frames") or 0
        checks.append(
            _check(
                "frame count",
                f"{want.frames} frames",
                f"{frames} frames",
                frames == want.frames,
                "frames are missing or extra",
                REBUILD,
            )
        )
        got = float(m.get("video_duration") or m.get("duration") or 0.0)
        checks.append(
            _check(
                "duration",
                f"{want.seconds:.3f} s",
                f"{got:.3f} s",
                abs(got - want.seconds) <= frame / 2,
                "the picture is not as long as the plan",
                REBUILD,
            )
        )
        size = (m.get("width"), m.get("height"))
        checks.append(
            _check(
                "resolution",
                f"{want.width}x{want.height}",
                f"{size[0]}x{size[1]}",
                size == (want.width, want.height),
                "the picture is not the deliverable's size",
                "check the deliverable's `resolution`; " + REBUILD,
            )
        )
        fps = m.get("fps")
        rate = Fraction(fps[0], fps[1]) if fps else Fraction(0)
        checks.append(
            _check(
                "frame rate",
                f"{_rate(want.fps)} fps",
                f"{_rate(rate) if rate else 'unknown'} fps",
                rate == want.fps,
                "the frame rate is not the episode's `format`",
                "deliver at the episode's frame rate; " + REBUILD,
            )
        )
        enc = want.encoder
        tags = ("colour_primaries", "colour_transfer", "colour_matrix", "colour_range")
        target = "/".join(getattr(enc, t) for t in tags)
        found = "/".join(str(m.get(t) or "unset") for t in tags)
        checks.append(
            _check(
                "colour tags",
                f"{target} (primaries/transfer/matrix/range)",
                found,
                target == found,
                "a player reads the colours wrongly when the stream's tags are missing or wrong",
                REBUILD,
            )
        )
    if not m.get("has_audio"):
        checks.append(_check("audio stream", "one", "none", False, "no sound", REBUILD))
        return checks + _picture_spans(m, shotlist) if video else checks
    enc = want.encoder
    layout = {1: "mono", 2: "stereo"}.get(enc.audio_channels, f"{enc.audio_channels} channels")
    checks.append(
        _check(
            "audio layout",
            f"{layout}, {enc.audio_rate} Hz",
            f"{m.get('audio_layout')}, {m.get('sample_rate')} Hz",
            m.get("channels") == enc.audio_channels and m.get("sample_rate") == enc.audio_rate,
            "the sound is not the layout or rate the plan encodes",
            REBUILD,
        )
    )
    if not video:
        got = float(m.get("audio_duration") or m.get("duration") or 0.0)
        checks.append(
            _check(
                "duration",
                f"{want.seconds:.3f} s",
                f"{got:.3f} s",
                abs(got - want.seconds) <= max(frame, 0.05),
                "the sound is not as long as the plan",
                REBUILD,
            )
        )
    loud = m.get("loudness") or {}
    integrated, peak = loud.get("integrated", -70.0), loud.get("true_peak", -70.0)
    if integrated > -70.0:  # a silent mix has no loudness to hold (the build warns of it)
        checks.append(
            _check(
                "integrated loudness",
                f"{want.loudness:.1f} LUFS ± {LOUDNESS_TOLERANCE_LU:.1f} LU",
                f"{integrated:.1f} LUFS",
                abs(integrated - want.loudness) <= LOUDNESS_TOLERANCE_LU,
                f"{integrated - want.loudness:+.1f} LU off the deliverable's target",
                "the file was changed after the loudness pass or the pass could not reach "
                "the target: rebuild it; if the build warned of loudness, lower the music or "
                "effects",
            ).model_copy(update={"blocking": want.publish})
        )
    checks.append(
        _check(
            "true peak",
            f"<= {want.true_peak:.1f} dBTP",
            f"{peak:.1f} dBTP",
            peak <= want.true_peak + TRUE_PEAK_TOLERANCE_DB,
            "the sound clips on playback",
            "rebuild it (the loudness pass limits the peaks); lower the loudest stem",
        )
    )
    checks.append(_silence(m, shotlist))
    if video:
        checks += _picture_spans(m, shotlist)
    return checks


def _spans(spans: list[tuple[float, float]]) -> str:
    return ", ".join(f"{s0:.2f}-{s1:.2f} s" for s0, s1 in spans) or "none"


def _content_shots(shotlist: a.ShotList) -> list[tuple[float, float]]:
    """Where the picture is the user's own (an image or a video): it may be
    dark, or still, on purpose, which QC cannot tell from a broken render."""
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    return [
        (float(s.start_frame / fps), float((s.start_frame + s.duration_frames) / fps))
        for s in shotlist.shots
        if s.plate.kind in ("image", "video")
    ]


def _picture_spans(m: dict[str, Any], shotlist: a.ShotList) -> list[QCCheck]:
    """Black outside the dips and frozen moving shots. Both block where Reel
    made the picture (a generated plate, a move): there they mean a broken
    render. Inside the user's own image or video they only warn: a night
    shot is dark and a locked-off shot is still on purpose."""
    frame = shotlist.fps_den / shotlist.fps_num
    dips = intended_black(shotlist)
    black = [
        (s0, s1) for s0, s1 in m.get("black", []) if _uncovered([s0, s1], dips, frame) >= frame
    ]
    content = _content_shots(shotlist)
    black_blocks = any(_uncovered([s0, s1], content, frame) >= frame for s0, s1 in black)
    frozen = []
    frozen_blocks = False
    moved = _moved(shotlist)
    for shot_id, s0, s1 in moving(shotlist):
        for f0, f1 in m.get("freeze", []):
            held = _overlap(s0, s1, f0, f1)
            if held >= max(FREEZE_MIN_SECONDS, FREEZE_SHARE * (s1 - s0)) - frame / 2:
                frozen.append((shot_id, f0, f1))
                frozen_blocks |= _uncovered([f0, f1], content, frame) >= frame or shot_id in moved
    return [
        _check(
            "black frames",
            f"black only in the plan's dips ({_spans(dips)})",
            f"unplanned black {_spans(black)}" if black else "none outside the dips",
            not black,
            "black picture where the plan has none (a missing or broken shot)",
            "find the shot at that time (`reel query` lists shot times); rebuild it",
        ).model_copy(update={"blocking": black_blocks}),
        _check(
            "frozen frames",
            "motion in shots that move",
            ", ".join(f"{i} frozen {f0:.2f}-{f1:.2f} s" for i, f0, f1 in frozen) or "moving",
            not frozen,
            "a shot the plan moves (a video or a move) stands still",
            "check that shot's clip and move; rebuild it",
        ).model_copy(update={"blocking": frozen_blocks}),
    ]


def _moved(shotlist: a.ShotList) -> set[str]:
    """Shots Reel itself moves (a move over a textured plate)."""
    return {
        s.id
        for s in shotlist.shots
        if s.motion.kind != "static" and s.plate.kind not in SMOOTH_PLATES
    }


def _silence(m: dict[str, Any], shotlist: a.ShotList) -> QCCheck:
    missing = []
    for line_id, l0, l1 in speech(shotlist):
        silent = sum(_overlap(l0, l1, s0, s1) for s0, s1 in m.get("silence", []))
        if l1 > l0 and silent > SPEECH_SILENT_SHARE * (l1 - l0):
            missing.append(f"{line_id} at {l0:.2f} s")
    return _check(
        "speech",
        "sound under every dialogue line",
        ("silent: " + ", ".join(missing)) if missing else "present",
        not missing,
        "a dialogue line is silent",
        "check the line's voice or recording (`reel build` renders voices first); rebuild it",
    )


def judge_captions(path: Path, relative: str, shotlist: a.ShotList) -> QCFile:
    """No cue may end after the picture does."""
    end = shotlist.total_seconds
    frame = shotlist.fps_den / shotlist.fps_num
    try:
        cues = caption_cues(path)
        late = [(s, e) for s, e in cues if e > end + frame / 2]
        check = _check(
            "caption bounds",
            f"every cue ends by {end:.3f} s",
            f"{len(cues)} cues, last ends {max((e for _, e in cues), default=0.0):.3f} s",
            not late,
            f"{len(late)} cue(s) run past the end of the video ({_spans(late)})",
            "shorten the last line or lengthen its shot; rebuild the captions",
        )
    except (OSError, ValueError) as exc:
        check = _check(
            "caption bounds",
            "a readable caption file",
            str(exc),
            False,
            "cannot read the captions",
            REBUILD,
        )
    return QCFile(
        deliverable=Path(relative).stem,
        path=relative,
        media="captions",
        passed=check.passed,
        checks=[check],
    )


def judge_file(
    relative: str,
    measured: dict[str, Any] | None,
    path: Path | None,
    shotlist: a.ShotList,
    plan: a.RenderPlan,
) -> QCFile | None:
    """One delivered file's verdict (None: QC has nothing to check in it)."""
    suffix = Path(relative).suffix
    if "/" in relative:
        return None  # a timeline's media: checked as the timeline's, not as a deliverable
    if suffix in CAPTION_SUFFIXES and path is not None:
        return judge_captions(path, relative, shotlist)
    media = MEDIA_SUFFIXES.get(suffix)
    if media is None or measured is None:
        return None
    want = expected(relative, shotlist, plan, media)
    if want is None:
        return None
    checks = judge_media(measured, want, shotlist)
    return QCFile(
        deliverable=want.deliverable,
        path=relative,
        media=want.media,
        passed=all(c.passed or not c.blocking for c in checks),
        checks=checks,
    )


def report(
    files: list[QCFile], shotlist: a.ShotList, plan: a.RenderPlan, parents: dict[str, str]
) -> QCReport:
    return QCReport.build(
        schema_version=a.SCHEMA_VERSION,
        episode=shotlist.episode,
        parents=parents,
        passed=all(f.passed for f in files),
        files=sorted(files, key=lambda f: f.path),
    )


def diagnostics(qc: QCReport, where: str) -> Diagnostics:
    """Each failed check as an error (a warning when it does not block):
    deliverable, check, measured vs expected, fix."""
    diags = Diagnostics()
    for file in qc.files:
        for check in file.checks:
            if not check.passed:
                (diags.error if check.blocking else diags.warning)(
                    f"QC: {file.deliverable} ({file.path}): {check.name}: measured "
                    f"{check.measured}, expected {check.target}: {check.reason}",
                    None,
                    check.fix,
                    notes=(f"every check is in {where}",),
                )
    return diags


# ---- `reel qc PATH` ------------------------------------------------------------------
def check_folder(path: Path) -> tuple[QCReport, Path]:
    """Measure and judge a delivered folder (or one file in it) against the
    artifacts beside it. Raises InputError when they are missing."""
    from reel.lang.diagnostics import InputError

    folder = path if path.is_dir() else path.parent
    diags = Diagnostics()
    for name in ("ShotList.json", "RenderPlan.json"):
        if not (folder / name).is_file():
            diags.error(
                f"no {name} in {folder}: QC checks a file against the plan that made it",
                None,
                "run `reel qc` on a folder `reel build` delivered (reel-out/EPISODE), "
                "or on a file in one",
            )
            raise InputError(diags.errors)
    shotlist = a.read_artifact(folder / "ShotList.json", a.ShotList)
    plan = a.read_artifact(folder / "RenderPlan.json", a.RenderPlan)
    if path.is_dir():
        names = sorted(
            p.name
            for p in folder.iterdir()
            if p.is_file() and p.suffix in (*MEDIA_SUFFIXES, *CAPTION_SUFFIXES)
        )
    else:
        names = [path.name]
    files = []
    for name in names:
        file = folder / name
        measured = measure_file(file) if file.suffix in MEDIA_SUFFIXES else None
        verdict = judge_file(name, measured, file, shotlist, plan)
        if verdict is not None:
            files.append(verdict)
    parents = {"ShotList": shotlist.content_hash, "RenderPlan": plan.content_hash}
    return report(files, shotlist, plan, parents), folder


def measure_file(path: Path) -> dict[str, Any]:
    """The measurement the ``qc`` action makes, made here, uncached."""
    from reel.backends.probe import ProbeError

    try:
        return json.loads(json.dumps(measure(path)))
    except ProbeError as exc:
        return {"unreadable": str(exc)}
