"""Resolve a loaded program into the typed IR of one episode.

Declarations (cast, locations, templates, styles, presets, asset rights) are
global and order-independent: they are collected first, and emitted sorted by
name, so reordering them never changes an artifact. Scenes keep their order:
it is the episode's order.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import ast, ir
from . import vocabulary as vocab
from .diagnostics import Diagnostics, InputError
from .entry import find_entry
from .expand import Expander
from .loader import LoadedProgram, load_program
from .suggest import hint
from .typing_context import Context
from .values import Time

PRELUDE = "std/styles"  # loaded implicitly: the text and caption styles
ARCS = "std/arcs"  # loaded implicitly too: the named pacing arcs
DEFAULT_ARC_TOLERANCE = Fraction(10)  # percentage points: about one shot of a 10-shot short
DEFAULT_CAPTION_STYLE = "standard"
DEFAULT_VOICE_RATE = 165
DEFAULT_VOICE_PITCH = 50
PIPER_NATURAL_WPM = 160  # about the bundled Piper voice's pace at rate 100%


def analyse(
    path: Path, diags: Diagnostics | None = None, shared: tuple[str, ...] = ()
) -> ir.Episode:
    """Parse, load and resolve the episode at PATH. Raises InputError on errors.

    ``shared`` names modules loaded before the episode as if it began with
    them (a series file, ``"./series.episode"``). Warnings are left in
    ``diags`` for the caller to show.
    """
    diags = diags if diags is not None else Diagnostics()
    entry = find_entry(path)
    program = load_program(entry, diags, prelude=(PRELUDE, ARCS, *shared))
    if program is None or diags.has_errors():
        raise InputError(diags.errors)
    episode = Resolver(program, diags).run()
    if episode is None or diags.has_errors():
        raise InputError(diags.errors)
    return dataclasses.replace(episode, source_paths=tuple(sorted(program.modules)))


class Resolver:
    def __init__(self, program: LoadedProgram, diags: Diagnostics) -> None:
        self.program = program
        self.diags = diags
        self.ctx = Context(program.root, diags)
        self.expander = Expander(self.ctx)

    # -- declarations ---------------------------------------------------------
    def _declare(self, table: dict[str, Any], name: str, decl: Any, what: str, span: Any) -> None:
        """Add a declaration. The blueprint's own declarations shadow the stdlib's
        (a user may define their own `accent` or `hook`); two of the user's are an
        error."""
        if name in table:
            first = table[name]
            if _from_stdlib(first) and not _from_stdlib(decl):
                table[name] = decl
                return
            if _from_stdlib(decl) and not _from_stdlib(first):
                return
            self.diags.error(
                f"{what} '{name}' is declared twice",
                span,
                f"rename one; the first is at {first.span}",
            )
            return
        table[name] = decl

    def collect(
        self,
    ) -> tuple[
        list[ast.EpisodeDecl], list[ast.SceneDecl], list[ast.DeliverDecl], list[ast.CharacterDecl]
    ]:
        episodes, scenes, delivers, claims = [], [], [], []
        for item in self.program.ordered_items:
            match item:
                case ast.EpisodeDecl():
                    episodes.append(item)
                case ast.SceneDecl():
                    scenes.append(item)
                case ast.DeliverDecl():
                    delivers.append(item)
                case ast.TemplateDecl():
                    self._declare(self.ctx.templates, item.name, item, "template", item.name_span)
                    self._check_params(item)
                case ast.CastDecl():
                    for char in item.characters:
                        claims.append(char)
                        self.ctx.characters.setdefault(char.id, char)
                case ast.LocationsDecl():
                    for loc in item.locations:
                        self._declare(self.ctx.locations, loc.id, loc, "location", loc.span)
                case ast.BlockDecl():
                    table = self.ctx.blocks[item.kind]
                    key = item.name
                    if item.kind == "asset":
                        path = self.ctx.convert(
                            "path", ast.Value("string", item.name, item.name_span)
                        )
                        if path is None:
                            continue
                        key = path
                    self._declare(table, key, item, item.kind.replace("_", " "), item.name_span)
        return episodes, scenes, delivers, claims

    def _check_params(self, decl: ast.TemplateDecl) -> None:
        seen: set[str] = set()
        for param in decl.params:
            if param.name in seen:
                self.diags.error(
                    f"parameter '{param.name}' is declared twice", param.span, "rename one"
                )
            seen.add(param.name)
            if param.type is not None and param.type not in vocab.TEMPLATE_PARAM_TYPES:
                self.diags.error(
                    f"unknown parameter type '{param.type}'",
                    param.span,
                    hint(param.type, vocab.TEMPLATE_PARAM_TYPES, "parameter types"),
                )

    # -- the episode --------------------------------------------------------------
    def run(self) -> ir.Episode | None:
        episodes, scene_decls, delivers, claims = self.collect()
        if not episodes:
            self.diags.error(
                "no `episode` is declared",
                None,
                'add `episode NAME { title "..." format 1920x1080 @ 24fps }`',
            )
            return None
        for extra in episodes[1:]:
            self.diags.error(
                f"a second episode '{extra.name}'",
                extra.name_span,
                f"one build is one episode; the first is '{episodes[0].name}' at "
                f"{episodes[0].span}",
            )
        decl = episodes[0]
        self.ctx.file_name(decl.name, decl.name_span, "episode")
        settings = self.settings(decl)
        cast = self.cast(claims)
        locations = tuple(self.location(loc) for _, loc in sorted(self.ctx.locations.items()))
        blocks = {kind: self.blocks(kind) for kind in vocab.BLOCK_PROPS}
        scenes = []
        seen_scenes: dict[str, ast.SceneDecl] = {}
        for scene_decl in scene_decls:
            if scene_decl.name in seen_scenes:
                self.diags.error(
                    f"scene '{scene_decl.name}' is declared twice",
                    scene_decl.name_span,
                    f"rename one; the first is at {seen_scenes[scene_decl.name].span}",
                )
                continue
            seen_scenes[scene_decl.name] = scene_decl
            scenes.append(self.expander.scene(scene_decl))
        if not scene_decls:
            self.diags.error(
                f"episode '{decl.name}' has no scenes",
                decl.name_span,
                "add `scene NAME { shot wide 2s { ... } }`",
            )
        deliverables = self.deliverables(delivers)
        if self.diags.has_errors():
            return None
        sources = sorted(m.source.key for m in self.program.modules.values())
        return ir.Episode(
            id=decl.name,
            title=settings["title"],
            width=settings["format"][0],
            height=settings["format"][1],
            fps=settings["format"][2],
            runtime_min=settings.get("runtime", (None, None))[0],
            runtime_max=settings.get("runtime", (None, None))[1],
            genre=settings.get("genre"),
            arc=settings.get("arc"),
            pacing=settings.get("pacing"),
            music=settings.get("music"),
            voices=tuple(sorted(settings.get("voices", {}).values(), key=lambda v: v.character)),
            caption_style=settings.get("captions", DEFAULT_CAPTION_STYLE),
            cast=cast,
            cast_claims=tuple(self.character(c) for c in claims),
            locations=locations,
            scenes=tuple(scenes),
            text_styles=blocks["text_style"],
            caption_styles=blocks["caption_style"],
            presets=blocks["preset"],
            assets=blocks["asset"],
            deliverables=deliverables,
            sources=tuple(sources),
            span=decl.span,
            approvals=tuple(settings.get("approve", ())),
            blocklist=tuple(settings.get("blocklist", ())),
            blocklist_span=settings.get("blocklist_span"),
            elapsed_years=settings.get("elapsed", (0, None))[0],
            elapsed_span=settings.get("elapsed", (0, None))[1],
        )

    def settings(self, decl: ast.EpisodeDecl) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, ast.Setting] = {}
        x = self.ctx.expect
        for setting in decl.settings:
            name = setting.name
            if name not in ("voice", "approve", "blocklist") and name in seen:
                self.diags.error(
                    f"'{name}' is set twice",
                    setting.span,
                    f"remove one; the first is at {seen[name].span}",
                )
                continue
            seen[name] = setting
            args = setting.args
            if name == "arc":
                arc = self.arc(setting)
                if arc is not None:
                    out["arc"], out["pacing"] = arc.name, arc
            elif name in ("title", "genre"):
                value = x.string(args[0])
                if value is not None:
                    out[name] = value
            elif name == "format":
                size = x.resolution(args[0])
                rate = x.fps(args[1])
                if size and rate:
                    out["format"] = (size[0], size[1], rate)
            elif name == "runtime":
                low, high = x.time(args[0], positive=True), x.time(args[1], positive=True)
                if low and high:
                    if low.unit == high.unit and high.amount < low.amount:
                        self.diags.error(
                            "the runtime window is upside down",
                            setting.span,
                            "write the shortest runtime first: runtime 45s .. 90s",
                        )
                    else:
                        out["runtime"] = (low, high)
            elif name == "music":
                path = self.ctx.convert("path", args[0])
                opts = self.ctx.options(setting.options, vocab.MUSIC_OPTIONS, "music")
                if path is not None:
                    duck = {}
                    if "duck" in opts:
                        duck["gain_db"] = float(opts["duck"])
                    for key in ("attack", "release"):
                        if key in opts:
                            duck[key] = opts[key]  # a Time: frames need the frame rate
                    out["music"] = ir.Music(
                        path,
                        opts.get("bpm"),
                        opts.get("license"),
                        opts.get("gain", Fraction(0)),
                        duck=duck,
                        snap=opts.get("snap"),
                        span=setting.span,
                    )
            elif name == "voice":
                self.voice(setting, out.setdefault("voices", {}))
            elif name == "approve":
                self.approve(setting, out.setdefault("approve", []))
            elif name == "blocklist":
                words = [x.string(arg) for arg in args]
                out.setdefault("blocklist", []).extend(w.lower() for w in words if w)
                out.setdefault("blocklist_span", setting.span)
            elif name == "captions":
                style = self.ctx.convert("caption_style", args[0])
                if style is not None:
                    out["captions"] = style
            elif name == "elapsed":
                years = _story_years(args[0])
                if years is None:
                    self.diags.error(
                        f"'{args[0].text}' is not a story time",
                        args[0].span,
                        "write whole years since the previous episode: `elapsed 2y` (or `0y`)",
                    )
                else:
                    out["elapsed"] = (years, setting.span)
        for required, example in (
            ("title", 'title "The Pilot"'),
            ("format", "format 1920x1080 @ 24fps"),
        ):
            if required not in out and required not in seen:
                self.diags.error(
                    f"episode '{decl.name}' has no {required}",
                    decl.name_span,
                    f"add `{example}` to the episode block",
                )
        return out

    def approve(self, setting: ast.Setting, approvals: list[ir.Approval]) -> None:
        """``approve rights "path" by "…" reason "…"``: both options are required,
        since an approval without a name or a reason is no record (seed 003 §25.4)."""
        gate, target = setting.args[0], setting.args[1]
        if gate.text not in vocab.APPROVABLE_GATES:
            self.diags.error(
                f"'{gate.text}' is not a gate an approval can lift",
                gate.span,
                hint(gate.text, vocab.APPROVABLE_GATES, "approvable gates"),
            )
            return
        path = self.ctx.convert("path", target)
        opts = self.ctx.options(setting.options, vocab.APPROVE_OPTIONS, "approve")
        missing = [key for key in vocab.APPROVE_OPTIONS if key not in opts]
        if missing:
            self.diags.error(
                f"an approval needs {' and '.join(missing)}",
                setting.span,
                f'write `approve {gate.text} "{target.text}" by "Dana Lee" '
                'reason "licensed by email 2026-03-01"`',
            )
            return
        if path is None or not opts["by"].strip() or not opts["reason"].strip():
            if path is not None:
                self.diags.error(
                    "an approval's approver and reason cannot be empty",
                    setting.span,
                    "name the person who approves it and why",
                )
            return
        approvals.append(
            ir.Approval(gate.text, path, opts["by"], opts["reason"], span=setting.span)
        )

    def arc(self, setting: ast.Setting) -> ir.Arc | None:
        """`arc NAME`, `arc NAME { overrides }` or `arc { shares }`: the named
        arc's fields with the episode's own on top, checked to share out 100%."""
        spec = vocab.BLOCK_PROPS["arc"]
        name, base, where = "custom", {}, setting.span
        if setting.args and setting.args[0].kind == "string":
            self.diags.error(
                "an arc is a named arc or phase shares, not text",
                setting.args[0].span,
                hint(setting.args[0].text, self.ctx.blocks["arc"], "arcs")
                + " (write `arc three_act`, or `arc { establish 20% escalate 50% peak 15% "
                "resolve 15% }`)",
            )
            return None
        if setting.args:
            found = self.ctx.convert("arc", setting.args[0])
            if found is None:
                return None
            decl = self.ctx.blocks["arc"][found]
            name, where = found, decl.span
            base = self.ctx.options(decl.props, spec, f"arc '{found}'")
        own = self.ctx.options(setting.options, spec, "the episode's arc")
        merged = {**base, **own}
        if any(phase in own for phase in vocab.PHASES):
            where = setting.span
        shares = tuple((p, merged[p]) for p in vocab.PHASES if p in merged)
        total = sum((share for _, share in shares), Fraction(0))
        if total != 100:
            self.diags.error(
                f"the arc's phase shares add up to {float(total):g}%, not 100%",
                where,
                "give each phase its share of the running time, e.g. "
                "`arc { establish 20% escalate 50% peak 15% resolve 15% }`",
            )
            return None
        return ir.Arc(
            name,
            shares,
            merged.get("tolerance", DEFAULT_ARC_TOLERANCE),
            bool(merged.get("strict", False)),
            setting.span,
        )

    def voice(self, setting: ast.Setting, voices: dict[str, ir.Voice]) -> None:
        # args: the character NAME token (as a name value), the engine (`tts` or
        # `piper`), then the language (tts) or the voice model's name (piper)
        who, engine, language = setting.args[0], setting.args[1], setting.args[2]
        character = self.ctx.convert("character", who)
        if engine.text not in vocab.VOICE_ENGINES:
            self.diags.error(
                f"unknown voice engine '{engine.text}'",
                engine.span,
                hint(engine.text, vocab.VOICE_ENGINES, "voice engines")
                + ' (write `tts "en-us"` for espeak-ng, `piper "en_US-joe-medium"` for Piper)',
            )
            return
        piper = engine.text == "piper"
        lang = self.ctx.expect.string(language)
        spec = vocab.PIPER_VOICE_OPTIONS if piper else vocab.VOICE_OPTIONS
        opts = self.ctx.options(setting.options, spec, "a piper voice" if piper else "voice")
        if character is None or lang is None:
            return
        if character in voices:
            self.diags.error(
                f"'{character}' has two voices",
                setting.span,
                f"remove one; the first is at {voices[character].span}",
            )
            return
        if piper:
            speed = opts.get("rate", Fraction(100))
            voices[character] = ir.Voice(
                character,
                lang,
                # the reading rate that estimates a line before it is spoken
                round(PIPER_NATURAL_WPM * speed / 100),
                DEFAULT_VOICE_PITCH,
                None,
                setting.span,
                engine="piper",
                speed=speed,
            )
            return
        voices[character] = ir.Voice(
            character,
            lang,
            opts.get("rate", DEFAULT_VOICE_RATE),
            opts.get("pitch", DEFAULT_VOICE_PITCH),
            opts.get("variant"),
            setting.span,
        )

    def character(self, decl: ast.CharacterDecl) -> ir.Character:
        opts = self.ctx.options(decl.options, vocab.CHARACTER_OPTIONS, f"character '{decl.id}'")
        name = self.ctx.expect.string(decl.display_name) or decl.id
        if "dead" in decl.flags and "alive" in decl.flags:
            self.diags.error(f"'{decl.id}' is both dead and alive", decl.span, "keep one")
        return ir.Character(
            decl.id, name, opts.get("age"), "dead" not in decl.flags, opts.get("role"), decl.span
        )

    def cast(self, claims: list[ast.CharacterDecl]) -> tuple[ir.Character, ...]:
        first = {}
        for claim in claims:
            first.setdefault(claim.id, claim)
        return tuple(self.character(first[cid]) for cid in sorted(first))

    def location(self, decl: ast.LocationDecl) -> ir.Location:
        opts = self.ctx.options(decl.options, vocab.LOCATION_OPTIONS, f"location '{decl.id}'")
        name = self.ctx.expect.string(decl.display_name) or decl.id
        return ir.Location(decl.id, name, opts.get("description"), opts.get("interior"), decl.span)

    def blocks(self, kind: str) -> tuple[ir.PropertyBlock, ...]:
        out = []
        for name, decl in sorted(self.ctx.blocks[kind].items()):
            props = self.ctx.options(decl.props, vocab.BLOCK_PROPS[kind], f"{kind} '{decl.name}'")
            out.append(ir.PropertyBlock(kind, name, tuple(sorted(props.items())), decl.span))
        return tuple(out)

    def deliverables(self, delivers: list[ast.DeliverDecl]) -> tuple[ir.Deliverable, ...]:
        out: dict[str, ir.Deliverable] = {}
        for decl in delivers:
            if not self.ctx.file_name(decl.name, decl.name_span, "deliverable"):
                continue
            if decl.name in out:
                self.diags.error(
                    f"deliverable '{decl.name}' is declared twice",
                    decl.span,
                    f"rename one; the first is at {out[decl.name].span}",
                )
                continue
            preset_decl = self.ctx.blocks["preset"].get(decl.preset)
            if preset_decl is None:
                self.diags.error(
                    f"unknown preset '{decl.preset}'",
                    decl.preset_span,
                    hint(decl.preset, self.ctx.blocks["preset"], "presets")
                    + ' (presets come from `load "std/deliverables"` or a '
                    "`preset NAME { }` block)",
                )
                continue
            base = self.ctx.options(
                preset_decl.props, vocab.BLOCK_PROPS["preset"], f"preset '{decl.preset}'"
            )
            overrides = self.ctx.options(
                decl.overrides, vocab.BLOCK_PROPS["preset"], f"deliverable '{decl.name}'"
            )
            merged = {**base, **overrides}
            # Where each field was written (the override, else the preset), so a
            # field the deliverable cannot honour is reported where it was typed.
            spans = {p.key: p.span for p in (*preset_decl.props, *decl.overrides)}
            out[decl.name] = ir.Deliverable(
                decl.name,
                decl.preset,
                tuple(sorted(merged.items())),
                decl.span,
                tuple((key, spans[key]) for key in sorted(merged)),
            )
        # Declaration order: which deliverable is the master follows what the
        # author wrote first, never how the names sort.
        return tuple(out.values())


def _story_years(value: ast.Value) -> int | None:
    """``2y`` → 2: story time between episodes is whole years, the unit ages
    move in (a day or a month changes no age the canon keeps)."""
    text = value.text
    if value.kind != "quantity" or not text.endswith("y") or not text[:-1].isdigit():
        return None
    return int(text[:-1])


def _from_stdlib(decl: Any) -> bool:
    span = getattr(decl, "span", None)
    return span is not None and span.file.key.startswith("std/")


__all__ = ["Resolver", "Time", "analyse"]
