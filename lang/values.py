"""Typed values: units, colours, frame rates and resolutions, checked at analysis time.

Times are exact (``fractions.Fraction``) so that frame counts never depend on
float rounding; a time written in frames stays in frames until the frame rate
is known.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from . import ast
from .diagnostics import Diagnostics
from .source import STDLIB_DIR, Refused, confine, regular_size
from .suggest import did_you_mean, hint
from .vocabulary import COLOUR_NAMES

UNITS = {
    "s": "seconds",
    "ms": "milliseconds",
    "f": "frames",
    "fps": "frames per second",
    "%": "percent",
    "dB": "decibels",
    "LUFS": "loudness units",
    "dBTP": "decibels true peak",
}
_QUANTITY = re.compile(r"^(-?\d+(?:\.\d+)?)([A-Za-z%]+)$")
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
# NTSC-family rates written as decimals mean the exact x/1001 rates.
_NTSC = {
    "23.976": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.952": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
}

KIND_WORDS = {
    "string": "a string",
    "number": "a number",
    "quantity": "a quantity",
    "resolution": "a resolution",
    "name": "a name",
    "param": "a template parameter",
    "bool": "true or false",
}


@dataclass(frozen=True, order=True)
class Time:
    """A duration or offset, in seconds or in frames (``unit`` 's' or 'f')."""

    amount: Fraction
    unit: str

    def frames(self, fps: Fraction) -> int:
        """Exact frame count, rounding half up (documented in docs/timing.md)."""
        if self.unit == "f":
            return int(self.amount)
        exact = self.amount * fps
        return int((exact + Fraction(1, 2)).__floor__())

    def seconds(self, fps: Fraction) -> Fraction:
        return self.amount / fps if self.unit == "f" else self.amount

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def split_quantity(text: str) -> tuple[Fraction, str] | None:
    match = _QUANTITY.match(text)
    if not match:
        return None
    return Fraction(match.group(1)), match.group(2)


class Expect:
    """Converters from AST values to typed values that record errors, not raise.

    Each method returns None after recording a diagnostic, so analysis can go on
    and report every mistake in a file at once.
    """

    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags

    def _wrong(self, value: ast.Value, wanted: str, help_: str | None = None) -> None:
        shown = value.text if value.kind != "string" else f'"{value.text}"'
        self.diags.error(
            f"expected {wanted}, found {KIND_WORDS.get(value.kind, value.kind)} {shown}",
            value.span,
            help_,
        )

    def _unit(
        self, value: ast.Value, allowed: tuple[str, ...], wanted: str
    ) -> tuple[Fraction, str] | None:
        if value.kind != "quantity":
            example = {
                "s": "2s",
                "dB": "-12dB",
                "%": "30%",
                "LUFS": "-14LUFS",
                "dBTP": "-1dBTP",
                "fps": "24fps",
            }.get(allowed[0], f"1{allowed[0]}")
            self._wrong(value, wanted, f"write it with a unit, e.g. {example}")
            return None
        amount, unit = split_quantity(value.text) or (Fraction(0), "")
        if unit not in allowed:
            if unit in UNITS:
                msg = f"wrong unit '{unit}' ({UNITS[unit]}): expected {wanted}"
            else:
                msg = f"unknown unit '{unit}'"
            allowed_text = ", ".join(f"'{u}'" for u in allowed)
            self.diags.error(
                msg, value.span, f"{hint(unit, allowed, 'units')} ({wanted} takes {allowed_text})"
            )
            return None
        return amount, unit

    def string(self, value: ast.Value) -> str | None:
        if value.kind != "string":
            self._wrong(value, "a string", "put text in double quotes")
            return None
        return value.text

    def name(self, value: ast.Value) -> str | None:
        if value.kind != "name":
            self._wrong(value, "a name")
            return None
        return value.text

    def boolean(self, value: ast.Value) -> bool | None:
        if value.kind != "bool":
            self._wrong(value, "true or false")
            return None
        return value.text == "true"

    def number(
        self, value: ast.Value, low: float | None = None, high: float | None = None
    ) -> Fraction | None:
        if value.kind != "number":
            self._wrong(value, "a plain number")
            return None
        number = Fraction(value.text)
        if (low is not None and number < low) or (high is not None and number > high):
            self.diags.error(
                f"{value.text} is out of range", value.span, f"use a number from {low} to {high}"
            )
            return None
        return number

    def integer(
        self, value: ast.Value, low: int | None = None, high: int | None = None
    ) -> int | None:
        number = self.number(value, low, high)
        if number is None:
            return None
        if number.denominator != 1:
            self.diags.error(f"expected a whole number, found {value.text}", value.span)
            return None
        return int(number)

    def time(self, value: ast.Value, *, positive: bool = False) -> Time | None:
        parsed = self._unit(value, ("s", "ms", "f"), "a time in s, ms or frames (f)")
        if parsed is None:
            return None
        amount, unit = parsed
        if unit == "f" and amount.denominator != 1:
            self.diags.error("a frame count must be a whole number", value.span)
            return None
        if amount < 0 or (positive and amount == 0):
            self.diags.error(
                f"a time must be {'positive' if positive else 'zero or more'}, found {value.text}",
                value.span,
            )
            return None
        if unit == "ms":
            return Time(amount / 1000, "s")
        return Time(amount, unit)

    def percent(self, value: ast.Value, low: float = 0, high: float = 100) -> Fraction | None:
        parsed = self._unit(value, ("%",), "a percentage")
        if parsed is None:
            return None
        amount, _ = parsed
        if not low <= amount <= high:
            self.diags.error(
                f"{value.text} is out of range",
                value.span,
                f"use a percentage from {low}% to {high}%",
            )
            return None
        return amount

    def decibels(self, value: ast.Value) -> Fraction | None:
        parsed = self._unit(value, ("dB",), "a gain in dB")
        return None if parsed is None else parsed[0]

    def loudness(self, value: ast.Value) -> Fraction | None:
        parsed = self._unit(value, ("LUFS",), "a loudness in LUFS")
        if parsed is None:
            return None
        if not -70 <= parsed[0] <= 0:
            self.diags.error(
                f"loudness {value.text} is out of range",
                value.span,
                "integrated loudness targets lie between -70LUFS and 0LUFS",
            )
            return None
        return parsed[0]

    def true_peak(self, value: ast.Value) -> Fraction | None:
        parsed = self._unit(value, ("dBTP", "dB"), "a true peak in dBTP")
        return None if parsed is None else parsed[0]

    def fps(self, value: ast.Value) -> Fraction | None:
        if value.kind == "number":
            amount = Fraction(value.text)
            text = value.text
        else:
            parsed = self._unit(value, ("fps",), "a frame rate in fps")
            if parsed is None:
                return None
            amount = parsed[0]
            text = value.text[:-3]
        rate = _NTSC.get(text, amount)
        if not 1 <= rate <= 240:
            self.diags.error(
                f"frame rate {value.text} is out of range",
                value.span,
                "use a rate from 1fps to 240fps, e.g. 24fps, 25fps, 29.97fps",
            )
            return None
        if rate.denominator not in (1, 1001) and text not in _NTSC:
            self.diags.error(
                f"frame rate {value.text} is not a standard rate",
                value.span,
                "use a whole number of fps or one of 23.976, 29.97, 59.94",
            )
            return None
        return rate

    def resolution(self, value: ast.Value) -> tuple[int, int] | None:
        if value.kind != "resolution":
            self._wrong(value, "a resolution like 1920x1080")
            return None
        width, height = (int(p) for p in value.text.split("x"))
        if not (16 <= width <= 8192 and 16 <= height <= 8192) or width % 2 or height % 2:
            self.diags.error(
                f"resolution {value.text} is not usable",
                value.span,
                "width and height must be even numbers from 16 to 8192 (H.264 needs even sizes)",
            )
            return None
        return width, height

    def colour(self, value: ast.Value) -> str | None:
        if value.kind == "name":
            if value.text in COLOUR_NAMES:
                return COLOUR_NAMES[value.text]
            best = did_you_mean(value.text, COLOUR_NAMES)
            names = ", ".join(COLOUR_NAMES)
            self.diags.error(
                f"unknown colour '{value.text}'",
                value.span,
                (f"did you mean '{best}'? " if best else "")
                + f'colour names are {names}; any other colour is written "#rrggbb"',
            )
            return None
        if value.kind != "string":
            self._wrong(
                value,
                'a colour like "#0b1020" or black',
                'write a colour as "#rgb", "#rrggbb", "#rrggbbaa" or a name such as black',
            )
            return None
        text = value.text
        if text.lower() in COLOUR_NAMES:  # "white" means white, quoted or not
            return COLOUR_NAMES[text.lower()]
        if not _HEX.match(text):
            best = did_you_mean(text, COLOUR_NAMES) if text.isidentifier() else None
            self.diags.error(
                f'"{text}" is not a colour',
                value.span,
                (f"did you mean {best}? " if best else "")
                + 'write colours as "#rgb", "#rrggbb" or "#rrggbbaa", or a name such as black',
            )
            return None
        if len(text) == 4:
            text = "#" + "".join(c * 2 for c in text[1:])
        return text.lower()

    def path(self, value: ast.Value, root: Path) -> str | None:
        """A file path, resolved against the file the literal was written in and
        returned relative to ``root`` (the episode's folder), POSIX style.

        The path must stay, after symlinks, inside the project or the stdlib and
        name a regular file if it exists (a missing picture becomes a placeholder
        later); anything else is an error here, before any file is opened."""
        text = self.string(value)
        if text is None:
            return None
        if not text or Path(text).is_absolute() or "\\" in text:
            self.diags.error(
                f'"{text}" is not a relative path',
                value.span,
                "paths are relative to the .episode file that names them, "
                "with forward slashes, so the project builds on any machine",
            )
            return None
        try:
            absolute = confine(text, value.span.file.path.parent, (root, STDLIB_DIR))
            regular_size(absolute, text)
        except Refused as refused:
            self.diags.error(refused.message, value.span, refused.help)
            return None
        if absolute.is_relative_to(root):
            return absolute.relative_to(root).as_posix()
        return Path(os.path.relpath(absolute, root)).as_posix()  # a file of the stdlib
