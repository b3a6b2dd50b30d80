"""Shared state of one resolution: symbol tables and typed-value conversion.

Both :mod:`reel.lang.resolve` (declarations) and :mod:`reel.lang.expand`
(scenes, shots, templates) convert AST values through :meth:`Context.convert`,
so every place a type name appears means the same check and the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import ast
from . import vocabulary as vocab
from .diagnostics import Diagnostics
from .source import Span
from .suggest import hint
from .values import Expect

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Episode, scene and deliverable names become file and folder names: the output
# folder `reel-out/<episode>/`, `<deliverable>.mp4`, and files named after shots
# and lines, which carry their scene's name (`.words-<scene>.s01.l1.json`,
# `media/<scene>.s01.mp4`). File systems cap a name at 255 bytes, and Reel adds
# prefixes and suffixes around it; 100 characters leaves room for them, and is
# still far more than a readable name needs.
MAX_FILE_NAME = 100


@dataclass
class Context:
    root: Path
    diags: Diagnostics
    templates: dict[str, ast.TemplateDecl] = field(default_factory=dict)
    characters: dict[str, ast.CharacterDecl] = field(default_factory=dict)
    locations: dict[str, ast.LocationDecl] = field(default_factory=dict)
    blocks: dict[str, dict[str, ast.BlockDecl]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.expect = Expect(self.diags)
        for kind in vocab.BLOCK_PROPS:
            self.blocks.setdefault(kind, {})

    # -- names ---------------------------------------------------------------
    def choice(
        self, value: ast.Value, options: tuple[str, ...] | list[str], what: str
    ) -> str | None:
        name = self.expect.name(value)
        if name is None:
            return None
        if name not in options:
            self.diags.error(
                f"unknown {what} '{name}'", value.span, hint(name, options, f"{what}s")
            )
            return None
        return name

    def reference(self, value: ast.Value, table: dict[str, Any], what: str, how: str) -> str | None:
        name = self.expect.name(value)
        if name is None:
            return None
        if name not in table:
            self.diags.error(
                f"unknown {what} '{name}'", value.span, hint(name, table, f"{what}s") + f" ({how})"
            )
            return None
        return name

    def file_name(self, name: str, span: Span | None, what: str) -> bool:
        """Check a name that becomes a file name; record an error if it is too long."""
        if len(name) <= MAX_FILE_NAME:
            return True
        self.diags.error(
            f"this {what} name is {len(name)} characters long; the limit is {MAX_FILE_NAME}",
            span,
            f"{what} names become file names (under the output folder), so they are "
            f"at most {MAX_FILE_NAME} characters: choose a shorter one",
        )
        return False

    # -- typed conversion -------------------------------------------------------
    def convert(self, type_: str, value: ast.Value) -> Any:
        """Convert ``value`` to the typed value ``type_`` names, or record an error."""
        x = self.expect
        match type_:
            case "string":
                return x.string(value)
            case "name":
                return x.name(value)
            case "bool":
                return x.boolean(value)
            case "int":
                return x.integer(value, 0, 100000)
            case "number":
                return x.number(value, -100000, 100000)
            case "age":
                return x.integer(value, 0, 150)
            case "bpm":
                return x.number(value, 20, 400)
            case "wpm":
                return x.integer(value, 80, 450)
            case "pitch":
                return x.integer(value, 0, 99)
            case "speed":
                return x.percent(value, 50, 200)
            case "zoom":
                return x.number(value, 1, 4)
            case "time":
                return x.time(value)
            case "percent":
                return x.percent(value)
            case "decibels":
                return x.decibels(value)
            case "loudness":
                return x.loudness(value)
            case "true_peak":
                return x.true_peak(value)
            case "fps":
                return x.fps(value)
            case "resolution":
                return x.resolution(value)
            case "colour":
                return x.colour(value)
            case "path":
                return x.path(value, self.root)
            case "date":
                text = x.string(value)
                if text is not None and not _DATE.match(text):
                    self.diags.error(
                        f'"{text}" is not a date',
                        value.span,
                        'write dates as ISO 8601: "2026-11-21"',
                    )
                    return None
                return text
            case "fit":
                return self.choice(value, vocab.FITS, "fit")
            case "colour_space":
                return self.choice(value, vocab.COLOUR_SPACES, "colour space")
            case "extend":
                return self.choice(value, vocab.EXTENDS, "extend mode")
            case "switch":
                return self.choice(value, vocab.SWITCHES, "sound setting")
            case "position":
                return self.choice(value, vocab.POSITIONS, "position")
            case "focus":
                return self.choice(value, vocab.FOCUS, "focus point")
            case "phase":
                return self.choice(value, vocab.PHASES, "pacing phase")
            case "visual_type":
                return self.choice(value, vocab.VISUAL_TYPES, "visual type")
            case "time_of_day":
                return self.choice(value, vocab.TIMES_OF_DAY, "time of day")
            case "deliverable_kind":
                return self.choice(value, vocab.DELIVERABLE_KINDS, "deliverable kind")
            case "cleanup":
                return self.choice(value, vocab.CLEANUPS, "cleanup level")
            case "line_source":
                return self.choice(value, vocab.LINE_SOURCES, "line source")
            case "caption_mode":
                return self.choice(value, vocab.CAPTION_MODES, "caption mode")
            case "location":
                return self.reference(
                    value,
                    self.locations,
                    "location",
                    "locations are declared in a `locations { }` block",
                )
            case "character":
                return self.reference(
                    value,
                    self.characters,
                    "character",
                    "characters are declared in a `cast { }` block",
                )
            case "text_style" | "caption_style" | "preset" | "arc":
                return self.reference(
                    value,
                    self.blocks[type_],
                    type_.replace("_", " "),
                    f"declare it with `{type_} NAME {{ ... }}` or load the "
                    "stdlib module that has it",
                )
        raise AssertionError(f"unknown value type {type_}")  # pragma: no cover

    def options(
        self,
        options: tuple[ast.Option, ...] | tuple[ast.Prop, ...],
        spec: dict[str, str],
        where: str,
        repeatable: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Check and convert ``key value`` options against ``spec``."""
        out: dict[str, Any] = {}
        seen: dict[str, ast.Option | ast.Prop] = {}
        for opt in options:
            if opt.key not in spec:
                self.diags.error(
                    f"unknown option '{opt.key}' for {where}",
                    opt.span,
                    hint(opt.key, spec, f"options of {where}"),
                )
                continue
            if opt.key in seen and opt.key not in repeatable:
                self.diags.error(
                    f"'{opt.key}' is given twice",
                    opt.span,
                    f"remove one; the first is at {seen[opt.key].span}",
                )
                continue
            seen[opt.key] = opt
            converted = self.convert(spec[opt.key], opt.value)
            if converted is None:
                continue
            if opt.key in repeatable:
                out.setdefault(opt.key, []).append(converted)
            else:
                out[opt.key] = converted
        return out


def as_fraction(value: Any) -> Fraction | None:
    return None if value is None else Fraction(value)
