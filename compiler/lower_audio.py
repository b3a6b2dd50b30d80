"""Lowering of the sound: voices → (music bed, effects) → mix → loudness, and
the captions, whose times come from the rendered voices.

Every line's voice starts at the first audio sample of its ShotList frame,
so picture and sound line up to the sample at whole frame rates.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from reel.backends import captions as captions_backend
from reel.backends.audio import loudness as loudness_backend
from reel.backends.audio import mix as mix_backend
from reel.backends.audio.voice import RATE
from reel.lang.values import Time

from . import roles
from .actions import Action, ActionInput, SourceInput
from .voices import voice_actions

if TYPE_CHECKING:
    from .lower import Lowering

DUCK_DEFAULTS = {"gain_db": -12.0, "attack": 0.08, "release": 0.3}  # seed 004 §6.3


def sample(lowering: Lowering, frame: int) -> int:
    """A frame's first audio sample (exact at whole frame rates)."""
    return round(Fraction(frame) / lowering.fps * RATE)


def line_starts(lowering: Lowering) -> dict[str, int]:
    return {
        cue.line_id: sample(lowering, shot.start_frame + cue.start_frame)
        for shot in lowering.plan.shotlist.shots
        for cue in shot.lines
    }


def _effects(lowering: Lowering, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    effects = []
    known = {a.id for a in lowering.actions}
    for shot in lowering.plan.shotlist.shots:
        for cue in shot.sfx:
            action_id = f"effect/{cue.asset_id}"
            if action_id not in known:
                known.add(action_id)
                lowering.actions.append(
                    Action(
                        id=action_id,
                        kind="decode_effect",
                        params={},
                        inputs={"effect": SourceInput(lowering.root / cue.asset_id)},
                        outputs=("effect.wav",),
                        commands=mix_backend.decode_effect_commands,
                        description=f"decode {cue.asset_id}",
                    )
                )
            name = f"effect-{len(effects):03d}.wav"
            inputs[name] = ActionInput(action_id, "effect.wav")
            effects.append(
                {
                    "file": name,
                    "gain_db": cue.gain_db,
                    "start": sample(lowering, shot.start_frame + cue.start_frame),
                }
            )
    return effects


def lower_audio(lowering: Lowering) -> None:
    voices = voice_actions(lowering.episode, lowering.root, lowering.store)
    lowering.actions.extend(voices)
    starts = line_starts(lowering)
    inputs: dict[str, Any] = {}
    placements = []
    for action in voices:
        lid = action.id.removeprefix("voice/")
        name = f"voice-{lid}.wav"
        inputs[name] = ActionInput(action.id, "voice.wav")
        placements.append({"file": name, "start": starts[lid]})
    effects = _effects(lowering, inputs)
    total_frames = lowering.plan.shotlist.total_frames
    music = lowering.episode.music
    duck = dict(DUCK_DEFAULTS)
    if music is not None:
        seconds = round(float(Fraction(total_frames) / lowering.fps), 6)
        lowering.actions.append(
            Action(
                id="music_bed",
                kind="music_bed",
                params={
                    "seconds": seconds,
                    "gain_db": float(music.gain_db),
                    "fade_in": 0.5,
                    "fade_out": 2.0,
                },
                inputs={"music": SourceInput(lowering.root / music.path)},
                outputs=("music.wav",),
                commands=mix_backend.music_bed_commands,
                description="the music bed, fitted to the episode",
            )
        )
        inputs["music.wav"] = ActionInput("music_bed", "music.wav")
        duck.update(
            {
                k: float(v.seconds(lowering.fps)) if isinstance(v, Time) else float(v)
                for k, v in music.duck.items()
            }
        )
    lowering.actions.append(
        Action(
            id="mix",
            kind="mix",
            params={
                "samples": sample(lowering, total_frames),
                "voices": placements,
                "effects": effects,
                "music": music is not None,
                "duck": duck,
            },
            inputs=inputs,
            outputs=("mix.wav", "voice-stem.wav", "music-stem.wav", "effects-stem.wav"),
            run=mix_backend.mix,
            description="voice, music and effects; music ducked under voice",
        )
    )
    lowering.actions.append(
        Action(
            id="loudness",
            kind="loudness",
            # The master's sound: its deliverable's loudness, peak and bitrate.
            params=roles.audio_settings(roles.primary_video(lowering.episode)),
            inputs={"mix.wav": ActionInput("mix", "mix.wav")},
            outputs=("audio.m4a", "loudness.json"),
            run=loudness_backend.normalise,
            description="two-pass EBU R128 loudness, linear",
        )
    )


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, Fraction) else v) for k, v in sorted(props.items())}


def lower_captions(
    lowering: Lowering,
    action_id: str = "captions",
    size: tuple[int, int] | None = None,
    style_name: str | None = None,
) -> Action:
    """The captions action; with ``size``, an ASS laid out for another frame
    (a vertical rendition keeps its captions inside the safe area); with
    ``style_name``, in that caption style instead of the episode's."""
    import pysubs2

    script_lines = {line.id: line for scene in lowering.plan.script.scenes for line in scene.lines}
    starts = line_starts(lowering)
    inputs: dict[str, Any] = {}
    lines = []
    for shot in lowering.plan.shotlist.shots:
        for cue in shot.lines:
            name = f"words-{cue.line_id}.json"
            inputs[name] = ActionInput(f"voice/{cue.line_id}", "words.json")
            line = script_lines[cue.line_id]
            lines.append(
                {
                    "start": round(starts[cue.line_id] / RATE, 6),
                    "text": line.text,
                    "words": name,
                    "keywords": list(line.keywords),
                }
            )
    style = next(
        (
            dict(b.props)
            for b in lowering.episode.caption_styles
            if b.name == (style_name or lowering.episode.caption_style)
        ),
        {},
    )
    styles = {
        role: _plain(lowering.styles.get(style.get(role, ""), {})) for role in ("base", "accent")
    }
    keywords = sorted(
        {k.strip().lower() for k in str(style.get("keywords", "")).split(",") if k.strip()}
    )
    return Action(
        id=action_id,
        kind="captions",
        inputs=inputs,
        params={
            "lines": lines,
            "rules": lowering.caption_rules(),
            "phrases": {
                "max_words": int(style.get("max_words_per_phrase", 4)),
                "accent_ratio": float(style.get("accent_ratio", 30)),
                "keywords": keywords,
                "styles": styles,
                "width": size[0] if size else lowering.plan.shotlist.width,
                "height": size[1] if size else lowering.plan.shotlist.height,
            },
            "writer": f"pysubs2 {pysubs2.__version__}",
            # Cue times snap to the episode's frames (exact x/1001 rates included).
            "fps": [lowering.plan.shotlist.fps_num, lowering.plan.shotlist.fps_den],
        },
        outputs=("captions.srt", "captions.vtt", "captions.ass"),
        run=captions_backend.write_sidecars,
        toolchain=False,
        description="SRT, WebVTT and ASS captions, timed by the voices",
    )
