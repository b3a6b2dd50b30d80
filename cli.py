"""The ``reel`` command.

Every failure a user can cause ends in a rendered diagnostic and an exit
code (2: bad input, 1: a gate blocked the build), never a traceback. Set
REEL_DEBUG=1 to see the traceback of an internal error.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__

OUT_ENV = "REEL_OUT"


def _print_diagnostics(items: list[Any]) -> None:
    for diag in items:
        click.echo(diag.render(), err=True)
        click.echo("", err=True)


def _handled(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ReelError into diagnostics + exit code; hide internal tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .lang.diagnostics import ReelError

        try:
            return func(*args, **kwargs)
        except ReelError as exc:
            _print_diagnostics(exc.diagnostics)
            errors = sum(1 for d in exc.diagnostics if d.severity == "error")
            click.echo(f"reel: {errors} error{'s' if errors != 1 else ''}", err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("reel: interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("REEL_DEBUG"):
                raise
            click.echo(f"reel: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("reel: this is a bug in Reel; rerun with REEL_DEBUG=1 for details", err=True)
            sys.exit(70)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reel")
def main() -> None:
    """Reel: a declarative, Bazel-style build system for video."""


_path_arg = click.argument("path", type=click.Path(path_type=Path), default=".")
_profile_opt = click.option(
    "--profile",
    type=click.Choice(["preview_local", "standard_local"]),
    default="preview_local",
    show_default=True,
    help="Render profile: changes only the RenderPlan.",
)


def _summary(result: Any, seconds: float, verb: str) -> str:
    episode = result.episode
    timeline = result.timeline
    warnings = len(result.diagnostics.warnings)
    fps = episode.fps
    rate = f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f}"
    return (
        f"{verb} {episode.id}: {len(episode.scenes)} scenes, {len(episode.shots)} shots, "
        f"{timeline.seconds(timeline.total_frames):.2f}s ({timeline.total_frames} frames at "
        f"{rate} fps), {result.manifest.placeholders} placeholder(s), "
        f"{warnings} warning(s) [{seconds * 1000:.0f} ms]"
    )


@main.command()
@_path_arg
@_profile_opt
@_handled
def check(path: Path, profile: str) -> None:
    """Parse, resolve and gate an episode without writing anything."""
    from .compiler.pipeline import plan
    from .lang.diagnostics import Diagnostics

    started = time.perf_counter()
    diags = Diagnostics()
    try:
        result = plan(path, profile=profile, diags=diags)
    finally:
        _print_diagnostics(diags.warnings)
    click.echo(_summary(result, time.perf_counter() - started, "ok"))


@main.command()
@_path_arg
@click.option(
    "--stage",
    type=click.Choice(["plan"]),
    default="plan",
    show_default=True,
    help="How far to build. 'plan' writes Script, ShotList, AssetManifest and RenderPlan.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    envvar=OUT_ENV,
    default="reel-out",
    show_default=True,
    help=f"Output tree (or ${OUT_ENV}).",
)
@_profile_opt
@_handled
def build(path: Path, stage: str, out: Path, profile: str) -> None:
    """Build an episode's targets into the output tree."""
    from .compiler.pipeline import plan
    from .lang.diagnostics import Diagnostics

    started = time.perf_counter()
    diags = Diagnostics()
    try:
        result = plan(path, profile=profile, out=out, diags=diags)
    finally:
        _print_diagnostics(diags.warnings)
    for written in result.written:
        click.echo(f"wrote {os.path.relpath(written)}")
    click.echo(_summary(result, time.perf_counter() - started, "built"))


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default="schemas",
    show_default=True,
    help="Folder for the JSON Schema files.",
)
@_handled
def schema(out: Path) -> None:
    """Write the JSON Schemas of the artifacts."""
    from .compiler.artifacts import json_schemas
    from .compiler.jsonio import write_json

    for name, body in sorted(json_schemas().items()):
        write_json(out / name, body)
        click.echo(f"wrote {os.path.relpath(out / name)}")


if __name__ == "__main__":  # pragma: no cover
    main()
