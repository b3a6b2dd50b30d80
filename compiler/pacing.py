"""The Director's pacing checks (seed 002), run at plan time on the ShotList.

Seed 002 paces an episode through five phases, establish → develop →
escalate → peak → resolve, and an episode may promise an ``arc``: each
phase's share of the running time. This pass measures what the blueprint
actually does, from the locked (voice-timed) lengths of the ShotList, so it
costs no render and never re-derives a length:

* **order**: a phase that comes after a later one (``resolve`` before
  ``establish``) is a finding at the shot or scene that breaks the order,
  with the place the later phase was reached as a note. ``develop`` and
  ``peak`` may be left out; going back is what is flagged.
* **proportions**: with an ``arc``, each phase's share of the shots' frames
  against the arc's share, within the arc's tolerance (percentage points,
  default 10). A phase the arc leaves out has a 0% share.
* **unmarked**: shots before the first phase belong to none; a shot with no
  phase of its own or its scene's continues the phase before it.
* **rhythm**: mean, variance and standard deviation of shot length per phase
  (reported; seed 002 sets no target for it, so it is not judged).

Findings are warnings; an arc declared ``strict true`` makes them a gate
(exit 1). The figures are the ``PacingReport`` artifact.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics
from reel.lang.source import Span
from reel.lang.vocabulary import PHASES

from . import artifacts as a

UNMARKED = "unmarked"
ORDER = " → ".join(PHASES)


@dataclass(frozen=True)
class _Shot:
    entry: a.ShotEntry
    phase: str
    span: Span | None  # where its phase was written (the shot's or its scene's)


def _site(span: Span | None) -> str | None:
    """file:line:col relative to the episode folder: artifacts hold no absolute path."""
    return None if span is None else f"{span.file.key}:{span.line}:{span.column}"


def _phased(episode: ir.Episode, script: a.Script, shotlist: a.ShotList) -> list[_Shot]:
    """Each ShotList shot with its phase: its own, else its scene's (from the
    Script), else the phase of the shot before it (a phase runs until the next)."""
    scene_phase = {scene.id: scene.phase for scene in script.scenes}
    shot_span = {shot.id: shot.span for shot in episode.shots}
    scene_span = {scene.id: scene.span for scene in episode.scenes}
    out: list[_Shot] = []
    current, current_span = UNMARKED, None
    for entry in shotlist.shots:
        if entry.phase is not None:
            current, current_span = entry.phase, shot_span.get(entry.id)
        elif scene_phase.get(entry.scene_id) is not None:
            current = scene_phase[entry.scene_id] or UNMARKED
            current_span = scene_span.get(entry.scene_id)
        out.append(_Shot(entry, current, current_span))
    return out


def _fmt(value: Fraction) -> str:
    return f"{float(value):.1f}".removesuffix(".0")


class _Checker:
    def __init__(self, episode: ir.Episode, shots: list[_Shot], total: int) -> None:
        self.episode = episode
        self.arc = episode.pacing
        self.shots = shots
        self.total = total
        self.findings: list[a.PacingFinding] = []
        self.diags = Diagnostics()
        self.severity = "error" if self.arc is not None and self.arc.strict else "warning"

    def add(
        self,
        check: str,
        phase: str,
        message: str,
        span: Span | None,
        help_: str,
        *,
        shot: str | None = None,
        earlier: Span | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.findings.append(
            a.PacingFinding(
                check=check,  # type: ignore[arg-type]
                severity=self.severity,  # type: ignore[arg-type]
                phase=phase,
                message=message,
                shot_id=shot,
                site=_site(span),
                earlier_site=_site(earlier),
            )
        )
        report = self.diags.error if self.severity == "error" else self.diags.warning
        report(f"pacing: {message}", span, help_, notes)

    def order(self) -> None:
        """One finding per run of shots that goes back to an earlier phase."""
        highest: _Shot | None = None
        previous = UNMARKED
        for shot in self.shots:
            if shot.phase == UNMARKED:
                continue
            rank = PHASES.index(shot.phase)
            if highest is not None and rank < PHASES.index(highest.phase):
                if shot.phase != previous:
                    self.add(
                        "order",
                        shot.phase,
                        f"'{shot.phase}' comes after '{highest.phase}' "
                        f"(shot {shot.entry.id}): the phases are out of order",
                        shot.span,
                        f"the Director's order is {ORDER} (develop and peak may be left "
                        "out): move this scene, or give it the phase it plays",
                        shot=shot.entry.id,
                        earlier=highest.span,
                        notes=(f"'{highest.phase}' was reached earlier, at {highest.span}",),
                    )
            elif highest is None or rank > PHASES.index(highest.phase):
                highest = shot
            previous = shot.phase

    def unmarked(self) -> None:
        """Shots before the first phase, in an episode that uses phases."""
        leading = [s for s in self.shots if s.phase == UNMARKED]
        if not leading or len(leading) == len(self.shots):
            return
        first = self.episode.shots[0].span if self.episode.shots else None
        self.add(
            "unmarked",
            UNMARKED,
            f"{len(leading)} shot(s) before the first phase have none (from {leading[0].entry.id})",
            first,
            "give the first scene its phase: `scene ID phase establish { ... }`",
            shot=leading[0].entry.id,
        )

    def proportions(self, frames: dict[str, int], summary: str) -> None:
        arc = self.arc
        if arc is None or self.total == 0:
            return
        if all(s.phase == UNMARKED for s in self.shots):
            self.add(
                "unmarked",
                UNMARKED,
                f"the episode declares arc '{arc.name}' but no shot or scene has a phase",
                arc.span,
                "mark the scenes with their phases: `scene ID phase establish { ... }`",
            )
            return
        shares = dict(arc.shares)
        first = {}
        for shot in reversed(self.shots):
            first[shot.phase] = shot
        for phase in PHASES:
            share = Fraction(frames.get(phase, 0) * 100, self.total)
            target = shares.get(phase, Fraction(0))
            if abs(share - target) <= arc.tolerance:
                continue
            longer = share > target
            at = first.get(phase)
            allowed = f"{_fmt(target)}% ± {_fmt(arc.tolerance)} points"
            if phase == "peak" and longer:
                message = (
                    f"the climax (peak) runs {_fmt(share)}% of the episode, too long for "
                    f"arc '{arc.name}' ({allowed})"
                )
            elif target == 0:
                message = f"'{phase}' runs {_fmt(share)}% of the episode; arc '{arc.name}' has none"
            else:
                word = "longer" if longer else "shorter"
                message = (
                    f"'{phase}' runs {_fmt(share)}% of the episode, {word} than arc "
                    f"'{arc.name}' allows ({allowed})"
                )
            help_ = (
                "shorten or cut its shots, give some of them another phase, or declare the "
                "arc the episode plays (`arc { establish 20% escalate 50% peak 15% resolve 15% }`)"
                if longer
                else "give it more (or longer) shots, or declare the arc the episode plays"
            )
            self.add(
                "proportion",
                phase,
                message,
                at.span if at is not None else arc.span,
                help_,
                shot=at.entry.id if at is not None else None,
                notes=(summary,),
            )


def pacing_report(
    episode: ir.Episode, script: a.Script, shotlist: a.ShotList
) -> tuple[a.PacingReport, Diagnostics]:
    """Measure the ShotList's pacing against the episode's arc.

    Returns the report and its findings as diagnostics: warnings, or errors
    when the arc is strict (the caller turns those into a gate)."""
    shots = _phased(episode, script, shotlist)
    total = sum(s.entry.duration_frames for s in shots)
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    groups: dict[str, list[_Shot]] = {}
    for shot in shots:
        groups.setdefault(shot.phase, []).append(shot)
    frames = {phase: sum(s.entry.duration_frames for s in group) for phase, group in groups.items()}
    arc = episode.pacing
    shares = dict(arc.shares) if arc is not None else {}
    phases = []
    for phase in (UNMARKED, *PHASES):
        group = groups.get(phase)
        if not group:
            continue
        lengths = [Fraction(s.entry.duration_frames) / fps for s in group]
        variance = statistics.pvariance(lengths)
        phases.append(
            a.PhasePacing(
                phase=phase,
                shots=len(group),
                frames=frames[phase],
                share_percent=round(float(Fraction(frames[phase] * 100, total)), 3),
                arc_percent=None
                if arc is None or phase == UNMARKED
                else float(shares.get(phase, 0)),
                mean_shot_seconds=round(float(statistics.mean(lengths)), 4),
                stdev_shot_seconds=round(float(variance) ** 0.5, 4),
                variance_shot_seconds2=round(float(variance), 4),
                visual_types=dict(sorted(Counter(t for s in group for t in s.entry.tags).items())),
            )
        )
    summary = summary_line(phases, arc)
    runs = [s.phase for s in shots]
    checker = _Checker(episode, shots, total)
    checker.order()
    checker.unmarked()
    checker.proportions(frames, summary)
    report = a.PacingReport.build(
        schema_version=a.SCHEMA_VERSION,
        episode=episode.id,
        parents={"Script": script.content_hash, "ShotList": shotlist.content_hash},
        arc=None
        if arc is None
        else a.PacingArc(
            name=arc.name,
            shares={p: float(s) for p, s in arc.shares},
            tolerance_points=float(arc.tolerance),
            strict=arc.strict,
        ),
        total_frames=total,
        sequence=[p for i, p in enumerate(runs) if i == 0 or runs[i - 1] != p],
        phases=phases,
        findings=checker.findings,
        timing_lock_hash=shotlist.timing_lock_hash,
    )
    return report, checker.diags


def summary_line(phases: list[a.PhasePacing], arc: ir.Arc | None) -> str:
    """One line a terminal can show: each phase's share (vs the arc), shots, rhythm."""
    head = "pacing" if arc is None else f"pacing, arc '{arc.name}' ± {_fmt(arc.tolerance)}"
    parts = []
    for p in phases:
        target = "" if p.arc_percent is None else f" (arc {p.arc_percent:g}%)"
        parts.append(
            f"{p.phase} {p.share_percent:.1f}%{target}, {p.shots} shot(s), "
            f"{p.mean_shot_seconds:.2f}s ± {p.stdev_shot_seconds:.2f}s"
        )
    return f"{head}: " + "; ".join(parts)
