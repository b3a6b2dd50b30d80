"""The captions: SRT, WebVTT and ASS, timed by the rendered voices, and a cut
of the ASS per shot for deliverables that burn captions in shot by shot."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pysubs2

from reel.backends.audio.voice import RATE
from reel.lang.diagnostics import Diagnostic
from reel.lang.values import Time

from ..actions import Action, ActionInput, Input, Label, make, where
from .context import Context
from .layout import place
from .produced import Produced

SIDECARS = [
    ("captions.srt", "captions.srt"),
    ("captions.vtt", "captions.vtt"),
    ("captions.ass", "captions.ass"),
]
MAX_WORDS_PER_PHRASE = 4
ACCENT_RATIO = 30  # percent of phrases at most in the accent style (seed 004)


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, Fraction) else v) for k, v in sorted(props.items())}


def style(ctx: Context, name: str | None = None) -> dict[str, Any]:
    """A caption style's fields (the episode's style by default)."""
    wanted = name or ctx.episode.caption_style
    return next((dict(b.props) for b in ctx.episode.caption_styles if b.name == wanted), {})


def rules(ctx: Context, name: str | None = None) -> dict[str, Any]:
    """The line rules of a caption style, as the captions backend reads them."""
    fields = style(ctx, name)
    out: dict[str, Any] = {}
    for key in ("max_chars_per_line", "max_lines"):
        if key in fields:
            out[key] = int(fields[key])
    for key in ("min_duration", "max_duration", "min_gap"):
        if isinstance(fields.get(key), Time):
            out[key] = round(float(fields[key].seconds(ctx.fps)), 6)
        elif key in fields:
            out[key] = 0.0
    return out


def captions_action(
    ctx: Context,
    action_id: str = "captions",
    size: tuple[int, int] | None = None,
    style_name: str | None = None,
) -> tuple[Action, list[Diagnostic]]:
    """The captions action; with ``size``, an ASS laid out for another frame
    (a vertical rendition keeps its captions inside the safe area); with
    ``style_name``, in that caption style instead of the episode's. Lines
    whose captions would cover a title move (``layout.place``); the warnings
    are for those with nowhere to go."""
    script_lines = {line.id: line for scene in ctx.plan.script.scenes for line in scene.lines}
    inputs: dict[str, Input] = {}
    voices = {v.id: v for v in ctx.voices}
    fields = style(ctx, style_name)
    shown = style_name or ctx.episode.caption_style
    block = next((b for b in ctx.episode.caption_styles if b.name == shown), None)
    at = where(block.span) if block is not None else None
    labels = {
        "lines": Label("the dialogue lines (text or start)"),
        "shots": Label("the shots' lengths"),
        "rules": Label(f"the line rules of caption style {shown}", at),
        "phrases": Label(f"caption style {shown}", at),
        "fps": Label("the episode's frame rate"),
    }
    lines = []
    for shot in ctx.shots:
        for cue in shot.lines:
            name = f"words-{cue.line_id}.json"
            inputs[name] = ActionInput(f"voice/{cue.line_id}", "words.json")
            voice = voices.get(f"voice/{cue.line_id}")
            said = voice.labels.get("text") if voice is not None else None
            labels[name] = Label(f"the spoken words of line {cue.line_id}")
            labels[f"lines[{len(lines)}]"] = Label(
                f"the caption of line {cue.line_id}", said.where if said else None
            )
            line = script_lines[cue.line_id]
            lines.append(
                {
                    "id": cue.line_id,
                    "start": round(ctx.line_starts[cue.line_id] / RATE, 6),
                    "text": line.text,
                    "words": name,
                    "keywords": list(line.keywords),
                }
            )
    styles = {role: _plain(ctx.styles.get(fields.get(role, ""), {})) for role in ("base", "accent")}
    keywords = sorted(
        {k.strip().lower() for k in str(fields.get("keywords", "")).split(",") if k.strip()}
    )
    width, height = size or ctx.size
    frame = "captions.ass" if action_id == "captions" else action_id.partition("@")[2]
    placement = place(ctx, (width, height), fields, styles, frame)
    for line in lines:
        if line["id"] in placement.aligns:
            line["align"] = placement.aligns[line["id"]]
        del line["id"]
    shots = [
        {
            "id": shot.id,
            "start": ctx.seconds(shot.start_frame),
            "end": ctx.seconds(shot.start_frame + shot.duration_frames),
        }
        for shot in ctx.shots
    ]
    action = make(
        "captions",
        action_id,
        {
            "lines": lines,
            "rules": rules(ctx, style_name),
            "phrases": {
                "max_words": int(fields.get("max_words_per_phrase", MAX_WORDS_PER_PHRASE)),
                "accent_ratio": float(fields.get("accent_ratio", ACCENT_RATIO)),
                "keywords": keywords,
                "styles": styles,
                "width": width,
                "height": height,
            },
            "writer": f"pysubs2 {pysubs2.__version__}",
            # Cue times snap to the episode's frames (exact x/1001 rates included).
            "fps": ctx.fps_pair,
            "shots": shots,
        },
        inputs,
        outputs=(
            "captions.srt",
            "captions.vtt",
            "captions.ass",
            *(f"captions-{shot['id']}.ass" for shot in shots),
        ),
        description="SRT, WebVTT and ASS captions, timed by the voices",
        labels=labels,
    )
    return action, placement.warnings


def rule(ctx: Context) -> Produced:
    action, warnings = captions_action(ctx)
    return Produced([action], {"captions": "captions"}, {"captions": list(SIDECARS)}, warnings)
