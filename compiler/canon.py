"""The canon gate (seed 003 §6.3, §19.0): block hard contradictions.

The cast block is the canon. The gate walks the episode in story order and
blocks the build when:

- two declarations of one character disagree on name, age or death;
- a scene states a fact (``fact maya age 35``) that contradicts the canon;
- a dead character speaks (dead in the cast, or since a ``fact X dead``);
- one character is in two locations at the same story time (same day and
  time of day) in two scenes.

Each contradiction names both sides and where they were written.
"""

from __future__ import annotations

from collections import defaultdict

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError


def _where(node: object) -> str:
    span = getattr(node, "span", None)
    return str(span) if span is not None else "the cast"


def _describe(char: ir.Character) -> str:
    age = f", age {char.age}" if char.age is not None else ""
    status = "" if char.alive else ", dead"
    return f"'{char.name}'{age}{status}"


def check_canon(episode: ir.Episode) -> Diagnostics:
    """All canon contradictions of ``episode``, as errors."""
    out = Diagnostics()
    _check_claims(episode, out)
    canon = {c.id: c for c in episode.cast}
    state = {
        c.id: {"name": c.name, "age": c.age, "alive": c.alive, "since": c} for c in episode.cast
    }
    for scene in episode.scenes:
        facts_by_position = sorted(scene.facts, key=lambda f: f.after_shot)
        for shot in scene.shots:
            for fact in facts_by_position:
                if fact.after_shot == shot.index - 1:
                    _apply_fact(fact, canon, state, out)
            for line in shot.lines:
                who = state.get(line.speaker)
                if who is not None and not who["alive"]:
                    out.error(
                        f"canon: {canon[line.speaker].name} ({line.speaker}) is dead but "
                        f"speaks in shot {shot.id}",
                        line.span,
                        "cut or reassign the line, or change the canon",
                        notes=(f"{line.speaker} is dead since {_where(who['since'])}",),
                    )
        for fact in facts_by_position:
            if fact.after_shot >= len(scene.shots):
                _apply_fact(fact, canon, state, out)
    _check_places(episode, out)
    return out


def _check_claims(episode: ir.Episode, out: Diagnostics) -> None:
    first: dict[str, ir.Character] = {}
    for claim in episode.cast_claims:
        seen = first.setdefault(claim.id, claim)
        if seen is claim:
            continue
        for field, label in (("name", "name"), ("age", "age"), ("alive", "life status")):
            a, b = getattr(seen, field), getattr(claim, field)
            if a != b and not (field == "age" and (a is None or b is None)):
                out.error(
                    f"canon: two declarations of '{claim.id}' disagree on {label}: "
                    f"{_describe(seen)} and {_describe(claim)}",
                    claim.span,
                    "make the declarations agree, or give the second character another id",
                    notes=(f"the first declaration is at {_where(seen)}",),
                )


def _apply_fact(
    fact: ir.Fact, canon: dict[str, ir.Character], state: dict[str, dict], out: Diagnostics
) -> None:
    char = canon[fact.character]
    now = state[fact.character]
    if fact.attribute == "age":
        if now["age"] is not None and fact.value != now["age"]:
            out.error(
                f"canon: {char.name} is {now['age']}, but this scene says {fact.value}",
                fact.span,
                "fix the fact, or change the age in the cast",
                notes=(f"the cast says age {now['age']} at {_where(char)}",),
            )
    elif fact.attribute == "name":
        if fact.value != now["name"]:
            out.error(
                f"canon: '{fact.character}' is named '{now['name']}', but this scene says "
                f"'{fact.value}'",
                fact.span,
                "fix the fact, or rename them in the cast",
                notes=(f"the cast names them at {_where(char)}",),
            )
    elif fact.attribute == "alive":
        if fact.value and not now["alive"]:
            out.error(
                f"canon: {char.name} is dead, but this scene says they are alive",
                fact.span,
                "the dead stay dead: remove the fact, or change the canon",
                notes=(f"dead since {_where(now['since'])}",),
            )
        elif not fact.value and now["alive"]:
            now["alive"] = False
            now["since"] = fact


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


def canon_gate(episode: ir.Episode) -> None:
    problems = check_canon(episode)
    if problems.has_errors():
        raise GateError(problems.errors)
