"""What each deliverable is, which of its fields are read, and how it is encoded.

The registry of deliverable kinds: each kind lists the preset fields it reads,
and a field no kind reads, or a value Reel cannot honour, is an input error at
the field (exit 2), never a setting that is silently dropped. The settings a
video deliverable is encoded with are decided here once, recorded in the
RenderPlan, and read back by the lowering: what RenderPlan says is what the
encoders receive.

Roles follow declaration order, never names: the *master* is the first video
deliverable at the episode's own format that burns nothing in; its picture
(the per-shot segments, joined) is shared with every deliverable that can use
it, and no other deliverable's actions depend on the master's name.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics

# The preset fields each kind of deliverable reads.
READS: dict[str, frozenset[str]] = {
    "video": frozenset(
        {
            "kind",
            "resolution",
            "fps",
            "container",
            "video_codec",
            "dynamic_range",
            "audio_codec",
            "audio_bitrate",
            "crf",
            "loudness",
            "true_peak",
            "captions",
            "caption_style",
            "reframe",
            "timecode",
            "labels",
            "publish",
        }
    ),
    "audio": frozenset(
        {"kind", "container", "audio_codec", "audio_bitrate", "loudness", "true_peak", "chapters"}
        | {"captions", "publish"}
    ),
    "captions": frozenset({"kind", "captions", "caption_style", "publish"}),
    "timeline": frozenset({"kind", "captions", "caption_style", "publish"}),
}
# Fields whose values are a closed set, per kind: what Reel can deliver.
SUPPORTED: dict[str, dict[str, tuple[str, ...]]] = {
    "video": {
        "container": ("mp4",),
        "video_codec": ("h264", "hevc"),
        "dynamic_range": ("sdr", "hlg"),
        "audio_codec": ("aac",),
        "reframe": ("focus", "center"),
    },
    "audio": {"container": ("m4a",), "audio_codec": ("aac",), "captions": ("none",)},
}
CRF_RANGE = (0, 51)  # x264, 8-bit
AUDIO_BITRATE_RANGE = (32, 512)  # kb/s, AAC stereo
# Defaults when a video deliverable's preset does not say, and for the shared
# picture of an episode with no master deliverable.
DEFAULT_CRF = 20
DEFAULT_AUDIO_BITRATE = 192
DEFAULT_LOUDNESS = -14.0
DEFAULT_TRUE_PEAK = -1.0
# The review proxy is for reading, not for picture quality: it always encodes fast.
PROXY_PRESET = "veryfast"


def props(deliverable: ir.Deliverable) -> dict[str, Any]:
    return dict(deliverable.props)


def kind(deliverable: ir.Deliverable) -> str:
    return str(props(deliverable).get("kind", "video"))


def size(deliverable: ir.Deliverable, episode: ir.Episode) -> tuple[int, int]:
    width, height = props(deliverable).get("resolution") or (episode.width, episode.height)
    return int(width), int(height)


def is_proxy(deliverable: ir.Deliverable) -> bool:
    p = props(deliverable)
    return kind(deliverable) == "video" and bool(p.get("timecode") or p.get("labels"))


def is_hdr(deliverable: ir.Deliverable) -> bool:
    """An HLG deliverable (``dynamic_range hlg``): HEVC Main10, BT.2020/HLG end to end."""
    return props(deliverable).get("dynamic_range") == "hlg"


def burns_captions(deliverable: ir.Deliverable) -> bool:
    return props(deliverable).get("captions") in ("burn_in", "both")


def primary_video(episode: ir.Episode) -> ir.Deliverable | None:
    """The master: the first video deliverable, in declaration order, at the
    episode's own format that burns nothing into the picture."""
    for deliverable in episode.deliverables:
        if (
            kind(deliverable) == "video"
            and size(deliverable, episode) == (episode.width, episode.height)
            and not is_proxy(deliverable)
            and not burns_captions(deliverable)
            and not is_hdr(deliverable)  # the shared picture is SDR: HDR renders its own
        ):
            return deliverable
    return None


def role(deliverable: ir.Deliverable, episode: ir.Episode) -> str:
    """master, rendition, review_proxy, audio, captions or timeline."""
    if deliverable is primary_video(episode):
        return "master"
    if kind(deliverable) == "video":
        return "review_proxy" if is_proxy(deliverable) else "rendition"
    return kind(deliverable)


def crf(deliverable: ir.Deliverable | None) -> int:
    value = None if deliverable is None else props(deliverable).get("crf")
    return DEFAULT_CRF if value is None else int(value)


def audio_settings(
    deliverable: ir.Deliverable | None, episode: ir.Episode | None = None
) -> dict[str, Any]:
    """The loudness action's parameters a video deliverable's sound is made with.

    With ``episode``, a field another video deliverable leaves unset is the
    master's: its sound is the mix that ships unless it asks otherwise (the
    review proxy does not, so reviewers hear the master's sound and an edit
    encodes it once, not once per deliverable)."""
    p = {} if deliverable is None else props(deliverable)
    master = primary_video(episode) if episode is not None else None
    if master is not None and master is not deliverable:
        p = {**props(master), **p}
    return {
        "target_lufs": float(p.get("loudness", DEFAULT_LOUDNESS)),
        "true_peak_dbtp": float(p.get("true_peak", DEFAULT_TRUE_PEAK)),
        "bitrate_kbps": int(p.get("audio_bitrate", DEFAULT_AUDIO_BITRATE)),
    }


# ---- checks ----------------------------------------------------------------------
# The rates SMPTE timecode (and so OTIO's FCP7 XML and CMX3600 writers) knows.
SMPTE_RATES = frozenset(
    [Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)]
    + [Fraction(n) for n in (24, 25, 30, 48, 50, 60)]
)


def check_deliverables(episode: ir.Episode, diags: Diagnostics) -> None:
    """Every field of every deliverable is read and its value can be honoured."""
    for deliverable in episode.deliverables:
        _check_one(deliverable, episode, diags)


def _check_one(deliverable: ir.Deliverable, episode: ir.Episode, diags: Diagnostics) -> None:
    name, what = deliverable.name, kind(deliverable)
    reads = READS.get(what, frozenset({"kind"}))
    for key, value in deliverable.props:
        span = deliverable.field_span(key)
        if key not in reads:
            diags.error(
                f"deliverable '{name}' ({deliverable.preset}): {_a(what)} deliverable "
                f"does not read '{key}'",
                span,
                f"remove '{key}'; {_a(what)} deliverable reads " + ", ".join(sorted(reads)),
            )
            continue
        allowed = SUPPORTED.get(what, {}).get(key)
        if allowed is not None and str(value) not in allowed:
            diags.error(
                f"deliverable '{name}' ({deliverable.preset}): {key} '{value}' is not supported",
                span,
                f"Reel delivers {key} " + " or ".join(allowed) + f" for {_a(what)} deliverable",
            )
    p = props(deliverable)
    _check_range(deliverable, "crf", p.get("crf"), CRF_RANGE, "x264's CRF scale", diags)
    _check_range(
        deliverable, "audio_bitrate", p.get("audio_bitrate"), AUDIO_BITRATE_RANGE, "kb/s", diags
    )
    if what == "timeline" and episode.fps not in SMPTE_RATES:
        diags.error(
            f"deliverable '{name}' ({deliverable.preset}): the timeline's FCP7 XML and EDL need "
            f"SMPTE timecode, which has no {_rate(episode.fps)}",
            deliverable.span,
            "give the episode a SMPTE `format` rate (23.976, 24, 25, 29.97, 30, 48, 50, 59.94 "
            "or 60fps), or remove this deliverable",
        )
    hevc, hlg = p.get("video_codec") == "hevc", is_hdr(deliverable)
    if what == "video" and hevc != hlg:
        field = "video_codec" if hevc else "dynamic_range"
        diags.error(
            f"deliverable '{name}' ({deliverable.preset}): Reel encodes HEVC only for "
            "dynamic_range hlg, and HLG only as HEVC",
            deliverable.field_span(field) or deliverable.span,
            "set both `video_codec hevc` and `dynamic_range hlg` (or use the youtube_hdr_hlg "
            "preset), or neither",
        )
    fps = p.get("fps")
    if what == "video" and fps is not None and Fraction(fps) != episode.fps:
        diags.error(
            f"deliverable '{name}' ({deliverable.preset}): fps {_rate(Fraction(fps))} differs "
            f"from the episode's {_rate(episode.fps)}",
            deliverable.field_span("fps"),
            "a deliverable renders at the episode's frame rate (its `format`): remove `fps` "
            "or set it to the episode's rate",
        )


def _check_range(
    deliverable: ir.Deliverable,
    key: str,
    value: Any,
    bounds: tuple[int, int],
    unit: str,
    diags: Diagnostics,
) -> None:
    if value is None:
        return
    low, high = bounds
    if not low <= int(value) <= high:
        diags.error(
            f"deliverable '{deliverable.name}' ({deliverable.preset}): {key} {value} is out "
            f"of range",
            deliverable.field_span(key),
            f"use {low}..{high} ({unit})",
        )


def _rate(fps: Fraction) -> str:
    return f"{fps.numerator}fps" if fps.denominator == 1 else f"{float(fps):.3f}fps"


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word
