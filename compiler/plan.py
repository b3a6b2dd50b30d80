"""Build the artifact chain from the IR and the locked timeline.

Script → ShotList → AssetManifest → RenderPlan, each recording its parents'
content hashes. Paths are relative to the episode folder; missing files
become flagged placeholders (seed 003 §17: "placeholder + flag + continue").
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from reel.backends.ffmpeg.encode import VIDEOTOOLBOX, X264, X265, videotoolbox_quality
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics
from reel.lang.vocabulary import GENERATED_PLATES

from . import artifacts as a
from . import roles
from .files import is_dir, is_file
from .hashing import hash_file
from .sources import probe_file, source_facts
from .store import Store
from .timing import DEFAULT_WPM, LINE_GAP, POST_ROLL, PRE_ROLL, Timeline, line_id

PROFILES: dict[str, dict[str, Any]] = {
    # A profile sets how hard the encoder works (x264's preset: speed for the
    # same quality); the quality itself (crf) is each deliverable's own field,
    # so a profile never changes what a deliverable promises.
    "preview_local": {"preset": "veryfast"},
    "standard_local": {"preset": "medium"},
}
THREADS = 2
# Backends: the video codec each lowers to (see reel/backends/ffmpeg/encode.py).
BACKENDS: dict[str, str] = {"ffmpeg": X264, "videotoolbox": VIDEOTOOLBOX}
DEFAULT_BACKEND = "ffmpeg"
IMAGE = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".exr"}
VIDEO = {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"}
AUDIO = {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".aif", ".aiff"}
DEFAULT_RIGHTS = {
    # seed 003 §19.0: local assets default to "proprietary_cleared"
    "license_type": "proprietary_cleared",
    "attribution": "",
    "purchase_record": "",
    "provider_or_model": "local",
    "retrieval_date": None,
    "redistributable": False,
    "rights_override": False,
    "approver": None,
}


def _num(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _media(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE:
        return "image"
    if suffix in VIDEO:
        return "video"
    if suffix in AUDIO:
        return "audio"
    return "unknown"


# ---- Script ------------------------------------------------------------------
def build_script(episode: ir.Episode) -> a.Script:
    scenes = []
    for scene in episode.scenes:
        lines, text, speakers = [], [], set()
        for shot in scene.shots:
            for i, line in enumerate(shot.lines, start=1):
                lines.append(
                    a.ScriptLine(
                        id=line_id(shot, i),
                        speaker_id=line.speaker,
                        text=line.text,
                        keywords=list(line.keywords),
                        mood=line.mood,
                        recorded_file=line.file,
                    )
                )
                speakers.add(line.speaker)
            text.extend(o.text for o in shot.overlays)
        scenes.append(
            a.ScriptScene(
                id=scene.id,
                location_id=scene.location,
                time_of_day=scene.time_of_day,
                day=scene.day,
                phase=scene.phase,
                characters=sorted(speakers | set(scene.present)),
                lines=lines,
                on_screen_text=text,
            )
        )
    return a.Script.build(
        schema_version=a.SCHEMA_VERSION,
        episode=episode.id,
        parents={},
        title=episode.title,
        genre=episode.genre,
        arc=episode.arc,
        characters=[
            a.CharacterEntry(id=c.id, name=c.name, age=c.age, alive=c.alive, role=c.role)
            for c in episode.cast
        ],
        locations=[
            a.LocationEntry(
                id=loc.id, name=loc.name, description=loc.description, interior=loc.interior
            )
            for loc in episode.locations
        ],
        scenes=scenes,
    )


# ---- ShotList -----------------------------------------------------------------
def _plate_spec(plate: ir.Plate, fps: Fraction) -> a.PlateSpec:
    options = dict(plate.options)
    fit = options.pop("fit", None)
    return a.PlateSpec(
        kind=plate.kind,
        asset_id=plate.path,
        colours=list(plate.colours),
        description=plate.description,
        in_frame=plate.in_point.frames(fps) if plate.in_point else None,
        out_frame=plate.out_point.frames(fps) if plate.out_point else None,
        fit=fit,
        options={k: (float(v) if isinstance(v, Fraction) else v) for k, v in options.items()},
    )


def build_shotlist(
    episode: ir.Episode, timeline: Timeline, script: a.Script, *, voiced: bool = False
) -> a.ShotList:
    fps = timeline.fps
    shots = []
    for st in timeline.shots:
        shot = st.shot
        shots.append(
            a.ShotEntry(
                id=shot.id,
                scene_id=shot.scene,
                index=shot.index,
                framing=shot.framing,
                plate=_plate_spec(shot.plate, fps),
                motion=a.MotionSpec(
                    kind=shot.motion.kind,
                    amount=_num(shot.motion.amount),
                    toward=shot.motion.toward,
                    ease=shot.motion.ease,
                ),
                overlays=[
                    a.OverlaySpec(
                        kind=o.kind,
                        text=o.text,
                        style=o.style,
                        start_frame=o.at.frames(fps),
                        duration_frames=o.duration.frames(fps) if o.duration else None,
                        position=o.position,
                    )
                    for o in shot.overlays
                ],
                lines=[
                    a.LineCue(
                        line_id=x.line_id,
                        speaker_id=x.speaker,
                        start_frame=x.start_frame,
                        end_frame=x.end_frame,
                    )
                    for x in st.lines
                ],
                sfx=[
                    a.SfxCue(
                        asset_id=s.path, start_frame=s.at.frames(fps), gain_db=float(s.gain_db)
                    )
                    for s in shot.sfx
                ],
                transition=a.TransitionSpec(kind=shot.transition.kind, frames=st.transition_frames),
                characters=sorted({line.speaker for line in shot.lines}),
                start_frame=st.start_frame,
                duration_frames=st.frames,
                duration_seconds=timeline.seconds(st.frames),
                duration_source=st.source,
                focus=shot.focus,
                tags=list(shot.tags),
                phase=shot.phase,
                template=shot.template,
                timing_lock_hash=st.lock_hash,
            )
        )
    return a.ShotList.build(
        schema_version=a.SCHEMA_VERSION,
        episode=episode.id,
        parents={"Script": script.content_hash},
        width=episode.width,
        height=episode.height,
        fps_num=fps.numerator,
        fps_den=fps.denominator,
        total_frames=timeline.total_frames,
        total_seconds=timeline.seconds(timeline.total_frames),
        timing=a.TimingModel(
            method="voice" if voiced else "reading_rate",
            default_wpm=DEFAULT_WPM,
            pre_roll_seconds=float(PRE_ROLL),
            line_gap_seconds=float(LINE_GAP),
            post_roll_seconds=float(POST_ROLL),
        ),
        beat_grid=None
        if timeline.beats is None
        else a.BeatGridEntry(
            bpm=timeline.beats.bpm,
            offset_seconds=timeline.beats.offset,
            source=timeline.beats.source,
            snap_tolerance_frames=timeline.beats.tolerance_frames,
            snapped_cuts=timeline.snapped_cuts,
        ),
        shots=shots,
        timing_lock_hash=timeline.lock_hash,
    )


# ---- AssetManifest --------------------------------------------------------------
def asset_uses(episode: ir.Episode) -> dict[str, dict[str, Any]]:
    """Every file the episode names: roles, users and the first place it is named."""
    uses: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"roles": set(), "used_by": set(), "span": None}
    )

    def note(path: str, role: str, user: str, span: Any) -> None:
        entry = uses[path]
        entry["roles"].add(role)
        entry["used_by"].add(user)
        entry["span"] = entry["span"] or span

    if episode.music is not None:
        note(episode.music.path, "music", "episode", episode.music.span)
    for shot in episode.shots:
        if shot.plate.path:
            note(shot.plate.path, "plate", shot.id, shot.plate.span)
        for line in shot.lines:
            if line.file:
                note(line.file, "voice_recording", shot.id, line.span)
        for cue in shot.sfx:
            note(cue.path, "sfx", shot.id, cue.span)
    return uses


def _digest(file: Path, store: Store | None) -> str:
    """A source's digest, from the store's stat memo when there is one: the
    same content digest, without re-reading every asset on every edit."""
    return store.file_digest(file) if store is not None else hash_file(file)


def build_manifest(
    episode: ir.Episode,
    root: Path,
    shotlist: a.ShotList,
    diags: Diagnostics,
    store: Store | None = None,
) -> a.AssetManifest:
    rights = {block.name: dict(block.props) for block in episode.assets}
    approved = {x.target: x for x in episode.approvals if x.gate == "rights"}
    assets = []
    for path, use in sorted(asset_uses(episode).items()):
        file = root / path
        present = is_file(file)
        if not present and not use["roles"] & {"music", "sfx", "voice_recording"}:
            reason = "is a folder, not a file" if is_dir(file) else "does not exist"
            diags.warning(
                f"{path} {reason}: a placeholder stands in for it",
                use["span"],
                "add the file, or fix the path (it is relative to the .episode file that names it)",
            )
        declared = rights.get(path, {})
        record = {**DEFAULT_RIGHTS, **declared}
        if path in approved:  # seed 003 §25.4: the override and its approver, on record
            record["rights_override"] = True
            record["approver"] = approved[path].approver
        if (
            "music" in use["roles"]
            and episode.music
            and episode.music.license
            and "license_type" not in declared
        ):
            record["license_type"] = episode.music.license
        if not present:
            record = {
                **record,
                "license_type": "generated_local",
                "provider_or_model": "reel placeholder",
            }
        media = _media(path)
        facts = source_facts(probe_file(root, path, store), media, episode.fps) if present else None
        assets.append(
            a.AssetEntry(
                id=path,
                path=path,
                media=media,
                roles=sorted(use["roles"]),
                digest=_digest(file, store) if present else None,
                size_bytes=file.stat().st_size if present else None,
                placeholder=not present,
                used_by=sorted(use["used_by"]),
                source=facts,
                **record,
            )
        )
    for path in sorted(set(rights) - {x.id for x in assets}):
        block = next(b for b in episode.assets if b.name == path)
        diags.warning(
            f"rights are declared for {path}, but nothing uses it",
            block.span,
            "remove the asset block, or use the file",
        )
    generated: dict[tuple, set[str]] = defaultdict(set)
    for shot in episode.shots:
        if shot.plate.kind in GENERATED_PLATES or shot.plate.kind == "placeholder":
            key = (shot.plate.kind, shot.plate.colours, shot.plate.description)
            generated[key].add(shot.id)
    voices = {v.character: v for v in episode.voices}
    vo_lines = []
    for shot in episode.shots:
        for i, line in enumerate(shot.lines, start=1):
            voice = voices.get(line.speaker)
            vo_lines.append(
                a.VoLine(
                    line_id=line_id(shot, i),
                    speaker_id=line.speaker,
                    text=line.text,
                    emotion=line.mood,
                    source="camera" if line.on_camera else "recorded" if line.file else "tts",
                    asset_id=shot.plate.path if line.on_camera else line.file,
                    voice=None
                    if line.file or line.on_camera
                    else a.VoiceSpec(
                        engine=voice.engine if voice else "espeak-ng",
                        language=voice.language if voice else "en-us",
                        rate_wpm=voice.rate if voice else DEFAULT_WPM,
                        pitch=voice.pitch if voice else 50,
                        variant=voice.variant if voice else None,
                        rate_percent=float(voice.speed)
                        if voice and voice.engine == "piper"
                        else None,
                    ),
                )
            )
    return a.AssetManifest.build(
        schema_version=a.SCHEMA_VERSION,
        episode=episode.id,
        parents={"ShotList": shotlist.content_hash},
        characters=sorted({c for s in shotlist.shots for c in s.characters}),
        assets=assets,
        generated=[
            a.GeneratedPlate(kind=k[0], colours=list(k[1]), description=k[2], used_by=sorted(users))
            for k, users in sorted(
                generated.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
            )
        ],
        vo_lines=vo_lines,
        placeholders=sum(1 for x in assets if x.placeholder),
    )


# ---- RenderPlan -------------------------------------------------------------------
def _aspect(width: int, height: int) -> str:
    from math import gcd

    g = gcd(width, height)
    return f"{width // g}:{height // g}"


def _plate_uri(entry: a.ShotEntry, placeholders: set[str]) -> str:
    plate = entry.plate
    if plate.asset_id:
        if plate.asset_id in placeholders:
            return f"placeholder:{plate.asset_id}"
        return f"file:{plate.asset_id}"
    if plate.kind == "placeholder":
        return f"placeholder:{plate.description}"
    return "generated:" + plate.kind + "".join(f";{c}" for c in plate.colours)


def build_render_plan(
    episode: ir.Episode,
    shotlist: a.ShotList,
    manifest: a.AssetManifest,
    profile: str,
    backend: str = DEFAULT_BACKEND,
) -> a.RenderPlan:
    settings = PROFILES[profile]
    fps = Fraction(shotlist.fps_num, shotlist.fps_den)
    placeholders = {x.id for x in manifest.assets if x.placeholder}
    resolved = [
        a.ResolvedAsset(
            asset_id=x.id,
            uri=f"placeholder:{x.id}" if x.placeholder else f"file:{x.path}",
            fallback="placeholder:slate",
        )
        for x in manifest.assets
    ]
    deliverables = []
    for d in episode.deliverables:
        props = dict(d.props)
        role = roles.role(d, episode)
        deliverables.append(
            a.DeliverableSpec(
                name=d.name,
                preset=d.preset,
                kind=roles.kind(d),
                role=role,
                settings={k: _json_value(v) for k, v in sorted(props.items())},
                encoder=(
                    _encoder(backend, settings, fps, d, episode, role == "review_proxy")
                    if roles.kind(d) == "video"
                    else None
                ),
            )
        )
    return a.RenderPlan.build(
        schema_version=a.SCHEMA_VERSION,
        episode=episode.id,
        parents={"ShotList": shotlist.content_hash, "AssetManifest": manifest.content_hash},
        profile=profile,
        backend=backend,
        width=shotlist.width,
        height=shotlist.height,
        aspect=_aspect(shotlist.width, shotlist.height),
        fps_num=shotlist.fps_num,
        fps_den=shotlist.fps_den,
        timing_lock_hash=shotlist.timing_lock_hash,
        # The shared picture (segments, the joined picture, the master) is
        # encoded as the master deliverable says.
        encoder=_encoder(backend, settings, fps, roles.primary_video(episode), episode),
        assets=resolved,
        shots=[
            a.ShotRender(
                shot_id=s.id,
                plate_uri=_plate_uri(s, placeholders),
                duration_frames=s.duration_frames,
                timing_lock_hash=s.timing_lock_hash,
            )
            for s in shotlist.shots
        ],
        # By name: each entry records its role, so moving a declaration that
        # changes no role changes no byte of the plan.
        deliverables=sorted(deliverables, key=lambda d: d.name),
    )


def _encoder(
    backend: str,
    profile: dict[str, Any],
    fps: Fraction,
    deliverable: ir.Deliverable | None,
    episode: ir.Episode,
    proxy: bool = False,
) -> a.EncoderSettings:
    """The settings one deliverable's video encodes run with: its own crf and
    audio bitrate, the profile's speed, the backend's codec, BT.709 tags."""
    codec = BACKENDS[backend]
    crf = roles.crf(deliverable)
    settings = a.EncoderSettings(
        video_codec=codec,
        preset=roles.PROXY_PRESET if proxy else profile["preset"],
        crf=crf,
        quality=videotoolbox_quality(crf) if codec == VIDEOTOOLBOX else None,
        threads=THREADS,
        gop_frames=round(fps * 2),
        pix_fmt="yuv420p",
        audio_codec="aac",
        audio_rate=48000,
        audio_channels=2,
        audio_bitrate_kbps=roles.audio_settings(deliverable, episode)["bitrate_kbps"],
    )
    if deliverable is not None and roles.is_hdr(deliverable):
        # HEVC Main10, BT.2020/HLG, on any backend (VideoToolbox's is not verified).
        return settings.model_copy(
            update={
                "video_codec": X265,
                "quality": None,
                "threads": 1,
                "pix_fmt": "yuv420p10le",
                "colour_primaries": "bt2020",
                "colour_transfer": "arib-std-b67",
                "colour_matrix": "bt2020nc",
            }
        )
    return settings


def _json_value(value: Any) -> Any:
    if isinstance(value, Fraction):
        return float(value) if value.denominator != 1 else int(value)
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return value
