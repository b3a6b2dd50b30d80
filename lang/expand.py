"""Scenes, shots and template expansion.

A template is expanded by substituting its arguments for ``$name``
references in its body, then checking the result exactly as if it had been
written in place. Errors inside an expansion name the ``use`` site too, so the
user knows which call produced them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import ast, ir
from . import vocabulary as vocab
from .suggest import hint
from .typing_context import Context
from .values import Time

Env = dict[str, ast.Value]
_PARAM_KIND = {
    "text": ("string",),
    "string": ("string",),
    "path": ("string",),
    "colour": ("string", "name"),
    "color": ("string", "name"),
    "time": ("quantity",),
    "number": ("number",),
    "name": ("name",),
}
MAX_EXPANSION_DEPTH = 16
# Templates multiply: one that uses another ten times, ten levels deep, asks for
# 10**10 shots in ten lines. Past this many expansions in one episode, Reel stops
# with an error instead of running out of time or memory. (A feature film has a
# few thousand shots.)
MAX_EXPANSIONS = 10_000
# *word* in a line marks a keyword for the accent caption style; the stars are not spoken.
_MARKED = re.compile(r"\*([^*\s][^*]*?)\*")


@dataclass
class SceneBuilder:
    scene_id: str
    shots: list[ir.Shot] = field(default_factory=list)
    facts: list[ir.Fact] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


class Expander:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.diags = ctx.diags
        self.expansions = 0  # template uses expanded so far in this episode
        self.too_many_reported = False

    # -- parameters ---------------------------------------------------------
    def sub(self, value: ast.Value | None, env: Env | None) -> ast.Value | None:
        """Replace a ``$param`` by its argument; None (after an error) if unbound."""
        if value is None or value.kind != "param":
            return value
        if env is None:
            self.diags.error(
                f"'${value.text}' is a template parameter, but this is not inside a template",
                value.span,
                "parameters can only be used in a `template NAME(...) { }` body",
            )
            return None
        if value.text not in env:
            self.diags.error(
                f"unknown parameter '${value.text}'",
                value.span,
                hint(value.text, env, "parameters of this template"),
            )
            return None
        return env[value.text]

    def _sub_options(
        self, options: tuple[ast.Option, ...], env: Env | None
    ) -> tuple[ast.Option, ...]:
        out = []
        for opt in options:
            value = self.sub(opt.value, env)
            if value is not None:
                out.append(ast.Option(opt.key, value, opt.span))
        return tuple(out)

    # -- scenes ----------------------------------------------------------------
    def scene(self, decl: ast.SceneDecl) -> ir.Scene:
        self.ctx.file_name(decl.name, decl.name_span, "scene")
        opts = self.ctx.options(decl.options, vocab.SCENE_OPTIONS, f"scene '{decl.name}'")
        builder = SceneBuilder(decl.name)
        self.body(decl.body, None, builder, template=None, stack=())
        if not any(isinstance(s, ast.ShotStmt | ast.UseStmt) for s in decl.body):
            self.diags.error(
                f"scene '{decl.name}' has no shots",
                decl.name_span,
                "add a `shot FRAMING DURATION { ... }` or `use TEMPLATE(...)`",
            )
        return ir.Scene(
            id=decl.name,
            location=opts.get("at"),
            time_of_day=opts.get("time"),
            day=opts.get("day", 1),
            phase=opts.get("phase"),
            shots=tuple(builder.shots),
            facts=tuple(builder.facts),
            present=tuple(sorted(set(builder.present))),
            span=decl.span,
        )

    def body(
        self,
        stmts: tuple[ast.SceneStmt, ...],
        env: Env | None,
        builder: SceneBuilder,
        template: str | None,
        stack: tuple[ast.UseStmt, ...],
    ) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.ShotStmt):
                shot = self.shot(stmt, env, builder, template)
                if shot is not None:
                    builder.shots.append(shot)
            elif isinstance(stmt, ast.UseStmt):
                self.use(stmt, env, builder, stack)
            elif isinstance(stmt, ast.FactStmt):
                self.fact(stmt, env, builder)
            elif isinstance(stmt, ast.PresentStmt):
                for value in stmt.characters:
                    resolved = self.sub(value, env)
                    if resolved is not None:
                        name = self.ctx.convert("character", resolved)
                        if name is not None:
                            builder.present.append(name)

    def fact(self, stmt: ast.FactStmt, env: Env | None, builder: SceneBuilder) -> None:
        if stmt.character not in self.ctx.characters:
            self.diags.error(
                f"unknown character '{stmt.character}'",
                stmt.span,
                hint(stmt.character, self.ctx.characters, "characters"),
            )
            return
        value: Any = None
        if stmt.attribute in ("dead", "alive"):
            value = stmt.attribute == "alive"
            attribute = "alive"
        elif stmt.attribute in ("age", "name"):
            attribute = stmt.attribute
            raw = self.sub(stmt.value, env)
            if raw is None:
                return
            value = self.ctx.convert("age" if attribute == "age" else "string", raw)
            if value is None:
                return
        else:
            self.diags.error(
                f"unknown fact '{stmt.attribute}'",
                stmt.span,
                hint(stmt.attribute, ("age", "name", "dead", "alive"), "facts"),
            )
            return
        builder.facts.append(
            ir.Fact(stmt.character, attribute, value, len(builder.shots), stmt.span)
        )

    # -- templates -----------------------------------------------------------------
    def use(
        self,
        stmt: ast.UseStmt,
        env: Env | None,
        builder: SceneBuilder,
        stack: tuple[ast.UseStmt, ...],
    ) -> None:
        self._expand(stmt, env, builder, stack)
        if not stack:
            self._report_too_many(stmt)

    def _expand(
        self,
        stmt: ast.UseStmt,
        env: Env | None,
        builder: SceneBuilder,
        stack: tuple[ast.UseStmt, ...],
    ) -> None:
        # Every use counts, even one that fails: a use of an unknown template,
        # multiplied, is as many errors to find and report.
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS:
            return
        template = self.ctx.templates.get(stmt.template)
        if template is None:
            self.diags.error(
                f"unknown template '{stmt.template}'",
                stmt.name_span,
                hint(stmt.template, self.ctx.templates, "templates")
                + " (templates come from `template NAME(...) { }` or a loaded module"
                ' such as "std/templates")',
            )
            return
        if not self._may_expand(stmt, stack):
            return
        bound = self.bind(template, stmt, env)
        if bound is None:
            return
        before = len(self.diags.items)
        self.body(template.body, bound, builder, template=template.name, stack=(*stack, stmt))
        note = f"in the expansion of '{template.name}' used at {stmt.span}"
        for i in range(before, len(self.diags.items)):
            d = self.diags.items[i]
            if note not in d.notes:
                self.diags.items[i] = type(d)(
                    d.severity, d.message, d.span, d.help, (*d.notes, note)
                )

    def _may_expand(self, stmt: ast.UseStmt, stack: tuple[ast.UseStmt, ...]) -> bool:
        """Refuse recursion and nesting deeper than MAX_EXPANSION_DEPTH."""
        chain = " -> ".join([*(s.template for s in stack), stmt.template])
        if any(s.template == stmt.template for s in stack):
            self.diags.error(
                f"template '{stmt.template}' uses itself: {chain}",
                stmt.name_span,
                "templates cannot be recursive",
            )
            return False
        if len(stack) >= MAX_EXPANSION_DEPTH:
            self.diags.error(
                f"templates nest more than {MAX_EXPANSION_DEPTH} deep: {chain}",
                stmt.name_span,
                "flatten the chain: let a template use the shots of the next one directly",
            )
            return False
        return True

    def _report_too_many(self, stmt: ast.UseStmt) -> None:
        """After a use written in a scene: say once if the budget ran out in it."""
        if self.expansions > MAX_EXPANSIONS and not self.too_many_reported:
            self.too_many_reported = True
            self.diags.error(
                f"templates expand more than {MAX_EXPANSIONS} times in this episode",
                stmt.name_span,
                "a template that uses another several times, nested, multiplies the "
                "shots: use fewer or shallower templates",
            )

    def bind(self, template: ast.TemplateDecl, stmt: ast.UseStmt, env: Env | None) -> Env | None:
        """Match arguments to parameters; check count, names and kinds."""
        params = {p.name: p for p in template.params}
        order = [p.name for p in template.params]
        signature = f"{template.name}({', '.join(_param_text(p) for p in template.params)})"
        bound: Env = {}
        ok = True
        positional = [a for a in stmt.args if a.name is None]
        if len(positional) > len(order):
            extra = positional[len(order)]
            self.diags.error(
                f"too many arguments to '{template.name}': it takes {len(order)}, "
                f"{len(positional)} given",
                extra.span,
                f"the template is {signature}, declared at {template.span}",
            )
            ok = False
        seen_named = False
        for arg in stmt.args:
            if arg.name is None:
                if seen_named:
                    self.diags.error(
                        "a positional argument cannot follow a named one",
                        arg.span,
                        "put positional arguments first",
                    )
                    ok = False
                continue
            seen_named = True
            if arg.name not in params:
                self.diags.error(
                    f"'{template.name}' has no parameter '{arg.name}'",
                    arg.span,
                    hint(arg.name, order, "parameters") + f"; the template is {signature}",
                )
                ok = False
                continue
            if arg.name in bound:
                self.diags.error(f"'{arg.name}' is given twice", arg.span, "remove one")
                ok = False
                continue
            value = self.sub(arg.value, env)
            if value is None:
                ok = False
                continue
            bound[arg.name] = value
        for name, arg in zip(order, positional, strict=False):
            if name in bound:
                self.diags.error(
                    f"'{name}' is given both by position and by name", arg.span, "give it once"
                )
                ok = False
                continue
            value = self.sub(arg.value, env)
            if value is None:
                ok = False
                continue
            bound[name] = value
        for name in order:
            if name not in bound:
                default = params[name].default
                if default is None:
                    self.diags.error(
                        f"missing argument '{name}' in the call to '{template.name}'",
                        stmt.span,
                        f"the template is {signature}",
                    )
                    ok = False
                else:
                    bound[name] = default
        for name, value in bound.items():
            type_ = params[name].type
            if type_ is None:
                continue
            if type_ not in _PARAM_KIND:
                continue  # reported once at the template's declaration
            if value.kind not in _PARAM_KIND[type_]:
                self.diags.error(
                    f"argument '{name}' of '{template.name}' must be {type_}, "
                    f"found {value.kind} {value.text!r}",
                    value.span,
                    f"the template is {signature}",
                )
                ok = False
        return bound if ok else None

    # -- shots --------------------------------------------------------------------
    def shot(
        self, stmt: ast.ShotStmt, env: Env | None, builder: SceneBuilder, template: str | None
    ) -> ir.Shot | None:
        errors_before = len(self.diags.errors)
        framing_value = self.sub(stmt.framing, env)
        framing = (
            self.ctx.choice(framing_value, vocab.FRAMINGS, "framing") if framing_value else None
        )
        duration: Time | None = None
        if stmt.duration is not None:
            dur_value = self.sub(stmt.duration, env)
            if dur_value is not None:
                duration = self.ctx.expect.time(dur_value, positive=True)
        shot_opts = self._sub_options(stmt.options, env)
        opts = self.ctx.options(shot_opts, vocab.SHOT_OPTIONS, "shot", repeatable=("tag",))
        self._check_visual_types(shot_opts, set(opts.get("tag", [])))
        plate: ir.Plate | None = None
        motion: ir.Motion | None = None
        transition: ir.Transition | None = None
        overlays: list[ir.Overlay] = []
        lines: list[ir.Line] = []
        sfx: list[ir.Sfx] = []
        for item in stmt.items:
            kw = item.keyword
            if kw in ("plate", "move", "transition"):
                already = {"plate": plate, "move": motion, "transition": transition}[kw]
                if already is not None:
                    self.diags.error(
                        f"a shot has one {kw}; this is the second",
                        item.span,
                        f"remove one, or split the shot in two (the first is at {already.span})",
                    )
                    continue
            if kw == "plate":
                plate = self.plate(item, env)
            elif kw == "move":
                motion = self.motion(item, env)
            elif kw == "transition":
                transition = self.transition(item, env)
            elif kw in ("title", "kinetic"):
                overlay = self.overlay(item, env)
                if overlay is not None:
                    overlays.append(overlay)
            elif kw == "say":
                line = self.line(item, env)
                if line is not None:
                    lines.append(line)
            elif kw == "sfx":
                cue = self.sfx(item, env)
                if cue is not None:
                    sfx.append(cue)
        if len(self.diags.errors) == errors_before:
            self._check_camera_line(plate, lines, duration)
        if len(self.diags.errors) > errors_before or framing is None:
            return None
        index = len(builder.shots) + 1
        return ir.Shot(
            id=f"{builder.scene_id}.s{index:02d}",
            scene=builder.scene_id,
            index=index,
            framing=framing,
            duration=duration,
            plate=plate or ir.Plate("solid", colours=("#000000",), span=stmt.span),
            motion=motion or ir.Motion("static", span=stmt.span),
            overlays=tuple(overlays),
            lines=tuple(lines),
            sfx=tuple(sfx),
            transition=transition or ir.Transition("cut", None, span=stmt.span),
            focus=opts.get("focus", "center"),
            tags=tuple(sorted(set(opts.get("tag", [])))),
            phase=opts.get("phase"),
            template=template,
            span=stmt.span,
        )

    def _check_camera_line(
        self,
        plate: ir.Plate | None,
        lines: list[ir.Line],
        duration: Time | None,
    ) -> None:
        """A line spoken on camera (`say … from camera`) is the shot's own video
        sound, lip-synced to its picture: the shot needs a video plate and a
        known length (an explicit duration, or the plate's in and out points),
        and that line is the shot's only one (two lines cannot share one take's
        sound, and a second line would be heard over it)."""
        camera = [line for line in lines if line.on_camera]
        if not camera:
            return
        line = camera[0]
        if plate is None or plate.kind != "video":
            shown = "no plate" if plate is None else f"a `plate {plate.kind}`"
            self.diags.error(
                f"a line spoken on camera needs a `plate video` in its shot, which has {shown}",
                line.span,
                'give the shot the take it was filmed in (`plate video "take.mov" in 1s '
                "out 4s`), or remove `from camera` to synthesise the line",
            )
            return
        if len(lines) > 1:
            other = next(x for x in lines if x is not line)
            self.diags.error(
                "a shot with a line spoken on camera has no other line",
                other.span,
                "the take's sound is the whole shot's dialogue: put this line in a shot of "
                "its own (another `shot` with its own range of the take)",
            )
            return
        has_range = plate.in_point is not None and plate.out_point is not None
        if duration is None and not has_range:
            self.diags.error(
                "a line spoken on camera needs to know how much of the take it is",
                line.span,
                "give the plate an in and an out point (`plate video "
                f'"{plate.path}" in 0.5s out 3s`), or the shot a duration '
                "(`shot close 3s { … }`)",
            )

    def _check_visual_types(self, options: tuple[ast.Option, ...], tags: set[str]) -> None:
        """`tag none` says no picture is warranted (seed 002): with another visual
        type beside it, the shot says two opposite things."""
        if "none" not in tags or len(tags) == 1:
            return
        where = next(o.span for o in options if o.key == "tag" and o.value.text == "none")
        others = ", ".join(sorted(tags - {"none"}))
        self.diags.error(
            f"a shot tagged 'none' is also tagged {others}",
            where,
            "`tag none` means no visual is warranted: remove it, or the other tags",
        )

    def _args(self, item: ast.ShotItem, env: Env | None) -> list[ast.Value] | None:
        out = []
        for arg in item.args:
            value = self.sub(arg, env)
            if value is None:
                return None
            out.append(value)
        return out

    def _arity(
        self,
        item: ast.ShotItem,
        what: str,
        args: list[ast.Value],
        wanted: tuple[str, ...],
        optional: int = 0,
    ) -> bool:
        low, high = len(wanted) - optional, len(wanted)
        if not low <= len(args) <= high:
            kinds = " ".join(wanted) if wanted else "nothing"
            self.diags.error(
                f"{what} takes {kinds}, but {len(args)} value(s) are given",
                item.span,
                f"write it as `{what} {kinds}`".replace(" nothing", ""),
            )
            return False
        return True

    def _headed(
        self, item: ast.ShotItem, env: Env | None, kinds: tuple[str, ...], what: str
    ) -> tuple[str, list[ast.Value]] | None:
        """The checked kind (plate/move/transition) and substituted arguments."""
        head = self.sub(item.head, env)
        kind = self.ctx.choice(head, kinds, what) if head else None
        args = self._args(item, env)
        if kind is None or args is None:
            return None
        return kind, args

    def plate(self, item: ast.ShotItem, env: Env | None) -> ir.Plate | None:
        headed = self._headed(item, env, tuple(vocab.PLATES), "plate kind")
        if headed is None:
            return None
        kind, args = headed
        wanted, spec = vocab.PLATES[kind]
        if not self._arity(item, f"plate {kind}", args, wanted):
            return None
        typed = [self.ctx.convert(t, v) for t, v in zip(wanted, args, strict=True)]
        if any(t is None for t in typed):
            return None
        opts = self.ctx.options(self._sub_options(item.options, env), spec, f"plate {kind}")
        plate = ir.Plate(
            kind=kind,
            span=item.span,
            options=tuple(sorted((k, v) for k, v in opts.items() if k not in ("in", "out"))),
        )
        if kind in ("image", "video"):
            plate = ir.Plate(
                kind,
                path=typed[0],
                in_point=opts.get("in"),
                out_point=opts.get("out"),
                options=plate.options,
                span=item.span,
            )
            if (
                plate.in_point
                and plate.out_point
                and plate.out_point.unit == plate.in_point.unit
                and plate.out_point.amount <= plate.in_point.amount
            ):
                self.diags.error(
                    "the out point must come after the in point",
                    item.span,
                    "swap them, or give a later out point",
                )
                return None
        elif kind == "placeholder":
            plate = ir.Plate(kind, description=typed[0], span=item.span)
        else:
            plate = ir.Plate(kind, colours=tuple(typed), options=plate.options, span=item.span)
        return plate

    def motion(self, item: ast.ShotItem, env: Env | None) -> ir.Motion | None:
        headed = self._headed(item, env, tuple(vocab.MOTIONS), "motion")
        if headed is None:
            return None
        kind, args = headed
        amount_type = vocab.MOTIONS[kind]
        if amount_type is None:
            if not self._arity(item, f"move {kind}", args, ()):
                return None
            amount = None
        else:
            if not self._arity(item, f"move {kind}", args, (amount_type,), optional=1):
                return None
            if args:
                amount = self.ctx.convert(amount_type, args[0])
                if amount is None:
                    return None
            else:
                amount = Fraction(
                    vocab.DEFAULT_ZOOM if amount_type == "zoom" else vocab.DEFAULT_PAN
                )
        opts = self.ctx.options(
            self._sub_options(item.options, env), vocab.MOTION_OPTIONS, f"move {kind}"
        )
        return ir.Motion(kind, amount, opts.get("toward"), opts.get("ease", True), item.span)

    def transition(self, item: ast.ShotItem, env: Env | None) -> ir.Transition | None:
        headed = self._headed(item, env, tuple(vocab.TRANSITIONS), "transition")
        if headed is None:
            return None
        kind, args = headed
        if not vocab.TRANSITIONS[kind]:
            return (
                ir.Transition(kind, None, item.span)
                if self._arity(item, f"transition {kind}", args, ())
                else None
            )
        if not self._arity(item, f"transition {kind}", args, ("time",), optional=1):
            return None
        duration = (
            self.ctx.expect.time(args[0], positive=True)
            if args
            else Time(Fraction(vocab.DEFAULT_TRANSITION[:-1]), "f")
        )
        if duration is None:
            return None
        if item.options:
            self.ctx.options(item.options, {}, f"transition {kind}")
            return None
        return ir.Transition(kind, duration, item.span)

    def overlay(self, item: ast.ShotItem, env: Env | None) -> ir.Overlay | None:
        args = self._args(item, env)
        if args is None or not self._arity(item, item.keyword, args, ("string",)):
            return None
        text = self.ctx.expect.string(args[0])
        opts = self.ctx.options(
            self._sub_options(item.options, env), vocab.OVERLAY_OPTIONS, item.keyword
        )
        if text is None:
            return None
        style = opts.get("style")
        if style is None:
            style = item.keyword if item.keyword in self.ctx.blocks["text_style"] else None
            if style is None:
                self.diags.error(
                    f"no text style for this {item.keyword}",
                    item.span,
                    f"give one with `style NAME`, or declare `text_style {item.keyword} {{ ... }}`",
                )
                return None
        return ir.Overlay(
            item.keyword,
            text,
            style,
            opts.get("at", Time(Fraction(0), "s")),
            opts.get("for"),
            opts.get("position"),
            item.span,
        )

    def line(self, item: ast.ShotItem, env: Env | None) -> ir.Line | None:
        head = self.sub(item.head, env)
        speaker = self.ctx.convert("character", head) if head else None
        args = self._args(item, env)
        if speaker is None or args is None or not self._arity(item, "say", args, ("string",)):
            return None
        text = self.ctx.expect.string(args[0])
        opts = self.ctx.options(self._sub_options(item.options, env), vocab.SAY_OPTIONS, "say")
        if text is None:
            return None
        if not text.strip():
            self.diags.error("a line needs words", args[0].span, "write what is said")
            return None
        source = opts.get("from")
        if source is not None and opts.get("file") is not None:
            self.diags.error(
                "a line spoken on camera has no recording of its own",
                item.span,
                "its sound is the shot's video plate: remove `file`, or remove `from camera` "
                "to use the recording",
            )
        if opts.get("clean") is not None and opts.get("file") is None and source is None:
            self.diags.error(
                "`clean` applies to a recorded line",
                item.span,
                'add the recording (`file "vo/line.wav"`), or remove `clean`',
            )
        keywords = tuple(m.lower() for m in _MARKED.findall(text))
        return ir.Line(
            speaker,
            _MARKED.sub(r"\1", text),
            opts.get("mood"),
            opts.get("file"),
            keywords=keywords,
            clean=opts.get("clean"),
            span=item.span,
            source=source,
        )

    def sfx(self, item: ast.ShotItem, env: Env | None) -> ir.Sfx | None:
        args = self._args(item, env)
        if args is None or not self._arity(item, "sfx", args, ("path",)):
            return None
        path = self.ctx.convert("path", args[0])
        opts = self.ctx.options(self._sub_options(item.options, env), vocab.SFX_OPTIONS, "sfx")
        if path is None:
            return None
        return ir.Sfx(
            path, opts.get("at", Time(Fraction(0), "s")), opts.get("gain", Fraction(0)), item.span
        )


def _param_text(param: ast.Param) -> str:
    text = param.name
    if param.type:
        text += f": {param.type}"
    if param.default is not None:
        text += " = " + (
            f'"{param.default.text}"' if param.default.kind == "string" else param.default.text
        )
    return text
