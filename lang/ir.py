"""The typed intermediate representation: a resolved, fully expanded episode.

Everything here is checked: names resolve, units are right, templates are
expanded, paths are relative to the episode folder. Spans are kept (outside
equality) so later passes can point at the `.episode` line they came from;
they never reach an artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .source import Span
from .values import Time


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    age: int | None
    alive: bool
    role: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    description: str | None = None
    interior: bool | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Voice:
    character: str
    language: str
    rate: int
    pitch: int
    variant: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)
    engine: str = "espeak-ng"  # or "piper": then language is the voice model's name
    speed: Fraction = Fraction(100)  # piper: percent of the model's own pace


@dataclass(frozen=True)
class Music:
    path: str
    bpm: Fraction | None
    license: str | None
    gain_db: Fraction
    duck: dict[str, float] = field(default_factory=dict)  # gain_db, attack, release
    snap: Time | None = None  # snap cuts to the nearest beat within this tolerance
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Plate:
    kind: str
    path: str | None = None
    colours: tuple[str, ...] = ()
    description: str | None = None
    in_point: Time | None = None
    out_point: Time | None = None
    options: tuple[tuple[str, Any], ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Motion:
    kind: str
    amount: Fraction | None = None
    toward: str | None = None
    ease: bool = True
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Overlay:
    kind: str  # "title" | "kinetic"
    text: str
    style: str
    at: Time
    duration: Time | None
    position: str | None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str
    mood: str | None
    file: str | None
    keywords: tuple[str, ...] = ()  # words marked *like this* for the accent style
    clean: str | None = None  # a recorded line's cleanup level (None: the default)
    span: Span | None = field(default=None, compare=False, repr=False)
    # "camera": spoken on camera, its sound the shot's video plate (`say … from camera`)
    source: str | None = None

    @property
    def on_camera(self) -> bool:
        return self.source == "camera"


@dataclass(frozen=True)
class Sfx:
    path: str
    at: Time
    gain_db: Fraction
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Transition:
    kind: str
    duration: Time | None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Shot:
    id: str
    scene: str
    index: int
    framing: str
    duration: Time | None  # None: auto
    plate: Plate
    motion: Motion
    overlays: tuple[Overlay, ...]
    lines: tuple[Line, ...]
    sfx: tuple[Sfx, ...]
    transition: Transition
    focus: str
    tags: tuple[str, ...]
    phase: str | None
    template: str | None  # the template it was expanded from, if any
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Fact:
    character: str
    attribute: str  # age | name | alive
    value: Any
    after_shot: int  # how many shots of its scene come before it
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Scene:
    id: str
    location: str | None
    time_of_day: str | None
    day: int
    phase: str | None
    shots: tuple[Shot, ...]
    facts: tuple[Fact, ...]
    present: tuple[str, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PropertyBlock:
    """A text style, caption style, preset or asset-rights block, typed."""

    kind: str
    name: str
    props: tuple[tuple[str, Any], ...]
    span: Span | None = field(default=None, compare=False, repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.props).get(key, default)


@dataclass(frozen=True)
class Deliverable:
    name: str
    preset: str
    props: tuple[tuple[str, Any], ...]  # the preset's, with the blueprint's overrides
    span: Span | None = field(default=None, compare=False, repr=False)
    # field -> where its value was written (the override, else the preset)
    field_spans: tuple[tuple[str, Span], ...] = field(default=(), compare=False, repr=False)

    def field_span(self, key: str) -> Span | None:
        return dict(self.field_spans).get(key, self.span)


@dataclass(frozen=True)
class CastClaim:
    """One declaration of a character, kept so the canon gate can compare them."""

    character: Character


@dataclass(frozen=True)
class Approval:
    """``approve GATE "target" by "…" reason "…"``: a named person lifts one gate
    for one target (seed 003 §25.4: an override needs an approver on record)."""

    gate: str
    target: str
    approver: str
    reason: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Arc:
    """The pacing an episode promises (seed 002): each phase's share of its
    running time, how far a phase may stray, and whether straying blocks."""

    name: str  # the declared arc's name; "custom" for an inline `arc { ... }`
    shares: tuple[tuple[str, Fraction], ...]  # phase -> percent, in phase order; sum 100
    tolerance: Fraction  # percentage points either side of a share
    strict: bool  # True: a broken arc is a gate error (exit 1), not a warning
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Episode:
    id: str
    title: str
    width: int
    height: int
    fps: Fraction
    runtime_min: Time | None
    runtime_max: Time | None
    genre: str | None
    arc: str | None
    music: Music | None
    voices: tuple[Voice, ...]
    caption_style: str
    cast: tuple[Character, ...]
    cast_claims: tuple[Character, ...]
    locations: tuple[Location, ...]
    scenes: tuple[Scene, ...]
    text_styles: tuple[PropertyBlock, ...]
    caption_styles: tuple[PropertyBlock, ...]
    presets: tuple[PropertyBlock, ...]
    assets: tuple[PropertyBlock, ...]
    deliverables: tuple[Deliverable, ...]
    sources: tuple[str, ...]  # every loaded file, relative to the episode folder
    # The files it was read from (absolute; never serialised): the no-op check's inputs.
    source_paths: tuple[Path, ...] = field(default=(), compare=False, repr=False)
    span: Span | None = field(default=None, compare=False, repr=False)
    approvals: tuple[Approval, ...] = ()  # gates lifted by a named approver
    blocklist: tuple[str, ...] = ()  # words the content-safety gate adds to its own
    blocklist_span: Span | None = field(default=None, compare=False, repr=False)
    pacing: Arc | None = None  # the `arc` setting's shares, when the episode declares one
    # Story years since the previous episode of its series (`elapsed 2y`): ages
    # carried in the canon store advance by this much before the episode starts.
    elapsed_years: int = 0
    elapsed_span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def shots(self) -> tuple[Shot, ...]:
        return tuple(shot for scene in self.scenes for shot in scene.shots)
