"""One shot → one H.264 segment, position-independent.

The segment is built from its parameters alone (plate, motion, overlays,
transition, size, frame rate, frame count, encoder settings) and files in
its sandbox with fixed relative names, so the same shot renders to the same
bytes wherever it sits in the episode. Every segment uses identical codec
settings (fixed thread count, closed GOP opening on an IDR frame, no
B-frames) so segments join by stream copy.

The filter graph is built with ffmpeg-python, which escapes expressions.
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

import ffmpeg

from ..kind import Kind
from . import detect, scene_linear, tonemap
from .encode import FROM_BT709, MOVFLAGS, decode_args, video_args
from .toolchain import BITEXACT_OUT, Commands

FOCUS_POINTS = {
    "center": (0.5, 0.5),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "top_left": (0.0, 0.0),
    "top_right": (1.0, 0.0),
    "bottom_left": (0.0, 1.0),
    "bottom_right": (1.0, 1.0),
}
PLATE_IMAGE = "plate-image"
# Plates that are one picture: made, fitted and converted once, then held.
STILL_PLATES = frozenset({"image", "gradient", "checker", "stripes", "radial", "placeholder"})
PLATE_VIDEO = "plate-video"
PREV_FRAME = "prev.png"
OUTPUT = "segment.mp4"
TAIL = "tail.png"  # the last frame before captions: what the next shot crossfades from
CAPTIONS = "captions.ass"  # this shot's cut of a deliverable's captions (captions.shot_file)
CAPTION_FONTS = "fonts"  # the folder libass draws them with
REFERENCE_HEIGHT = 1080  # text style sizes are written for 1080p
# Plates become BT.709 Y'CbCr as they enter (from RGB, or from a video's own
# matrix); motion, text and blends then work in it. The text filters convert a
# typed #rrggbb with the matrix the stream is tagged with, so it stays exact.
# (Composing in RGB instead costs about twice the filter time of a moving shot.)
WORKING_FORMAT = "yuv420p"


def _rate(params: dict[str, Any]) -> str:
    num, den = params["fps"]
    return f"{num}/{den}"


def _hex(colour: str) -> str:
    """'#rrggbb' or '#rrggbbaa' → ffmpeg's 0xRRGGBB[@alpha]."""
    body = colour.lstrip("#")
    if len(body) == 8:
        alpha = int(body[6:], 16) / 255
        return f"0x{body[:6]}@{alpha:.3f}"
    return f"0x{body}"


def _rgb(colour: str) -> tuple[int, int, int]:
    body = colour.lstrip("#")
    return int(body[0:2], 16), int(body[2:4], 16), int(body[4:6], 16)


def _first(stream: Any) -> Any:
    """A generated plate's first frame alone: it is computed once and held
    (see ``_hold``), as geq is costly per frame."""
    return stream.filter("trim", end_frame=1)


def _lavfi(source: str) -> Any:
    return ffmpeg.input(source, f="lavfi")


def _colour(colour: str, w: int, h: int, rate: str) -> Any:
    """A colour source held in RGB: left to negotiate, it would make Y'CbCr with
    its own matrix, and the conversion to BT.709 after it would round twice."""
    return _lavfi(f"color=c={colour}:s={w}x{h}:r={rate}").filter("format", "rgb24")


def _hold(stream: Any, frames: int) -> Any:
    """Repeat a stream's single frame: the loop filter passes the same frame on,
    so what came before it (decode, scale, colour conversion) runs once."""
    return stream.filter("loop", loop=frames, size=1, start=0)


def _plate(params: dict[str, Any]) -> Any:
    plate = params["plate"]
    w, h, rate, n = params["width"], params["height"], _rate(params), params["frames"]
    kind = plate["kind"]
    if kind == "image":
        # Decoded, fitted and converted once, then held (see segment_args):
        # looping the file at the input would decode and rescale it per frame,
        # which cost 8.6 s instead of 1.1 s for a 69-frame vertical shot.
        stream = ffmpeg.input(PLATE_IMAGE, framerate=rate)
        if plate.get("colour") in scene_linear.SCENE_LINEAR:
            stream = scene_linear.to_display(stream, plate["colour"])
        return _fit(stream, plate, w, h)
    if kind == "video":
        options: dict[str, Any] = {}
        if plate.get("in_s"):
            options["ss"] = plate["in_s"]
        if plate.get("out_s") is not None:
            options["t"] = round(plate["out_s"] - (plate.get("in_s") or 0), 6)
        options.update(decode_args(params["encoder"]))
        stream = ffmpeg.input(PLATE_VIDEO, **options)
        if plate.get("matrix"):
            # A clip that does not say which matrix made its Y'CbCr is tagged
            # with the one assumed for it (BT.709 for HD, as players read it;
            # compiler/clips.assumed_matrix), so every conversion after reads it so.
            stream = stream.filter("setparams", colorspace=plate["matrix"])
        if plate.get("colour") in scene_linear.SCENE_LINEAR:
            stream = scene_linear.to_display(stream, plate["colour"])
        extend = plate.get("extend", "hold")
        if extend == "speed":
            # Retimed so the clip spans the shot exactly (slower or faster).
            factor = n * params["fps"][1] / params["fps"][0] / plate["clip_s"]
            stream = stream.filter("setpts", f"{factor:.9f}*(PTS-STARTPTS)")
        stream = _fit(stream.filter("fps", rate), plate, w, h)
        if extend in ("loop", "pingpong"):
            stream = _repeat(stream, extend, clip_frames(plate["clip_s"], params["fps"]), params)
        # Seed 004's "fit to slot": hold the last frame if the clip is shorter
        # (with `extend speed`, only what rounding to whole frames leaves).
        return stream.filter("tpad", stop_mode="clone", stop=n)
    if kind == "solid":
        return _colour(_hex(plate["colours"][0]), w, h, rate)
    if kind == "gradient":
        # A linear gradient along `angle` (degrees clockwise from "to the right";
        # 90 runs top to bottom), computed exactly with geq. ffmpeg's own
        # `gradients` source does not span the line it is given.
        angle = math.radians(plate.get("angle", 90))
        dx, dy = math.cos(angle), math.sin(angle)
        extent = abs(dx) * (w - 1) + abs(dy) * (h - 1)
        x0 = 0 if dx >= 0 else w - 1
        y0 = 0 if dy >= 0 else h - 1
        ramp = f"clip(((X-{x0})*{dx:.6f}+(Y-{y0})*{dy:.6f})/{extent:.6f},0,1)"
        (r0, g0, b0), (r1, g1, b1) = (_rgb(c) for c in plate["colours"])
        base = _colour("black", w, h, rate)
        base = base.filter(
            "geq",
            r=f"{r0}+({r1 - r0})*{ramp}",
            g=f"{g0}+({g1 - g0})*{ramp}",
            b=f"{b0}+({b1 - b0})*{ramp}",
        )
        return _first(base)
    if kind in ("checker", "stripes"):
        (r0, g0, b0), (r1, g1, b1) = (_rgb(c) for c in plate["colours"])
        if kind == "checker":
            cell = plate.get("cell", 80)
            cond = f"mod(floor(X/{cell})+floor(Y/{cell}),2)"
        else:
            width = plate.get("width", 40)
            a = math.radians(plate.get("angle", 45))
            along = f"X*{math.cos(a):.6f}+Y*{math.sin(a):.6f}+{4 * (w + h)}"
            cond = f"lt(mod({along},{2 * width}),{width})"
        base = _colour("black", w, h, rate)
        base = base.filter(
            "geq", r=f"if({cond},{r0},{r1})", g=f"if({cond},{g0},{g1})", b=f"if({cond},{b0},{b1})"
        )
        return _first(base)
    if kind == "radial":
        # From the first colour at the centre to the second at `radius` percent
        # of the half-diagonal (100 by default) and beyond: a vignette, a glow.
        (r0, g0, b0), (r1, g1, b1) = (_rgb(c) for c in plate["colours"])
        reach = math.hypot(w / 2, h / 2) * plate.get("radius", 100) / 100
        ramp = f"clip(hypot(X-{w / 2:.6f},Y-{h / 2:.6f})/{max(reach, 1):.6f},0,1)"
        base = _colour("black", w, h, rate).filter(
            "geq",
            r=f"{r0}+({r1 - r0})*{ramp}",
            g=f"{g0}+({g1 - g0})*{ramp}",
            b=f"{b0}+({b1 - b0})*{ramp}",
        )
        return _first(base)
    if kind == "bars":
        return _lavfi(f"smptehdbars=s={w}x{h}:r={rate}")
    if kind == "placeholder":
        return _slate(params)
    raise ValueError(f"unknown plate kind {kind}")  # pragma: no cover - checked upstream


def clip_frames(seconds: float, fps: list[int]) -> int:
    """The whole frames of a clip at the episode's rate (at least one): the
    frames ``fps`` surely makes from it, so a loop never waits on a missing one."""
    return max(1, math.floor(seconds * fps[0] / fps[1] + 1e-6))


def _repeat(stream: Any, extend: str, frames: int, params: dict[str, Any]) -> Any:
    """A clip played again and again (``loop``), or forward then backward
    (``pingpong``: 0..k-1, k-2..1, the turning frames shown once), until the
    output's frame count stops it. The loop filter keeps one cycle of frames
    at the shot's size in memory, which bounds how long a looped clip can be."""
    stream = stream.filter("trim", end_frame=frames).filter("setpts", "PTS-STARTPTS")
    cycle = frames
    if extend == "pingpong" and frames > 2:
        split = stream.split()
        forward, backward = split[0], split[1]
        backward = backward.filter("reverse").filter("trim", start_frame=1, end_frame=frames - 1)
        stream = ffmpeg.concat(forward, backward.filter("setpts", "PTS-STARTPTS"), v=1, a=0)
        cycle = 2 * frames - 2
    num, den = params["fps"]
    stream = stream.filter("loop", loop=-1, size=cycle, start=0)
    return stream.filter("setpts", f"N*{den}/({num}*TB)")


def _fit(stream: Any, plate: dict[str, Any], w: int, h: int) -> Any:
    if plate.get("fit") == "contain":
        stream = stream.filter("scale", w, h, force_original_aspect_ratio="decrease")
        return stream.filter("pad", w, h, "(ow-iw)/2", "(oh-ih)/2", color="black")
    stream = stream.filter("scale", w, h, force_original_aspect_ratio="increase")
    # Cover: crop around the shot's focus point, so a vertical rendition of a
    # wide plate keeps what matters in frame (the centre unless the shot says).
    fx, fy = plate.get("focus", (0.5, 0.5))
    return stream.filter("crop", w, h, f"(iw-ow)*{fx:.3f}", f"(ih-oh)*{fy:.3f}")


def _slate(params: dict[str, Any]) -> Any:
    """A slate card for a missing file or a shot not made yet: it names what is missing."""
    w, h, rate = params["width"], params["height"], _rate(params)
    stream = _colour("0x1e1e24", w, h, rate)
    border = max(2, h // 120)
    stream = stream.filter(
        "drawbox",
        x=border * 4,
        y=border * 4,
        w=w - border * 8,
        h=h - border * 8,
        color="0xffcc00",
        t=border,
    )
    # Sized by the height of a 16:9 frame at most, so a vertical frame's slate
    # fits its width (by the height alone, PLACEHOLDER ran off both edges).
    line = min(h, w * 9 / 16)
    size = max(10, round(line * 0.07))
    stream = stream.drawtext(
        text="PLACEHOLDER",
        fontfile="font-bold.ttf",
        fontsize=size,
        fontcolor="0xffcc00",
        x="(w-text_w)/2",
        y=f"h*0.32-{size}/2",
        expansion="none",
    )
    stream = stream.drawtext(
        textfile="slate.txt",
        fontfile="font-regular.ttf",
        fontsize=max(8, round(line * 0.04)),
        fontcolor="0xffffff",
        x="(w-text_w)/2",
        y="h*0.55",
        text_align="C",
        expansion="none",
    )
    return _first(stream)


def _motion(stream: Any, params: dict[str, Any]) -> Any:
    motion = params["motion"]
    kind = motion["kind"]
    if kind == "static":
        return stream
    w, h, n = params["width"], params["height"], params["frames"]
    last = max(1, n - 1)
    p = f"min(on/{last},1)"
    e = f"({p}*{p}*(3-2*{p}))" if motion.get("ease", True) else p
    amount = float(motion.get("amount") or 1.1)
    fx, fy = 0.5, 0.5
    if kind in ("push_in", "ken_burns"):
        zoom = f"1+{amount - 1:.6f}*{e}"
    elif kind == "push_out":
        zoom = f"{amount:.6f}-{amount - 1:.6f}*{e}"
    else:  # pans: a fixed zoom gives room to travel
        zoom = f"{1 + amount / 100:.6f}"
    if kind == "ken_burns":
        tx, ty = FOCUS_POINTS[motion.get("toward") or "center"]
        fx_expr, fy_expr = f"(0.5+{tx - 0.5:.3f}*{e})", f"(0.5+{ty - 0.5:.3f}*{e})"
    elif kind in ("push_in", "push_out"):
        tx, ty = FOCUS_POINTS[motion.get("toward") or "center"]
        fx_expr, fy_expr = f"{tx:.3f}", f"{ty:.3f}"
    else:
        fx_expr, fy_expr = f"{fx}", f"{fy}"
        if kind == "pan_left":
            fx_expr = f"(1-{e})"
        elif kind == "pan_right":
            fx_expr = e
        elif kind == "pan_up":
            fy_expr = f"(1-{e})"
        elif kind == "pan_down":
            fy_expr = e
    return stream.filter(
        "zoompan",
        z=zoom,
        x=f"(iw-iw/zoom)*{fx_expr}",
        y=f"(ih-ih/zoom)*{fy_expr}",
        d=1,
        s=f"{w}x{h}",
        fps=_rate(params),
    )


_Y_POSITIONS = {
    "center": "(h-text_h)/2",
    "upper_third": "h*0.28-text_h/2",
    "lower_third": "h*0.74-text_h/2",
    "top": "h*{m}",
    "bottom": "h-text_h-h*{m}",
    "left": "(h-text_h)/2",
    "right": "(h-text_h)/2",
}


def _overlay(stream: Any, spec: dict[str, Any], params: dict[str, Any]) -> Any:
    h = params["height"]
    scale = min(params["width"], h) / REFERENCE_HEIGHT  # the shorter side: vertical too
    margin = spec.get("margin", 6) / 100
    position = spec.get("position") or "center"
    x = "(w-text_w)/2"
    if position == "left":
        x = f"w*{margin:.3f}"
    elif position == "right":
        x = f"w-text_w-w*{margin:.3f}"
    y = _Y_POSITIONS[position].format(m=f"{margin:.3f}")
    start, end = spec["start_s"], spec.get("end_s")
    options: dict[str, Any] = {
        "textfile": spec["text_file"],
        "fontfile": spec["font_file"],
        "fontsize": max(8, round(spec["size"] * scale)),  # lowering always sets it
        "fontcolor": _hex(spec.get("color", "#ffffff")),
        "text_align": "C",
        "expansion": "none",
        "x": x,
        "y": y,
        "enable": f"gte(t,{start:.6f})" if end is None else f"between(t,{start:.6f},{end:.6f})",
    }
    if spec.get("outline"):
        options["bordercolor"] = _hex(spec["outline"])
        options["borderw"] = max(1, round(spec.get("outline_width", 2) * scale))
    if spec.get("shadow"):
        options["shadowcolor"] = _hex(spec["shadow"])
        options["shadowx"] = options["shadowy"] = max(1, round(3 * scale))
    if spec.get("box"):
        options["box"] = 1
        options["boxcolor"] = _hex(spec["box"])
        options["boxborderw"] = max(2, round(16 * scale))
    if spec.get("animation") == "pop":
        # Fade in over 0.2 s while rising into place.
        ramp = f"min(1,max(0,(t-{start:.6f})/0.2))"
        options["alpha"] = ramp
        options["y"] = f"{y}+(1-{ramp})*h*0.03"
    return stream.drawtext(**options)


def _transition(stream: Any, params: dict[str, Any]) -> Any:
    transition = params["transition"]
    frames = transition["frames"]
    if transition["kind"] == "dip_to_black" and frames:
        return stream.filter("fade", t="in", s=0, n=frames)
    if transition["kind"] == "crossfade" and frames:
        # Position-independent crossfade: blend from the previous shot's last
        # frame (an input of this action) into this shot.
        num, den = params["fps"]
        prev = ffmpeg.input(PREV_FRAME, loop=1, framerate=_rate(params))
        prev = prev.filter("trim", end_frame=frames)
        # The tail PNG holds the working space's R'G'B' (see tail_frame_commands).
        space = tonemap.space(params)
        prev = prev.filter("scale", out_color_matrix=space.scale_matrix, out_range="tv")
        prev = _tagged(prev.filter("format", space.pix_fmt), params).filter("settb", "AVTB")
        current = stream.filter("settb", "AVTB")  # already in the working space
        return ffmpeg.filter(
            [prev, current],
            "xfade",
            transition="fade",
            duration=round(frames * den / num, 6),
            offset=0,
        )
    return stream


def _to_bt709(stream: Any) -> Any:
    """RGB (or Y'CbCr of another matrix) → BT.709 limited-range 4:2:0, tagged
    (see ``encode.TO_BT709``)."""
    stream = stream.filter("scale", out_color_matrix="bt709", out_range="tv")
    return _tagged(stream.filter("format", WORKING_FORMAT))


def _tagged(stream: Any, params: dict[str, Any] | None = None) -> Any:
    """Frames that say what they are: the encoder takes a frame's tags over its
    options. BT.709 unless ``params`` name another working space (HLG)."""
    tags = tonemap.space(params).tags() if params else tonemap.SPACES[tonemap.SDR].tags()
    return stream.filter("setparams", **tags)


def _working(stream: Any, params: dict[str, Any]) -> Any:
    """Back to the working space's pixel format and tags after a filter that may change them."""
    return _tagged(stream.filter("format", tonemap.space(params).pix_fmt), params)


def segment_args(params: dict[str, Any]) -> list[str]:
    """The ffmpeg arguments (no executable) that render one segment.

    A rendition that burns captions draws them here, last, so its picture is
    encoded once (not rendered, then decoded and encoded again with the
    captions). The frame the next shot crossfades from (``tail``) is taken
    before the captions, from the same frames: burned text never ghosts."""
    plate = _plate(params).filter("setsar", 1)
    # An HDR source, or an HDR deliverable, enters through zimg (see tonemap).
    stream = tonemap.into_working(plate, params) if tonemap.converts(params) else _to_bt709(plate)
    if params["plate"]["kind"] in STILL_PLATES:
        stream = _hold(stream, params["frames"])
    stream = _motion(stream, params)
    for spec in params["overlays"]:
        stream = _overlay(stream, spec, params)
    stream = _transition(stream, params)
    # The shot's frames end here: every branch below (encoder, tail, QC) sees
    # exactly them, and a lavfi plate, which never ends by itself, stops.
    stream = _working(stream, params).filter("trim", end_frame=params["frames"])
    tail = None
    if params.get("tail"):
        branches = stream.split()
        stream, tail = branches[0], branches[1]
    if params.get("captions"):
        stream = stream.filter("ass", CAPTIONS, fontsdir=CAPTION_FONTS)
        stream = _working(stream, params)
    # The frames encoded are the frames QC measures (see detect): split last.
    branches = stream.split()
    encoded, measured = branches[0], branches[1]
    num, _den = params["fps"]
    picture = ffmpeg.output(
        encoded,
        OUTPUT,
        **{
            "frames:v": params["frames"],
            "r": _rate(params),
            "fps_mode": "cfr",
            "video_track_timescale": num,
            "an": None,
        },
    )
    outputs = [picture]
    if tail is not None:
        last = tail.filter("select", f"eq(n,{params['frames'] - 1})")
        last = last.filter("scale", **tail_matrix(params))
        outputs.append(
            ffmpeg.output(
                last.filter("format", "rgb24"), TAIL, **{"frames:v": 1, "fps_mode": "passthrough"}
            )
        )
    detectors = detect.detected(measured)
    outputs.append(ffmpeg.output(detectors, "-", **detect.NULL_OPTIONS))
    if params.get("thumbnail"):
        thumb = detect.thumbnail(branches[2], params["frames"])
        outputs.append(ffmpeg.output(thumb, detect.THUMB, **detect.THUMB_OPTIONS))
    args = ffmpeg.merge_outputs(*outputs).get_args()
    at = args.index(OUTPUT)
    args[at:at] = [*video_args(params["encoder"]), *MOVFLAGS, *BITEXACT_OUT]
    for name in (TAIL, detect.THUMB):
        if name in args:
            at = args.index(name)
            args[at:at] = BITEXACT_OUT
    return ["-filter_threads", "1", "-filter_complex_threads", "1", *args]


def tail_matrix(params: dict[str, Any]) -> dict[str, str]:
    """How a tail frame is read into RGB: with its working space's matrix
    (BT.709, see ``encode.FROM_BT709``, or BT.2020 in an HLG segment, whose
    PNG then holds HLG R'G'B' that the next shot's crossfade reads back)."""
    if "encoder" in params and tonemap.space(params).name != tonemap.SDR:
        return {"in_color_matrix": tonemap.space(params).scale_matrix, "in_range": "tv"}
    return dict(o.split("=") for o in FROM_BT709.split(":"))


def segment_commands(params: dict[str, Any]) -> Commands:
    return [segment_args(params)]


class SegmentOptions(TypedDict, total=False):
    """What only a rendition that burns captions sets (``total=False``: the
    names are checked, and the master's parameters stay as they were)."""

    captions: bool  # burn captions.ass over the picture, last
    tail: bool  # also write tail.png, the last frame before the captions
    thumbnail: bool  # also write thumb.jpg, the middle frame (a master segment's, for the report)


class SegmentParams(SegmentOptions):
    width: int
    height: int
    fps: list[int]  # [numerator, denominator]
    frames: int
    plate: dict[str, Any]  # kind, and fit/focus/in_s/out_s or colours and options
    motion: dict[str, Any]
    overlays: list[dict[str, Any]]  # drawn titles, each naming its text and font files
    transition: dict[str, Any]  # the transition into the shot: kind, frames
    encoder: dict[str, Any]  # encode.encoder_params


SEGMENT = Kind(
    name="segment",
    params=SegmentParams,
    inputs=(
        PLATE_IMAGE,
        PLATE_VIDEO,
        PREV_FRAME,
        "slate.txt",
        scene_linear.DECODE_LUT,
        scene_linear.OETF_LUT,
        "font-*.ttf",
        "text-*.txt",
        CAPTIONS,
        f"{CAPTION_FONTS}/*",
    ),
    outputs=(OUTPUT, TAIL, detect.LOG, detect.THUMB),
    commands=segment_commands,
    about="one shot rendered: plate, motion, titles, the transition into it, burned captions",
)
