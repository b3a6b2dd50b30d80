"""The Action Plan: what a planner proposes, as data a person can review.

A planner (the built-in heuristic one, or a language model behind an
OpenAI-compatible endpoint) never touches a file. It returns an ActionPlan:
a closed set of typed actions, a ``message`` for the person (it never changes
what is done) and, when inputs are missing, ``needs_clarification``. Each
action is checked against the current blueprint before it runs
(director/validate.py) and applied as a text edit of the ``.episode`` source
that carries its inverse (director/edits.py), so every decision is a
reviewable, revertible change and every cut a reproducible build.

The JSON Schema of this model is what a model planner's output is
constrained by (``response_format``), and ``reel schema`` publishes it with
the other artifacts.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from reel.lang import vocabulary as vocab

SCHEMA_VERSION = "1.0.0"
Risk = Literal["low", "destructive"]
Framing = Literal[vocab.FRAMINGS]  # type: ignore[valid-type]
Phase = Literal[vocab.PHASES]  # type: ignore[valid-type]
Position = Literal[vocab.POSITIONS]  # type: ignore[valid-type]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Seconds = Annotated[float, Field(ge=0, le=36000)]


class _Action(BaseModel):
    """What every action shares. ``why`` is for the person reading the plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    risk: ClassVar[Risk] = "low"
    why: str = Field(default="", max_length=500, description="Why, in a sentence")

    def summary(self) -> str:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


class AddScene(_Action):
    kind: Literal["add_scene"] = "add_scene"
    scene: Ident = Field(description="The new scene's id; unique in the episode")
    after: Ident | None = Field(
        default=None, description="Insert after this scene; none: at the end"
    )
    phase: Phase | None = None

    def summary(self) -> str:
        return f"add scene {self.scene}" + (f" after {self.after}" if self.after else "")


class AddShot(_Action):
    """A shot cut from a clip of the dailies: its picture and, if ``text`` is
    given, the line spoken on camera in that range (captioned)."""

    kind: Literal["add_shot"] = "add_shot"
    scene: Ident
    clip: str = Field(description="The clip, relative to the dailies folder (posix)")
    in_s: Seconds = Field(description="In point in the clip, seconds")
    out_s: Seconds = Field(description="Out point in the clip, seconds")
    framing: Framing = "medium"
    speaker: Ident | None = Field(default=None, description="Who speaks on camera")
    text: str | None = Field(default=None, max_length=500, description="What is said")

    def summary(self) -> str:
        said = f': "{self.text}"' if self.text else ""
        return f"add shot to {self.scene}: {self.clip} {self.in_s:.2f}–{self.out_s:.2f} s{said}"


class ShotRef(_Action):
    """An action on an existing shot: scene id and 1-based position in it."""

    scene: Ident
    shot: int = Field(ge=1, le=999, description="1-based position of the shot in its scene")


class ChooseTake(ShotRef):
    kind: Literal["choose_take"] = "choose_take"
    clip: str
    in_s: Seconds
    out_s: Seconds
    text: str | None = Field(default=None, max_length=500)

    def summary(self) -> str:
        return (
            f"use {self.clip} {self.in_s:.2f}–{self.out_s:.2f} s for {self.scene} shot {self.shot}"
        )


class Trim(ShotRef):
    kind: Literal["trim"] = "trim"
    in_s: Seconds
    out_s: Seconds

    def summary(self) -> str:
        return f"trim {self.scene} shot {self.shot} to {self.in_s:.2f}–{self.out_s:.2f} s"


class Reorder(_Action):
    kind: Literal["reorder"] = "reorder"
    scene: Ident
    order: list[int] = Field(min_length=1, description="The shots' old positions, in new order")

    def summary(self) -> str:
        return f"reorder the shots of {self.scene}: {self.order}"


class SetTransition(ShotRef):
    kind: Literal["set_transition"] = "set_transition"
    transition: Literal["cut", "crossfade", "dip_to_black"]
    frames: int = Field(default=12, ge=1, le=240)

    def summary(self) -> str:
        return f"{self.transition} into {self.scene} shot {self.shot}"


class AddTitle(ShotRef):
    kind: Literal["add_title"] = "add_title"
    text: str = Field(min_length=1, max_length=200)
    position: Position = "bottom"

    def summary(self) -> str:
        return f'title "{self.text}" on {self.scene} shot {self.shot}'


class FixCaption(ShotRef):
    """Correct what a shot's line says (its caption), e.g. a misheard word."""

    kind: Literal["fix_caption"] = "fix_caption"
    text: str = Field(min_length=1, max_length=500)

    def summary(self) -> str:
        return f'caption of {self.scene} shot {self.shot}: "{self.text}"'


class SetMusic(_Action):
    kind: Literal["set_music"] = "set_music"
    path: str = Field(description="A music file, relative to the blueprint's folder")
    gain_db: float = Field(default=-18.0, ge=-60, le=0)

    def summary(self) -> str:
        return f"music {self.path} at {self.gain_db:g} dB"


class AddDeliverable(_Action):
    kind: Literal["add_deliverable"] = "add_deliverable"
    name: Ident
    preset: Ident

    def summary(self) -> str:
        return f"deliver {self.name} = {self.preset}"


class RemoveShot(ShotRef):
    kind: Literal["remove_shot"] = "remove_shot"
    risk: ClassVar[Risk] = "destructive"

    def summary(self) -> str:
        return f"remove {self.scene} shot {self.shot}"


class RemoveScene(_Action):
    kind: Literal["remove_scene"] = "remove_scene"
    risk: ClassVar[Risk] = "destructive"
    scene: Ident

    def summary(self) -> str:
        return f"remove scene {self.scene}"


Action = Annotated[
    AddScene
    | AddShot
    | ChooseTake
    | Trim
    | Reorder
    | SetTransition
    | AddTitle
    | FixCaption
    | SetMusic
    | AddDeliverable
    | RemoveShot
    | RemoveScene,
    Field(discriminator="kind"),
]
ACTION_KINDS = (
    "add_scene",
    "add_shot",
    "choose_take",
    "trim",
    "reorder",
    "set_transition",
    "add_title",
    "fix_caption",
    "set_music",
    "add_deliverable",
    "remove_shot",
    "remove_scene",
)


class ActionPlan(BaseModel):
    """What a planner proposes for one Director run."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str] = "ActionPlan"
    schema_version: str = SCHEMA_VERSION
    actions: list[Action] = Field(default_factory=list, max_length=500)
    message: str = Field(
        default="", max_length=4000, description="For the person; never changes what is done"
    )
    needs_clarification: str | None = Field(
        default=None, max_length=1000, description="A question, when inputs are missing"
    )


def action_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(Action)


def json_schema() -> dict[str, Any]:
    """The Action Plan's JSON Schema (draft 2020-12), as ``reel schema`` writes it."""
    schema = ActionPlan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://reel.dev/schemas/ActionPlan/{SCHEMA_VERSION}"
    schema["title"] = "ActionPlan"
    return schema
