"""Each Director action as one text edit of the `.episode` source, made through
the AST's spans, so the rest of the file (comments, blank lines, the user's
own layout) stays byte for byte as it was.

Why text edits rather than printing a new file from the AST: the AST drops
comments and layout, and a person reviews the Director's work as a diff. An
edit replaces one contiguous region (``old`` → ``new``), so its inverse is the
same edit the other way round, and undo restores the file exactly.

An action on a shot addresses it by scene and 1-based position among the
scene's written ``shot`` statements; a scene that makes shots with ``use``
(a template) is refused, since its positions are not what the reader sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reel.lang import ast
from reel.lang.diagnostics import Diagnostics
from reel.lang.parser import parse_source
from reel.lang.source import SourceFile, Span

from . import contract as c

INDENT = "  "


class EditError(ValueError):
    """An action that cannot be applied to this blueprint, and why."""


@dataclass(frozen=True)
class TextEdit:
    """Replace ``old`` at character offset ``start`` with ``new``."""

    start: int
    old: str
    new: str

    def apply(self, text: str) -> str:
        if text[self.start : self.start + len(self.old)] != self.old:
            raise EditError("the blueprint changed where this edit applies")
        return text[: self.start] + self.new + text[self.start + len(self.old) :]

    def inverse(self) -> TextEdit:
        return TextEdit(self.start, self.new, self.old)

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "old": self.old, "new": self.new}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TextEdit:
        return cls(int(data["start"]), str(data["old"]), str(data["new"]))  # type: ignore[arg-type]


def quote(text: str) -> str:
    """A string literal the grammar reads back as ``text``."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


def seconds(value: float) -> str:
    """A time in milliseconds' precision, as a person writes it: ``2.7s``."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text or '0'}s"


class Blueprint:
    """The source text of one `.episode` file and its AST."""

    def __init__(self, text: str, path: Path | None = None) -> None:
        self.text = text
        name = path.name if path else "cut.episode"
        source = SourceFile(path or Path(name), text, name, name)
        diags = Diagnostics()
        module = parse_source(source, diags)
        if module is None:
            first = diags.errors[0] if diags.errors else None
            raise EditError(f"the blueprint does not parse: {first.message if first else '?'}")
        self.module = module
        self._starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._starts.append(i + 1)

    # -- positions ---------------------------------------------------------
    def offset(self, line: int, column: int) -> int:
        return self._starts[line - 1] + column - 1

    def start(self, span: Span) -> int:
        return self.offset(span.line, span.column)

    def end(self, span: Span) -> int:
        return self.offset(span.end_line, span.end_column)

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """The offset just past the newline ending the line holding ``offset``."""
        at = self.text.find("\n", offset)
        return len(self.text) if at < 0 else at + 1

    def indent_at(self, offset: int) -> str:
        begin = self.line_start(offset)
        line = self.text[begin:offset]
        return line[: len(line) - len(line.lstrip())]

    # -- finding things ------------------------------------------------------
    def scenes(self) -> list[ast.SceneDecl]:
        return [i for i in self.module.items if isinstance(i, ast.SceneDecl)]

    def scene(self, name: str) -> ast.SceneDecl:
        for scene in self.scenes():
            if scene.name == name:
                return scene
        known = ", ".join(s.name for s in self.scenes()) or "none"
        raise EditError(f"there is no scene {name} (scenes: {known})")

    def shots(self, scene: ast.SceneDecl) -> list[ast.ShotStmt]:
        if any(isinstance(s, ast.UseStmt) for s in scene.body):
            raise EditError(
                f"scene {scene.name} makes shots with a template (`use`); the Director "
                "edits only shots written out as `shot` statements"
            )
        return [s for s in scene.body if isinstance(s, ast.ShotStmt)]

    def shot(self, scene_name: str, position: int) -> ast.ShotStmt:
        shots = self.shots(self.scene(scene_name))
        if not 1 <= position <= len(shots):
            raise EditError(f"scene {scene_name} has {len(shots)} shot(s), not a shot {position}")
        return shots[position - 1]

    def episode(self) -> ast.EpisodeDecl:
        for item in self.module.items:
            if isinstance(item, ast.EpisodeDecl):
                return item
        raise EditError("the blueprint declares no `episode`")

    def delivers(self) -> list[ast.DeliverDecl]:
        return [i for i in self.module.items if isinstance(i, ast.DeliverDecl)]

    # -- pieces of text ------------------------------------------------------
    def closing_brace(self, span: Span) -> int:
        """The offset of the ``}`` that closes a block spanning ``span``."""
        at = self.text.rfind("}", self.start(span), self.end(span))
        if at < 0:
            raise EditError("a block without its closing brace")
        return at

    def insert_before_close(self, span: Span, lines: list[str], depth: int) -> TextEdit:
        """New lines at the end of a block's body, indented one level deeper
        than the line that opens the block."""
        close = self.closing_brace(span)
        inner = self.indent_at(self.start(span)) + INDENT * depth
        body = "".join(f"{inner}{line}\n" for line in lines)
        begin = self.line_start(close)
        if self.text[begin:close].strip():  # `scene a { shot ... }` on one line
            return TextEdit(close, "", "\n" + body + self.indent_at(self.start(span)))
        return TextEdit(begin, "", body)

    def chunk(self, stmt_span: Span, previous_end: int) -> tuple[int, int]:
        """A statement's lines with the comments and blank lines just above it:
        from the end of the previous statement's line to the end of its own."""
        return previous_end, self.line_end(self.end(stmt_span) - 1)


def _region(bp: Blueprint, replacements: list[tuple[int, int, str]]) -> TextEdit:
    """Several replacements inside one statement as one contiguous edit."""
    replacements = sorted(replacements)
    begin, finish = replacements[0][0], max(end for _, end, _ in replacements)
    out, at = [], begin
    for start, end, new in replacements:
        out.append(bp.text[at:start])
        out.append(new)
        at = end
    out.append(bp.text[at:finish])
    return TextEdit(begin, bp.text[begin:finish], "".join(out))


def _option(item: ast.ShotItem, key: str) -> ast.Option | None:
    return next((o for o in item.options if o.key == key), None)


def _plate(shot: ast.ShotStmt) -> ast.ShotItem:
    for item in shot.items:
        if item.keyword == "plate":
            if item.head is None or item.head.text != "video":
                break
            return item
    raise EditError("the shot's plate is not a `plate video` from the dailies")


def _say(shot: ast.ShotStmt) -> ast.ShotItem | None:
    return next((i for i in shot.items if i.keyword == "say"), None)


def shot_lines(
    clip: str, in_s: float, out_s: float, speaker: str | None, text: str | None
) -> list[str]:
    lines = [f"plate video {quote(clip)} in {seconds(in_s)} out {seconds(out_s)}"]
    if text and speaker:
        lines.append(f"say {speaker} {quote(text)} from camera")
    return lines


def _range(
    bp: Blueprint, shot: ast.ShotStmt, clip: str | None, in_s: float, out_s: float
) -> list[tuple[int, int, str]]:
    """Replacements that set a shot's plate range (and clip) and its length."""
    plate = _plate(shot)
    found: list[tuple[int, int, str]] = []
    if clip is not None:
        path = plate.args[0]
        found.append((bp.start(path.span), bp.end(path.span), quote(clip)))
    missing = []
    for key, value in (("in", in_s), ("out", out_s)):
        option = _option(plate, key)
        if option is None:
            missing.append(f" {key} {seconds(value)}")
        else:
            found.append((bp.start(option.value.span), bp.end(option.value.span), seconds(value)))
    if missing:
        end = bp.end(plate.span)
        found.append((end, end, "".join(missing)))
    if shot.duration is not None:
        d = shot.duration.span
        found.append((bp.start(d), bp.end(d), seconds(out_s - in_s)))
    else:
        end = bp.end(shot.framing.span)
        found.append((end, end, f" {seconds(out_s - in_s)}"))
    return found


def _text(bp: Blueprint, shot: ast.ShotStmt, text: str) -> tuple[int, int, str]:
    say = _say(shot)
    if say is None or not say.args:
        raise EditError("the shot has no line to correct")
    value = say.args[0]
    return bp.start(value.span), bp.end(value.span), quote(text)


# -- one function per action kind -----------------------------------------


def add_scene(bp: Blueprint, a: c.AddScene) -> TextEdit:
    if any(s.name == a.scene for s in bp.scenes()):
        raise EditError(f"there is already a scene {a.scene}")
    head = f"scene {a.scene}" + (f" phase {a.phase}" if a.phase else "") + " {\n}\n"
    scenes = bp.scenes()
    if a.after is not None:
        anchor = bp.scene(a.after)
        at = bp.line_end(bp.end(anchor.span) - 1)
    elif scenes:
        at = bp.line_end(bp.end(scenes[-1].span) - 1)
    elif bp.delivers():
        at = bp.line_start(bp.start(bp.delivers()[0].span))
        return TextEdit(at, "", head + "\n")
    else:
        at = len(bp.text)
        if bp.text and not bp.text.endswith("\n"):
            return TextEdit(at, "", "\n\n" + head)
    return TextEdit(at, "", "\n" + head)


def add_shot(bp: Blueprint, a: c.AddShot) -> TextEdit:
    scene = bp.scene(a.scene)
    bp.shots(scene)  # refuses template scenes
    body = shot_lines(a.clip, a.in_s, a.out_s, a.speaker, a.text)
    lines = [f"shot {a.framing} {seconds(a.out_s - a.in_s)} {{"]
    lines += [INDENT + line for line in body] + ["}"]
    return bp.insert_before_close(scene.span, lines, 1)


def choose_take(bp: Blueprint, a: c.ChooseTake) -> TextEdit:
    shot = bp.shot(a.scene, a.shot)
    found = _range(bp, shot, a.clip, a.in_s, a.out_s)
    if a.text is not None:
        found.append(_text(bp, shot, a.text))
    return _region(bp, found)


def trim(bp: Blueprint, a: c.Trim) -> TextEdit:
    return _region(bp, _range(bp, bp.shot(a.scene, a.shot), None, a.in_s, a.out_s))


def _chunks(bp: Blueprint, scene: ast.SceneDecl) -> list[tuple[int, int]]:
    """Each shot's chunk of text (with its comments above), in order."""
    shots = bp.shots(scene)
    if len(shots) != len(scene.body):
        raise EditError(f"scene {scene.name} holds more than shots; reorder it by hand")
    chunks = []
    previous = bp.line_end(bp.text.index("{", bp.start(scene.span)))
    for shot in shots:
        begin, end = bp.chunk(shot.span, previous)
        chunks.append((begin, end))
        previous = end
    return chunks


def reorder(bp: Blueprint, a: c.Reorder) -> TextEdit:
    scene = bp.scene(a.scene)
    chunks = _chunks(bp, scene)
    if sorted(a.order) != list(range(1, len(chunks) + 1)):
        raise EditError(
            f"the order must name each of the {len(chunks)} shot(s) of {a.scene} once, "
            f"as positions 1..{len(chunks)}"
        )
    begin, end = chunks[0][0], chunks[-1][1]
    new = "".join(bp.text[chunks[i - 1][0] : chunks[i - 1][1]] for i in a.order)
    return TextEdit(begin, bp.text[begin:end], new)


def set_transition(bp: Blueprint, a: c.SetTransition) -> TextEdit:
    shot = bp.shot(a.scene, a.shot)
    text = f"transition {a.transition}" + ("" if a.transition == "cut" else f" {a.frames}f")
    for item in shot.items:
        if item.keyword == "transition":
            return TextEdit(
                bp.start(item.span), bp.text[bp.start(item.span) : bp.end(item.span)], text
            )
    return bp.insert_before_close(shot.span, [text], 1)


def add_title(bp: Blueprint, a: c.AddTitle) -> TextEdit:
    shot = bp.shot(a.scene, a.shot)
    return bp.insert_before_close(shot.span, [f"title {quote(a.text)} position {a.position}"], 1)


def fix_caption(bp: Blueprint, a: c.FixCaption) -> TextEdit:
    return _region(bp, [_text(bp, bp.shot(a.scene, a.shot), a.text)])


def set_music(bp: Blueprint, a: c.SetMusic) -> TextEdit:
    episode = bp.episode()
    text = f"music {quote(a.path)} gain {a.gain_db:g}dB"
    for setting in episode.settings:
        if setting.name == "music":
            begin, end = bp.start(setting.span), bp.end(setting.span)
            return TextEdit(begin, bp.text[begin:end], text)
    return bp.insert_before_close(episode.span, [text], 1)


def add_deliverable(bp: Blueprint, a: c.AddDeliverable) -> TextEdit:
    if any(d.name == a.name for d in bp.delivers()):
        raise EditError(f"there is already a deliverable {a.name}")
    line = f"deliver {a.name} = {a.preset}\n"
    delivers = bp.delivers()
    if delivers:
        return TextEdit(bp.line_end(bp.end(delivers[-1].span) - 1), "", line)
    at = len(bp.text)
    return TextEdit(at, "", ("\n" if bp.text and not bp.text.endswith("\n") else "") + line)


def remove_shot(bp: Blueprint, a: c.RemoveShot) -> TextEdit:
    scene = bp.scene(a.scene)
    shots = bp.shots(scene)
    if not 1 <= a.shot <= len(shots):
        raise EditError(f"scene {a.scene} has {len(shots)} shot(s), not a shot {a.shot}")
    begin, end = _chunks(bp, scene)[a.shot - 1]
    return TextEdit(begin, bp.text[begin:end], "")


def remove_scene(bp: Blueprint, a: c.RemoveScene) -> TextEdit:
    scene = bp.scene(a.scene)
    begin = bp.line_start(bp.start(scene.span))
    end = bp.line_end(bp.end(scene.span) - 1)
    # the blank line that separated it goes with it
    if begin >= 1 and bp.text[max(0, begin - 2) : begin] == "\n\n":
        begin -= 1
    return TextEdit(begin, bp.text[begin:end], "")


EDITORS: dict[str, Callable[[Blueprint, object], TextEdit]] = {
    "add_scene": add_scene,  # type: ignore[dict-item]
    "add_shot": add_shot,  # type: ignore[dict-item]
    "choose_take": choose_take,  # type: ignore[dict-item]
    "trim": trim,  # type: ignore[dict-item]
    "reorder": reorder,  # type: ignore[dict-item]
    "set_transition": set_transition,  # type: ignore[dict-item]
    "add_title": add_title,  # type: ignore[dict-item]
    "fix_caption": fix_caption,  # type: ignore[dict-item]
    "set_music": set_music,  # type: ignore[dict-item]
    "add_deliverable": add_deliverable,  # type: ignore[dict-item]
    "remove_shot": remove_shot,  # type: ignore[dict-item]
    "remove_scene": remove_scene,  # type: ignore[dict-item]
}
assert set(EDITORS) == set(c.ACTION_KINDS)


def edit_for(text: str, action: object, path: Path | None = None) -> TextEdit:
    """The text edit that carries out ``action`` on ``text`` (EditError if it
    cannot: a missing scene, a shot out of range, a duplicate id)."""
    return EDITORS[action.kind](Blueprint(text, path), action)  # type: ignore[attr-defined]
