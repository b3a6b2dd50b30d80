"""The read-only context every rule lowers from.

It holds the planned episode (the four artifacts), the project root and the
voice actions the voices stage already made, plus what several rules derive
from them (frame rate, styles, encoder settings). Rules read it and return
actions; none writes into it or into another rule's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reel.backends.audio.voice import RATE
from reel.backends.ffmpeg.encode import encoder_params, hardware, is_hermetic

from .. import artifacts as a
from .. import roles
from ..actions import Action

if TYPE_CHECKING:
    from reel.lang import ir

    from ..pipeline import PlanResult


@dataclass(frozen=True)
class Context:
    plan: PlanResult
    root: Path
    voices: tuple[Action, ...]  # one per line, made by the voices stage

    @property
    def episode(self) -> ir.Episode:
        return self.plan.episode

    @property
    def shots(self) -> list[a.ShotEntry]:
        return self.plan.shotlist.shots

    @cached_property
    def fps(self) -> Fraction:
        return Fraction(self.plan.shotlist.fps_num, self.plan.shotlist.fps_den)

    @property
    def fps_pair(self) -> list[int]:
        return [self.plan.shotlist.fps_num, self.plan.shotlist.fps_den]

    @property
    def size(self) -> tuple[int, int]:
        return self.plan.shotlist.width, self.plan.shotlist.height

    @cached_property
    def styles(self) -> dict[str, dict[str, Any]]:
        return {b.name: dict(b.props) for b in self.episode.text_styles}

    @cached_property
    def assets(self) -> dict[str, a.AssetEntry]:
        return {x.id: x for x in self.plan.manifest.assets}

    @cached_property
    def ir_shots(self) -> dict[str, ir.Shot]:
        return {s.id: s for s in self.episode.shots}

    def origin(self, shot_id: str) -> str | None:
        span = self.ir_shots[shot_id].span
        return str(span) if span is not None else None

    def seconds(self, frames: int) -> float:
        return round(float(Fraction(frames) / self.fps), 6)

    def sample(self, frame: int) -> int:
        """A frame's first audio sample (exact at whole frame rates)."""
        return round(Fraction(frame) / self.fps * RATE)

    @cached_property
    def line_starts(self) -> dict[str, int]:
        """Each line's first sample: the first sample of its ShotList frame."""
        return {
            cue.line_id: self.sample(shot.start_frame + cue.start_frame)
            for shot in self.shots
            for cue in shot.lines
        }

    def encoder(self, settings: a.EncoderSettings | None = None) -> dict[str, Any]:
        """The backend's encoder parameters for a picture action, from the
        RenderPlan's settings (the shared picture's unless ``settings`` is a
        deliverable's): the plan is the one source of what the encoders run."""
        enc = settings or self.plan.render_plan.encoder
        return encoder_params(
            enc.video_codec, preset=enc.preset, crf=enc.crf, threads=enc.threads, gop=enc.gop_frames
        )

    def deliverable_encoder(self, name: str) -> a.EncoderSettings:
        """A video deliverable's encoder settings, as the RenderPlan records them."""
        spec = next(d for d in self.plan.render_plan.deliverables if d.name == name)
        assert spec.encoder is not None, f"{name} is not a video deliverable"
        return spec.encoder

    @property
    def hermetic_video(self) -> bool:
        """False on a backend whose encoder's bytes differ run to run (VideoToolbox)."""
        return is_hermetic(self.plan.render_plan.encoder.video_codec)

    @property
    def video_hardware(self) -> tuple[str, ...]:
        """What a worker must offer to run a picture encode (Dask resource tags)."""
        return hardware(self.plan.render_plan.encoder.video_codec)

    @cached_property
    def reframe(self) -> str:
        """How the shared picture crops plates: the master deliverable's ``reframe``."""
        primary = roles.primary_video(self.episode)
        return str(roles.props(primary).get("reframe", "focus")) if primary else "focus"

    def transition(self, index: int, shot: a.ShotEntry) -> dict[str, Any]:
        """The transition into shot ``index`` as it is rendered."""
        transition = {"kind": shot.transition.kind, "frames": shot.transition.frames}
        if transition["kind"] == "crossfade" and index == 0:
            transition["kind"] = "dip_to_black"  # nothing to fade from
        return transition
