"""The ``reel`` command.

Every failure a user can cause ends in a rendered diagnostic and an exit
code (2: bad input, 1: a gate blocked the build), never a traceback. Set
REEL_DEBUG=1 to see the traceback of an internal error.
"""

from __future__ import annotations

import functools
import os
import signal
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
    help=(
        "Encoder speed, never quality: preview_local = x264 preset veryfast (the default), "
        "standard_local = medium (smaller files at the same quality, slower). Quality is "
        "each video deliverable's own crf field (youtube_1080p: crf 20; override it with "
        "`deliver master = youtube_1080p { crf 18 }`)."
    ),
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
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Cache directory (or $REEL_CACHE_DIR; default .reel).",
)
@_handled
def check(path: Path, profile: str, cache_dir: Path | None) -> None:
    """Parse, resolve and gate an episode; no render, nothing written to the output tree.

    Voices are rendered into the cache (or taken from it), because audio sets the
    timing; the next build takes them from there.
    """
    from .compiler.session import Session
    from .compiler.store import Store, resolve_cache_dir
    from .lang.diagnostics import Diagnostics
    from .lang.entry import find_series, split_label

    started = time.perf_counter()
    diags = Diagnostics()
    series_path, rest = split_label(str(path))
    series_file = find_series(series_path)
    try:
        if series_file is not None:  # every episode (or PATH:EPISODE), the canon carried
            from .compiler.series import each_episode, split_series_target

            store = Store(resolve_cache_dir(cache_dir))

            def one(judged: Any) -> None:
                mark = time.perf_counter()
                session = Session(judged.member.path, store, profile, diags=diags)
                session.series = judged.place
                click.echo(_summary(session.plan, time.perf_counter() - mark, "ok"))

            series, done = each_episode(series_file, split_series_target(rest)[0], one, diags)
            click.echo(f"ok series {series.name}: {len(done)} episode(s)")
            return
        result = Session(path, Store(resolve_cache_dir(cache_dir)), profile, diags=diags).plan
    finally:
        _print_diagnostics(diags.warnings)
    click.echo(_summary(result, time.perf_counter() - started, "ok"))


_backend_opt = click.option(
    "--backend",
    type=click.Choice(["ffmpeg", "videotoolbox"]),
    default="ffmpeg",
    show_default=True,
    help="ffmpeg: hermetic CPU render; videotoolbox: Apple Silicon encoders (not reproducible).",
)
_out_opt = click.option(
    "--out",
    type=click.Path(path_type=Path),
    envvar=OUT_ENV,
    default="reel-out",
    show_default=True,
    help=f"Output tree (or ${OUT_ENV}).",
)
_cache_opt = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Cache directory (or $REEL_CACHE_DIR; default .reel).",
)


def _remote_url(url: str | None) -> str | None:
    if not url:
        return None  # http and urllib are imported only for a remote cache (50 ms)
    from .compiler.remote import check_url

    problem = check_url(url)
    if problem is not None:
        raise click.BadParameter(problem)
    return url


def _remote_cache(url: str | None, upload: bool) -> Any:
    """The shared cache a build reads (and fills), or None: imported only then."""
    if not url:
        return None
    from .compiler.remote import RemoteCache

    return RemoteCache(url, upload=upload)


def _executor(name: str) -> str:
    if name == "local":
        return name  # the no-op path imports nothing more
    from .compiler.dask_exec import check_executor  # distributed itself is imported later

    problem = check_executor(name)
    if problem is not None:
        raise click.BadParameter(problem)
    return name


_jobs_opt = click.option(
    "-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel actions."
)
_remote_cache_opt = click.option(
    "--remote-cache",
    metavar="URL",
    envvar="REEL_REMOTE_CACHE",
    default=None,
    callback=lambda _ctx, _param, url: _remote_url(url),
    help="A shared cache speaking Bazel's HTTP cache protocol (or $REEL_REMOTE_CACHE).",
)
_remote_upload_opt = click.option(
    "--remote-upload/--no-remote-upload",
    envvar="REEL_REMOTE_UPLOAD",
    default=True,
    show_default=True,
    help="Send results to the remote cache (--no-remote-upload: only read from it).",
)
_executor_opt = click.option(
    "--executor",
    metavar="local|dask://HOST:PORT",
    envvar="REEL_EXECUTOR",
    default="local",
    show_default=True,
    callback=lambda _ctx, _param, name: _executor(name),
    help=(
        "Where actions run: here, or on a Dask cluster (needs --remote-cache, which "
        "carries inputs and outputs; or $REEL_EXECUTOR)."
    ),
)


_progress_opt = click.option(
    "--progress",
    type=click.Choice(["auto", "live", "plain"]),
    envvar="REEL_PROGRESS",
    default="auto",
    show_default=True,
    help=(
        "live: a display redrawn in place (done/total, running actions, cache hits, ETA); "
        "plain: one [n/N] line per action; auto: live on a terminal, else plain "
        "(or $REEL_PROGRESS)."
    ),
)
_quiet_opt = click.option(
    "-q", "--quiet", is_flag=True, help="For CI: only warnings, errors and the final line."
)


@main.command()
@click.argument("label", default=".")
@click.option(
    "--stage",
    type=click.Choice(["plan", "all"]),
    default="all",
    show_default=True,
    help="'plan' stops after the artifacts; 'all' renders.",
)
@_out_opt
@_cache_opt
@_profile_opt
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="Actions run in parallel (default: the number of cores).",
)
@click.option(
    "-k", "--keep-going", is_flag=True, help="Go on with independent actions after one fails."
)
@click.option("--explain", is_flag=True, help="Say why each action that ran had to run.")
@_remote_cache_opt
@_remote_upload_opt
@_executor_opt
@_backend_opt
@click.option(
    "--emit-commands",
    "emit_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the actions as DIR/build.sh and DIR/plan.json instead of running them.",
)
@_progress_opt
@_quiet_opt
@_handled
def build(
    label: str,
    stage: str,
    out: Path,
    cache_dir: Path | None,
    profile: str,
    jobs: int | None,
    keep_going: bool,
    explain: bool,
    remote_cache: str | None,
    remote_upload: bool,
    executor: str,
    backend: str,
    emit_dir: Path | None,
    progress: str,
    quiet: bool,
) -> None:
    """Build an episode, or one target of it: PATH or PATH:TARGET.

    Targets: master (default, with captions), captions, video, audio, and any
    action label such as segment/cold_open.s01 (see `reel query targets PATH`).
    """
    from .compiler.noop import record_path, up_to_date
    from .compiler.store import Store, resolve_cache_dir
    from .lang.diagnostics import Diagnostics
    from .lang.entry import find_entry, split_label

    started = time.perf_counter()
    path, target = split_label(label)
    diags = Diagnostics()
    from .lang.entry import find_series

    series_file = find_series(path)
    if series_file is not None and emit_dir is not None:
        # Emitted commands are one episode's build; a series has many, each
        # needing the canon of those before it, which a shell script cannot judge.
        raise click.UsageError(
            "--emit-commands writes one episode's commands, not a series': "
            "build the series with Reel, or emit from a standalone episode"
        )
    # What every build of this command shares, an episode's or a series' episodes'.
    options: dict[str, Any] = {
        "jobs": jobs,
        "keep_going": keep_going,
        "profile": profile,
        "backend": backend,
        "remote": _remote_cache(remote_cache, remote_upload),
        "executor": executor,
        "progress": "quiet" if quiet else progress,
    }
    if series_file is not None:  # a series: every episode, or PATH:EPISODE[:TARGET]
        try:
            _build_series(
                series_file,
                target,
                stage=stage,
                out=out,
                cache_dir=resolve_cache_dir(cache_dir),
                diags=diags,
                started=started,
                quiet=quiet,
                explain=explain,
                options=options,
            )
        finally:
            _print_diagnostics(diags.warnings)
        return
    try:
        if stage == "plan":
            from .compiler.build import plan_only

            result, written_files = plan_only(
                path, out=out, cache_dir=resolve_cache_dir(cache_dir), profile=profile, diags=diags
            )
            for written in written_files:
                click.echo(f"wrote {os.path.relpath(written)}")
            click.echo(_summary(result, time.perf_counter() - started, "planned"))
            return
        if emit_dir is not None:
            from .compiler.build import emit

            planned, written, steps = emit(
                path,
                dest=emit_dir,
                target=target,
                cache_dir=resolve_cache_dir(cache_dir),
                jobs=jobs,
                profile=profile,
                backend=backend,
                diags=diags,
            )
            click.echo(f"wrote {os.path.relpath(written / 'build.sh')} ({steps} steps)")
            click.echo(f"wrote {os.path.relpath(written / 'plan.json')}")
            click.echo(_summary(planned, time.perf_counter() - started, "emitted"))
            return
        store = Store(resolve_cache_dir(cache_dir))
        record = record_path(store, find_entry(path), out, target, profile, backend)
        replay = up_to_date(store, record)
        if replay is not None:
            _replay(replay["replay"], out, time.perf_counter() - started)
            return
        from .compiler.build import build as run_build  # heavy: only when there is work

        built = run_build(
            path,
            target=target,
            out=out,
            cache_dir=store.root,
            diags=diags,
            record=record,
            **options,
        )
    finally:
        _print_diagnostics(diags.warnings)
    report = built.report
    _print_ran(built, explain=explain, quiet=quiet)
    same = len(built.delivered) - len(built.changed)
    if same and not quiet:
        other = " other" if built.changed else ""
        click.echo(f"unchanged: {same}{other} file(s) in {os.path.relpath(built.folder)}")
    ran, cached = len(report.ran), len(report.cached)
    click.echo(
        _summary(built.plan, time.perf_counter() - started, "built")
        + f"; {ran} action(s) ran, {cached} cached"
    )


def _print_ran(built: Any, *, explain: bool, quiet: bool) -> None:
    """Why each action ran (``--explain``), then the files this build changed:
    after an edit, the two that changed are what a user looks for, not the
    fifty that did not (the caller counts the rest)."""
    if explain:
        for result in sorted(built.report.ran, key=lambda r: r.action):
            click.echo(f"explain: {result.action}: {'; '.join(result.reasons)}")
    for delivered in [] if quiet else built.changed:
        click.echo(f"delivered {os.path.relpath(delivered)}")


def _build_series(
    series_file: Path,
    rest: str | None,
    *,
    stage: str,
    out: Path,
    cache_dir: Path,
    diags: Any,
    started: float,
    quiet: bool,
    explain: bool,
    options: dict[str, Any],
) -> None:
    """`reel build SERIES[:EPISODE[:TARGET]]`: judge the canon of the episodes in
    order, then build each wanted one into OUT/SERIES/EPISODE against one cache.
    No no-op fast path: an episode's canon depends on the files of the episodes
    before it, which its own record does not list."""
    from .compiler.build import build as run_build
    from .compiler.build import plan_only
    from .compiler.series import each_episode, split_series_target

    episode, target = split_series_target(rest)
    totals = {"ran": 0, "cached": 0}

    def one(judged: Any) -> None:
        folder = out / judged.place.series
        mark = time.perf_counter()
        if stage == "plan":
            result, written_files = plan_only(
                judged.member.path,
                out=folder,
                cache_dir=cache_dir,
                profile=options["profile"],
                diags=diags,
                series=judged.place,
            )
            for written in written_files:
                click.echo(f"wrote {os.path.relpath(written)}")
            click.echo(_summary(result, time.perf_counter() - mark, "planned"))
            return
        built = run_build(
            judged.member.path,
            target=target,
            out=folder,
            cache_dir=cache_dir,
            diags=diags,
            series=judged.place,
            **options,
        )
        report = built.report
        _print_ran(built, explain=explain, quiet=quiet)
        totals["ran"] += len(report.ran)
        totals["cached"] += len(report.cached)
        click.echo(
            _summary(built.plan, time.perf_counter() - mark, "built")
            + f"; {len(report.ran)} action(s) ran, {len(report.cached)} cached"
        )

    series, done = each_episode(series_file, episode, one, diags)
    verb = "planned" if stage == "plan" else "built"
    actions = (
        "" if stage == "plan" else f"; {totals['ran']} action(s) ran, {totals['cached']} cached"
    )
    click.echo(
        f"{verb} series {series.name}: {len(done)} episode(s) in "
        f"{os.path.relpath(out / series.name)} "
        f"[{(time.perf_counter() - started) * 1000:.0f} ms]{actions}"
    )


@main.group()
def canon() -> None:
    """The canon store of a series."""


@canon.command("diff")
@click.argument("episodes", nargs=-1)
@click.option(
    "--series",
    "series_path",
    type=click.Path(path_type=Path),
    default=".",
    show_default=True,
    help="The series folder (or its series file).",
)
@click.option("--json", "as_json", is_flag=True, help="The CanonDiffs as JSON.")
@_handled
def canon_diff(episodes: tuple[str, ...], series_path: Path, as_json: bool) -> None:
    """What each episode adds to or changes in the canon: EPISODES names two (the
    episodes from the first to the second, in series order), one, or none (all)."""
    import json

    from .compiler.canon_store import render_diff
    from .compiler.series import judge
    from .lang.diagnostics import Diagnostics, InputError
    from .lang.entry import find_series
    from .lang.series import load_series

    series_file = find_series(series_path)
    if series_file is None:
        diags = Diagnostics()
        diags.error(
            f"no series in {os.path.relpath(series_path)}",
            None,
            "run it in a series folder, or give one with --series PATH (a folder whose "
            'file declares `series NAME { episode "ep01.episode" ... }`)',
        )
        raise InputError(diags.errors)
    if len(episodes) > 2:
        raise click.UsageError("give at most two episodes: FROM TO")
    series = load_series(series_file)
    names = [series.member(name).name for name in episodes]  # unknown name: exit 2
    order = [m.name for m in series.members]
    first = order.index(names[0]) if names else 0
    last = order.index(names[-1]) if names else len(order) - 1
    if last < first:
        first, last = last, first
    warnings = Diagnostics()
    judged = judge(series, order[last], warnings)[first:]
    _print_diagnostics(warnings.warnings)
    if as_json:
        body = [j.diff.model_dump(mode="json") for j in judged]
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    click.echo("\n".join(render_diff(j.diff) for j in judged))


@main.command()
@click.argument("label", default=".")
@_out_opt
@_cache_opt
@_profile_opt
@_jobs_opt
@_backend_opt
@_remote_cache_opt
@_remote_upload_opt
@_executor_opt
@_progress_opt
@click.option(
    "--debounce",
    type=click.IntRange(10, 10_000),
    default=300,
    show_default=True,
    help="Saves closer together than this many ms make one rebuild.",
)
@click.pass_context
@_handled
def watch(
    ctx: click.Context,
    label: str,
    out: Path,
    cache_dir: Path | None,
    profile: str,
    jobs: int | None,
    backend: str,
    remote_cache: str | None,
    remote_upload: bool,
    executor: str,
    progress: str,
    debounce: int,
) -> None:
    """Build PATH[:TARGET], then again each time a file it loads is saved.

    Each build is `reel build --explain`: it says which actions ran and why. A
    failed build prints its errors and leaves the last good outputs as they are;
    watching goes on. Ctrl-C stops (exit 0).
    """
    from .compiler.noop import record_path
    from .compiler.store import Store, resolve_cache_dir
    from .compiler.watch import Watched, run
    from .lang.entry import find_entry, split_label

    path, target = split_label(label)
    entry = find_entry(path)
    cache = resolve_cache_dir(cache_dir)
    record = record_path(Store(cache), entry, out, target, profile, backend)
    watched = Watched(entry.resolve().parent, [out, cache])
    shown = os.path.relpath(out)

    def build_once() -> Path | None:
        try:
            ctx.invoke(
                build,
                label=label,
                out=out,
                cache_dir=cache_dir,
                profile=profile,
                jobs=jobs,
                explain=True,
                remote_cache=remote_cache,
                remote_upload=remote_upload,
                executor=executor,
                backend=backend,
                progress=progress,
                quiet=False,
            )
        except SystemExit as exc:  # the build's errors are printed already
            if exc.code == 130:
                raise KeyboardInterrupt from None
            if exc.code:
                click.echo(
                    f"watch: the build failed; {shown} keeps the last good outputs", err=True
                )
                return None
        return record if record.is_file() else None

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # a service manager's stop is a Ctrl-C too
    try:
        run(watched, build_once, click.echo, step=debounce, shown=os.path.relpath)
    except KeyboardInterrupt:
        pass
    click.echo("watch: stopped", err=True)


def _replay(data: dict[str, Any], out: Path, seconds: float) -> None:
    """Say in one line that the last build is up to date. Its run_summary.json is
    left as it is: it holds the figures of the last build that did work, which a
    no-op has none of (and must not replace)."""
    for warning in data["warnings"]:
        click.echo(warning, err=True)
        click.echo("", err=True)
    files = len(data["delivered"])
    click.echo(
        f"built {data['episode']}: {data['scenes']} scenes, {data['shots']} shots, "
        f"{data['seconds']:.2f}s ({data['frames']} frames at {data['fps']} fps), "
        f"{data['placeholders']} placeholder(s), {len(data['warnings'])} warning(s) "
        f"[{seconds * 1000:.0f} ms]; up to date: 0 action(s) ran, "
        f"{data['actions']} cached; {files} file(s) in "
        f"{os.path.relpath(out / data['episode'])} unchanged"
    )


def _lowered(path: Path, profile: str) -> tuple[Any, Any, Any]:
    from .compiler.session import Session
    from .compiler.store import Store, resolve_cache_dir

    session = Session(path, Store(resolve_cache_dir(None)), profile)
    return session.plan, session.lowered, session.graph.to_networkx()


@main.command()
@click.argument("kind", type=click.Choice(["deps", "rdeps", "targets"]))
@click.argument("label")
@_profile_opt
@_handled
def query(kind: str, label: str, profile: str) -> None:
    """What a target depends on (deps), what depends on it (rdeps), or every target."""
    import networkx as nx

    from .compiler.build import resolve_targets
    from .lang.entry import split_label

    path, target = split_label(label)
    _planned, lowered, graph = _lowered(path, profile)
    if kind == "targets":
        for name in sorted(lowered.targets):
            click.echo(f"{path}:{name}")
        return
    _, ids = resolve_targets(lowered, target)
    found: set[str] = set()
    for action_id in ids:
        if kind == "deps":
            found |= nx.ancestors(graph, action_id)
        else:
            found |= nx.descendants(graph, action_id)
    for action_id in sorted(found):
        click.echo(action_id)


@main.command()
@click.argument("label", default=".")
@_cache_opt
@_profile_opt
@_backend_opt
@_jobs_opt
@_handled
def verify(
    label: str, cache_dir: Path | None, profile: str, backend: str, jobs: int | None
) -> None:
    """Rebuild PATH[:TARGET] from clean in a temporary folder and compare every digest
    with the cached build. Exit 1 if any reproducible output differs."""
    from .compiler.store import resolve_cache_dir
    from .compiler.verify import verify as run_verify
    from .lang.diagnostics import Diagnostics
    from .lang.entry import split_label

    started = time.perf_counter()
    path, target = split_label(label)
    diags = Diagnostics()
    try:
        result = run_verify(
            path,
            target=target,
            cache_dir=resolve_cache_dir(cache_dir),
            jobs=jobs,
            profile=profile,
            backend=backend,
            diags=diags,
        )
    finally:
        _print_diagnostics(diags.warnings)
    outputs = sum(len(result.build.report.results[a].outputs) for a in result.compared)
    click.echo(
        f"verified {result.build.plan.episode.id}: {len(result.compared)} actions "
        f"({outputs} outputs) identical when rebuilt from clean "
        f"[{time.perf_counter() - started:.1f}s]"
    )
    if result.skipped:
        click.echo(
            f"not compared: {len(result.skipped)} non-deterministic action(s) and what is made "
            f"from them: {', '.join(result.skipped)}"
        )


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the QCReport as JSON instead.")
@_handled
def qc(path: Path, as_json: bool) -> None:
    """Decode a delivered folder (reel-out/EPISODE) or one file in it and check it
    against the plan beside it: length, size, rate, colour tags, sound, loudness,
    black, frozen and silent spans, caption bounds. Exit 1 if a check fails."""
    from .compiler import qc as verifier
    from .lang.diagnostics import Diagnostics, GateError, InputError

    started = time.perf_counter()
    if not path.exists():
        diags = Diagnostics()
        diags.error(f"no such file or folder: {path}", None, "give a folder `reel build` wrote")
        raise InputError(diags.errors)
    report, folder = verifier.check_folder(path)
    if as_json:
        click.echo(report.to_json())
    else:
        rows = [("FILE", "CHECK", "EXPECTED", "MEASURED", "")]
        for file in report.files:
            for c in file.checks:
                verdict = "ok" if c.passed else ("FAIL" if c.blocking else "warn")
                rows.append((file.path, c.name, c.target, c.measured, verdict))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            click.echo(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                + "  "
                + row[4]
            )
    checks = sum(len(f.checks) for f in report.files)
    failed = verifier.diagnostics(report, "the table above" if not as_json else "the JSON")
    _print_diagnostics(failed.warnings)  # checks that do not block (loudness, unpublished)
    if failed.errors:
        raise GateError(failed.errors)
    click.echo(
        f"QC passed: {len(report.files)} file(s), {checks} check(s) in {folder} "
        f"[{time.perf_counter() - started:.1f}s]",
        err=as_json,
    )


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--dot", is_flag=True, default=True, help="Graphviz DOT (the only format).")
@_profile_opt
@_handled
def graph(path: Path, dot: bool, profile: str) -> None:
    """Print the action graph of an episode as Graphviz DOT."""
    planned, _lowered_graph, g = _lowered(path, profile)
    click.echo(f'digraph "{planned.episode.id}" {{')
    click.echo("  rankdir=LR; node [shape=box, fontname=Helvetica];")
    for node in sorted(g.nodes):
        kind = g.nodes[node]["action"].kind
        click.echo(f'  "{node}" [label="{node}\\n({kind})"];')
    for src, dst in sorted(g.edges):
        click.echo(f'  "{src}" -> "{dst}";')
    click.echo("}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_out_opt
@_cache_opt
@click.option("--cache", "with_cache", is_flag=True, help="Also empty the cache directory.")
@_handled
def clean(path: Path | None, out: Path, cache_dir: Path | None, with_cache: bool) -> None:
    """Remove built outputs (one episode's, or every episode's under --out).

    Only files Reel's own record lists, with the bytes Reel wrote, are removed;
    anything else in the output folder stays, and is named.
    """
    from .compiler.outputs import clean_cache, clean_outputs
    from .compiler.store import resolve_cache_dir

    episode_id = None
    if path is not None:
        from .lang.diagnostics import Diagnostics
        from .lang.resolve import analyse

        # Only the parse: the episode's id names its output folder (no cache is opened).
        episode_id = analyse(path, Diagnostics()).id
    cleaned = clean_outputs(out, episode_id)
    click.echo(f"removed {len(cleaned.removed)} file(s) from {os.path.relpath(out)}")
    for kept in cleaned.kept:
        click.echo(f"kept {os.path.relpath(kept)}: not a file Reel wrote (or changed since)")
    if with_cache:
        cache = resolve_cache_dir(cache_dir)
        if cache.exists():
            clean_cache(cache)
            click.echo(f"removed {os.path.relpath(cache)}")


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
    """Write the JSON Schemas of the artifacts (a series' Canon and CanonDiff, and the
    Director's Action Plan, too)."""
    from .compiler.jsonio import write_json
    from .compiler.schemas import published_schemas
    from .director.contract import json_schema as action_plan_schema

    schemas = {**published_schemas(), "ActionPlan.schema.json": action_plan_schema()}
    for name, body in sorted(schemas.items()):
        write_json(out / name, body)
        click.echo(f"wrote {os.path.relpath(out / name)}")


@main.group()
def server() -> None:
    """A resident build server, as Bazel's: `reel build`, `check`, `verify`, `qc`,
    `query` and `graph` run in a fork of a process that has Reel imported, which saves
    Python's start-up on every rebuild (about 0.45 s here). Outputs are the same bytes.
    It serves this installation only, and stops by itself when Reel's code changes or
    after --max-idle seconds without a command."""


@server.command("start")
@click.option(
    "--max-idle",
    type=click.FloatRange(min=1),
    default=3 * 3600,
    show_default=True,
    help="Stop after this many seconds without a command (Bazel's default: 3 hours).",
)
@_handled
def server_start(max_idle: float) -> None:
    """Start the server in the background (nothing happens if one runs)."""
    from .server import control

    try:
        answer = control.start(max_idle=max_idle)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    state = "already running" if answer.get("already") else "started"
    click.echo(f"reel server: {state}, pid {answer['pid']} ({control.protocol.socket_path()})")


@server.command("stop")
@_handled
def server_stop() -> None:
    """Stop the server (commands it is running finish first)."""
    from .server import control

    answer = control.stop()
    if answer:
        click.echo(f"reel server: stopped pid {answer['stopping']}")
    else:
        click.echo("reel server: none running")


@server.command("status")
@_handled
def server_status() -> None:
    """Whether a server runs for this installation; exit 1 if none."""
    from .server import control

    answer = control.ask({"op": "ping"})
    if not answer:
        click.echo("reel server: none running")
        sys.exit(1)
    click.echo(
        f"reel server: pid {answer['pid']}, up {answer['up_s']}s, "
        f"{answer['served']} command(s) served, {answer['running']} running, "
        f"{answer['modules']} modules loaded"
    )


def _register_direct() -> None:
    from .director.cli import register

    register(main, _handled, _out_opt, _cache_opt)


_register_direct()

if __name__ == "__main__":  # pragma: no cover
    main()
