"""The canon gate (seed 003 §6.3, §19.0): block hard contradictions.

The cast block is the canon. The gate walks the episode in story order and
blocks the build when:

- two declarations of one character disagree on name, age or death;
- a scene states a fact (``fact maya age 35``) that contradicts the canon;
- a dead character speaks (dead in the cast, or since a ``fact X dead``);
- one character is in two locations at the same story time (same day and
  time of day) in two scenes.

Each contradiction names both sides and where they were written.

Across a series the same gate runs with the canon store as it stood after
the previous episode (``CanonState``): a fact set in episode 1 (``fact rosa
dead``) holds in episode 2, ages advance by the story time an episode declares
(``elapsed 2y``), and a contradiction names the site in this episode and the
site where the fact was set, in whichever episode that was.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError
from reel.lang.source import Span


@dataclass(frozen=True)
class Held:
    """One fact the canon holds: its value, where it was set, and by which episode.

    ``before`` is the fact it came from when story time moved it (an age that
    advanced); both sites are shown when it is contradicted."""

    value: Any
    span: Span | None
    episode: str
    before: Held | None = None
    years: int = 0

    def site(self) -> str:
        """Where it was set, as a user reads it (file:line:col)."""
        return str(self.span) if self.span is not None else "the cast"

    def key_site(self) -> str:
        """Where it was set, relative to the project folder: the form an
        artifact may hold (no machine path, no working directory)."""
        span = self.span
        return f"{span.file.key}:{span.line}:{span.column}" if span is not None else ""

    def describe(self) -> str:
        if self.before is None:
            return f"at {self.site()}"
        return (
            f"({self.before.value} at {self.before.site()}, plus {self.years}y of story time "
            f"elapsed in episode '{self.episode}' at {self.site()})"
        )


@dataclass
class CanonState:
    """The canon store between episodes: each character's name, age and life,
    and each location's name, with where each was set."""

    characters: dict[str, dict[str, Held]] = field(default_factory=dict)
    locations: dict[str, Held] = field(default_factory=dict)

    def copy(self) -> CanonState:
        return CanonState(
            {cid: dict(attrs) for cid, attrs in self.characters.items()}, dict(self.locations)
        )

    def aged(self, years: int, episode: ir.Episode) -> CanonState:
        """A copy with every known age ``years`` older (story time between episodes)."""
        out = self.copy()
        if years:
            span = episode.elapsed_span or episode.span
            for attrs in out.characters.values():
                age = attrs.get("age")
                if age is not None and attrs["alive"].value:  # the dead do not age
                    attrs["age"] = Held(age.value + years, span, episode.id, age, years)
        return out


def _describe(char: ir.Character) -> str:
    age = f", age {char.age}" if char.age is not None else ""
    status = "" if char.alive else ", dead"
    return f"'{char.name}'{age}{status}"


def check_canon(episode: ir.Episode) -> Diagnostics:
    """All canon contradictions of ``episode``, as errors."""
    return carry_canon(episode, None)[0]


def carry_canon(
    episode: ir.Episode, prior: CanonState | None, shared_key: str | None = None
) -> tuple[Diagnostics, CanonState]:
    """Judge ``episode`` against the canon store ``prior`` (None: a lone episode)
    and return its contradictions and the store after it.

    ``shared_key`` names the series file: its cast is the store's starting point,
    so its claims are not judged again in later episodes (a character it declares
    alive may have died since); the episode's own claims are."""
    out = Diagnostics()
    _check_claims(episode, out)
    state = (prior or CanonState()).aged(episode.elapsed_years, episode)
    known_before = set(state.characters)
    for claim in episode.cast_claims:
        if claim.id not in state.characters:
            state.characters[claim.id] = {
                "name": Held(claim.name, claim.span, episode.id),
                "age": Held(claim.age, claim.span, episode.id) if claim.age is not None else None,
                "alive": Held(claim.alive, claim.span, episode.id),
            }
        elif claim.id in known_before and not _from(claim.span, shared_key):
            _judge_claim(claim, state.characters[claim.id], out)
    for loc in episode.locations:
        held = state.locations.get(loc.id)
        if held is None:
            state.locations[loc.id] = Held(loc.name, loc.span, episode.id)
        elif held.value != loc.name and not _from(loc.span, shared_key):
            out.error(
                f"canon: location '{loc.id}' is '{held.value}', but this declaration says "
                f"'{loc.name}'",
                loc.span,
                "use the canon's name, or give the new place another id",
                notes=(f"'{loc.id}' was named in episode '{held.episode}' {held.describe()}",),
            )
    for scene in episode.scenes:
        facts_by_position = sorted(scene.facts, key=lambda f: f.after_shot)
        for shot in scene.shots:
            for fact in facts_by_position:
                if fact.after_shot == shot.index - 1:
                    _apply_fact(fact, state, episode.id, out)
            for line in shot.lines:
                who = state.characters.get(line.speaker)
                if who is not None and not who["alive"].value:
                    out.error(
                        f"canon: {who['name'].value} ({line.speaker}) is dead but "
                        f"speaks in shot {shot.id}",
                        line.span,
                        "cut or reassign the line, or change the canon",
                        notes=(_dead_note(line.speaker, who["alive"], episode.id),),
                    )
        for fact in facts_by_position:
            if fact.after_shot >= len(scene.shots):
                _apply_fact(fact, state, episode.id, out)
    _check_places(episode, out)
    return out, state


def _from(span: Span | None, key: str | None) -> bool:
    return key is not None and span is not None and span.file.key == key


def _dead_note(who: str, held: Held, episode: str) -> str:
    where = "" if held.episode == episode else f" (episode '{held.episode}')"
    return f"{who} is dead since {held.site()}{where}"


def _judge_claim(claim: ir.Character, now: dict[str, Held], out: Diagnostics) -> None:
    """An episode's own declaration of a character the store already knows."""
    checks = (
        ("name", claim.name, "name"),
        ("age", claim.age, "age"),
        ("alive", claim.alive, "life status"),
    )
    for key, value, label in checks:
        held = now.get(key)
        if held is None or value is None or held.value == value:
            continue
        out.error(
            f"canon: this declaration of '{claim.id}' says {label} {_shown(key, value)}, but the "
            f"canon holds {_shown(key, held.value)}",
            claim.span,
            "make the declaration agree with the canon, or drop it (the series' canon carries)",
            notes=(f"set in episode '{held.episode}' {held.describe()}",),
        )


def _shown(key: str, value: Any) -> str:
    if key == "alive":
        return "alive" if value else "dead"
    return f"'{value}'" if key == "name" else str(value)


def _check_claims(episode: ir.Episode, out: Diagnostics) -> None:
    first: dict[str, ir.Character] = {}
    for claim in episode.cast_claims:
        seen = first.setdefault(claim.id, claim)
        if seen is claim:
            continue
        for field_name, label in (("name", "name"), ("age", "age"), ("alive", "life status")):
            a, b = getattr(seen, field_name), getattr(claim, field_name)
            if a != b and not (field_name == "age" and (a is None or b is None)):
                out.error(
                    f"canon: two declarations of '{claim.id}' disagree on {label}: "
                    f"{_describe(seen)} and {_describe(claim)}",
                    claim.span,
                    "make the declarations agree, or give the second character another id",
                    notes=(f"the first declaration is at {_where(seen)}",),
                )


def _where(node: object) -> str:
    span = getattr(node, "span", None)
    return str(span) if span is not None else "the cast"


def _apply_fact(fact: ir.Fact, state: CanonState, episode: str, out: Diagnostics) -> None:
    now = state.characters[fact.character]
    name = now["name"].value
    if fact.attribute == "age":
        held = now.get("age")
        if held is None:
            now["age"] = Held(fact.value, fact.span, episode)
        elif fact.value != held.value:
            cast = held.before is None and held.episode == episode
            out.error(
                f"canon: {name} is {held.value}, but this scene says {fact.value}",
                fact.span,
                "fix the fact, or change the age in the cast"
                if cast
                else "fix the fact, or the story time between episodes (`elapsed 2y`)",
                notes=(
                    f"the cast says age {held.value} at {held.site()}"
                    if cast
                    else f"the canon holds age {held.value}, set in episode "
                    f"'{held.episode}' {held.describe()}",
                ),
            )
    elif fact.attribute == "name":
        held = now["name"]
        if fact.value != held.value:
            out.error(
                f"canon: '{fact.character}' is named '{held.value}', but this scene says "
                f"'{fact.value}'",
                fact.span,
                "fix the fact, or rename them in the cast",
                notes=(f"the cast names them at {held.site()}",),
            )
    elif fact.attribute == "alive":
        held = now["alive"]
        if fact.value and not held.value:
            out.error(
                f"canon: {name} is dead, but this scene says they are alive",
                fact.span,
                "the dead stay dead: remove the fact, or change the canon",
                notes=(f"dead since {held.site()}" + _episode_note(held, episode),),
            )
        elif not fact.value and held.value:
            now["alive"] = Held(False, fact.span, episode)


def _episode_note(held: Held, episode: str) -> str:
    return "" if held.episode == episode else f" (episode '{held.episode}')"


def _check_places(episode: ir.Episode, out: Diagnostics) -> None:
    """One character, one place, at one story time."""
    where: dict[tuple[str, int, str], list[ir.Scene]] = defaultdict(list)
    for scene in episode.scenes:
        if scene.location is None or scene.time_of_day is None:
            continue
        people = set(scene.present) | {line.speaker for shot in scene.shots for line in shot.lines}
        for person in sorted(people):
            where[(person, scene.day, scene.time_of_day)].append(scene)
    for (person, day, time), scenes in sorted(where.items()):
        places = {}
        for scene in scenes:
            places.setdefault(scene.location, scene)
        if len(places) < 2:
            continue
        (loc_a, scene_a), (loc_b, scene_b) = list(places.items())[:2]
        out.error(
            f"canon: {person} is in two places on day {day} ({time}): '{loc_a}' in scene "
            f"'{scene_a.id}' and '{loc_b}' in scene '{scene_b.id}'",
            scene_b.span,
            "move one scene to another time (`time`, `day`) or take the character out",
            notes=(f"scene '{scene_a.id}' is at {_where(scene_a)}",),
        )


def canon_gate(
    episode: ir.Episode, prior: CanonState | None = None, shared_key: str | None = None
) -> CanonState:
    """Block the build on a contradiction (GateError, exit 1); else the store after
    the episode, which the next episode of a series starts from."""
    problems, state = carry_canon(episode, prior, shared_key)
    if problems.has_errors():
        raise GateError(problems.errors)
    return state
