"""The abstract syntax tree: what was written, with a span on every node.

The AST is a faithful, untyped picture of the source. Meaning (units, names,
templates) is given by :mod:`reel.lang.resolve`. Spans never take part in
equality, so two files that differ only in layout give equal trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import SourceFile, Span


@dataclass(frozen=True)
class Value:
    """A literal or reference as written.

    ``kind`` is one of: string, number, quantity, resolution, name, param, bool.
    ``text`` is the token text (strings already unescaped).
    """

    kind: str
    text: str
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Option:
    """A trailing ``key value`` pair on a statement."""

    key: str
    value: Value
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Load:
    target: Value
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Setting:
    """An episode setting: ``title``, ``format``, ``runtime``, ``music`` ..."""

    name: str
    args: tuple[Value, ...]
    options: tuple[Option, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class EpisodeDecl:
    name: str
    settings: tuple[Setting, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class CharacterDecl:
    id: str
    display_name: Value
    options: tuple[Option, ...]
    flags: tuple[str, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class CastDecl:
    characters: tuple[CharacterDecl, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class LocationDecl:
    id: str
    display_name: Value
    options: tuple[Option, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class LocationsDecl:
    locations: tuple[LocationDecl, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class ShotItem:
    """One statement inside a shot: plate, move, title, kinetic, say, sfx, transition."""

    keyword: str
    head: Value | None  # the kind (plate/move/transition) or speaker (say)
    args: tuple[Value, ...]
    options: tuple[Option, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class ShotStmt:
    framing: Value
    duration: Value | None  # None: auto
    options: tuple[Option, ...]
    items: tuple[ShotItem, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class UseArg:
    name: str | None  # None for a positional argument
    value: Value
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class UseStmt:
    template: str
    args: tuple[UseArg, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class FactStmt:
    character: str
    attribute: str  # "age", "name", "dead", "alive"
    value: Value | None
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class PresentStmt:
    characters: tuple[Value, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


SceneStmt = ShotStmt | UseStmt | FactStmt | PresentStmt


@dataclass(frozen=True)
class SceneDecl:
    name: str
    options: tuple[Option, ...]
    body: tuple[SceneStmt, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Param:
    name: str
    type: str | None
    default: Value | None
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class TemplateDecl:
    name: str
    params: tuple[Param, ...]
    body: tuple[SceneStmt, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Prop:
    key: str
    value: Value
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class BlockDecl:
    """``text_style``, ``caption_style``, ``preset`` or ``asset`` with properties."""

    kind: str
    name: str
    props: tuple[Prop, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class DeliverDecl:
    name: str
    preset: str
    overrides: tuple[Prop, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    preset_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class SeriesDecl:
    """``series NAME { title "..." episode "ep01.episode" ... }``: the episodes in
    story order. The rest of the file it is in is shared by every episode."""

    name: str
    title: Value | None
    episodes: tuple[Value, ...]
    span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    name_span: Span = field(default=None, compare=False, repr=False)  # type: ignore[assignment]


Item = (
    Load
    | EpisodeDecl
    | SeriesDecl
    | CastDecl
    | LocationsDecl
    | SceneDecl
    | TemplateDecl
    | BlockDecl
    | DeliverDecl
)


@dataclass(frozen=True)
class Module:
    source: SourceFile = field(compare=False, repr=False)
    items: tuple[Item, ...]
