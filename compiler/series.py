"""Build a series: its episodes in story order, one store, one canon.

The canon is judged first, for every episode up to the last one asked for,
before anything renders: a contradiction in episode 2 with a fact set in
episode 1 blocks the whole build (exit 1) with both sites, as a gate should,
rather than after episode 1 spent minutes rendering. Each episode then builds
as a lone one does, with the series' place (prior canon, shared file) passed
to its session, into ``<out>/<series>/<episode>/``, against the one cache:
what two episodes share (a title card, a line, a plate) renders once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reel.lang.diagnostics import Diagnostics
from reel.lang.series import Member, Series, load_series

from .canon_store import Canon, CanonDiff, SeriesPlace
from .session import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Judged:
    """One episode whose canon passed: its place in the series and what it recorded."""

    member: Member
    place: SeriesPlace
    canon: Canon
    diff: CanonDiff


def split_series_target(rest: str | None) -> tuple[str | None, str | None]:
    """``ep02:captions`` → ('ep02', 'captions'); the part of a label after a
    series path is an episode, then (optionally) a target of it."""
    if not rest:
        return None, None
    episode, _, target = rest.partition(":")
    return episode or None, target or None


def judge(
    series: Series, upto: str | None = None, diags: Diagnostics | None = None
) -> list[Judged]:
    """Carry the canon through the episodes up to ``upto`` (default: all), in
    order. Raises the first episode's errors (InputError, GateError); its
    warnings go to ``diags``."""
    members = series.upto(upto) if upto else series.members
    out: list[Judged] = []
    prior, previous, labels = None, None, {}
    for member in members:
        place = SeriesPlace(
            series.name, member.name, series.shared, series.shared_key, prior, previous, labels
        )
        session = Session(member.path, None, diags=diags or Diagnostics(), series=place)
        canon, change = session.canon
        assert isinstance(canon, Canon) and isinstance(change, CanonDiff)
        out.append(Judged(member, place, canon, change))
        prior, previous = session.gated[1], canon
        labels = {**labels, session.episode.id: member.name}
    return out


def each_episode(
    path: Path,
    episode: str | None,
    run: Callable[[Judged], T],
    diags: Diagnostics,
) -> tuple[Series, list[T]]:
    """Judge the canon, then ``run`` each wanted episode (one, or all in order)."""
    series = load_series(path)
    judged = judge(series, episode, diags)
    wanted = [j for j in judged if episode is None or j.member.name == episode]
    return series, [run(one) for one in wanted]
