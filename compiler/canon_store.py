"""The canon store of a series, as artifacts (seed 003 §5.2–5.3, §6.1).

``Canon`` is the store's snapshot after one episode: every character's name,
age and life and every location's name, each with the site that set it. Its
parents are the previous episode's Canon and this episode's Script, so the
snapshots form a chain in series order. ``CanonDiff`` is what one episode
added to or changed in the store, with provenance (the file:line:col of each
change, relative to the series folder): what a reviewer reads before the
canon moves on.

Kept out of ``artifacts.ARTIFACTS``: a lone episode has no store, and its
artifact chain stays the four planning artifacts and RenderOutput. `reel
schema` publishes their schemas all the same (``schemas.PUBLISHED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field

from .artifacts import SCHEMA_VERSION, Artifact, Model
from .canon import CanonState, Held

Value = str | int | bool


@dataclass(frozen=True)
class SeriesPlace:
    """Where an episode sits in its series: what a session needs to judge it
    against the canon of the episodes before it, and to record the store after."""

    series: str
    name: str  # the episode's label name (its file's stem)
    shared: tuple[str, ...]  # the series file, loaded before the episode
    shared_key: str
    prior: CanonState | None = None  # the store after the previous episode
    previous: Canon | None = None  # its snapshot (the new one's parent)
    labels: dict[str, str] = field(default_factory=dict)  # episode id -> label name

    def record(self, state: CanonState, episode: str, script_hash: str) -> tuple[Canon, CanonDiff]:
        """The snapshot after this episode and what it changed."""
        labels = {**self.labels, episode: self.name}
        parents = {"Script": script_hash}
        if self.previous is not None:
            parents["Canon"] = self.previous.content_hash
        canon = snapshot(state, self.series, self.name, labels, parents)
        return canon, diff(self.previous, canon)


class HeldFact(Model):
    value: Value
    site: str = Field(description="file:line:col (relative to the series folder) that set it")
    episode: str = Field(description="The episode (label name) that set it")


class CanonCharacter(Model):
    id: str
    name: HeldFact
    age: HeldFact | None = None
    alive: HeldFact


class CanonLocation(Model):
    id: str
    name: HeldFact


class Canon(Artifact):
    """The canon store after an episode."""

    kind: ClassVar[str] = "Canon"
    series: str
    characters: list[CanonCharacter]
    locations: list[CanonLocation]


class FactChange(Model):
    subject: str = Field(description="character or location id")
    attribute: str = Field(description="name | age | alive")
    before: Value | None = None
    after: Value
    site: str
    episode: str
    justification: str = Field(description="why it changed: a fact, a declaration, story time")


class CanonDiff(Artifact):
    """What one episode added to or changed in the canon."""

    kind: ClassVar[str] = "CanonDiff"
    series: str
    added_facts: list[FactChange]
    modified_facts: list[FactChange]
    removed_facts: list[FactChange] = Field(
        description="Always empty: the canon keeps what it learnt (the dead stay dead)"
    )


def _held(held: Held, label: dict[str, str]) -> HeldFact:
    return HeldFact(value=held.value, site=held.key_site(), episode=label.get(held.episode, ""))


def snapshot(
    state: CanonState,
    series: str,
    episode: str,
    labels: dict[str, str],
    parents: dict[str, str],
) -> Canon:
    """The store as an artifact. ``labels`` maps episode ids to label names."""
    characters = [
        CanonCharacter(
            id=cid,
            name=_held(attrs["name"], labels),
            age=_held(attrs["age"], labels) if attrs.get("age") is not None else None,
            alive=_held(attrs["alive"], labels),
        )
        for cid, attrs in sorted(state.characters.items())
    ]
    locations = [
        CanonLocation(id=lid, name=_held(held, labels))
        for lid, held in sorted(state.locations.items())
    ]
    return Canon.build(
        schema_version=SCHEMA_VERSION,
        episode=episode,
        parents=parents,
        series=series,
        characters=characters,
        locations=locations,
    )


def _facts(canon: Canon | None) -> dict[tuple[str, str], HeldFact]:
    if canon is None:
        return {}
    out: dict[tuple[str, str], HeldFact] = {}
    for char in canon.characters:
        for attribute in ("name", "age", "alive"):
            held = getattr(char, attribute)
            if held is not None:
                out[(char.id, attribute)] = held
    for loc in canon.locations:  # apart from characters: an id may name both
        out[(f"location:{loc.id}", "name")] = loc.name
    return out


def diff(before: Canon | None, after: Canon) -> CanonDiff:
    """What ``after`` adds to or changes in ``before`` (None: the empty store)."""
    old, new = _facts(before), _facts(after)
    added, modified = [], []
    for key in sorted(new):
        now = new[key]
        was = old.get(key)
        if was is not None and was.value == now.value:
            continue
        change = FactChange(
            subject=key[0],
            attribute=key[1],
            before=was.value if was is not None else None,
            after=now.value,
            site=now.site,
            episode=now.episode,
            justification=_why(key[1], was, now),
        )
        (added if was is None else modified).append(change)
    parents = {"Canon": after.content_hash}
    if before is not None:
        parents["PreviousCanon"] = before.content_hash
    return CanonDiff.build(
        schema_version=SCHEMA_VERSION,
        episode=after.episode,
        parents=parents,
        series=after.series,
        added_facts=added,
        modified_facts=modified,
        removed_facts=[],
    )


def _why(attribute: str, was: HeldFact | None, now: HeldFact) -> str:
    if was is None:
        return "declared"
    if attribute == "age" and isinstance(now.value, int) and isinstance(was.value, int):
        return f"story time: {now.value - was.value:+d}y"
    return "asserted by a fact"


def render_diff(change: CanonDiff) -> str:
    """The CanonDiff as a reviewer reads it, one change a line."""
    lines = [f"canon diff of episode {change.episode} (series {change.series}):"]
    if not change.added_facts and not change.modified_facts:
        lines.append("  no change")
    for fact in change.added_facts:
        lines.append(f"  + {fact.subject}.{fact.attribute} = {_text(fact.after)}  [{fact.site}]")
    for fact in change.modified_facts:
        lines.append(
            f"  ~ {fact.subject}.{fact.attribute}: {_text(fact.before)} -> {_text(fact.after)}"
            f"  [{fact.site}] ({fact.justification})"
        )
    return "\n".join(lines)


def _text(value: Value | None) -> str:
    if isinstance(value, bool):
        return "alive" if value else "dead"
    return f'"{value}"' if isinstance(value, str) else str(value)
