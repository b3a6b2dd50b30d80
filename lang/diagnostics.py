"""Diagnostics: errors and warnings with a position, a caret and a fix.

Every user-facing problem in Reel is a :class:`Diagnostic`. They are
collected, not raised one at a time, so a file with several mistakes reports
all of them in one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from .source import Span


class ExitCode(IntEnum):
    """Process exit codes; part of the CLI contract."""

    OK = 0
    GATE = 1  # the input is well formed but a gate (canon, runtime, ...) blocks it
    INPUT = 2  # the input is malformed: syntax, names, units, loads


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" | "warning"
    message: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[str, ...] = ()

    def render(self) -> str:
        """Rust-style rendering: headline, location, source line, caret, help."""
        out = [f"{self.severity}: {self.message}"]
        if self.span is not None:
            span = self.span
            out.append(f"  --> {span}")
            text = span.file.line(span.line)
            if text:
                gutter = str(span.line)
                pad = " " * len(gutter)
                width = 1
                if span.end_line == span.line and span.end_column > span.column:
                    width = span.end_column - span.column
                caret_col = len(text[: span.column - 1].expandtabs(4))
                out.append(f"{pad} |")
                out.append(f"{gutter} | {text.expandtabs(4)}")
                out.append(f"{pad} | {' ' * caret_col}{'^' * width}")
        for note in self.notes:
            out.append(f"   = note: {note}")
        if self.help:
            out.append(f"   = help: {self.help}")
        return "\n".join(out)


@dataclass
class Diagnostics:
    """An ordered bag of diagnostics collected over one run."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        message: str,
        span: Span | None = None,
        help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.items.append(Diagnostic("error", message, span, help, notes))

    def warning(
        self,
        message: str,
        span: Span | None = None,
        help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.items.append(Diagnostic("warning", message, span, help, notes))

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)


class ReelError(Exception):
    """A failure to report to the user (never with a traceback)."""

    def __init__(self, diagnostics: list[Diagnostic], exit_code: ExitCode) -> None:
        super().__init__("\n".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics
        self.exit_code = exit_code


class InputError(ReelError):
    """Malformed input: exit code 2."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics, ExitCode.INPUT)


class GateError(ReelError):
    """A quality or canon gate blocks the build: exit code 1."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics, ExitCode.GATE)
