"""The `reel direct` commands. `reel direct DAILIES` runs the Director; the
subcommands continue a run (apply, signoff), take edits back (undo) or check
a trace (replay)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DEFAULT_INTO = "cut.episode"


class DirectGroup(click.Group):
    """`reel direct DAILIES ...` is `reel direct run DAILIES ...`: a first
    word that names no subcommand is the dailies folder."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _confirm() -> Callable[[str], bool] | None:
    """Ask at a terminal; with no terminal (CI, a script) nothing is confirmed."""
    if not sys.stdin.isatty():
        return None
    return lambda question: click.confirm(question, default=False)


def _director(into: Path) -> Any:
    from .run import Director, Project

    return Director(Project(into), click.echo, _confirm())


def _fail(exc: Exception) -> None:
    from .journal import UndoError
    from .run import DirectError

    if isinstance(exc, DirectError):
        click.echo(f"reel direct: {exc}", err=True)
        sys.exit(exc.code)
    if isinstance(exc, UndoError):
        click.echo(f"reel direct: {exc}", err=True)
        sys.exit(1)
    raise exc


def _latest(into: Path, run: str | None) -> str:
    from .run import DirectError, Project

    if run:
        return run
    runs = Project(into).runs()
    if not runs:
        raise DirectError(f"no Director run beside {into}", 2)
    return runs[-1]


_into_opt = click.option(
    "--into",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help=f"The blueprint the cut is written into (default: {DEFAULT_INTO}).",
)


def register(
    main: click.Group,
    handled: Callable[..., Any],
    _out_opt: Callable[..., Any],
    _cache_opt: Callable[..., Any],
) -> None:
    """Add `reel direct` to the CLI, with the CLI's own --out and --cache-dir."""

    @main.group(cls=DirectGroup)
    def direct() -> None:
        """Director Mode: a folder of dailies to a verified cut.

        reel direct DAILIES --tier 0|1|2|3 [--into EPISODE]; then
        reel direct apply | signoff | undo [N] | replay TRACE.
        """

    @direct.command("run")
    @click.argument("dailies", type=click.Path(path_type=Path, file_okay=False))
    @click.option(
        "--tier",
        type=click.IntRange(0, 3),
        default=0,
        show_default=True,
        help="0 plan only; 1 plan, diff and preview; 2 apply low-risk edits; "
        "3 edit, build, QC, then wait for sign-off.",
    )
    @click.option(
        "--into",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The blueprint to write the cut into (default: cut.episode beside "
        "the dailies folder).",
    )
    @click.option(
        "--planner",
        default="heuristic",
        show_default=True,
        help="heuristic, an OpenAI-compatible endpoint URL, or a plug-in's name.",
    )
    @click.option("--model", default=None, help="The endpoint's model (default: its first).")
    @click.option(
        "--plan",
        "plan_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Use this Action Plan (JSON) instead of planning.",
    )
    @click.option(
        "--script",
        "script_file",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        default=None,
        help="The lines as written, one per line: takes are matched to them and "
        "captions use their words.",
    )
    @click.option("--yes", is_flag=True, help="Confirm destructive actions.")
    @_out_opt
    @_cache_opt
    @click.option("-q", "--quiet", is_flag=True)
    @handled
    def run(
        dailies: Path,
        tier: int,
        into: Path | None,
        planner: str,
        model: str | None,
        plan_file: Path | None,
        script_file: Path | None,
        yes: bool,
        out: Path,
        cache_dir: Path | None,
        quiet: bool,
    ) -> None:
        """Analyse DAILIES, plan a cut and act on it by tier."""
        from reel.compiler.store import resolve_cache_dir

        from .planners.heuristic import script_lines
        from .run import direct as run_direct

        blueprint = into or dailies.resolve().parent / DEFAULT_INTO
        script = script_lines(script_file.read_text(encoding="utf-8")) if script_file else None
        try:
            outcome = run_direct(
                dailies,
                tier=tier,
                blueprint=blueprint,
                planner=planner,
                model=model,
                plan_file=plan_file,
                yes=yes,
                script=script,
                out=out,
                cache=resolve_cache_dir(cache_dir),
                echo=click.echo,
                confirm=_confirm(),
                quiet=quiet,
            )
        except Exception as exc:  # noqa: BLE001 - DirectError → exit code; others re-raised
            _fail(exc)
            return
        click.echo(f"direct {outcome.run}: {outcome.state.replace('_', ' ')}")
        sys.exit(outcome.code)

    @direct.command("apply")
    @click.argument("run", required=False)
    @_into_opt
    @click.option("--yes", is_flag=True, help="Confirm destructive actions.")
    @handled
    def apply(run: str | None, into: Path | None, yes: bool) -> None:
        """Apply a planned run (tier 1), or the actions that wait for a yes."""
        from .apply import apply_run

        into = into or Path(DEFAULT_INTO)
        try:
            outcome = apply_run(_director(into), _latest(into, run), yes)
        except Exception as exc:  # noqa: BLE001
            _fail(exc)
            return
        click.echo(f"direct {outcome.run}: {outcome.state.replace('_', ' ')}")

    @direct.command("undo")
    @click.argument("count", type=int, default=1)
    @_into_opt
    @handled
    def undo(count: int, into: Path | None) -> None:
        """Take back the Director's last COUNT edits, byte for byte."""
        from .run import Project

        into = into or Path(DEFAULT_INTO)
        project = Project(into)
        try:
            undone = project.journal().undo(project.folder, count)
        except Exception as exc:  # noqa: BLE001
            _fail(exc)
            return
        for entry in undone:
            click.echo(f"undid {entry.summary} ({entry.run})")
        click.echo(f"{os.path.relpath(into)}: {len(undone)} edit(s) undone")

    @direct.command("signoff")
    @click.argument("run", required=False)
    @_into_opt
    @click.option("--by", "by", required=True, help="Who signs the cut off.")
    @click.option(
        "--reason",
        default="own footage, cut by reel direct and signed off",
        show_default=True,
        help="Why the dailies may be published.",
    )
    @_out_opt
    @_cache_opt
    @click.option("-q", "--quiet", is_flag=True)
    @handled
    def signoff(
        run: str | None,
        into: Path | None,
        by: str,
        reason: str,
        out: Path,
        cache_dir: Path | None,
        quiet: bool,
    ) -> None:
        """Sign off a tier 3 cut that passed QC: publish and release it."""
        from reel.compiler.store import resolve_cache_dir

        from .signoff import signoff as do_signoff

        into = into or Path(DEFAULT_INTO)
        try:
            do_signoff(
                _director(into),
                _latest(into, run),
                by,
                reason,
                out,
                resolve_cache_dir(cache_dir),
                quiet,
            )
        except Exception as exc:  # noqa: BLE001
            _fail(exc)

    @direct.command("replay")
    @click.argument("trace", type=click.Path(path_type=Path, dir_okay=False, exists=True))
    @handled
    def replay(trace: Path) -> None:
        """Re-plan and re-check a run from its trace; exit 1 if anything differs."""
        from .replay import replay as do_replay

        differences = do_replay(trace)
        for line in differences:
            click.echo(f"differs: {line}")
        if differences:
            sys.exit(1)
        click.echo(f"{os.path.relpath(trace)}: same plan, same edits")
