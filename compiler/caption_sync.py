"""The caption-sync gate (issue 16): the built captions judged against the
cut and against the voices as they sound.

Two checks, on the cues of the episode's sidecar captions (``captions.srt``,
the cues every caption-carrying deliverable is timed from):

* **cuts**: a cue must not run past a shot change by more than the caption
  style's ``cut_tolerance`` (default ``12f``). Netflix's *Timed Text Style
  Guide: Subtitle Timing Guidelines* asks that subtitles not hang over shot
  changes: an in or out time within 12 frames of a shot change is snapped to
  it, and one further away is a timing fault to fix. A cue that runs on more
  than 12 frames into the next shot is that fault (half a second at 24 fps).
* **onset**: a line's first cue starts within 3 frames of its speech, where
  the speech onset is *measured* from the line's rendered or recorded
  ``voice.wav`` (``voice.speech_onset``: an RMS threshold over 10 ms windows),
  not taken from the word times the captions were written from: an estimate
  (a recording with no aligner for its language) or a recording with a long
  silence before its first word puts the caption up before anyone speaks.

The caption end is already bounded (captions are cut at the picture's end,
and QC checks each caption file's bounds). Severity follows the other publish
gates: a failure blocks a deliverable marked ``publish true`` (exit 1) and
only warns for any other. Measuring reads each voice file from the cache
(a few milliseconds a line), so it runs on every build that delivers captions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from reel.backends.audio.voice import RATE, speech_onset
from reel.backends.captions import Cue, read_srt
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics
from reel.lang.source import Span
from reel.lang.values import Time

from . import artifacts as a
from . import roles
from .gates import is_publish, site
from .timing import line_id

GATE = "caption_sync"
ONSET_FRAMES = 3  # the "onset within 3 frames of its speech"
DEFAULT_CUT_TOLERANCE = Time(Fraction(12), "f")  # Netflix's 12-frame shot-change window


@dataclass
class SyncOutcome:
    results: list[a.GateResult] = field(default_factory=list)
    blocked: Diagnostics = field(default_factory=Diagnostics)


@dataclass(frozen=True)
class _Line:
    id: str
    text: str
    shot: str
    span: Span | None
    start: Fraction  # where its voice file starts in the episode, seconds


def _style(episode: ir.Episode, name: str) -> ir.PropertyBlock | None:
    return next((b for b in episode.caption_styles if b.name == name), None)


def carriers(episode: ir.Episode) -> list[tuple[str, bool, str]]:
    """(name, publish, caption style) of each deliverable that carries
    captions: a captions sidecar, or a video or timeline whose ``captions`` is
    not ``none``. A build with no deliverables makes a master and captions."""
    if not episode.deliverables:
        return [("master", False, episode.caption_style)]
    out = []
    for d in episode.deliverables:
        props = roles.props(d)
        kind = roles.kind(d)
        if kind == "captions" or (
            kind in ("video", "timeline") and props.get("captions", "none") != "none"
        ):
            out.append(
                (d.name, is_publish(d), str(props.get("caption_style") or episode.caption_style))
            )
    return out


def cut_tolerance(episode: ir.Episode, style: str, fps: Fraction) -> tuple[Fraction, str]:
    """A caption style's ``cut_tolerance`` in seconds, and as the gate says it."""
    block = _style(episode, style)
    value = dict(block.props).get("cut_tolerance") if block is not None else None
    tolerance = value if isinstance(value, Time) else DEFAULT_CUT_TOLERANCE
    seconds = Fraction(tolerance.seconds(fps))
    return seconds, _frames(seconds, fps)


def _lines(episode: ir.Episode, shotlist: a.ShotList, fps: Fraction) -> list[_Line]:
    shots = {s.id: s for s in episode.shots}
    out = []
    for entry in shotlist.shots:
        shot = shots[entry.id]
        for index, (line, cue) in enumerate(zip(shot.lines, entry.lines, strict=True), start=1):
            assert cue.line_id == line_id(shot, index)
            # The voice starts on a sample (as the mix places it): the frame's first.
            sample = round(Fraction(entry.start_frame + cue.start_frame) / fps * RATE)
            out.append(_Line(cue.line_id, line.text, shot.id, line.span, Fraction(sample, RATE)))
    return out


def owners(cues: list[Cue], lines: list[_Line]) -> list[_Line | None]:
    """The line each cue shows: the caption writer splits a line into cues at
    word boundaries and keeps their order, so the cues' words, in order, are
    the lines' words. None once they stop agreeing (nothing more is judged)."""
    out: list[_Line | None] = []
    at, left = 0, [] if not lines else lines[0].text.split()
    for cue in cues:
        words = cue.text.split()
        while at < len(lines) and not left:
            at += 1
            left = lines[at].text.split() if at < len(lines) else []
        if at >= len(lines) or left[: len(words)] != words:
            out.extend([None] * (len(cues) - len(out)))
            break
        out.append(lines[at])
        left = left[len(words) :]
    return out


def _frames(seconds: Fraction, fps: Fraction) -> str:
    return f"{float(seconds):.3f}s ({float(seconds * fps):.1f} frames)"


def caption_sync(
    episode: ir.Episode,
    shotlist: a.ShotList,
    srt: str,
    voices: dict[str, Path],
    diags: Diagnostics,
) -> SyncOutcome:
    """Judge the cues of ``srt`` (the built ``captions.srt``) against the
    shot changes of ``shotlist`` and the speech measured in ``voices`` (line
    id → its ``voice.wav``), for every deliverable that carries captions.
    Warnings go to ``diags``; failures on publish deliverables are collected
    in the outcome's ``blocked`` (the build raises them once its outputs,
    RenderOutput with these results included, are kept as the failed set)."""
    outcome = SyncOutcome()
    targets = carriers(episode)
    if not targets:
        return outcome
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    cues = read_srt(srt)
    lines = _lines(episode, shotlist, fps)
    owner = owners(cues, lines)
    cuts = [(Fraction(s.start_frame) / fps, s.id) for s in shotlist.shots[1:] if s.start_frame > 0]
    # (target, reason, fix, span, amount past a cut or None for an onset miss)
    found: list[tuple[str, str, str, Span | None, Fraction | None]] = []
    for number, (cue, line) in enumerate(zip(cues, owner, strict=True), start=1):
        start, end = (
            Fraction(cue.start).limit_denominator(1000),
            Fraction(cue.end).limit_denominator(1000),
        )
        for cut, shot in cuts:
            if start < cut < end:
                whose = f" (line {line.id})" if line is not None else ""
                found.append(
                    (
                        f"cue {number}{whose} at the cut to {shot}",
                        f"it runs {_frames(end - cut, fps)} past the cut at {float(cut):.3f}s",
                        f"end the line before the cut: make shot {line.shot if line else ''} "
                        "`auto` or longer, or shorten the line; or allow more with "
                        "`cut_tolerance` in the caption style",
                        line.span if line is not None else None,
                        end - cut,
                    )
                )
    firsts = {}
    for cue, line in zip(cues, owner, strict=True):
        if line is not None and line.id not in firsts:
            firsts[line.id] = (cue, line)
    limit = Fraction(ONSET_FRAMES) / fps
    for cue, line in firsts.values():
        path = voices.get(line.id)
        heard = speech_onset(path) if path is not None else None
        if heard is None:
            continue  # no voice, or a silent one: QC's silence check judges that
        onset = line.start + Fraction(heard).limit_denominator(RATE)
        shown = Fraction(cue.start).limit_denominator(1000)
        if abs(shown - onset) > limit:
            early = "before" if shown < onset else "after"
            found.append(
                (
                    f"line {line.id}",
                    f"its caption starts at {float(shown):.3f}s, "
                    f"{_frames(abs(shown - onset), fps)} {early} its speech is heard "
                    f"(measured at {float(onset):.3f}s); "
                    f"at most {ONSET_FRAMES} frames is in sync",
                    "trim the silence before the first word of the recording (its words are "
                    "timed from its first sample when they cannot be aligned), or record it "
                    "in a language the aligner reads",
                    line.span,
                    None,
                )
            )
    failing: dict[int, list[str]] = {}
    warning: dict[int, list[str]] = {}
    for name, publish, style in targets:
        tolerance, written = cut_tolerance(episode, style, fps)
        bad = False
        for i, (target, reason, fix, span, past) in enumerate(found):
            if past is not None and past <= tolerance:
                continue
            bad = True
            if past is not None:
                reason = f"{reason}; caption style {style} allows {written}"
            (failing if publish else warning).setdefault(i, []).append(name)
            outcome.results.append(
                a.GateResult(
                    gate=GATE,
                    deliverable=name,
                    publish=publish,
                    target=target,
                    status="fail" if publish else "warn",
                    reason=reason,
                    fix=fix,
                    site=site(span),
                )
            )
        if not bad:
            outcome.results.append(
                a.GateResult(
                    gate=GATE, deliverable=name, publish=publish, target="*", status="pass"
                )
            )
    for i, (target, reason, fix, span, _) in enumerate(found):
        if i in failing:
            names = ", ".join(f"'{n}'" for n in failing[i])
            outcome.blocked.error(
                f"caption sync gate: {target}: {reason}; it blocks the publish "
                f"deliverable(s) {names}",
                span,
                fix,
            )
        elif i in warning:
            names = ", ".join(f"'{n}'" for n in warning[i])
            diags.warning(
                f"caption sync gate: {target}: {reason} (a warning for {names}, which is not "
                "published; it would block a `publish true` deliverable)",
                span,
                fix,
            )
    return outcome
