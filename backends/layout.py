"""Where text lands in a frame: boxes for drawn titles and burned captions.

Each box is measured with FreeType (Pillow's) from the same font files the
renderers get (``fonts.font_file``), at the size and place the renderer is
told to use, and is conservative: it holds the glyphs' full line height,
their outline, shadow, title box padding and a titles's ``pop`` rise, plus a
small margin. Two boxes that do not overlap therefore never draw on the same
pixels; the tests check that against decoded frames.

Titles (``drawtext``, see ``segment._overlay``) are sized by the frame's
shorter side and wrapped before they are drawn (the text file holds the
lines). Burned captions (libass, see ``captions.ass_style``) are sized by
the frame's height and wrapped by libass inside the style's side margins;
libass sets a font's size as its full line height (ascender + descender),
so its glyphs are smaller than FreeType's at the same nominal size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ffmpeg.segment import REFERENCE_HEIGHT
from .fonts import font_file

if TYPE_CHECKING:
    import pysubs2
    from PIL import ImageFont

SAFE = 0.05  # title-safe area: 90% of the frame, 5% in from every edge
PAD = 0.08  # extra share of a line's height kept clear around every box

# ASS \an alignments: 1-3 bottom, 4-6 middle, 7-9 top.
BOTTOM, MIDDLE, TOP = 2, 5, 8


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        across = self.x0 < other.x1 and other.x0 < self.x1
        return across and self.y0 < other.y1 and other.y0 < self.y1

    def grown(self, by: float) -> Box:
        return Box(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)


def safe_area(width: int, height: int) -> Box:
    return Box(width * SAFE, height * SAFE, width * (1 - SAFE), height * (1 - SAFE))


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont  # only lowering measures text: `reel check` never pays for it

    return ImageFont.truetype(path, size)


def _line_height(font: Path, size: int) -> float:
    ascent, descent = _font(str(font), size).getmetrics()
    return float(ascent + descent)


def _width(font: Path, size: int, text: str) -> float:
    return max((_font(str(font), size).getlength(row) for row in text.split("\n")), default=0.0)


def title_box(spec: dict[str, Any], text: str, font: Path, width: int, height: int) -> Box:
    """The box a ``segment`` overlay (``spec``, its wrapped ``text``) draws in."""
    scale = min(width, height) / REFERENCE_HEIGHT
    size = max(8, round(spec["size"] * scale))
    rows = text.split("\n")
    text_w = _width(font, size, text)
    pitch = _line_height(font, size)
    text_h = pitch * len(rows)
    margin = spec.get("margin", 6) / 100
    position = spec.get("position") or "center"
    x = (width - text_w) / 2
    if position == "left":
        x = width * margin
    elif position == "right":
        x = width - text_w - width * margin
    centre = {"upper_third": height * 0.28, "lower_third": height * 0.74}
    if position == "top":
        y = height * margin
    elif position == "bottom":
        y = height - text_h - height * margin
    elif position in centre:
        y = centre[position] - text_h / 2
    else:  # center, left, right
        y = (height - text_h) / 2
    box = Box(x, y, x + text_w, y + text_h)
    extra = 0.0
    if spec.get("outline"):
        extra += max(1, round(spec.get("outline_width", 2) * scale))
    if spec.get("box"):
        extra += max(2, round(16 * scale))
    if spec.get("shadow"):
        shadow = max(1, round(3 * scale))
        box = Box(box.x0, box.y0, box.x1 + shadow, box.y1 + shadow)
    if spec.get("animation") == "pop":  # rises into place from 3% of the height lower
        box = Box(box.x0, box.y0, box.x1, box.y1 + height * 0.03)
    return box.grown(extra + pitch * PAD)


@dataclass(frozen=True)
class CaptionStyle:
    """What places and sizes one ASS style's text (see ``captions.ass_style``)."""

    font: Path
    size: int  # libass's size: the full line height, in PlayRes pixels
    outline: int
    alignment: int  # ASS numpad alignment
    margin_l: int
    margin_r: int
    margin_v: int


def caption_style(style: pysubs2.SSAStyle) -> CaptionStyle:
    """The geometry of an ASS style as ``captions.ass_style`` writes it.

    libass is given the default family alone (regular and bold, the ``fonts/``
    folder of a burning action) and draws any other family named with it, so
    that is the font measured."""
    return CaptionStyle(
        font=font_file(None, bool(style.bold)),
        size=round(style.fontsize),
        outline=round(style.outline),
        alignment=int(style.alignment),
        margin_l=style.marginl,
        margin_r=style.marginr,
        margin_v=style.marginv,
    )


def _em(font: Path, size: int) -> int:
    """FreeType's pixel size for libass's ``size``: libass asks for the font's
    ascender + descender to be ``size`` pixels tall."""
    ascent, descent = _font(str(font), 1000).getmetrics()
    return max(1, round(size * 1000 / (ascent + descent)))


def caption_rows(style: CaptionStyle, text: str, width: int) -> list[str]:
    """The rows libass breaks ``text`` into (greedy at word boundaries, as
    many rows as its smart wrapping makes) within the style's side margins."""
    room = width - style.margin_l - style.margin_r
    em = _em(style.font, style.size)
    rows: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and _width(style.font, em, candidate) > room:
                rows.append(current)
                current = word
            else:
                current = candidate
        rows.append(current)
    return rows


def caption_box(style: CaptionStyle, text: str, width: int, height: int, alignment: int) -> Box:
    """The box libass draws ``text`` in with ``style`` at ``alignment`` (an
    ASS numpad value; the style's margins apply as libass applies them)."""
    rows = caption_rows(style, text, width)
    em = _em(style.font, style.size)
    room = width - style.margin_l - style.margin_r
    text_w = min(max(_width(style.font, em, row) for row in rows), room)
    # A row is ``size`` tall in libass; FreeType's ascent + descent at the em
    # size it asks for is the same height, taken here from the font itself.
    text_h = max(style.size, _line_height(style.font, em)) * len(rows)
    centre_x = style.margin_l + room / 2
    row = (alignment - 1) // 3  # 0 bottom, 1 middle, 2 top
    if row == 0:
        y1 = height - style.margin_v
        y0 = y1 - text_h
    elif row == 2:
        y0 = style.margin_v
        y1 = y0 + text_h
    else:
        y0 = (height - text_h) / 2
        y1 = y0 + text_h
    box = Box(centre_x - text_w / 2, y0, centre_x + text_w / 2, y1)
    return box.grown(style.outline + style.size * PAD)
