"""Every action kind the backends define, found by name, each with its version.

Kinds are discovered, not listed: any module of ``reel.backends`` may declare
module-level ``Kind`` objects, so adding a kind touches the module that runs it
and the rule that creates it, nothing else.

A kind's version string is its name, its ``version`` and a digest of the
source of its module and of every backend module that module imports, read
from the files (a static walk of ``import`` statements, hand-written because
the import graph of one package's few files needs no library and must not
execute anything). Editing ``timeline.py`` changes the timeline kind's
version and no other; editing ``encode.py`` changes every kind whose module
imports it, which is right: their commands may have changed.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
from importlib import metadata
from pathlib import Path

import xxhash

from .kind import Kind

PACKAGE = "reel.backends"
ROOT = Path(__file__).resolve().parent


class UnknownKind(KeyError):
    pass


_EXTRA: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind defined outside ``reel.backends`` (a plugin, or a test's own
    stand-in for a hardware encoder). It is keyed on its name and version only:
    Reel does not know where its code lives."""
    if kind.name in _discovered() and _discovered()[kind.name] is not kind:
        raise TypeError(f"a kind named {kind.name} exists already")
    _EXTRA[kind.name] = kind
    return kind


def kinds() -> dict[str, Kind]:
    """Every kind by name: the backends' own, then any registered."""
    return {**_discovered(), **_EXTRA}


@functools.lru_cache(maxsize=1)
def _discovered() -> dict[str, Kind]:
    """Every kind the backend modules declare (each module imported once)."""
    found: dict[str, Kind] = {}
    for info in sorted(pkgutil.walk_packages([str(ROOT)], PACKAGE + "."), key=lambda i: i.name):
        if info.name.endswith("__main__") or info.name.endswith(".run_action"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, Kind) and value.module == info.name:
                if value.name in found and found[value.name] is not value:
                    raise TypeError(f"two kinds named {value.name}")
                found[value.name] = value
    return dict(sorted(found.items()))


def get(name: str) -> Kind:
    """One kind (asked several times per action: no dict is built for it)."""
    found = _discovered().get(name) or _EXTRA.get(name)
    if found is None:
        raise UnknownKind(name)
    return found


def _module_file(name: str) -> Path:
    relative = name.removeprefix(PACKAGE).lstrip(".").replace(".", "/")
    folder = ROOT / relative
    return folder / "__init__.py" if folder.is_dir() else ROOT / f"{relative}.py"


@functools.cache
def _imports(name: str, source: str) -> frozenset[str]:
    """The ``reel.backends`` modules one module's source imports (any depth).

    Cached: every kind's digest walks the modules it reaches, and most reach the
    same few (the toolchain, the encoder settings); parsing each once per
    process (keyed by the source itself, so an edit is seen) cut 80 ms to 25 ms
    from every build that runs an action."""
    package = name.rsplit(".", 1)[0] if not _module_file(name).name == "__init__.py" else name
    found = set()
    for node in _import_statements(source):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            targets = [stem, *(f"{stem}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        for target in targets:
            if target.startswith(PACKAGE + ".") and _module_file(target).is_file():
                found.add(target)
    return frozenset(found)


# A statement that is not at the start of its line (`x = 1; import y`,
# `if TYPE_CHECKING: from . import y`): the line scan below would miss it.
_INLINE_IMPORT = re.compile(r"[;:][ \t]*(?:from|import)[ \t]")


def _import_statements(source: str) -> list[ast.stmt]:
    """The import statements of a module, at any depth (a function's lazy
    import counts), parsed from just their lines: parsing whole modules was
    0.2 s of every edit's rebuild, on its critical path. Whenever the lines
    cannot be read that way (a statement after `;` or `:`, a continuation that
    does not parse, a docstring line that looks like an unfinished import), the
    whole module is parsed instead, so no import is ever missed; a docstring
    line that does parse as an import adds a dependency, which re-runs more,
    never less."""
    if _INLINE_IMPORT.search(source):
        return _all_imports(ast.parse(source))
    statements: list[ast.stmt] = []
    lines = source.splitlines()
    at = 0
    while at < len(lines):
        text = lines[at].strip()
        at += 1
        if not text.startswith(("import ", "from ")):
            continue
        depth = _open_brackets(text)
        while at < len(lines) and (depth > 0 or text.endswith("\\")):
            depth += _open_brackets(lines[at])
            text += "\n" + lines[at]
            at += 1
        try:
            statements += ast.parse(text).body
        except SyntaxError:
            return _all_imports(ast.parse(source))
    return _all_imports(statements)


def _open_brackets(line: str) -> int:
    code = line.split("#", 1)[0]
    return code.count("(") - code.count(")")


def _all_imports(tree: ast.AST | list[ast.stmt]) -> list[ast.stmt]:
    nodes = tree if isinstance(tree, list) else [tree]
    kinds = (ast.Import, ast.ImportFrom)
    return [n for node in nodes for n in ast.walk(node) if isinstance(n, kinds)]


@functools.cache
def module_digest(name: str) -> str:
    """xxh3-128 over the sources of ``name`` and of the backend modules it reaches."""
    seen: dict[str, bytes] = {}
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        data = _module_file(current).read_bytes()
        seen[current] = data
        stack.extend(_imports(current, data.decode("utf-8")))
    digest = xxhash.xxh3_128()
    for module in sorted(seen):
        digest.update(module.encode() + b"\0" + seen[module] + b"\0")
    return digest.hexdigest()


def version(name: str) -> str:
    """What an action of kind ``name`` is keyed on besides its inputs and parameters."""
    kind = get(name)
    libraries = "".join(f"+{lib}={_installed(lib)}" for lib in kind.libraries)
    if not kind.module.startswith(PACKAGE + "."):
        return f"{kind.name}/{kind.version}{libraries}"
    return f"{kind.name}/{kind.version}+{module_digest(kind.module)[:16]}{libraries}"


@functools.cache
def _installed(package: str) -> str:
    """An installed Python package's version and a digest of the files its
    wheel installed, as its RECORD lists them with their hashes (PyAV's wheel
    bundles its libavformat there, so a rebuild of one version shows too).
    Read from its metadata: importing PyAV to ask would cost a tenth of a
    second on every build. What differs from one machine to the next is left
    out: bytecode compiled there (listed without a hash), and what the
    installer wrote itself (launcher scripts naming the interpreter's path,
    the dist-info's own files)."""
    return installed_files(metadata.distribution(package))


def installed_files(dist: metadata.Distribution) -> str:
    """``_installed`` of one distribution (see there)."""
    record = dist.read_text("RECORD") or ""
    hashed = sorted(
        line
        for line in record.splitlines()
        if ",sha256=" in line and _shipped(line.split(",", 1)[0])
    )
    if not hashed:
        return dist.version
    return f"{dist.version}:{xxhash.xxh3_64_hexdigest(chr(10).join(hashed).encode())}"


def versions() -> dict[str, str]:
    """The version of every kind the backends define (registered extras are not
    the backend): what a RenderOutput records as the backend."""
    return {name: version(name) for name in _discovered()}


def _shipped(path: str) -> bool:
    """Whether a RECORD entry is a file of the package itself (inside
    site-packages, not its metadata)."""
    return not path.startswith("../") and ".dist-info/" not in path
