"""The artifact chain of seed 003 §5: Script → ShotList → AssetManifest → RenderPlan.

Each artifact is a pydantic model with a semver ``schema_version``, its
``content_hash`` (xxh3-128 over its canonical JSON without that field) and
its ``parents`` (the content hashes of the artifacts it was derived from):
the lineage of seed 003 §14. Files are deterministic JSON: sorted keys,
relative paths, no times.

Readers tolerate unknown fields (a newer MINOR version may add some) and
reject missing required fields with the field's path (seed 003 §30.2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reel.lang.diagnostics import Diagnostics, InputError

from .hashing import hash_value
from .jsonio import dumps, write_atomic

SCHEMA_VERSION = "1.7.0"  # 1.7: VoLine.source "camera" (lines spoken on camera)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Artifact(Model):
    """Fields every artifact carries."""

    kind: ClassVar[str]
    schema_version: str = Field(description="Semantic version of this artifact's schema")
    episode: str = Field(description="The episode id")
    parents: dict[str, str] = Field(
        description="Content hashes of the artifacts this one was derived from, by kind"
    )
    content_hash: str = Field(
        description="xxh3-128 of the artifact's canonical JSON without this field"
    )

    def body(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data.pop("content_hash", None)
        return data

    @classmethod
    def build(cls, **fields: Any):  # noqa: ANN206 - returns the subclass
        draft = cls.model_validate({**fields, "content_hash": ""})
        return draft.model_copy(update={"content_hash": hash_value(draft.body())})

    def to_json(self) -> str:
        return dumps(self.model_dump(mode="json"))

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.kind}.json"
        write_atomic(path, self.to_json().encode("utf-8"))
        return path


# ---- Script ------------------------------------------------------------------
class CharacterEntry(Model):
    id: str
    name: str
    age: int | None = None
    alive: bool
    role: str | None = None


class LocationEntry(Model):
    id: str
    name: str
    description: str | None = None
    interior: bool | None = None


class ScriptLine(Model):
    id: str
    speaker_id: str
    text: str
    keywords: list[str] = Field(default=[], description="Words marked for the accent style")
    mood: str | None = None
    recorded_file: str | None = None


class ScriptScene(Model):
    id: str
    location_id: str | None = None
    time_of_day: str | None = None
    day: int
    phase: str | None = None
    characters: list[str]
    lines: list[ScriptLine]
    on_screen_text: list[str] = Field(description="Titles and kinetic text, in order")


class Script(Artifact):
    """Scene-based screenplay: who says what, where and when. No camera instructions."""

    kind: ClassVar[str] = "Script"
    title: str
    genre: str | None = None
    arc: str | None = None
    characters: list[CharacterEntry]
    locations: list[LocationEntry]
    scenes: list[ScriptScene]


# ---- ShotList -----------------------------------------------------------------
class PlateSpec(Model):
    kind: str
    asset_id: str | None = None
    colours: list[str] = []
    description: str | None = None
    in_frame: int | None = None
    out_frame: int | None = None
    fit: str | None = None
    options: dict[str, float | int | str] = {}


class MotionSpec(Model):
    kind: str
    amount: float | None = None
    toward: str | None = None
    ease: bool = True


class OverlaySpec(Model):
    kind: Literal["title", "kinetic"]
    text: str
    style: str
    start_frame: int
    duration_frames: int | None = None
    position: str | None = None


class LineCue(Model):
    line_id: str
    speaker_id: str
    start_frame: int
    end_frame: int


class SfxCue(Model):
    asset_id: str
    start_frame: int
    gain_db: float


class TransitionSpec(Model):
    kind: str
    frames: int


class ShotEntry(Model):
    id: str
    scene_id: str
    index: int
    framing: str
    plate: PlateSpec
    motion: MotionSpec
    overlays: list[OverlaySpec]
    lines: list[LineCue]
    sfx: list[SfxCue]
    transition: TransitionSpec
    characters: list[str]
    start_frame: int
    duration_frames: int
    duration_seconds: float
    duration_source: Literal["explicit", "auto"]
    focus: str
    tags: list[str]
    phase: str | None = None
    template: str | None = None
    timing_lock_hash: str = Field(description="Hash of this shot's own timing only")


class TimingModel(Model):
    """How `auto` durations were estimated (replaced by voice durations later)."""

    method: str
    default_wpm: int
    pre_roll_seconds: float
    line_gap_seconds: float
    post_roll_seconds: float


class BeatGridEntry(Model):
    bpm: float
    offset_seconds: float
    source: Literal["declared", "detected"]
    snap_tolerance_frames: int | None = None
    snapped_cuts: int


class ShotList(Artifact):
    kind: ClassVar[str] = "ShotList"
    width: int
    height: int
    fps_num: int
    fps_den: int
    total_frames: int
    total_seconds: float
    timing: TimingModel
    beat_grid: BeatGridEntry | None = None
    shots: list[ShotEntry]
    timing_lock_hash: str = Field(description="Changes when, and only when, timing changes")


# ---- AssetManifest ------------------------------------------------------------
class SourceFacts(Model):
    """What the file itself says, as probed (PyAV, headers and packets, one
    decoded frame), and what Reel does about it. ``None`` where the file says
    nothing: an untagged file is not assumed to be BT.709 here."""

    format: str
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    frame_rate: list[int] | None = Field(
        default=None, description="[numerator, denominator]: the stream's average rate"
    )
    vfr: bool | None = Field(default=None, description="Frame intervals vary (variable rate)")
    frame_interval_s: list[float] | None = Field(
        default=None, description="[shortest, longest] interval between frames"
    )
    rotation: int | None = Field(
        default=None, description="The display matrix's turn, degrees counter-clockwise"
    )
    pix_fmt: str | None = None
    bit_depth: int | None = None
    colour_primaries: str | None = None
    colour_transfer: str | None = None
    colour_matrix: str | None = None
    colour_range: str | None = None
    hdr: str | None = Field(default=None, description="hlg, pq, dolby_vision_hlg, dolby_vision")
    timecode: str | None = Field(default=None, description="The source timecode of its first frame")
    creation_time: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_layout: str | None = None
    conform: list[str] = Field(
        default_factory=list,
        description="What the render does to bring the file into the episode: rotation, "
        "frame rate, colour",
    )


class AssetEntry(Model):
    """A file the episode needs, with the rights metadata of seed 003 §25.2."""

    id: str
    path: str
    media: Literal["image", "video", "audio", "unknown"]
    roles: list[str]
    digest: str | None = None
    size_bytes: int | None = None
    placeholder: bool
    license_type: str
    attribution: str
    purchase_record: str
    provider_or_model: str
    retrieval_date: str | None = None
    redistributable: bool
    rights_override: bool = False
    approver: str | None = None
    used_by: list[str]
    source: SourceFacts | None = Field(
        default=None, description="The probe of the file (None for a placeholder or unreadable)"
    )


class VoiceSpec(Model):
    engine: str = Field(description="espeak-ng, or piper (a neural voice model)")
    language: str = Field(description="espeak-ng: the language code; piper: the voice's name")
    rate_wpm: int = Field(description="espeak-ng: words per minute; piper: an estimate")
    pitch: int
    variant: str | None = None
    rate_percent: float | None = Field(
        default=None, description="piper: the pace, in percent of the model's own"
    )


class VoLine(Model):
    line_id: str
    speaker_id: str
    text: str
    emotion: str | None = None
    source: Literal["tts", "recorded", "camera"] = Field(
        description="camera: spoken on camera, its sound the shot's video plate (asset_id)"
    )
    asset_id: str | None = None
    voice: VoiceSpec | None = None


class GeneratedPlate(Model):
    kind: str
    colours: list[str]
    description: str | None = None
    used_by: list[str]


class AssetManifest(Artifact):
    kind: ClassVar[str] = "AssetManifest"
    characters: list[str]
    assets: list[AssetEntry]
    generated: list[GeneratedPlate]
    vo_lines: list[VoLine]
    placeholders: int


# ---- RenderPlan ---------------------------------------------------------------
class EncoderSettings(Model):
    video_codec: str
    preset: str
    crf: int
    threads: int = Field(description="Fixed: x264 output depends on the thread count")
    gop_frames: int
    pix_fmt: str
    audio_codec: str
    audio_rate: int
    audio_channels: int
    quality: int | None = Field(
        default=None, description="VideoToolbox's -q:v, mapped from crf (h264_videotoolbox only)"
    )
    audio_bitrate_kbps: int | None = None
    colour_primaries: str = "bt709"
    colour_transfer: str = "bt709"
    colour_matrix: str = Field(
        default="bt709", description="The RGB→Y'CbCr matrix the pixels are converted with"
    )
    colour_range: Literal["tv", "pc"] = "tv"


class ResolvedAsset(Model):
    asset_id: str
    uri: str
    fallback: str


class ShotRender(Model):
    shot_id: str
    plate_uri: str
    duration_frames: int
    timing_lock_hash: str


class DeliverableSpec(Model):
    name: str
    preset: str
    kind: str
    role: str = Field(
        default="",
        description="master (the first video deliverable at the episode's format that burns "
        "nothing in, in declaration order), rendition, review_proxy, audio, captions, timeline",
    )
    settings: dict[str, Any]
    encoder: EncoderSettings | None = Field(
        default=None, description="A video deliverable's encodes: exactly what they run with"
    )


class RenderPlan(Artifact):
    kind: ClassVar[str] = "RenderPlan"
    profile: Literal["preview_local", "standard_local"]
    backend: Literal["ffmpeg", "videotoolbox"] = Field(
        default="ffmpeg",
        description="ffmpeg: hermetic libx264; videotoolbox: Apple Silicon, not reproducible",
    )
    width: int
    height: int
    aspect: str
    fps_num: int
    fps_den: int
    timing_lock_hash: str
    encoder: EncoderSettings
    assets: list[ResolvedAsset]
    shots: list[ShotRender]
    deliverables: list[DeliverableSpec]


# ---- RenderOutput ---------------------------------------------------------------
class OutputFile(Model):
    name: str
    path: str = Field(description="Relative to the episode's output folder")
    digest: str
    size_bytes: int
    action: str
    action_key: str
    reproducible: bool = Field(
        default=True,
        description="False when a non-hermetic action (a VideoToolbox encode, a Piper "
        "voice) made it or its inputs: shared caches leave it out (`reel verify` still "
        "compares what is deterministic on one machine, such as Piper voices)",
    )


class MediaSummary(Model):
    duration_seconds: float | None = None
    video_duration_seconds: float | None = None
    frames: int | None = None
    width: int | None = None
    height: int | None = None
    fps: list[int] | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None


class LoudnessFigures(Model):
    integrated_lufs: float
    range_lu: float
    true_peak_dbtp: float


class Loudness(Model):
    """Two-pass EBU R128 normalisation (linear gain, a true-peak limiter where the
    gain would cross the ceiling), and what it reached."""

    target_lufs: float
    true_peak_ceiling_dbtp: float
    input: LoudnessFigures
    gain_db: float
    limiter_db: float = Field(
        0.0, description="Peak reduction by the true-peak limiter (0: linear gain alone)"
    )
    output: LoudnessFigures = Field(description="Measured on the encoded track (ebur128)")
    reached: bool
    limited_by_true_peak: bool


class GateResult(Model):
    """One gate's verdict on one target for one deliverable (seed 003 §15).

    A failure blocks a publish deliverable (``fail``) and only warns for any
    other (``warn``): a review proxy may pass what a publish master may not."""

    gate: str = Field(description="runtime, rights, placeholders, content_safety, caption_sync")
    deliverable: str = Field(description="The deliverable judged ('' for the episode)")
    publish: bool = Field(description="Whether that deliverable is marked `publish true`")
    target: str = Field(description="What was checked: an asset's path, a line, a title")
    status: Literal["pass", "warn", "fail", "approved"]
    reason: str = ""
    fix: str = ""
    site: str | None = Field(default=None, description="file:line:col of the target's use")
    approver: str | None = Field(default=None, description="Who lifted it (status approved)")


class Approval(Model):
    """An ``approve`` statement the build relied on: who, why, where."""

    gate: str
    target: str
    approver: str
    reason: str
    site: str | None = None


class Toolchain(Model):
    ffmpeg_digest: str
    backend: str


class RenderOutput(Artifact):
    """What a build delivered: files, their hashes, the master as probed, lineage."""

    kind: ClassVar[str] = "RenderOutput"
    profile: str
    targets: list[str]
    outputs: list[OutputFile]
    master: MediaSummary | None = None
    loudness: Loudness | None = None
    toolchain: Toolchain
    timing_lock_hash: str
    gates: list[GateResult] = Field(
        default_factory=list, description="Every publish gate's verdict, per deliverable"
    )
    approvals: list[Approval] = Field(
        default_factory=list, description="The approvals that lifted a gate, with the approver"
    )


# ---- PacingReport ---------------------------------------------------------------
class PacingArc(Model):
    name: str = Field(description="The declared arc; 'custom' for an inline `arc { }`")
    shares: dict[str, float] = Field(description="Phase -> percent of the running time")
    tolerance_points: float = Field(description="How far a phase's share may stray, in points")
    strict: bool = Field(description="True: a finding is a gate error (exit 1), not a warning")


class PhasePacing(Model):
    phase: str = Field(description="A seed 002 phase, or 'unmarked' (shots before any phase)")
    shots: int
    frames: int
    share_percent: float = Field(description="Its shots' frames over all shots' frames")
    arc_percent: float | None = Field(default=None, description="The arc's share (None: no arc)")
    mean_shot_seconds: float
    stdev_shot_seconds: float = Field(description="Population standard deviation")
    variance_shot_seconds2: float
    visual_types: dict[str, int] = Field(description="Shot tags (visual types) -> shots")


class PacingFinding(Model):
    check: Literal["order", "proportion", "unmarked"]
    severity: Literal["warning", "error"]
    phase: str
    message: str
    shot_id: str | None = None
    site: str | None = Field(default=None, description="file:line:col, relative to the episode")
    earlier_site: str | None = Field(
        default=None, description="For an order break: where the later phase was reached"
    )


class PacingReport(Artifact):
    """The Director's pacing (seed 002), measured on the ShotList's lengths."""

    kind: ClassVar[str] = "PacingReport"
    arc: PacingArc | None = None
    total_frames: int
    sequence: list[str] = Field(description="The phases in the order the shots run them")
    phases: list[PhasePacing] = Field(description="In phase order; phases with no shots left out")
    findings: list[PacingFinding]
    timing_lock_hash: str


ARTIFACTS: tuple[type[Artifact], ...] = (
    Script,
    ShotList,
    AssetManifest,
    RenderPlan,
    RenderOutput,
    PacingReport,
)
A = TypeVar("A", bound=Artifact)


def json_schemas(models: tuple[type[Artifact], ...] = ARTIFACTS) -> dict[str, dict[str, Any]]:
    """JSON Schema of each artifact in ``models``, keyed by file name."""
    out = {}
    for model in models:
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://reel.dev/schemas/{model.kind}/{SCHEMA_VERSION}"
        schema["title"] = model.kind
        out[f"{model.kind}.schema.json"] = schema
    return out


def read_artifact(path: Path, model: type[A]) -> A:
    """Read an artifact, ignoring unknown fields and naming missing ones."""
    diags = Diagnostics()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        diags.error(
            f"cannot read {model.kind} from {path}: {exc}", None, "rebuild it with `reel build`"
        )
        raise InputError(diags.errors) from None
    version = str(data.get("schema_version", "")) if isinstance(data, dict) else ""
    if version and version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        diags.error(
            f"{path} has {model.kind} schema {version}; this Reel reads "
            f"{SCHEMA_VERSION.split('.')[0]}.x",
            None,
            "rebuild the artifact with this version of Reel (old artifacts are kept)",
        )
        raise InputError(diags.errors)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "missing":
                diags.error(
                    f"{path}: {model.kind} is missing the required field '{where}'",
                    None,
                    "the file is incomplete or from an incompatible tool; "
                    "rebuild it with `reel build`",
                )
            else:
                diags.error(
                    f"{path}: {model.kind} field '{where}': {err['msg']}",
                    None,
                    "rebuild it with `reel build`",
                )
        raise InputError(diags.errors) from None
