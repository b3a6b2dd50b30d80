"""Parse `.episode` text into an AST, reporting every syntax error.

lark's LALR parser stops at the first error. To report several errors in one
run we re-parse with the broken statement's line blanked out (keeping the
text's positions), which is cheap for files of this size and, unlike dropping
tokens, does not cascade into dozens of follow-on errors.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, UnexpectedCharacters, UnexpectedInput, v_args
from lark.exceptions import UnexpectedEOF, UnexpectedToken, VisitError
from lark.tree import Meta

from . import ast
from . import vocabulary as vocab
from .diagnostics import Diagnostics
from .source import SourceFile, Span
from .suggest import did_you_mean

GRAMMAR_PATH = Path(__file__).resolve().parent.parent / "grammar.lark"
MAX_SYNTAX_ERRORS = 20
# No duration, size, rate or level needs more digits than this, and a number with
# thousands of them cannot even be converted (Python refuses integers of more than
# 4300 digits from text) or overflows a float downstream. Checked when parsing.
MAX_DIGITS = 30
_NUMERIC = ("NUMBER", "QUANTITY", "RESOLUTION")

# Human names for terminals in "expected ..." messages.
_TERMINAL_NAMES = {
    "STRING": "a string",
    "NAME": "a name",
    "NUMBER": "a number",
    "QUANTITY": "a quantity with a unit (2s, 12f, 30%)",
    "RESOLUTION": "a resolution (1920x1080)",
    "PARAM": "a template parameter ($name)",
    "BOOL": "true or false",
    "$END": "the end of the file",
}


class _WholeWords:
    """A lark post-lexer that only makes the lexer read names as whole words.

    lark's contextual lexer tries only the tokens the parser can accept next.
    Where a keyword may come but a name may not (at the start of a statement),
    `shotwide` matched the keyword `shot` and went on with `wide`, so glued
    words were silently read as two. Always accepting NAME makes the longest
    match win: `shotwide` is one name, an error with "did you mean 'shot'?".
    """

    always_accept = ("NAME",)

    def process(self, stream: Any) -> Any:
        return stream


def prepare() -> Path:
    """Build the parser now (a resident build server does it once for all its
    builds); the grammar file it was built from."""
    _parser()
    return GRAMMAR_PATH


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    # cache=True stores the LALR tables keyed by the grammar's hash, so start-up
    # skips table construction after the first run.
    return Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_WholeWords(),
        cache=True,
    )


def keywords() -> set[str]:
    """Every keyword of the language (for suggestions)."""
    out = set()
    for term in _parser().terminals:
        value = term.pattern.value
        if term.pattern.type == "str" and value.isidentifier():
            out.add(value)
    return out


def _unescape(token_text: str) -> str:
    body = token_text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _ToAst(Transformer):
    """lark parse tree → :mod:`reel.lang.ast` nodes with spans."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__(visit_tokens=False)
        self.source = source
        self.oversized: list[Token] = []  # numbers with more than MAX_DIGITS digits
        self.errors: list[tuple[str, Span, str | None]] = []  # found while building the AST

    # -- helpers ---------------------------------------------------------
    def _tok_span(self, tok: Token) -> Span:
        return Span(
            self.source,
            tok.line or 1,
            tok.column or 1,
            tok.end_line or tok.line or 1,
            tok.end_column or tok.column or 1,
        )

    def _meta_span(self, meta: Meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 1, 1, 1, 1)
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def value_of(self, tok: Token | ast.Value) -> ast.Value:
        if isinstance(tok, ast.Value):
            return tok
        if tok.type in _NUMERIC and sum(c.isdigit() for c in tok) > MAX_DIGITS:
            self.oversized.append(tok)
        kinds = {
            "STRING": "string",
            "NUMBER": "number",
            "QUANTITY": "quantity",
            "RESOLUTION": "resolution",
            "NAME": "name",
            "PARAM": "param",
            "BOOL": "bool",
        }
        text = _unescape(str(tok)) if tok.type == "STRING" else str(tok)
        if tok.type == "PARAM":
            text = text[1:]
        return ast.Value(kinds.get(tok.type, "name"), text, self._tok_span(tok))

    def _split(self, children: list) -> tuple[list, list[ast.Option]]:
        plain = [c for c in children if not isinstance(c, ast.Option) and c is not None]
        opts = [c for c in children if isinstance(c, ast.Option)]
        return plain, opts

    # -- values and options ----------------------------------------------
    @v_args(meta=True)
    def opt(self, meta: Meta, children: list[Any]) -> Any:
        key, value = children
        return ast.Option(str(key), self.value_of(value), self._meta_span(meta))

    @v_args(meta=True)
    def prop(self, meta: Meta, children: list[Any]) -> Any:
        key, value = children
        return ast.Prop(str(key), self.value_of(value), self._meta_span(meta))

    def prop_keyword(self, children: list[Any]) -> Any:
        tok = children[0]
        return Token(
            "NAME",
            str(tok),
            tok.start_pos,
            tok.line,
            tok.column,
            tok.end_line,
            tok.end_column,
            tok.end_pos,
        )

    def props_block(self, children: list[Any]) -> Any:
        return tuple(children)

    def dead(self, _children: list[Any]) -> Any:
        return "dead"

    def alive(self, _children: list[Any]) -> Any:
        return "alive"

    # -- top level ---------------------------------------------------------
    def start(self, children: list[Any]) -> Any:
        return ast.Module(self.source, tuple(children))

    @v_args(meta=True)
    def load(self, meta: Meta, children: list[Any]) -> Any:
        return ast.Load(self.value_of(children[0]), self._meta_span(meta))

    @v_args(meta=True)
    def episode(self, meta: Meta, children: list[Any]) -> Any:
        name = children[0]
        return ast.EpisodeDecl(
            str(name), tuple(children[1:]), self._meta_span(meta), self._tok_span(name)
        )

    def _setting(self, name: str, meta: Meta, children: list[Any]) -> ast.Setting:
        plain, opts = self._split(children)
        return ast.Setting(
            name, tuple(self.value_of(c) for c in plain), tuple(opts), self._meta_span(meta)
        )

    @v_args(meta=True)
    def ep_title(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("title", meta, children)

    @v_args(meta=True)
    def ep_format(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("format", meta, children)

    @v_args(meta=True)
    def ep_runtime(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("runtime", meta, children)

    @v_args(meta=True)
    def ep_genre(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("genre", meta, children)

    @v_args(meta=True)
    def ep_arc(self, meta: Meta, children: list[Any]) -> Any:
        # `arc NAME`, `arc NAME { overrides }` or `arc { shares }`: the block's
        # properties travel as the setting's options (the same key-value shape).
        props = next((c for c in children if isinstance(c, tuple)), ())
        named = [c for c in children if c is not None and not isinstance(c, tuple)]
        setting = self._setting("arc", meta, named)
        opts = tuple(ast.Option(p.key, p.value, p.span) for p in props)
        return ast.Setting(setting.name, setting.args, opts, setting.span)

    @v_args(meta=True)
    def ep_music(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("music", meta, children)

    @v_args(meta=True)
    def ep_voice(self, meta: Meta, children: list[Any]) -> Any:
        # args: the character, the engine (`tts` or a name), the language or model
        return self._setting("voice", meta, children)

    @v_args(meta=True)
    def engine_tts(self, meta: Meta, children: list[Any]) -> Any:
        return ast.Value("name", "tts", self._meta_span(meta))

    def engine_named(self, children: list[Any]) -> Any:
        return self.value_of(children[0])

    @v_args(meta=True)
    def ep_captions(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("captions", meta, children)

    @v_args(meta=True)
    def ep_blocklist(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("blocklist", meta, children)

    @v_args(meta=True)
    def ep_approve(self, meta: Meta, children: list[Any]) -> Any:
        # args: the gate (a name) and what it approves (a path); options: by, reason
        return self._setting("approve", meta, children)

    @v_args(meta=True)
    def ep_elapsed(self, meta: Meta, children: list[Any]) -> Any:
        return self._setting("elapsed", meta, children)

    @v_args(meta=True)
    def series(self, meta: Meta, children: list[Any]) -> Any:
        name, *stmts = children
        titles = [value for kind, value in stmts if kind == "title"]
        episodes = tuple(value for kind, value in stmts if kind == "episode")
        return ast.SeriesDecl(
            str(name),
            titles[0] if titles else None,
            episodes,
            self._meta_span(meta),
            self._tok_span(name),
        )

    def series_title(self, children: list[Any]) -> Any:
        return ("title", self.value_of(children[0]))

    def series_episode(self, children: list[Any]) -> Any:
        return ("episode", self.value_of(children[0]))

    @v_args(meta=True)
    def cast(self, meta: Meta, children: list[Any]) -> Any:
        return ast.CastDecl(tuple(children), self._meta_span(meta))

    @v_args(meta=True)
    def cast_entry(self, meta: Meta, children: list[Any]) -> Any:
        name, display, *rest = children
        opts = tuple(c for c in rest if isinstance(c, ast.Option))
        flags = tuple(c for c in rest if isinstance(c, str))
        return ast.CharacterDecl(
            str(name), self.value_of(display), opts, flags, self._meta_span(meta)
        )

    @v_args(meta=True)
    def locations(self, meta: Meta, children: list[Any]) -> Any:
        return ast.LocationsDecl(tuple(children), self._meta_span(meta))

    @v_args(meta=True)
    def location_entry(self, meta: Meta, children: list[Any]) -> Any:
        name, display, *opts = children
        return ast.LocationDecl(
            str(name), self.value_of(display), tuple(opts), self._meta_span(meta)
        )

    @v_args(meta=True)
    def scene(self, meta: Meta, children: list[Any]) -> Any:
        name, *rest = children
        opts = tuple(c for c in rest if isinstance(c, ast.Option))
        body = tuple(c for c in rest if not isinstance(c, ast.Option))
        return ast.SceneDecl(str(name), opts, body, self._meta_span(meta), self._tok_span(name))

    @v_args(meta=True)
    def shot(self, meta: Meta, children: list[Any]) -> Any:
        framing, duration, *rest = children
        opts = tuple(c for c in rest if isinstance(c, ast.Option))
        items = tuple(c for c in rest if isinstance(c, ast.ShotItem))
        dur = None if duration is None or duration == "auto" else duration
        return ast.ShotStmt(self.value_of(framing), dur, opts, items, self._meta_span(meta))

    def duration(self, children: list[Any]) -> Any:
        return self.value_of(children[0])

    def auto(self, _children: list[Any]) -> Any:
        return "auto"

    def _item(self, keyword: str, meta: Meta, children: list[Any], has_head: bool) -> ast.ShotItem:
        plain, opts = self._split(children)
        head = self.value_of(plain[0]) if has_head else None
        args = plain[1:] if has_head else plain
        return ast.ShotItem(
            keyword, head, tuple(self.value_of(a) for a in args), tuple(opts), self._meta_span(meta)
        )

    @v_args(meta=True)
    def plate(self, meta: Meta, children: list[Any]) -> Any:
        head, *tail = children
        kind = str(head)
        wanted, spec = vocab.PLATES.get(kind, ((), {}))
        values = [self.value_of(t) for t in tail]
        # Positional values first: anything that is not a name, a colour name,
        # or (for a known kind) any name until the kind has its values, unless
        # it is one of the kind's option keys. The rest are `key value` options.
        args: list[ast.Value] = []
        i = 0
        while i < len(values):
            v = values[i]
            if v.kind == "name":
                option = v.text in spec and v.text not in vocab.COLOUR_NAMES
                colourish = v.text in vocab.COLOUR_NAMES or (len(args) < len(wanted) and not option)
                if not colourish:
                    break
            args.append(v)
            i += 1
        opts: list[ast.Option] = []
        while i < len(values):
            key = values[i]
            if key.kind != "name":
                shown = f'"{key.text}"' if key.kind == "string" else key.text
                self.errors.append(
                    (
                        f"unexpected {shown} after the options of `plate {kind}`",
                        key.span,
                        "a plate's values come right after its kind, before `key value` "
                        f"options: `plate {kind}"
                        + "".join(f" {w.upper()}" for w in wanted)
                        + (" [option value]…`" if spec else "`"),
                    )
                )
                i += 1
                continue
            if i + 1 >= len(values):
                self.errors.append(
                    (
                        f"option '{key.text}' of `plate {kind}` has no value",
                        key.span,
                        f"write it as `{key.text} VALUE`, or remove it",
                    )
                )
                break
            value = values[i + 1]
            span = Span(
                self.source,
                key.span.line,
                key.span.column,
                value.span.end_line,
                value.span.end_column,
            )
            opts.append(ast.Option(key.text, value, span))
            i += 2
        return ast.ShotItem(
            "plate", self.value_of(head), tuple(args), tuple(opts), self._meta_span(meta)
        )

    @v_args(meta=True)
    def move(self, meta: Meta, children: list[Any]) -> Any:
        return self._item("move", meta, children, True)

    @v_args(meta=True)
    def transition(self, meta: Meta, children: list[Any]) -> Any:
        return self._item("transition", meta, children, True)

    @v_args(meta=True)
    def title(self, meta: Meta, children: list[Any]) -> Any:
        return self._item("title", meta, children, False)

    @v_args(meta=True)
    def kinetic(self, meta: Meta, children: list[Any]) -> Any:
        return self._item("kinetic", meta, children, False)

    @v_args(meta=True)
    def say(self, meta: Meta, children: list[Any]) -> Any:
        return self._item("say", meta, children, True)

    @v_args(meta=True)
    def sfx(self, meta: Meta, children: list[Any]) -> Any:
        return self._item("sfx", meta, children, False)

    @v_args(meta=True)
    def fact_value(self, meta: Meta, children: list[Any]) -> Any:
        who, attr, value = children
        return ast.FactStmt(str(who), str(attr), self.value_of(value), self._meta_span(meta))

    @v_args(meta=True)
    def fact_flag(self, meta: Meta, children: list[Any]) -> Any:
        who, flag = children
        return ast.FactStmt(str(who), flag, None, self._meta_span(meta))

    @v_args(meta=True)
    def present(self, meta: Meta, children: list[Any]) -> Any:
        return ast.PresentStmt(tuple(self.value_of(c) for c in children), self._meta_span(meta))

    @v_args(meta=True)
    def use(self, meta: Meta, children: list[Any]) -> Any:
        name, *args = children
        return ast.UseStmt(
            str(name),
            tuple(a for a in args if a is not None),
            self._meta_span(meta),
            self._tok_span(name),
        )

    @v_args(meta=True)
    def positional_arg(self, meta: Meta, children: list[Any]) -> Any:
        return ast.UseArg(None, self.value_of(children[0]), self._meta_span(meta))

    @v_args(meta=True)
    def named_arg(self, meta: Meta, children: list[Any]) -> Any:
        name, value = children
        return ast.UseArg(str(name), self.value_of(value), self._meta_span(meta))

    @v_args(meta=True)
    def template(self, meta: Meta, children: list[Any]) -> Any:
        name, *rest = children
        params = tuple(c for c in rest if isinstance(c, ast.Param))
        body = tuple(c for c in rest if c is not None and not isinstance(c, ast.Param))
        return ast.TemplateDecl(
            str(name), params, body, self._meta_span(meta), self._tok_span(name)
        )

    @v_args(meta=True)
    def param(self, meta: Meta, children: list[Any]) -> Any:
        name, type_, default = children
        return ast.Param(
            str(name),
            None if type_ is None else str(type_),
            None if default is None else self.value_of(default),
            self._meta_span(meta),
        )

    @v_args(meta=True)
    def deliver(self, meta: Meta, children: list[Any]) -> Any:
        name, preset, props = children
        return ast.DeliverDecl(
            str(name),
            str(preset),
            tuple(props or ()),
            self._meta_span(meta),
            self._tok_span(preset),
            self._tok_span(name),
        )

    @v_args(meta=True)
    def block_decl(self, meta: Meta, children: list[Any]) -> Any:
        kind, name, props = children
        text = _unescape(str(name)) if name.type == "STRING" else str(name)
        return ast.BlockDecl(kind, text, tuple(props), self._meta_span(meta), self._tok_span(name))

    def text_style(self, _c: list[Any]) -> Any:
        return "text_style"

    def caption_style(self, _c: list[Any]) -> Any:
        return "caption_style"

    def preset(self, _c: list[Any]) -> Any:
        return "preset"

    def asset(self, _c: list[Any]) -> Any:
        return "asset"

    def arc(self, _c: list[Any]) -> Any:
        return "arc"


def _describe_expected(expected: set[str]) -> str:
    names = []
    terms = {t.name: t for t in _parser().terminals}
    for name in sorted(expected):
        if name in _TERMINAL_NAMES:
            names.append(_TERMINAL_NAMES[name])
        elif name in terms and terms[name].pattern.type == "str":
            names.append(f"'{terms[name].pattern.value}'")
        else:
            names.append(name.lower())
    names = sorted(set(names))
    if len(names) > 8:
        return ", ".join(names[:8]) + f" or one of {len(names) - 8} more"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    return f"'{tok}'"


def _blank_line(text: str, line: int) -> str:
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        lines[line - 1] = " " * len(lines[line - 1])
    return "\n".join(lines)


def _unclosed_brace(text: str, source: SourceFile) -> Span | None:
    """The span of the last ``{`` that is never closed, ignoring strings/comments."""
    stack: list[tuple[int, int]] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        in_str = False
        col = 0
        while col < len(line):
            ch = line[col]
            if in_str:
                if ch == "\\":
                    col += 1
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "#":
                break
            elif ch == "{":
                stack.append((lineno, col + 1))
            elif ch == "}" and stack:
                stack.pop()
            col += 1
    if not stack:
        return None
    lineno, col = stack[-1]
    return Span(source, lineno, col, lineno, col + 1)


def _previous_token_end(text: str, line: int, column: int) -> tuple[int, int] | None:
    """End position of the last non-blank character before (line, column)."""
    lines = text.split("\n")
    row, col = line - 1, column - 2
    while row >= 0:
        current = lines[row]
        if col is None or col >= len(current):
            col = len(current) - 1
        while col >= 0 and current[col].isspace():
            col -= 1
        hash_pos = current.find("#")
        if col >= 0 and (hash_pos < 0 or hash_pos > col):
            return row + 1, col + 2
        row -= 1
        col = None  # type: ignore[assignment]
    return None


def _diagnose(exc: UnexpectedInput, text: str, source: SourceFile, diags: Diagnostics) -> int:
    """Record one syntax error; return the line to blank before re-parsing (0: stop)."""
    line, column = exc.line, exc.column
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        if ch == '"':
            diags.error(
                "this string is never closed",
                Span(source, line, column, line, column + 1),
                'add the closing " on the same line (strings cannot span lines)',
            )
            return line
        help_ = None
        if ch == "'":
            help_ = 'strings use double quotes: "like this"'
        elif ch == "#":
            help_ = 'colours are written as strings: "#0b1020"'
        diags.error(
            f"unexpected character '{ch}'", Span(source, line, column, line, column + 1), help_
        )
        return line
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        tok: Token = getattr(exc, "token", None) or Token("$END", "")
        expected = set(getattr(exc, "expected", set()) or set())
        if tok.type == "$END" or line is None or line < 0:
            open_span = _unclosed_brace(text, source)
            if open_span is not None and "RBRACE" in expected:
                diags.error(
                    "this '{' is never closed",
                    open_span,
                    "add the matching '}' at the end of the block",
                )
            else:
                end_line = max(1, text.count("\n") + 1)
                diags.error(
                    f"unexpected end of file, expected {_describe_expected(expected)}",
                    Span(source, end_line, 1, end_line, 1),
                )
            return 0
        help_ = None
        if tok.type == "NAME":
            kw_expected = {e for e in expected}
            terms = {t.name: t for t in _parser().terminals}
            words = [
                terms[e].pattern.value
                for e in kw_expected
                if e in terms
                and terms[e].pattern.type == "str"
                and terms[e].pattern.value.isidentifier()
            ]
            best = did_you_mean(str(tok), words)
            if best:
                help_ = f"did you mean '{best}'?"
        first_on_line = text.split("\n")[line - 1][: column - 1].strip() == ""
        prev = _previous_token_end(text, line, column) if first_on_line else None
        expected_text = _describe_expected(expected)
        if prev is not None and prev[0] < line and help_ is None:
            # The statement on the previous line is incomplete: point at its end.
            pline, pcol = prev
            diags.error(
                f"expected {expected_text} after this, found {_describe_token(tok)}",
                Span(source, pline, pcol - 1, pline, pcol),
                help_,
            )
            return pline
        width = max(1, len(str(tok)))
        diags.error(
            f"unexpected {_describe_token(tok)}, expected {expected_text}",
            Span(source, line, column, line, column + width),
            help_,
        )
        return line
    diags.error(str(exc), Span(source, line or 1, column or 1, line or 1, column or 1))
    return 0


def parse_source(source: SourceFile, diags: Diagnostics) -> ast.Module | None:
    """Parse one file. Returns the AST, or None if it had syntax errors."""
    parser = _parser()
    text = source.text
    blanked: set[int] = set()
    found_error = False
    failed_at: set[tuple[int, int]] = set()
    for _ in range(MAX_SYNTAX_ERRORS * 2):
        try:
            tree: Tree = parser.parse(text)
        except UnexpectedInput as exc:
            before = len(diags.items)
            line = _diagnose(exc, text, source, diags)
            position = (exc.line, exc.column)
            repeated = position in failed_at or exc.line in blanked
            if repeated and len(diags.items) > before:
                # The same token fails again after a repair, or a leftover of a
                # blanked line fails: not a new mistake.
                diags.items.pop()
            failed_at.add(position)
            found_error = True
            if line > 0 and (line in blanked or (position in failed_at and repeated)):
                line = exc.line if exc.line not in blanked else 0
            if line <= 0 or len(diags.errors) >= MAX_SYNTAX_ERRORS:
                break
            blanked.add(line)
            text = _blank_line(text, line)
            continue
        if found_error:
            return None
        return _to_ast(tree, source, diags)
    return None


def _to_ast(tree: Tree, source: SourceFile, diags: Diagnostics) -> ast.Module | None:
    """The AST of a parse tree, or None (after errors) if a number is too long."""
    builder = _ToAst(source)
    try:
        module = builder.transform(tree)
    except VisitError as exc:  # pragma: no cover - a bug in the transformer
        raise exc.orig_exc from exc
    for message, span, help_ in builder.errors:
        diags.error(message, span, help_)
    for tok in builder.oversized:
        digits = sum(c.isdigit() for c in tok)
        diags.error(
            f"this number has {digits} digits; a number may have at most {MAX_DIGITS}",
            builder._tok_span(tok),
            "no duration, size, rate or level needs more: check for a typo",
        )
    return None if builder.oversized or builder.errors else module
