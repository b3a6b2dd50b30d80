"""The editor's hand-off: the cut, its titles, voices, music and effects as
OTIO, FCPXML, FCP7 XML and an EDL, with the media they reference."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from reel.backends import timeline as timeline_backend
from reel.backends.audio.voice import RATE
from reel.lang import ir

from ... import artifacts as a
from ...actions import Action, ActionInput, Input, Label, make, where
from ..context import Context
from ..picture import TEXT_COLOUR, TEXT_SIZE, overlay_labels, segment_action
from ..produced import Produced
from ..sound import camera_id, camera_shots, effect_id

TITLE_FONT = "DejaVu Sans"


def clean_plate(ctx: Context, index: int, shot: a.ShotEntry) -> tuple[str, list[Action]]:
    """The action whose ``segment.mp4`` is the shot's clean plate for V1: the
    shot's own frames (plate and motion) without its titles, which the timeline
    carries as live title elements, nor its transition, which the timeline
    carries as a transition. A shot with neither is its segment as rendered."""
    transition = ctx.transition(index, shot)
    if not shot.overlays and (transition["kind"] == "cut" or not transition["frames"]):
        return f"segment/{shot.id}", []
    plate = segment_action(ctx, index, shot, *ctx.size, reframe=ctx.reframe, clean=True)
    return plate.id, [plate]


def fcp_colour(colour: str) -> str:
    """'#rrggbb' → FCPXML's 'r g b a' in 0..1."""
    body = colour.lstrip("#")
    parts = [int(body[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    alpha = int(body[6:8], 16) / 255 if len(body) == 8 else 1.0
    return " ".join(f"{p:.4g}" for p in (*parts, alpha))


def rule(ctx: Context, deliverable: ir.Deliverable) -> Produced:
    name = deliverable.name
    fps = ctx.fps
    actions: list[Action] = []
    inputs: dict[str, Input] = {}
    shots, titles, voices, effects, markers = [], [], [], [], []
    seen_scenes: set[str] = set()
    labels = {
        "title": Label("the episode's title", where(ctx.episode.span)),
        "total_frames": Label("the episode's length"),
        "shots": Label("the shots' lengths or transitions"),
        "titles": Label("the titles"),
        "voices": Label("when the lines start"),
        "effects": Label("the sound effects"),
        "markers": Label("where the scenes start"),
    }
    for index, shot in enumerate(ctx.shots):
        media = f"media/{shot.id}.mp4"
        plate, made = clean_plate(ctx, index, shot)
        actions += made
        inputs[media] = ActionInput(plate, "segment.mp4")
        shots.append(
            {
                "id": shot.id,
                "media": media,
                "start": shot.start_frame,
                "frames": shot.duration_frames,
                # The transition into this shot; the media does not bake it in.
                "transition": ctx.transition(index, shot),
            }
        )
        if shot.scene_id not in seen_scenes:
            seen_scenes.add(shot.scene_id)
            markers.append({"name": shot.scene_id, "start": shot.start_frame})
        for overlay, label in zip(shot.overlays, overlay_labels(ctx, shot), strict=True):
            labels[f"titles[{len(titles)}]"] = label
            style = ctx.styles.get(overlay.style, {})
            length = (
                overlay.duration_frames
                if overlay.duration_frames is not None
                else shot.duration_frames - overlay.start_frame
            )
            titles.append(
                {
                    "text": overlay.text,
                    "start": shot.start_frame + overlay.start_frame,
                    "frames": max(1, length),
                    "style": overlay.style,
                    "font": style.get("font", TITLE_FONT),
                    "size": int(style.get("size", TEXT_SIZE)),
                    "color": fcp_colour(style.get("color", TEXT_COLOUR)),
                }
            )
        for cue in shot.lines:
            media = f"media/voice-{cue.line_id}.wav"
            inputs[media] = ActionInput(f"voice/{cue.line_id}", "voice.wav")
            voices.append(
                {
                    "id": cue.line_id,
                    "media": media,
                    "start": round(Fraction(ctx.line_starts[cue.line_id], RATE) * fps),
                }
            )
        for i, cue in enumerate(shot.sfx):
            media = f"media/effect-{shot.id}-{i}.wav"
            inputs[media] = ActionInput(effect_id(cue.asset_id), "effect.wav")
            effects.append(
                {
                    "name": cue.asset_id.rsplit("/", 1)[-1],
                    "media": media,
                    "start": shot.start_frame + cue.start_frame,
                }
            )
    camera = []
    for shot in camera_shots(ctx):
        media = f"media/camera-{shot.id}.wav"
        inputs[media] = ActionInput(camera_id(shot.id), "camera.wav")
        camera.append({"name": shot.id, "media": media, "start": shot.start_frame})
    if camera:  # a lane of its own, only where a clip's own sound is heard
        labels["camera"] = Label("the video plates' own sound")
    music = None
    if ctx.episode.music is not None:
        music = "media/music.wav"
        inputs[music] = ActionInput("music_bed", "music.wav")
    params: dict[str, Any] = {
        "episode": ctx.episode.id,
        "title": ctx.episode.title,
        "fps": ctx.fps_pair,
        "width": ctx.size[0],
        "height": ctx.size[1],
        "total_frames": ctx.plan.shotlist.total_frames,
        "shots": shots,
        "titles": titles,
        "voices": voices,
        "effects": effects,
        "music": music,
        "markers": markers,
    }
    if camera:
        params["camera"] = camera
    outputs = (*timeline_backend.OUTPUTS, *sorted(inputs))
    action = make(
        "timeline",
        f"timeline/{name}",
        params,
        inputs,
        outputs,
        description=f"{name}: OTIO, FCPXML, FCP7 XML and EDL with their media",
        labels=labels,
    )
    actions.append(action)
    return Produced(
        actions, {name: action.id}, {action.id: [(out, f"{name}/{out}") for out in outputs]}
    )
