"""The language's closed vocabularies and the options each statement accepts.

Keeping these tables in one place lets the resolver check every option and
name with a "did you mean", and lets the docs list them.
"""

from __future__ import annotations

FRAMINGS = (
    "extreme_wide",
    "wide",
    "full",
    "medium",
    "medium_close",
    "close",
    "extreme_close",
    "over_shoulder",
    "insert",
    "pov",
    "establishing",
    "two_shot",
)
TIMES_OF_DAY = ("dawn", "morning", "noon", "afternoon", "dusk", "evening", "night")
PHASES = ("establish", "develop", "escalate", "peak", "resolve")  # seed 002 pacing phases
# Seed 002's visual type taxonomy, closed: a shot `tag` says what the picture is
# for, and the pacing report counts them per phase. `none` excludes the others.
VISUAL_TYPES = ("character", "object", "atmosphere", "instruction", "none")
POSITIONS = ("center", "top", "bottom", "lower_third", "upper_third", "left", "right")
FOCUS = (
    "center",
    "left",
    "right",
    "top",
    "bottom",
    "top_left",
    "top_right",
    "bottom_left",
    "bottom_right",
)
FITS = ("cover", "contain")
# A video plate's own sound, and what a clip shorter than its shot does.
SWITCHES = ("on", "off")
EXTENDS = ("hold", "loop", "pingpong", "speed")
# What a picture file's values are (`colour` on image and video plates):
# display code values (srgb, rec709) or scene light (linear, acescg, slog3).
COLOUR_SPACES = ("srgb", "rec709", "linear", "acescg", "slog3")

# Colour names, accepted everywhere a colour is (plates, text styles, template
# arguments), as their CSS values. Anything else is written "#rgb", "#rrggbb"
# or "#rrggbbaa".
COLOUR_NAMES = {
    "black": "#000000",
    "white": "#ffffff",
    "gray": "#808080",
    "grey": "#808080",
    "red": "#ff0000",
    "green": "#008000",
    "blue": "#0000ff",
    "yellow": "#ffff00",
    "orange": "#ffa500",
    "purple": "#800080",
    "transparent": "#00000000",
}

# plate kind -> (positional argument types, options)
PLATES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "image": (("path",), {"fit": "fit", "colour": "colour_space"}),
    "video": (
        ("path",),
        {
            "in": "time",
            "out": "time",
            "fit": "fit",
            "extend": "extend",
            "sound": "switch",
            "gain": "decibels",
            "duck": "decibels",
            "clean": "cleanup",
            "colour": "colour_space",
        },
    ),
    "solid": (("colour",), {}),
    "gradient": (("colour", "colour"), {"angle": "number"}),
    "checker": (("colour", "colour"), {"cell": "int"}),
    "stripes": (("colour", "colour"), {"width": "int", "angle": "number"}),
    "radial": (("colour", "colour"), {"radius": "number"}),
    "bars": ((), {}),
    "placeholder": (("string",), {}),
}
GENERATED_PLATES = ("solid", "gradient", "checker", "stripes", "radial", "bars")

# motion kind -> default amount (None: takes no amount)
MOTIONS: dict[str, str | None] = {
    "static": None,
    "push_in": "zoom",
    "push_out": "zoom",
    "ken_burns": "zoom",
    "pan_left": "percent",
    "pan_right": "percent",
    "pan_up": "percent",
    "pan_down": "percent",
}
MOTION_OPTIONS = {"toward": "focus", "ease": "bool"}
DEFAULT_ZOOM = "1.1"
DEFAULT_PAN = "10"

TRANSITIONS = {"cut": False, "crossfade": True, "dip_to_black": True}  # -> takes a duration
DEFAULT_TRANSITION = "12f"

OVERLAY_OPTIONS = {"style": "text_style", "at": "time", "for": "time", "position": "position"}
SAY_OPTIONS = {"mood": "name", "file": "path", "clean": "cleanup", "from": "line_source"}
# Where a line's sound comes from, besides speech synthesis and a recorded file:
# `from camera`, the shot's own video plate (dialogue spoken on camera).
LINE_SOURCES = ("camera",)
CLEANUPS = ("off", "light", "strong")  # a recorded line's cleanup (backends/audio/cleanup.py)
SFX_OPTIONS = {"at": "time", "gain": "decibels"}
SHOT_OPTIONS = {"focus": "focus", "tag": "visual_type", "phase": "phase"}
SCENE_OPTIONS = {"at": "location", "time": "time_of_day", "day": "int", "phase": "phase"}
MUSIC_OPTIONS = {
    "bpm": "bpm",
    "license": "string",
    "gain": "decibels",
    "duck": "decibels",
    "attack": "time",
    "release": "time",
    "snap": "time",
}
VOICE_OPTIONS = {"rate": "wpm", "pitch": "pitch", "variant": "name"}  # `tts` (espeak-ng)
PIPER_VOICE_OPTIONS = {"rate": "speed"}  # `piper`: 100% is the model's own pace
VOICE_ENGINES = ("tts", "piper")
CHARACTER_OPTIONS = {"age": "age", "role": "string"}
LOCATION_OPTIONS = {"description": "string", "interior": "bool"}

# Property blocks: kind -> property -> type
BLOCK_PROPS: dict[str, dict[str, str]] = {
    "text_style": {
        "font": "string",
        "size": "int",
        "color": "colour",
        "outline": "colour",
        "outline_width": "int",
        "shadow": "colour",
        "box": "colour",
        "bold": "bool",
        "uppercase": "bool",
        "position": "position",
        "margin": "percent",
        "animation": "name",
    },
    "caption_style": {
        "base": "text_style",
        "accent": "text_style",
        "accent_ratio": "percent",
        "max_chars_per_line": "int",
        "max_lines": "int",
        "min_duration": "time",
        "max_duration": "time",
        "min_gap": "time",
        # how far a cue may run past a shot change (compiler/caption_sync.py)
        "cut_tolerance": "time",
        "max_words_per_phrase": "int",
        "keywords": "string",
        "position": "position",
    },
    "preset": {
        "kind": "deliverable_kind",
        "resolution": "resolution",
        "fps": "fps",
        "container": "name",
        "video_codec": "name",
        "dynamic_range": "name",
        "audio_codec": "name",
        "crf": "int",
        "audio_bitrate": "int",
        "loudness": "loudness",
        "true_peak": "true_peak",
        "captions": "caption_mode",
        "caption_style": "caption_style",
        "reframe": "name",
        "timecode": "bool",
        "labels": "bool",
        "chapters": "bool",
        "publish": "bool",
    },
    # an arc: each phase's share of the episode (they sum to 100%), how far a
    # phase may stray from it, and whether straying blocks (compiler/pacing.py)
    "arc": {
        **{phase: "percent" for phase in PHASES},
        "tolerance": "percent",
        "strict": "bool",
    },
    "asset": {
        "license_type": "string",
        "attribution": "string",
        "purchase_record": "string",
        "provider_or_model": "string",
        "retrieval_date": "date",
        "redistributable": "bool",
        "rights_override": "bool",
        "approver": "string",
    },
}
# `approve GATE "target" by "…" reason "…"` in the episode block: the gates a
# named approver may lift (compiler/gates.py), and the statement's options.
APPROVABLE_GATES = ("rights",)
APPROVE_OPTIONS = {"by": "string", "reason": "string"}
DELIVERABLE_KINDS = ("video", "audio", "captions", "timeline")
CAPTION_MODES = ("none", "sidecar", "burn_in", "both")
TEMPLATE_PARAM_TYPES = ("text", "string", "time", "colour", "color", "number", "name", "path")
