"""The sound: voices → (music bed, effects) → mix → loudness.

Every line's voice starts at the first audio sample of its ShotList frame,
so picture and sound line up to the sample at whole frame rates. The voice
actions themselves come from the voices stage (audio is the clock): this rule
places them.
"""

from __future__ import annotations

from typing import Any

from reel.backends.audio import camera
from reel.backends.ffmpeg import segment
from reel.lang import ir
from reel.lang.values import Time

from .. import artifacts as a
from .. import roles
from ..actions import Action, ActionInput, Input, Label, SourceInput, make, where
from .context import Context
from .produced import Produced

DUCK_DEFAULTS = {"gain_db": -12.0, "attack": 0.08, "release": 0.3}  # seed 004 §6.3
MUSIC_FADE_IN = 0.5
MUSIC_FADE_OUT = 2.0
STEMS = [
    ("voice-stem.wav", "stems/voice.wav"),
    ("music-stem.wav", "stems/music.wav"),
    ("effects-stem.wav", "stems/effects.wav"),
]


CAMERA_STEM = ("camera-stem.wav", "stems/camera.wav")


def camera_id(shot_id: str) -> str:
    return f"camera/{shot_id}"


def camera_shots(ctx: Context) -> list[a.ShotEntry]:
    """The shots whose plate's own sound is heard: a video plate whose clip has
    sound and does not say `sound off` (camera sound is on by default). A shot
    whose line is spoken on camera is not one, whatever its `sound`: its take's
    sound is that line, heard once, through the voices (stem, ducking, captions)."""
    out = []
    for shot in ctx.shots:
        clip = ctx.plan.clips.get(shot.id)
        if clip is None or not clip.has_sound or clip.seconds <= 0:
            continue
        if any(line.on_camera for line in ctx.ir_shots[shot.id].lines):
            continue
        if shot.plate.options.get("sound", "on") == "on":
            out.append(shot)
    return out


def camera_action(ctx: Context, shot: a.ShotEntry) -> Action:
    """One shot's camera sound, cut from its clip as its picture is, fitted to
    the shot (see ``backends.audio.camera``)."""
    spec = shot.plate
    clip = ctx.plan.clips[shot.id]
    extend = str(spec.options.get("extend", "hold"))
    at = where(ctx.ir_shots[shot.id].plate.span)
    assert spec.asset_id is not None
    return make(
        "camera_sound",
        camera_id(shot.id),
        {
            "in_s": ctx.seconds(spec.in_frame) if spec.in_frame else None,
            "clip_s": clip.seconds,
            "samples": ctx.sample(shot.start_frame + shot.duration_frames)
            - ctx.sample(shot.start_frame),
            "extend": extend,
            "fps": ctx.fps_pair,
            "cycle_frames": segment.clip_frames(clip.seconds, ctx.fps_pair),
            "clean": str(spec.options.get("clean", "off")),
        },
        {camera.CLIP: SourceInput(ctx.root / spec.asset_id)},
        origin=ctx.origin(shot.id),
        scene=shot.scene_id,
        description=f"the camera sound of shot {shot.id}",
        labels={
            camera.CLIP: Label(f"the video of shot {shot.id} ({spec.asset_id})", at),
            "in_s": Label(f"the in point of shot {shot.id}", at),
            "clip_s": Label(f"the part of {spec.asset_id} shot {shot.id} uses", at),
            "samples": Label(f"the length of shot {shot.id}"),
            "extend": Label(f"how shot {shot.id} extends its clip", at),
            "clean": Label(f"the cleanup of shot {shot.id}'s camera sound", at),
        },
    )


def _camera(
    ctx: Context, inputs: dict[str, Input], labels: dict[str, Label]
) -> tuple[list[Action], list[dict[str, Any]]]:
    actions, placed = [], []
    for shot in camera_shots(ctx):
        action = camera_action(ctx, shot)
        actions.append(action)
        name = f"camera-{len(placed):03d}.wav"
        inputs[name] = ActionInput(action.id, camera.OUTPUT)
        at = where(ctx.ir_shots[shot.id].plate.span)
        labels[f"camera[{len(placed)}]"] = Label(f"the camera sound of shot {shot.id}", at)
        duck = shot.plate.options.get("duck")
        placed.append(
            {
                "file": name,
                "start": ctx.sample(shot.start_frame),
                "gain_db": float(shot.plate.options.get("gain", 0.0)),
                "duck": float(duck) if duck is not None else None,
            }
        )
    return actions, placed


def effect_id(asset: str) -> str:
    return f"effect/{asset}"


def _effects(
    ctx: Context, inputs: dict[str, Input], labels: dict[str, Label]
) -> tuple[list[Action], list[dict[str, Any]]]:
    actions: dict[str, Action] = {}
    placed = []
    for shot in ctx.shots:
        spans = [where(s.span) for s in ctx.ir_shots[shot.id].sfx]
        for i, cue in enumerate(shot.sfx):
            action_id = effect_id(cue.asset_id)
            at = spans[i] if i < len(spans) else None
            if action_id not in actions:
                actions[action_id] = make(
                    "decode_effect",
                    action_id,
                    {},
                    {"effect": SourceInput(ctx.root / cue.asset_id)},
                    description=f"decode {cue.asset_id}",
                    labels={"effect": Label(f"the sound file {cue.asset_id}", at)},
                )
            name = f"effect-{len(placed):03d}.wav"
            inputs[name] = ActionInput(action_id, "effect.wav")
            labels[f"effects[{len(placed)}]"] = Label(
                f"the sound effect {cue.asset_id} in shot {shot.id}", at
            )
            placed.append(
                {
                    "file": name,
                    "gain_db": cue.gain_db,
                    "start": ctx.sample(shot.start_frame + cue.start_frame),
                }
            )
    return list(actions.values()), placed


# The blueprint field each loudness parameter comes from.
LOUDNESS_FIELDS = {
    "target_lufs": "loudness",
    "true_peak_dbtp": "true_peak",
    "bitrate_kbps": "audio_bitrate",
}


def loudness(
    action_id: str,
    settings: dict[str, Any],
    description: str,
    deliverable: ir.Deliverable | None = None,
) -> Action:
    """A loudness pass of the mix to ``settings`` (target, true-peak ceiling, bitrate)."""
    labels = {}
    for param, name in LOUDNESS_FIELDS.items():
        if deliverable is None:
            labels[param] = Label(f"the master's {name}")
        else:
            at = where(deliverable.field_span(name))
            labels[param] = Label(f"the {name} of deliverable {deliverable.name}", at)
    return make(
        "loudness",
        action_id,
        settings,
        {"mix.wav": ActionInput("mix", "mix.wav")},
        description=description,
        labels=labels,
    )


def loudness_of(ctx: Context, deliverable: ir.Deliverable) -> tuple[str, list[Action]]:
    """The loudness action a video deliverable's sound comes from: the master's
    when its loudness, peak and bitrate are the same (a field it leaves unset is
    the master's), else its own."""
    settings = roles.audio_settings(deliverable, ctx.episode)
    if settings == roles.audio_settings(roles.primary_video(ctx.episode)):
        return "loudness", []
    action_id = f"loudness/{deliverable.name}"
    made = loudness(action_id, settings, f"loudness for {deliverable.name}", deliverable)
    return action_id, [made]


def rule(ctx: Context) -> Produced:
    actions: list[Action] = list(ctx.voices)
    inputs: dict[str, Input] = {}
    music = ctx.episode.music
    music_at = where(music.span) if music is not None else None
    labels = {
        "samples": Label("the episode's length"),
        "voices": Label("when the lines start"),
        "effects": Label("the sound effects"),
        "music": Label("the music bed", music_at),
        "duck": Label("the music's ducking", music_at),
    }
    placements = []
    for voice in ctx.voices:
        line = voice.id.removeprefix("voice/")
        name = f"voice-{line}.wav"
        inputs[name] = ActionInput(voice.id, "voice.wav")
        said = voice.labels.get("text")
        labels[f"voices[{len(placements)}]"] = Label(
            f"when line {line} starts", said.where if said else None
        )
        placements.append({"file": name, "start": ctx.line_starts[line]})
    effects, placed = _effects(ctx, inputs, labels)
    actions += effects
    cameras, camera_placed = _camera(ctx, inputs, labels)
    actions += cameras
    total = ctx.plan.shotlist.total_frames
    duck = dict(DUCK_DEFAULTS)
    if music is not None:
        actions.append(
            make(
                "music_bed",
                "music_bed",
                {
                    "seconds": ctx.seconds(total),
                    "gain_db": float(music.gain_db),
                    "fade_in": MUSIC_FADE_IN,
                    "fade_out": MUSIC_FADE_OUT,
                },
                {"music": SourceInput(ctx.root / music.path)},
                description="the music bed, fitted to the episode",
                labels={
                    "seconds": Label("the episode's length"),
                    "gain_db": Label("the music's gain", music_at),
                    "music": Label(f"the music file {music.path}", music_at),
                },
            )
        )
        inputs["music.wav"] = ActionInput("music_bed", "music.wav")
        duck.update(
            {
                k: float(v.seconds(ctx.fps)) if isinstance(v, Time) else float(v)
                for k, v in music.duck.items()
            }
        )
    mix_params: dict[str, Any] = {
        "samples": ctx.sample(total),
        "voices": placements,
        "effects": placed,
        "music": music is not None,
        "duck": duck,
    }
    stems = list(STEMS)
    if camera_placed:  # an episode without camera sound keeps its three stems
        mix_params["camera"] = camera_placed
        stems.append(CAMERA_STEM)
    actions.append(
        make(
            "mix",
            "mix",
            mix_params,
            inputs,
            outputs=tuple(name for name, _ in [("mix.wav", ""), *stems]),
            description="voice, music, effects and camera sound; music ducked under voice",
            labels=labels,
        )
    )
    # The master's sound: its deliverable's loudness, peak and bitrate.
    primary = roles.primary_video(ctx.episode)
    settings = roles.audio_settings(primary)
    actions.append(loudness("loudness", settings, "the master's loudness", primary))
    return Produced(actions, {"audio": "loudness", "stems": "mix"}, {"mix": stems})
