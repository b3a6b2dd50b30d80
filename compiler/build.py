"""`reel build`: plan, check media, lower, execute, deliver.

Outputs are delivered as one set (``outputs.OutputSet``): copied from the CAS
(their digests checked on the way) into a staging folder beside
``<out>/<episode>/`` and switched in at once, only after every action
succeeded. An interrupted or failed build leaves the previous set intact and
the next build finishes the job from the cache.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reel.backends import registry
from reel.backends.ffmpeg.toolchain import ffmpeg_exe, has_encoder
from reel.lang.diagnostics import Diagnostics, GateError, InputError, ReelError
from reel.lang.suggest import hint

from . import artifacts as a
from . import qc
from .actions import build_graph
from .canon_store import SeriesPlace
from .caption_sync import SyncOutcome, caption_sync
from .executor import ExecutionReport
from .failures import BuildFailed, failure_diagnostics
from .hashing import PREFIX, hash_value
from .jsonio import write_json
from .media import cached_probe
from .memory import give_back_freed_memory
from .outputs import OutputSet, check_output_folder
from .pipeline import PlanResult, PlanStopped
from .plan import BACKENDS, DEFAULT_BACKEND
from .progress import display as progress_display
from .report import wanted_thumbnails, write_report
from .rules import Lowered
from .session import Session
from .store import BlobDamaged, Store

if TYPE_CHECKING:
    from .dask_exec import DaskRunner
    from .remote import RemoteCache  # imported only when a remote cache is used (http: 50 ms)

ARTIFACT_TARGETS = ("script", "shotlist", "assetmanifest", "renderplan")
DEFAULT_TARGETS = ("master", "captions")


@dataclass
class BuildResult:
    plan: PlanResult
    lowered: Lowered
    report: ExecutionReport
    folder: Path
    delivered: list[Path] = field(default_factory=list)
    # Of ``delivered``, the files whose bytes the previous set did not already have.
    changed: list[Path] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    summary_loudness: dict[str, Any] | None = None
    repairs: list[str] = field(default_factory=list)  # damaged cache blobs found (evicted)
    qc_report: qc.QCReport | None = None  # the delivered files decoded and checked
    sync: SyncOutcome | None = None  # the caption-sync gate, judged on the built captions

    @property
    def gates(self) -> list[a.GateResult]:
        """Every gate's results: the plan's and the built captions' (sorted)."""
        results = [*self.plan.gates.results, *(self.sync.results if self.sync else [])]
        return sorted(results, key=lambda r: (r.gate, r.deliverable, r.target, r.status))


def toolchain_digest(store: Store) -> str:
    return store.file_digest(ffmpeg_exe())


def registry_digest() -> str:
    """One name for the code of every action kind (each action is keyed on its own)."""
    return "kinds+" + hash_value(registry.versions()).removeprefix(PREFIX)[:16]


def resolve_targets(lowered: Lowered, target: str | None) -> tuple[list[str], set[str]]:
    """Requested labels and the action ids they stand for."""
    if target is None:
        labels = list(lowered.default_targets)
    else:
        labels = [target]
    ids: set[str] = set()
    for label in labels:
        if label in ARTIFACT_TARGETS:
            continue
        if label not in lowered.targets:
            diags = Diagnostics()
            choices = [*ARTIFACT_TARGETS, *lowered.targets]
            diags.error(
                f"no target '{label}'",
                None,
                hint(label, choices, "targets") + " (see `reel query targets PATH`)",
            )
            raise InputError(diags.errors)
        ids.add(lowered.targets[label])
    return labels, ids


def build(
    path: Path,
    *,
    target: str | None = None,
    out: Path,
    cache_dir: Path,
    jobs: int | None = None,
    keep_going: bool = False,
    profile: str = "preview_local",
    backend: str = DEFAULT_BACKEND,
    diags: Diagnostics | None = None,
    progress: bool | str = True,
    record: Path | None = None,
    remote: RemoteCache | None = None,
    executor: str = "local",
    series: SeriesPlace | None = None,
) -> BuildResult:
    """Build ``target`` (default: master and captions). With ``record``, a
    successful build is remembered there for the no-op fast path; with
    ``remote``, hermetic results are shared through that cache; with
    ``executor`` ``dask://HOST:PORT``, actions run on that Dask cluster."""
    diags = diags if diags is not None else Diagnostics()
    if executor == "local":
        check_backend(backend)  # on Dask, the workers' resources say where it can run
    store = Store(cache_dir)
    store.remote = remote  # None: this machine's cache only
    runner = _runner(executor, store, remote)
    try:
        return _build(
            path,
            target,
            out,
            store,
            jobs,
            keep_going,
            profile,
            backend,
            diags,
            progress,
            record,
            remote,
            runner,
            series,
        )
    finally:
        if runner is not None:
            _warn_runner(runner, diags)
            runner.close()


def _runner(executor: str, store: Store, remote: RemoteCache | None) -> DaskRunner | None:
    if executor == "local":
        return None
    from .dask_exec import DaskRunner  # distributed is heavy and optional

    return DaskRunner.connect(executor, store, remote, toolchain_digest(store))


def _warn_runner(runner: DaskRunner, diags: Diagnostics) -> None:
    for warning in dict.fromkeys(runner.warnings):
        diags.warning(warning, None, "a Dask build only uses workers that make the same bytes")
    runner.warnings.clear()


def _build(
    path: Path,
    target: str | None,
    out: Path,
    store: Store,
    jobs: int | None,
    keep_going: bool,
    profile: str,
    backend: str,
    diags: Diagnostics,
    progress: bool | str,
    record: Path | None,
    remote: RemoteCache | None,
    runner: DaskRunner | None,
    series: SeriesPlace | None = None,
) -> BuildResult:
    stages: dict[str, float] = {}
    started = time.perf_counter()
    session = Session(path, store, profile, backend, jobs, diags, runner, series)
    root = session.root
    planned = _plan_or_keep_failed(session, out)
    folder = output_folder(out, planned, root, store)
    staged = OutputSet(out, planned.episode.id, store)  # fails fast on an unwritable --out
    stages["plan_and_voices"] = time.perf_counter() - started
    try:
        mark = time.perf_counter()
        lowered = session.lowered
        labels, wanted = resolve_targets(lowered, target)
        wanted |= qc.wanted_checks(lowered.delivers, wanted)  # every delivered file is checked
        shot_ids = [shot.id for shot in planned.shotlist.shots]
        wanted |= wanted_thumbnails(shot_ids, {x.id for x in lowered.actions}, wanted)
        stages["lowering"] = time.perf_counter() - mark

        mark = time.perf_counter()
        executor = session.executor(keep_going=keep_going)
        # The voices stage's results are this run's too: taken, not looked up again.
        done = planned.voice_report.results if planned.voice_report else {}
        pending = [a for a in executor.needed(wanted) if a not in done]
        if pending:
            give_back_freed_memory()
        with progress_display(progress, executor, pending) as on_event:
            if on_event is not None:
                executor.on_event = on_event
            report = executor.run(wanted, done) if wanted else ExecutionReport()
        stages["execute"] = time.perf_counter() - mark

        mark = time.perf_counter()
        result = BuildResult(planned, lowered, report, folder)
        for artifact in planned.artifacts:
            artifact.write(staged.staging)
            staged.add_written(f"{artifact.kind}.json")
        for attempt in range(2):
            if result.report.failures:
                break
            try:
                _deliver(result, staged, store, wanted, labels, diags)
                break
            except BlobDamaged as exc:
                if attempt:
                    raise _damaged_twice(exc) from None
                # A blob was damaged since its action ran; it is evicted now, so
                # running again remakes it (everything else is a cache hit).
                result.report = executor.run(wanted)
        report = result.report
        result.repairs = _warn_repairs(store, diags)
        _warn_remote(remote, diags)
        if runner is not None:
            _warn_runner(runner, diags)
        stages["deliver"] = time.perf_counter() - mark
        stages["total"] = time.perf_counter() - started
        store.save_memo()
        result.summary = run_summary(result, labels, stages, diags)
        write_json(staged.path("run_summary.json"), result.summary)
        staged.add_written("run_summary.json", log=True)
        write_report(result, staged, store)  # report.html: the summary with pictures
        if report.failures:
            kept = staged.fail()
            raise BuildFailed(failure_diagnostics(report, kept).errors)
        if result.qc_report is not None and not result.qc_report.passed:
            kept = staged.fail()
            raise BuildFailed(qc.diagnostics(result.qc_report, str(kept or staged.folder)).errors)
        if result.sync is not None and result.sync.blocked.has_errors():
            staged.fail()  # kept with RenderOutput, whose gates say what failed
            raise GateError(result.sync.blocked.errors)
        changed = {staged.folder / name for name in staged.changed()}
        result.changed = [p for p in result.delivered if p in changed]
        staged.commit()
    finally:
        staged.discard()  # a no-op once committed or kept as the failed set
    if record is not None:
        remember_build(result, store, record, diags, root)
    return result


def _deliver(
    result: BuildResult,
    staged: OutputSet,
    store: Store,
    wanted: set[str],
    labels: list[str],
    diags: Diagnostics,
) -> None:
    """Copy the wanted targets' files from the CAS into the staged set, with
    the RenderOutput that describes them. Raises BlobDamaged if a blob it
    reads no longer has its digest."""
    result.delivered = []
    for action_id, files in result.lowered.delivers.items():
        if action_id not in wanted or action_id not in result.report.results:
            continue
        for output_name, file_name in files:
            digest = result.report.results[action_id].outputs[output_name]
            result.delivered.append(staged.add_blob(digest, file_name))
    result.sync = sync_captions(result, store, diags)
    if wanted:
        written = write_render_output(result, store, labels, staged)
        if written.loudness is not None:
            result.summary_loudness = written.loudness.model_dump(mode="json")
    if "loudness" in result.report.results:
        warn_loudness(result, store, diags)
    warn_sanitised(result, store, diags)
    if wanted:
        result.qc_report = write_qc_report(result, store, staged, written, wanted)
        # A check that does not block (loudness on an unpublished deliverable) warns.
        diags.items.extend(qc.diagnostics(result.qc_report, str(staged.folder)).warnings)


def sync_captions(result: BuildResult, store: Store, diags: Diagnostics) -> SyncOutcome | None:
    """The caption-sync gate over the built sidecar captions and the voices
    they were timed from (None when this build made no captions)."""
    done = result.report.results.get("captions")
    if done is None:
        return None
    voiced = dict(result.plan.voice_report.results) if result.plan.voice_report else {}
    voiced.update(result.report.results)
    voices = {
        action_id.removeprefix("voice/"): store.blob_path(res.outputs["voice.wav"])
        for action_id, res in voiced.items()
        if action_id.startswith("voice/") and "voice.wav" in res.outputs
    }
    srt = store.read_blob(done.outputs["captions.srt"]).decode("utf-8")
    return caption_sync(result.plan.episode, result.plan.shotlist, srt, voices, diags)


def write_qc_report(
    result: BuildResult, store: Store, staged: OutputSet, output: a.RenderOutput, wanted: set[str]
) -> qc.QCReport:
    """Judge each delivered file by its ``qc@`` action's measurement (captions
    are read from the staged set: parsing text needs no cache)."""
    planned = result.plan
    files = []
    delivered = sorted(
        relative
        for action_id, pairs in result.lowered.delivers.items()
        if action_id in wanted and action_id in result.report.results
        for _, relative in pairs
    )
    for relative in delivered:
        res = result.report.results.get(qc.action_id(relative))
        measured = None
        if res is not None and qc.checked(relative):
            measured = json.loads(store.read_blob(res.outputs["qc.json"]))
        verdict = qc.judge_file(
            relative,
            measured,
            staged.staging / relative,
            planned.shotlist,
            planned.render_plan,
        )
        if verdict is not None:
            files.append(verdict)
    parents = {
        "RenderOutput": output.content_hash,
        "RenderPlan": planned.render_plan.content_hash,
        "ShotList": planned.shotlist.content_hash,
    }
    report = qc.report(files, planned.shotlist, planned.render_plan, parents)
    report.write(staged.staging)
    staged.add_written(f"{report.kind}.json")
    return report


def _damaged_twice(exc: BlobDamaged) -> BuildFailed:
    diags = Diagnostics()
    diags.error(
        f"{exc}, again, right after it was made",
        None,
        "the disk holding the cache is failing or something else writes to it; "
        "move the cache elsewhere with --cache-dir",
    )
    return BuildFailed(diags.errors)


def _warn_repairs(store: Store, diags: Diagnostics) -> list[str]:
    repairs = list(store.repairs)
    for repair in repairs:
        diags.warning(
            repair,
            None,
            "the action that made it ran again; if this recurs, check the disk "
            "holding the cache (`reel verify` re-hashes every blob a build uses)",
        )
    store.repairs.clear()
    return repairs


def _warn_remote(remote: RemoteCache | None, diags: Diagnostics) -> None:
    """The remote cache's troubles (down, a damaged blob), each said once."""
    if remote is None:
        return
    for warning in dict.fromkeys(remote.warnings):
        diags.warning(warning, None, "the remote cache only saves work; no build depends on it")
    remote.warnings.clear()


def output_folder(out: Path, planned: PlanResult, root: Path, store: Store) -> Path:
    """``out/<episode>``, if Reel may own it (see outputs.check_output_folder)."""
    episode = planned.episode
    return check_output_folder(out, episode.id, _sources(planned, root), store.root, episode.span)


def _sources(planned: PlanResult | PlanStopped, root: Path) -> list[Path]:
    """Every file the episode reads (or looks for): none may live in its output folder."""
    episode = planned.episode
    paths = [*episode.source_paths, root / "."]
    if episode.music is not None:
        paths.append(root / episode.music.path)
    for shot in episode.shots:
        if shot.plate.path:
            paths.append(root / shot.plate.path)
        paths += [root / line.file for line in shot.lines if line.file]
        paths += [root / cue.path for cue in shot.sfx]
    return paths


def _plan_or_keep_failed(session: Session, out: Path) -> PlanResult:
    """Plan; if a gate stops it, keep what it made (the Script the canon gate
    judged) in ``<episode>.failed/`` for the user to read."""
    try:
        return session.plan
    except ReelError as exc:
        partial: PlanStopped | None = getattr(exc, "partial", None)
        if partial is not None:
            keep_failed_plan(out, partial, session.root, session.store)
        raise


def keep_failed_plan(out: Path, partial: PlanStopped, root: Path, store: Store) -> Path | None:
    try:
        check_output_folder(out, partial.episode.id, _sources(partial, root), store.root)
    except ReelError:
        return None  # the build's own error says what went wrong; write nothing
    staged = OutputSet(out, partial.episode.id, store)
    try:
        for artifact in partial.artifacts:
            artifact.write(staged.staging)
            staged.add_written(f"{artifact.kind}.json")
        return staged.fail()
    finally:
        staged.discard()


def plan_only(
    path: Path,
    *,
    out: Path,
    cache_dir: Path,
    profile: str,
    diags: Diagnostics,
    series: SeriesPlace | None = None,
) -> tuple[PlanResult, list[Path]]:
    """`reel build --stage plan`: deliver the four artifacts as the set (and an
    episode of a series' Canon and CanonDiff)."""
    store = Store(cache_dir)
    session = Session(path, store, profile, diags=diags, series=series)
    planned = _plan_or_keep_failed(session, out)
    folder = output_folder(out, planned, session.root, store)
    staged = OutputSet(out, planned.episode.id, store)
    try:
        for artifact in planned.artifacts:
            artifact.write(staged.staging)
            staged.add_written(f"{artifact.kind}.json")
        staged.commit()
    finally:
        staged.discard()
    return planned, [folder / f"{artifact.kind}.json" for artifact in planned.artifacts]


def check_backend(backend: str) -> None:
    """A backend runs here only if this machine's ffmpeg has its encoder. The
    default backend's libx264 is part of the pinned build: no need to ask it
    (which would start a process on every build, the no-op ones included)."""
    codec = BACKENDS[backend]
    if backend == DEFAULT_BACKEND or has_encoder(codec):
        return
    diags = Diagnostics()
    diags.error(
        f"the {backend} backend cannot run on this machine: its ffmpeg has no {codec} encoder",
        None,
        "VideoToolbox needs a Mac; write the commands here with "
        "`reel build PATH --backend videotoolbox --emit-commands DIR` and run DIR/build.sh there",
    )
    raise GateError(diags.errors)


def emit(
    path: Path,
    *,
    dest: Path,
    target: str | None = None,
    cache_dir: Path,
    jobs: int | None = None,
    profile: str = "preview_local",
    backend: str = DEFAULT_BACKEND,
    diags: Diagnostics | None = None,
) -> tuple[PlanResult, Path, int]:
    """Plan and lower as a build does, then write the actions as a script instead
    of running them. Planning still renders the voices (from the cache when it
    can): audio is the clock, so no shot has a length before its lines do."""
    from .emit import emit_commands

    diags = diags if diags is not None else Diagnostics()
    store = Store(cache_dir)
    session = Session(path, store, profile, backend, jobs, diags)
    planned, lowered, graph = session.plan, session.lowered, session.graph
    labels, wanted = resolve_targets(lowered, target)
    order = graph.needed(wanted)
    emit_commands(planned, lowered, graph, order, labels, wanted, store, session.root, dest)
    store.save_memo()
    return planned, dest, len(order)


def remember_build(
    result: BuildResult, store: Store, record: Path, diags: Diagnostics, root: Path
) -> None:
    """Record this successful build for the no-op fast path."""
    from reel.backends.audio import piper
    from reel.backends.audio.tts import library_path

    from .actions import SourceInput
    from .noop import remember

    inputs = list(result.plan.episode.source_paths)
    inputs += [
        src.path
        for action in result.lowered.actions
        for src in action.inputs.values()
        if isinstance(src, SourceInput)
    ]
    inputs += [ffmpeg_exe(), library_path()]
    inputs += [
        path
        for voice in result.plan.episode.voices
        if voice.engine == "piper"
        for path in (piper.model_path(voice.language), piper.config_path(voice.language))
    ]
    outputs = sorted(result.folder.glob("*.json")) + result.delivered
    outputs = [p for p in outputs if p.name != "run_summary.json"]
    episode = result.plan.episode
    timeline = result.plan.timeline
    fps = episode.fps
    replay = {
        "episode": episode.id,
        "scenes": len(episode.scenes),
        "shots": len(episode.shots),
        "seconds": timeline.seconds(timeline.total_frames),
        "frames": timeline.total_frames,
        "fps": f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f}",
        "placeholders": result.plan.manifest.placeholders,
        "warnings": [d.render() for d in diags.warnings],
        "delivered": [str(p.resolve()) for p in result.delivered],
        "actions": len(result.report.results),  # what the build needed, all cached now
    }
    missing = [root / asset.path for asset in result.plan.manifest.assets if asset.placeholder]
    remember(store, record, inputs, outputs, replay, missing)


def _media_facts(result: BuildResult, store: Store, out: a.OutputFile) -> dict[str, Any]:
    """A delivered file's stream facts: those its ``qc@`` action (which reads
    the file this build delivers, see ``compiler/qc.py``) probed, else a probe
    of the file. Probing a 1080p master again cost 0.1 s on every edit."""
    res = result.report.results.get(qc.action_id(out.path))
    if res is not None and "qc.json" in res.outputs:
        measured = json.loads(store.read_blob(res.outputs["qc.json"]))
        if measured.get("media") == "video" and measured.get("frames"):
            return measured  # (an unreadable file's has no frames: probed below)
    return cached_probe(store, store.blob_path(out.digest))


def write_render_output(
    result: BuildResult, store: Store, labels: list[str], staged: OutputSet
) -> a.RenderOutput:
    planned = result.plan
    graph = build_graph(result.lowered.actions)
    outputs = []
    for action_id, files in result.lowered.delivers.items():
        res = result.report.results.get(action_id)
        for output_name, relative in files:
            dest = result.folder / relative
            if res is None or dest not in result.delivered:
                continue
            digest = res.outputs[output_name]
            outputs.append(
                a.OutputFile(
                    name=Path(relative).name,
                    path=relative,
                    digest=digest,
                    size_bytes=store.blob_path(digest).stat().st_size,
                    action=action_id,
                    action_key=res.key,
                    reproducible=graph.reproducible(action_id),
                )
            )
    master = None
    master_out = next((o for o in outputs if o.name == "master.mp4"), None)
    if master_out is not None:
        info = _media_facts(result, store, master_out)
        master = a.MediaSummary(
            duration_seconds=info.get("duration"),
            video_duration_seconds=info.get("video_duration"),
            frames=info.get("frames"),
            width=info.get("width"),
            height=info.get("height"),
            fps=info.get("fps"),
            video_codec=info.get("codec"),
            audio_codec=info.get("audio_codec"),
            sample_rate=info.get("sample_rate"),
        )
    loudness = loudness_record(result, store)
    render_output = a.RenderOutput.build(
        schema_version=a.SCHEMA_VERSION,
        episode=planned.episode.id,
        parents={
            "RenderPlan": planned.render_plan.content_hash,
            "ShotList": planned.shotlist.content_hash,
        },
        profile=planned.render_plan.profile,
        targets=sorted(labels),
        outputs=sorted(outputs, key=lambda o: o.path),
        master=master,
        loudness=loudness,
        toolchain=a.Toolchain(ffmpeg_digest=toolchain_digest(store), backend=registry_digest()),
        timing_lock_hash=planned.shotlist.timing_lock_hash,
        gates=result.gates,
        approvals=planned.gates.approvals,
    )
    render_output.write(staged.staging)
    staged.add_written(f"{render_output.kind}.json")
    return render_output


def loudness_record(result: BuildResult, store: Store) -> a.Loudness | None:
    res = result.report.results.get("loudness")
    if res is None:
        return None
    data = json.loads(store.read_blob(res.outputs["loudness.json"]))

    def figures(d: dict[str, float]) -> a.LoudnessFigures:
        return a.LoudnessFigures(
            integrated_lufs=d["integrated"], range_lu=d["range"], true_peak_dbtp=d["true_peak"]
        )

    return a.Loudness(
        target_lufs=data["target"]["integrated"],
        true_peak_ceiling_dbtp=data["target"]["true_peak"],
        input=figures(data["input"]),
        gain_db=data["gain_db"],
        limiter_db=data.get("limiter_db", 0.0),
        output=figures(data["output"]),
        reached=data["reached"],
        limited_by_true_peak=data["limited_by_true_peak"],
    )


def warn_sanitised(result: BuildResult, store: Store, diags: Diagnostics) -> None:
    """A warning at each plate whose NaN or infinite pixels were replaced
    (see ``scene_linear.sanitise``): they are repaired, not passed on, but a
    render or a comp that writes them is worth fixing at its source."""
    shots = {shot.id: shot for shot in result.plan.episode.shots}
    for action_id, res in result.report.results.items():
        shot_id = action_id.removeprefix("sanitise/")
        if shot_id == action_id or shot_id not in shots:
            continue
        counts = json.loads(store.read_blob(res.outputs["counts.json"]))
        found = [
            f"{counts[key]} {what}"
            for key, what in (("nan", "NaN"), ("posinf", "+Inf"), ("neginf", "-Inf"))
            if counts.get(key)
        ]
        if found:
            diags.warning(
                f"the plate of shot {shot_id} has {', '.join(found)} pixel"
                f"{'' if sum(counts.values()) == 1 else 's'}, replaced: NaN and -Inf by black, "
                f"+Inf by the brightest value a plate can show",
                shots[shot_id].plate.span,
                "re-render or re-export the image from its source; a NaN usually comes from "
                "a division by zero in a shader or a comp",
            )


def warn_loudness(result: BuildResult, store: Store, diags: Diagnostics) -> None:
    """Say so when the target was not reached (the limiter may take at most
    ``MAX_LIMIT_DB``): never compress silently."""
    record = loudness_record(result, store)
    if record is None or record.reached:
        return
    if record.input.integrated_lufs <= -70.0:
        diags.warning(
            "loudness: the mix is silent, so no gain can bring it to "
            f"{record.target_lufs:.1f} LUFS",
            None,
            "give the episode a voice line, a music bed, an effect or a video clip with sound; "
            "until then it is silent",
        )
        return
    why = (
        f"gain and {record.limiter_db:.1f} dB of peak limiting could only reach "
        f"{record.output.integrated_lufs:.1f} LUFS under the "
        f"{record.true_peak_ceiling_dbtp:.1f} dBTP ceiling"
        if record.limited_by_true_peak
        else f"the result measures {record.output.integrated_lufs:.1f} LUFS"
    )
    diags.warning(
        f"loudness: target {record.target_lufs:.1f} LUFS not reached: {why}",
        None,
        "the mix's peaks are high for its loudness: lower the music or effects, or "
        "give the voices more compression; Reel limits the mix's peaks by 3 dB at most",
    )


def run_summary(
    result: BuildResult, labels: list[str], stages: dict[str, float], diags: Diagnostics
) -> dict[str, Any]:
    """The run's record (seed 003 §16). It holds timings, so unlike every other
    file in the output tree it differs from run to run by design."""
    report = result.report
    total = len(report.results)
    return {
        "schema_version": a.SCHEMA_VERSION,
        "episode": result.plan.episode.id,
        "targets": sorted(labels),
        "stages_ms": {k: round(v * 1000, 1) for k, v in stages.items()},
        "actions": {
            "total": total + len(report.failures) + len(report.skipped),
            "ran": len(report.ran),
            "cached": len(report.cached),
            "failed": len(report.failures),
            "skipped": len(report.skipped),
        },
        "cache_hit_rate": round(len(report.cached) / total, 4) if total else None,
        "ran": [
            {"action": r.action, "seconds": round(r.seconds, 3), "why": r.reasons, "on": r.ran_on}
            for r in sorted(report.ran, key=lambda r: r.action)
        ],
        "failed": [f.action.id for f in report.failures],
        "warnings": [d.message for d in diags.warnings],
        "placeholders": result.plan.manifest.placeholders,
        "gates": [g.model_dump(mode="json") for g in result.gates],
        "approvals": [x.model_dump(mode="json") for x in result.plan.gates.approvals],
        # QC's verdict per delivered file; QCReport.json has every measurement.
        "qc": [
            {
                "deliverable": f.deliverable,
                "path": f.path,
                "media": f.media,
                "passed": f.passed,
                "checks": len(f.checks),
                "failed": [
                    {
                        "check": c.name,
                        "blocking": c.blocking,
                        "target": c.target,
                        "measured": c.measured,
                        "reason": c.reason,
                        "fix": c.fix,
                    }
                    for c in f.checks
                    if not c.passed
                ],
            }
            for f in result.qc_report.files
        ]
        if result.qc_report is not None
        else None,
        "voices": {
            "ran": sorted(r.action for r in result.plan.voice_report.ran),
            "cached": len(result.plan.voice_report.cached),
        }
        if result.plan.voice_report is not None
        else None,
        "loudness": (
            json.loads(json.dumps(result.summary_loudness)) if result.summary_loudness else None
        ),
    }
