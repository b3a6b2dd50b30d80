"""Lower the planned episode to the target graph of actions.

One ``segment`` action per shot, position-independent (its parameters hold
no absolute time, id or position); a ``tail`` action where a crossfade needs
the previous shot's last frame; then assembly: ``concat`` (stream copy),
``audio`` (one continuous track), ``mux`` (the master) and ``captions``
(SRT + WebVTT). Target labels name the actions a user can build.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from reel.backends import captions as captions_backend
from reel.backends.ffmpeg import assemble, segment
from reel.backends.ffmpeg.encode import encoder_params, is_hermetic
from reel.backends.fonts import font_file
from reel.lang import ir
from reel.lang.values import Time

from . import artifacts as a
from . import roles
from .actions import Action, ActionInput, BlobInput, SourceInput
from .deliverables import lower_deliverables
from .lower_audio import lower_audio, lower_captions
from .pipeline import PlanResult
from .store import Store

WRAP_WIDTH = 0.86  # share of the frame width a title may take before it wraps
GLYPH_WIDTH = 0.56  # average glyph width as a share of the font size (DejaVu Sans)

# Targets a user can type after the colon: examples/pilot:master
TARGETS = {
    "master": "mux",
    "video": "concat",
    "audio": "loudness",
    "captions": "captions",
    "stems": "mix",
}
# Files each target's action delivers into the output tree.
DELIVERS: dict[str, list[tuple[str, str]]] = {
    "mux": [("master.mp4", "master.mp4")],
    "captions": [
        ("captions.srt", "captions.srt"),
        ("captions.vtt", "captions.vtt"),
        ("captions.ass", "captions.ass"),
    ],
    "mix": [
        ("voice-stem.wav", "stems/voice.wav"),
        ("music-stem.wav", "stems/music.wav"),
        ("effects-stem.wav", "stems/effects.wav"),
    ],
}


@dataclass
class Lowered:
    actions: list[Action]
    targets: dict[str, str]  # label -> action id
    delivers: dict[str, list[tuple[str, str]]]  # action id -> [(output, path in the tree)]
    default_targets: list[str]

    def by_id(self) -> dict[str, Action]:
        return {x.id: x for x in self.actions}


def _seconds(frames: int, fps: Fraction) -> float:
    return round(float(Fraction(frames) / fps), 6)


def _time_seconds(value: Any, fps: Fraction, default: float) -> float:
    if isinstance(value, Time):
        return float(value.seconds(fps))
    return default


def _wrap(text: str, size_px: int, width: int) -> str:
    limit = max(8, int(width * WRAP_WIDTH / (size_px * GLYPH_WIDTH)))
    out = []
    for paragraph in text.split("\n"):
        out.append("\n".join(captions_backend.wrap(paragraph.split(), limit)) or paragraph)
    return "\n".join(out)


class Lowering:
    def __init__(self, plan: PlanResult, root: Path, store: Store) -> None:
        self.plan = plan
        self.root = root
        self.store = store
        self.episode = plan.episode
        self.fps = Fraction(plan.shotlist.fps_num, plan.shotlist.fps_den)
        self.styles = {b.name: dict(b.props) for b in self.episode.text_styles}
        self.assets = {x.id: x for x in plan.manifest.assets}
        self.ir_shots = {s.id: s for s in self.episode.shots}
        self.actions: list[Action] = []
        self.tails: set[str] = set()
        self.targets: dict[str, str] = dict(TARGETS)
        self.delivers: dict[str, list[tuple[str, str]]] = {k: list(v) for k, v in DELIVERS.items()}

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

    def origin(self, shot_id: str) -> str | None:
        span = self.ir_shots[shot_id].span
        return str(span) if span is not None else None

    # -- segments ------------------------------------------------------------
    def plate(
        self, shot: a.ShotEntry, inputs: dict[str, Any], reframe: str = "focus"
    ) -> dict[str, Any]:
        spec = shot.plate
        plate: dict[str, Any] = {"kind": spec.kind}
        if spec.asset_id is not None:
            asset = self.assets[spec.asset_id]
            if asset.placeholder:
                plate["kind"] = "placeholder"
                inputs["slate.txt"] = BlobInput(f"missing file\n{asset.path}".encode())
            else:
                name = segment.PLATE_IMAGE if spec.kind == "image" else segment.PLATE_VIDEO
                inputs[name] = SourceInput(self.root / asset.path)
                plate["fit"] = spec.fit or "cover"
                # `reframe focus` crops around the shot's focus, `center` ignores it.
                focus = shot.focus if reframe == "focus" else "center"
                plate["focus"] = list(segment.FOCUS_POINTS[focus])
                if spec.kind == "video":
                    plate["in_s"] = _seconds(spec.in_frame, self.fps) if spec.in_frame else None
                    plate["out_s"] = (
                        _seconds(spec.out_frame, self.fps) if spec.out_frame is not None else None
                    )
        elif spec.kind == "placeholder":
            inputs["slate.txt"] = BlobInput((spec.description or "").encode())
        else:
            plate["colours"] = list(spec.colours)
            plate.update({k: v for k, v in spec.options.items() if k in ("angle", "cell", "width")})
        if plate["kind"] == "placeholder":
            inputs["font-bold.ttf"] = SourceInput(font_file(None, True))
            inputs["font-regular.ttf"] = SourceInput(font_file(None, False))
        return plate

    def overlays(
        self, shot: a.ShotEntry, inputs: dict[str, Any], width: int, height: int
    ) -> list[dict[str, Any]]:
        out = []
        for i, overlay in enumerate(shot.overlays):
            style = self.styles.get(overlay.style, {})
            bold = bool(style.get("bold", False))
            font = font_file(style.get("font"), bold)
            font_name = f"font-{font.stem.lower()}.ttf"
            inputs[font_name] = SourceInput(font)
            size = int(style.get("size", 64))
            size_px = max(8, round(size * min(width, height) / segment.REFERENCE_HEIGHT))
            text = overlay.text.upper() if style.get("uppercase") else overlay.text
            inputs[f"text-{i}.txt"] = BlobInput(_wrap(text, size_px, width).encode())
            start = _seconds(overlay.start_frame, self.fps)
            end = (
                None
                if overlay.duration_frames is None
                else _seconds(overlay.start_frame + overlay.duration_frames, self.fps)
            )
            margin = style.get("margin")
            out.append(
                {
                    "text_file": f"text-{i}.txt",
                    "font_file": font_name,
                    "size": size,
                    "color": style.get("color", "#ffffff"),
                    "outline": style.get("outline"),
                    "outline_width": style.get("outline_width", 2),
                    "shadow": style.get("shadow"),
                    "box": style.get("box"),
                    "animation": style.get("animation"),
                    "position": overlay.position or style.get("position", "center"),
                    "margin": float(margin) if margin is not None else 6.0,
                    "start_s": start,
                    "end_s": end,
                }
            )
        return out

    def transition(self, index: int, shot: a.ShotEntry) -> dict[str, Any]:
        """The transition into shot ``index`` as it is rendered."""
        transition = {"kind": shot.transition.kind, "frames": shot.transition.frames}
        if transition["kind"] == "crossfade" and index == 0:
            transition["kind"] = "dip_to_black"  # nothing to fade from
        return transition

    def segment(
        self,
        index: int,
        shot: a.ShotEntry,
        width: int,
        height: int,
        suffix: str = "",
        *,
        encoder: a.EncoderSettings | None = None,
        reframe: str = "focus",
        clean: bool = False,
    ) -> Action:
        """One shot's render. ``clean``: the shot's own frames only (plate and
        motion, no titles, no transition), the clean plate an editor's timeline
        puts on V1 under live titles."""
        inputs: dict[str, Any] = {}
        transition = self.transition(index, shot)
        if clean:
            transition = {"kind": "cut", "frames": 0}
        elif transition["kind"] == "crossfade":
            prev = self.plan.shotlist.shots[index - 1]
            self.tails.add(prev.id)
            inputs[segment.PREV_FRAME] = ActionInput(f"tail{suffix}/{prev.id}", "tail.png")
        params = {
            "width": width,
            "height": height,
            "fps": [self.plan.shotlist.fps_num, self.plan.shotlist.fps_den],
            "frames": shot.duration_frames,
            "plate": self.plate(shot, inputs, reframe),
            "motion": shot.motion.model_dump(mode="json"),
            "overlays": [] if clean else self.overlays(shot, inputs, width, height),
            "transition": transition,
            "encoder": self.encoder(encoder),
        }
        return Action(
            id=f"{'plate' if clean else 'segment'}{suffix}/{shot.id}",
            kind="segment",
            params=params,
            inputs=inputs,
            outputs=(segment.OUTPUT,),
            commands=segment.segment_commands,
            hermetic=self.hermetic_video,
            origin=self.origin(shot.id),
            scene=shot.scene_id,
            description=f"{'clean plate of' if clean else 'render'} shot {shot.id}",
        )

    # -- assembly --------------------------------------------------------------------
    def caption_rules(self) -> dict[str, Any]:
        style = next(
            (
                dict(b.props)
                for b in self.episode.caption_styles
                if b.name == self.episode.caption_style
            ),
            {},
        )
        rules: dict[str, Any] = {}
        for key in ("max_chars_per_line", "max_lines"):
            if key in style:
                rules[key] = int(style[key])
        for key in ("min_duration", "max_duration", "min_gap"):
            if key in style:
                rules[key] = round(_time_seconds(style[key], self.fps, 0.0), 6)
        return rules

    def picture(
        self,
        width: int,
        height: int,
        suffix: str = "",
        *,
        encoder: a.EncoderSettings | None = None,
        reframe: str = "focus",
    ) -> str:
        """Segments, crossfade tails and the joined picture at one size; returns the
        id of the joining action. ``suffix`` keeps a rendition's ids apart."""
        shots = self.plan.shotlist.shots
        self.tails = set()
        self.actions.extend(
            self.segment(i, shot, width, height, suffix, encoder=encoder, reframe=reframe)
            for i, shot in enumerate(shots)
        )
        for shot in shots:
            if shot.id in self.tails:
                self.actions.append(
                    Action(
                        id=f"tail{suffix}/{shot.id}",
                        kind="tail_frame",
                        params={"frames": shot.duration_frames},
                        inputs={
                            "segment.mp4": ActionInput(f"segment{suffix}/{shot.id}", "segment.mp4")
                        },
                        outputs=("tail.png",),
                        commands=assemble.tail_frame_commands,
                        origin=self.origin(shot.id),
                        scene=shot.scene_id,
                        description=f"last frame of {shot.id}",
                    )
                )
        names = [f"seg-{i:04d}.mp4" for i in range(1, len(shots) + 1)]
        concat_inputs: dict[str, Any] = {"list.txt": BlobInput(assemble.concat_list(names))}
        for name, shot in zip(names, shots, strict=True):
            concat_inputs[name] = ActionInput(f"segment{suffix}/{shot.id}", "segment.mp4")
        self.actions.append(
            Action(
                id=f"concat{suffix}",
                kind="concat",
                params={},
                inputs=concat_inputs,
                outputs=("video.mp4",),
                commands=assemble.concat_commands,
                description="join the segments",
            )
        )
        return f"concat{suffix}"

    @property
    def reframe(self) -> str:
        """How the shared picture crops plates: the master deliverable's ``reframe``."""
        primary = roles.primary_video(self.episode)
        return str(roles.props(primary).get("reframe", "focus")) if primary else "focus"

    def lower(self) -> Lowered:
        self.picture(self.plan.shotlist.width, self.plan.shotlist.height, reframe=self.reframe)
        lower_audio(self)
        self.actions.append(
            Action(
                id="mux",
                kind="mux",
                params={},
                inputs={
                    "video.mp4": ActionInput("concat", "video.mp4"),
                    "audio.m4a": ActionInput("loudness", "audio.m4a"),
                },
                outputs=("master.mp4",),
                commands=assemble.mux_commands,
                description="the MP4 master",
            )
        )
        self.actions.append(lower_captions(self))
        lower_deliverables(self, self.plan.diagnostics)
        for action in self.actions:
            self.targets.setdefault(action.id, action.id)
        named = [d.name for d in self.episode.deliverables if self.targets.get(d.name) is not None]
        defaults = [*named, "captions"] if named else ["master", "captions"]
        return Lowered(self.actions, self.targets, self.delivers, defaults)


def lower(plan: PlanResult, root: Path, store: Store) -> Lowered:
    return Lowering(plan, root, store).lower()


__all__ = ["DELIVERS", "TARGETS", "Lowered", "ir", "lower"]
