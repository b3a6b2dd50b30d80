"""Find and load `.episode` modules: the entry file, relative loads, the stdlib.

``load "std/NAME"`` names a module of the bundled standard library;
``load "./path"`` or ``"../path"`` names a file relative to the loading file
(the ``.episode`` suffix may be left out). Every module is parsed once; a load
cycle is an error that shows the whole chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import ast
from .diagnostics import Diagnostics
from .entry import SUFFIX
from .limits import MAX_SOURCE_BYTES
from .parser import parse_source
from .source import (
    STDLIB_DIR,
    Refused,
    SourceFile,
    Span,
    confine,
    display_path,
    open_regular,
    regular_size,
)
from .suggest import hint


def stdlib_modules() -> list[str]:
    return sorted(f"std/{p.stem}" for p in STDLIB_DIR.glob(f"*{SUFFIX}"))


@dataclass
class LoadedProgram:
    """Every module of one episode, in load order (depth first, entry last-inclusive)."""

    root: Path
    entry: ast.Module
    modules: dict[Path, ast.Module] = field(default_factory=dict)
    # The module items in program order, with each load replaced by the loaded
    # module's items the first time it is loaded.
    ordered_items: list[ast.Item] = field(default_factory=list)


def read_source(path: Path, root: Path, diags: Diagnostics, span: Span | None) -> SourceFile | None:
    """The text of one module, or None after an error at ``span`` (the load that
    names it; None for the entry). Only a regular file within the size limit is
    read: the size is checked before a byte is read."""
    try:
        with open_regular(path, display_path(path), MAX_SOURCE_BYTES, f"{SUFFIX} files") as f:
            raw = f.read(MAX_SOURCE_BYTES + 1)
    except Refused as refused:
        diags.error(refused.message, span, refused.help)
        return None
    except OSError as exc:
        diags.error(
            f"cannot read {display_path(path)}: {exc.strerror or exc}",
            span,
            "check that the file exists and is readable",
        )
        return None
    if len(raw) > MAX_SOURCE_BYTES:  # it grew after it was measured
        diags.error(
            f"{display_path(path)} is over the limit of {MAX_SOURCE_BYTES} bytes",
            span,
            "split the blueprint into modules and load them",
        )
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        diags.error(
            f"{display_path(path)} is not UTF-8 text (byte {exc.start})",
            span,
            f"save the file as UTF-8; {SUFFIX} files are text",
        )
        return None
    text = text.replace("\r\n", "\n")
    try:
        key = path.resolve().relative_to(root).as_posix()
    except ValueError:
        key = f"std/{path.name}" if path.parent == STDLIB_DIR else path.name
    return SourceFile(path.resolve(), text, display_path(path), key)


def resolve_load_target(target: str, from_file: Path, root: Path) -> Path | None:
    """The module file ``target`` names, or None if there is none.

    Raises :class:`Refused` when the target resolves (after symlinks) outside
    the project ``root`` and the stdlib, or names something that is not a
    regular file: such a file is never opened, so its content cannot reach a
    message."""
    if target.startswith("std/"):
        base, names = STDLIB_DIR, [target[4:] + SUFFIX]
    elif target.startswith(("./", "../")):
        base, names = from_file.parent, [target, target + SUFFIX]
    else:
        return None
    refusal: Refused | None = None
    for name in names:
        candidate = confine(name, base, (root, STDLIB_DIR), shown=target)
        try:
            if regular_size(candidate, target) is not None:
                return candidate
        except Refused as exc:
            refusal = refusal or exc
    if refusal is not None:
        raise refusal
    return None


def load_program(
    entry_path: Path, diags: Diagnostics, prelude: tuple[str, ...] = ()
) -> LoadedProgram | None:
    """Parse the entry and everything it loads, after the ``prelude`` stdlib
    modules (loaded implicitly, as if the entry began with them). Errors go to
    ``diags``."""
    entry_path = entry_path.resolve()
    root = entry_path.parent
    source = read_source(entry_path, root, diags, None)
    if source is None:
        return None
    entry = parse_source(source, diags)
    if entry is None:
        return None
    program = LoadedProgram(root=root, entry=entry)
    program.modules[entry_path] = entry
    implicit = tuple(
        ast.Load(ast.Value("string", name, Span(source, 1, 1, 1, 1)), Span(source, 1, 1, 1, 1))
        for name in prelude
    )
    _walk(program, ast.Module(entry.source, implicit + entry.items), [entry_path], diags)
    return program


def _walk(
    program: LoadedProgram, module: ast.Module, stack: list[Path], diags: Diagnostics
) -> None:
    for item in module.items:
        if not isinstance(item, ast.Load):
            program.ordered_items.append(item)
            continue
        target = item.target
        if target.kind != "string":
            diags.error("load takes a string", target.span, 'write load "std/templates"')
            continue
        try:
            path = resolve_load_target(target.text, module.source.path, program.root)
        except Refused as refused:
            diags.error(refused.message, target.span, refused.help)
            continue
        if path is None:
            _report_missing_load(target, module.source.path, diags)
            continue
        if path in stack:
            chain = " -> ".join(display_path(p) for p in [*stack[stack.index(path) :], path])
            diags.error(
                f"load cycle: {chain}",
                target.span,
                "modules may not load each other in a circle; move the shared "
                "declarations into a third module that both load",
            )
            continue
        if path in program.modules:
            continue  # loaded already: declarations are shared, scenes come once
        source = read_source(path, program.root, diags, target.span)
        if source is None:
            continue
        loaded = parse_source(source, diags)
        if loaded is None:
            continue
        program.modules[path] = loaded
        _walk(program, loaded, [*stack, path], diags)


def _report_missing_load(target: ast.Value, from_file: Path, diags: Diagnostics) -> None:
    text = target.text
    if text.startswith("std/"):
        diags.error(
            f"no stdlib module '{text}'",
            target.span,
            hint(text, stdlib_modules(), "stdlib modules"),
        )
    elif text.startswith(("./", "../")):
        wanted = from_file.parent / text
        nearby = (
            [f"./{p.stem}" for p in wanted.parent.glob(f"*{SUFFIX}")]
            if wanted.parent.is_dir()
            else []
        )
        diags.error(
            f"cannot find module '{text}'",
            target.span,
            hint(text, nearby, "modules beside it")
            if nearby
            else f"no file {display_path(wanted)}{'' if text.endswith(SUFFIX) else SUFFIX}",
        )
    else:
        diags.error(
            f"'{text}' is neither a stdlib nor a relative module",
            target.span,
            'write "std/NAME" for the standard library or "./NAME" for a file beside this one',
        )
