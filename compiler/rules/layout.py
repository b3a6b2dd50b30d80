"""Burned captions never cover a title: each captions action's lines are
checked against the titles and kinetic text drawn in the same frame size.

For each frame size a captions action lays out (the episode's, or a
rendition's own), every title's box is measured as ``segment`` draws it and
every caption phrase's box as libass draws it, in both the base and the
accent style when the phrase may take either (``backends.layout``). A line
whose phrases would overlap a title on screen at the same time (a title's
last frame stays on screen through a crossfade out of its shot) is moved as
a whole, to the top band of the safe area, else to the bottom band; if no
band is free, it keeps its place and the build warns, naming the line's and
the title's ``file:line:col``. Lines that collide with nothing get no
parameter at all, so their captions (and the action's key) are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reel.backends import captions as captions_backend
from reel.backends import layout
from reel.lang.diagnostics import Diagnostic, Diagnostics

from ..timing import line_id
from . import picture

if TYPE_CHECKING:
    from reel.lang.source import Span

    from .context import Context

# Where a colliding line may go, in order: the top band, then the bottom band
# (for a style that sits in the middle), both at the style's vertical margin.
MOVES = (layout.TOP, layout.BOTTOM)


@dataclass(frozen=True)
class _Title:
    start: int  # episode frames, end exclusive
    end: int
    box: layout.Box
    kind: str
    text: str
    span: Span | None


@dataclass
class Placement:
    aligns: dict[str, int] = field(default_factory=dict)  # line id -> ASS alignment
    warnings: list[Diagnostic] = field(default_factory=list)


def _titles(ctx: Context, width: int, height: int) -> list[_Title]:
    out = []
    for index, shot in enumerate(ctx.shots):
        ir_overlays = ctx.ir_shots[shot.id].overlays
        shot_end = shot.start_frame + shot.duration_frames
        # The next shot crossfades from this one's last frame, titles and all.
        fade = 0
        if index + 1 < len(ctx.shots):
            after = ctx.transition(index + 1, ctx.shots[index + 1])
            fade = after["frames"] if after["kind"] == "crossfade" else 0
        for i, overlay in enumerate(shot.overlays):
            spec, text, font = picture.overlay_spec(ctx, overlay, width, height)
            start = shot.start_frame + overlay.start_frame
            end = shot_end
            if overlay.duration_frames is not None:
                end = min(shot_end, start + overlay.duration_frames)
            if end >= shot_end:
                end = shot_end + fade
            out.append(
                _Title(
                    start,
                    end,
                    layout.title_box(spec, text, font, width, height),
                    overlay.kind,
                    overlay.text,
                    ir_overlays[i].span if i < len(ir_overlays) else None,
                )
            )
    return out


def _covered(boxes: list[layout.Box], near: list[_Title], safe: layout.Box | None) -> _Title | None:
    """The first title a caption box overlaps (any, if one leaves ``safe``
    vertically: not a place to move to), or None."""
    for box in boxes:
        if safe is not None and not (safe.y0 <= box.y0 and box.y1 <= safe.y1):
            return near[0]
        for title in near:
            if box.overlaps(title.box):
                return title
    return None


def place(
    ctx: Context,
    size: tuple[int, int],
    fields: dict[str, Any],
    styles: dict[str, dict[str, Any]],
    where: str,
) -> Placement:
    """Each colliding line's alignment in captions laid out at ``size`` with
    the caption style ``fields`` (its ``base`` and ``accent`` text ``styles``
    as the captions action gets them); warnings for lines with no free band."""
    width, height = size
    titles = _titles(ctx, width, height)
    placement = Placement()
    if not titles:
        return placement
    geometry = {
        role: layout.caption_style(captions_backend.ass_style(props, height, role))
        for role, props in styles.items()
    }
    upper = bool(styles["accent"].get("uppercase"))
    listed = {k.strip().lower() for k in str(fields.get("keywords", "")).split(",") if k.strip()}
    max_words = int(fields.get("max_words_per_phrase", 4))
    script = {line.id: line for scene in ctx.plan.script.scenes for line in scene.lines}
    safe = layout.safe_area(width, height)
    for shot in ctx.shots:
        ir_shot = ctx.ir_shots[shot.id]
        ir_lines = {line_id(ir_shot, i): x for i, x in enumerate(ir_shot.lines, start=1)}
        for cue in shot.lines:
            # The line's phrases are on screen from its first word to its end,
            # a frame either side for the snapping of cue times to frames.
            start = shot.start_frame + cue.start_frame - 1
            end = shot.start_frame + cue.end_frame + 1
            near = [t for t in titles if t.start < end and start < t.end]
            if not near:
                continue
            line = script[cue.line_id]
            marked = set(line.keywords) | listed
            boxes: dict[int | None, list[layout.Box]] = {}
            for align in (None, *MOVES):
                boxes[align] = []
                for group in captions_backend.phrase_words(line.text.split(), max_words):
                    phrase = " ".join(group)
                    drawn = [("base", phrase)]  # and in the accent style, if it may take it
                    if captions_backend.is_accent(group, marked):
                        drawn.append(("accent", phrase.upper() if upper else phrase))
                    for role, text in drawn:
                        style = geometry[role]
                        boxes[align].append(
                            layout.caption_box(style, text, width, height, align or style.alignment)
                        )

            title = _covered(boxes[None], near, None)
            if title is None:
                continue
            free = next((a for a in MOVES if _covered(boxes[a], near, safe) is None), None)
            if free is not None:
                placement.aligns[cue.line_id] = free
                continue
            span = ir_lines[cue.line_id].span if cue.line_id in ir_lines else None
            diags = Diagnostics()
            diags.warning(
                f"captions of line {cue.line_id} (at {span or '?'}) cover the {title.kind} "
                f'"{title.text}" (at {title.span or "?"}) in {where} ({width}x{height}), and no '
                "band of the safe area is free while both are on screen",
                span,
                "move the title (`position top`, `bottom`, `upper_third` …), make it smaller, or "
                "end it before the line starts (`for TIME`)",
                notes=(f'the {title.kind} "{title.text}" is at {title.span or "?"}',),
            )
            placement.warnings.extend(diags.warnings)
    return placement
