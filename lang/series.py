"""A series: one file that declares ``series NAME { episode "ep01.episode" ... }``.

The episodes are listed in story order, which is the order the canon store
carries facts in. Every other declaration in the series file (cast, locations,
styles, templates, deliverables) is shared: the file is loaded before each
episode, as if the episode began with ``load "./series"``. The episode files
live in the series folder, so one project root holds them all.

Labels: ``FOLDER`` builds every episode in order; ``FOLDER:ep02`` one episode
(named by its file's stem); ``FOLDER:ep02:captions`` one target of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import ast
from .diagnostics import Diagnostics, InputError
from .entry import SUFFIX
from .loader import read_source
from .parser import parse_source
from .source import Refused, Span, confine, regular_size
from .suggest import hint


@dataclass(frozen=True)
class Member:
    """One episode of a series: its label name (the file stem) and file."""

    name: str
    path: Path
    span: Span


@dataclass(frozen=True)
class Series:
    name: str
    title: str | None
    file: Path  # the series file (absolute; never serialised)
    members: tuple[Member, ...]

    @property
    def shared(self) -> tuple[str, ...]:
        """The implicit load that gives each episode the series' declarations."""
        return (f"./{self.file.name}",)

    @property
    def shared_key(self) -> str:
        """The series file's key (relative to the series folder) in spans."""
        return self.file.name

    def member(self, name: str) -> Member:
        """The episode a label names, or an InputError with the near names."""
        for member in self.members:
            if member.name == name:
                return member
        diags = Diagnostics()
        names = [m.name for m in self.members]
        diags.error(
            f"series '{self.name}' has no episode '{name}'",
            None,
            hint(name, names, "episodes") + f" (the series lists: {', '.join(names)})",
        )
        raise InputError(diags.errors)

    def upto(self, name: str) -> tuple[Member, ...]:
        """The episodes from the first to ``name``, in story order."""
        last = self.members.index(self.member(name))
        return self.members[: last + 1]


def load_series(file: Path) -> Series:
    """Parse the series file and check its episode list (InputError, exit 2)."""
    diags = Diagnostics()
    file = file.resolve()
    root = file.parent
    source = read_source(file, root, diags, None)
    module = parse_source(source, diags) if source is not None else None
    if module is None:
        raise InputError(diags.errors)
    decls = [item for item in module.items if isinstance(item, ast.SeriesDecl)]
    if not decls:  # pragma: no cover - only files that declare a series are passed
        diags.error(f"no series in {source.display}", None, "declare `series NAME { ... }`")
        raise InputError(diags.errors)
    for extra in decls[1:]:
        diags.error(
            f"a second series '{extra.name}'",
            extra.name_span,
            f"one file declares one series; the first is '{decls[0].name}' at {decls[0].span}",
        )
    if any(isinstance(item, ast.EpisodeDecl | ast.SceneDecl) for item in module.items):
        diags.error(
            "a series file declares the shared canon, styles and deliverables, not an episode",
            decls[0].name_span,
            "move the `episode` and its scenes into their own file and list it with "
            '`episode "FILE.episode"`',
        )
    decl = decls[0]
    members: list[Member] = []
    seen: dict[str, Member] = {}
    for value in decl.episodes:
        member = _member(value, root, diags)
        if member is None:
            continue
        if member.name in seen:
            diags.error(
                f"episode '{member.name}' is listed twice",
                value.span,
                f"list each episode once; the first is at {seen[member.name].span}",
            )
            continue
        seen[member.name] = member
        members.append(member)
    if not decl.episodes:
        diags.error(
            f"series '{decl.name}' lists no episodes",
            decl.name_span,
            'add `episode "ep01.episode"` lines, in story order',
        )
    if diags.has_errors():
        raise InputError(diags.errors)
    title = decl.title.text if decl.title is not None else None
    return Series(decl.name, title, file, tuple(members))


def _member(value: ast.Value, root: Path, diags: Diagnostics) -> Member | None:
    text = value.text
    if value.kind != "string" or not text.endswith(SUFFIX) or "/" in text:
        diags.error(
            f"'{text}' is not an episode file of this folder",
            value.span,
            f'name a file beside the series file: `episode "ep01{SUFFIX}"`',
        )
        return None
    try:
        path = confine(text, root, (root,), shown=text)
        found = regular_size(path, text) is not None
    except Refused as refused:
        diags.error(refused.message, value.span, refused.help)
        return None
    if not found:
        nearby = sorted(p.name for p in root.glob(f"*{SUFFIX}"))
        diags.error(
            f"the series lists '{text}', but there is no such file",
            value.span,
            hint(text, nearby, "episode files") if nearby else f"create {text}",
        )
        return None
    return Member(Path(text).stem, path, value.span)
