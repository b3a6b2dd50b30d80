"""The picture: one ``segment`` per shot, position-independent (its
parameters hold no absolute time, id or position); a ``tail_frame`` where a
crossfade needs the previous shot's last frame; the segments joined by stream
copy (``concat``); and the master, picture and sound muxed.

A rendition at another size renders the same shots again with ``suffix``
``@NAME`` in their ids (see ``deliver.rendition``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reel.backends import captions as captions_backend
from reel.backends.ffmpeg import assemble, detect, scene_linear, segment, tonemap
from reel.backends.fonts import font_file

from .. import artifacts as a
from ..actions import Action, ActionInput, BlobInput, Input, Label, SourceInput, make, where
from .context import Context
from .produced import Produced

WRAP_WIDTH = 0.86  # share of the frame width a title may take before it wraps
GLYPH_WIDTH = 0.56  # average glyph width as a share of the font size (DejaVu Sans)
TEXT_SIZE = 64  # a title's size when its style gives none (at 1080 lines)
TEXT_COLOUR = "#ffffff"


def _wrap(text: str, size_px: int, width: int) -> str:
    limit = max(8, int(width * WRAP_WIDTH / (size_px * GLYPH_WIDTH)))
    out = []
    for paragraph in text.split("\n"):
        out.append("\n".join(captions_backend.wrap(paragraph.split(), limit)) or paragraph)
    return "\n".join(out)


def caption_fonts() -> dict[str, Input]:
    """The packaged fonts, as the `fonts/` folder libass draws burned-in captions with."""
    return {
        f"{segment.CAPTION_FONTS}/{font.name}": SourceInput(font)
        for font in (font_file(None, False), font_file(None, True))
    }


def plate(
    ctx: Context,
    shot: a.ShotEntry,
    inputs: dict[str, Input],
    reframe: str = "focus",
    labels: dict[str, Label] | None = None,
) -> dict[str, Any]:
    """The plate's parameters; the files it reads go into ``inputs`` (and what
    they are, in the blueprint's words, into ``labels``)."""
    labels = labels if labels is not None else {}
    spec = shot.plate
    at = where(ctx.ir_shots[shot.id].plate.span)
    out: dict[str, Any] = {"kind": spec.kind}
    if spec.asset_id is not None:
        asset = ctx.assets[spec.asset_id]
        if asset.placeholder:
            out["kind"] = "placeholder"
            inputs["slate.txt"] = BlobInput(f"missing file\n{asset.path}".encode())
            labels["slate.txt"] = Label(f"the missing plate file of shot {shot.id}", at)
        else:
            name = segment.PLATE_IMAGE if spec.kind == "image" else segment.PLATE_VIDEO
            inputs[name] = SourceInput(ctx.root / asset.path)
            labels[name] = Label(f"the {spec.kind} of shot {shot.id} ({asset.path})", at)
            if _is_float(spec.kind, asset.path):
                # Read clean: NaN and Inf replaced (and counted) by its sanitise action.
                inputs[name] = ActionInput(sanitise_id(shot.id), scene_linear.CLEAN)
            colour = plate_colour(spec.kind, asset.path, spec.options)
            if colour is not None:
                out["colour"] = colour
                for lut, data in scene_linear.lut_files(colour).items():
                    inputs[lut] = BlobInput(data)
                    labels[lut] = Label(f"the {colour} conversion of shot {shot.id}", at)
            out["fit"] = spec.fit or "cover"
            # `reframe focus` crops around the shot's focus, `center` ignores it.
            focus = shot.focus if reframe == "focus" else "center"
            out["focus"] = list(segment.FOCUS_POINTS[focus])
            if spec.kind == "video":
                out["in_s"] = ctx.seconds(spec.in_frame) if spec.in_frame else None
                out["out_s"] = ctx.seconds(spec.out_frame) if spec.out_frame is not None else None
                # How a clip shorter than the shot fills it (`hold`, the default,
                # needs nothing more, so such shots keep their keys).
                extend = str(spec.options.get("extend", "hold"))
                clip = ctx.plan.clips.get(shot.id)
                if clip is not None and clip.colour is not None:
                    # An HDR clip's colour facts: how it enters the working space.
                    out["source"] = dict(clip.colour)
                if clip is not None and clip.assumed_matrix is not None:
                    out["matrix"] = clip.assumed_matrix  # untagged HD: read as BT.709
                if extend != "hold" and clip is not None and clip.seconds > 0:
                    out["extend"] = extend
                    out["clip_s"] = clip.seconds
    elif spec.kind == "placeholder":
        inputs["slate.txt"] = BlobInput((spec.description or "").encode())
        labels["slate.txt"] = Label(f"the placeholder text of shot {shot.id}", at)
    else:
        # A generated plate: its colours and the options its vocabulary declares.
        out["colours"] = list(spec.colours)
        out.update(sorted(spec.options.items()))
    if out["kind"] == "placeholder":
        inputs["font-bold.ttf"] = SourceInput(font_file(None, True))
        inputs["font-regular.ttf"] = SourceInput(font_file(None, False))
    return out


def _is_float(kind: str, path: str) -> bool:
    return kind == "image" and path.lower().endswith(scene_linear.FLOAT_SUFFIXES)


def plate_colour(kind: str, path: str, options: Any) -> str | None:
    """What a picture file's values are: the plate's `colour`, else what the
    file says. Every EXR is scene-linear (ffmpeg's decoder tags each one
    linear, and the probe records that); other files are display code values,
    sRGB/BT.709, which need no parameter (so their shots keep their keys)."""
    colour = dict(options).get("colour")
    if colour is None and _is_float(kind, path):
        colour = "linear"
    return None if colour is None else str(colour)


def sanitise_id(shot_id: str) -> str:
    return f"sanitise/{shot_id}"


def sanitise_actions(ctx: Context) -> list[Action]:
    """A float plate (EXR) cleaned once per shot, before any render reads it:
    an action of its own (not part of planning), so reading and cleaning the
    file is cached like any render and a no-op build never decodes it; its
    counts become a warning at the plate after the build (``build.warn_sanitised``)."""
    out = []
    for shot in ctx.shots:
        spec = shot.plate
        if spec.asset_id is None:
            continue
        asset = ctx.assets[spec.asset_id]
        if asset.placeholder or not _is_float(spec.kind, asset.path):
            continue
        at = where(ctx.ir_shots[shot.id].plate.span)
        out.append(
            make(
                "sanitise_plate",
                sanitise_id(shot.id),
                {"ceiling": scene_linear.PEAK},
                {scene_linear.SOURCE: SourceInput(ctx.root / asset.path)},
                origin=ctx.origin(shot.id),
                scene=shot.scene_id,
                description=f"replace NaN and Inf pixels of the plate of {shot.id}",
                labels={
                    scene_linear.SOURCE: Label(f"the image of shot {shot.id} ({asset.path})", at)
                },
            )
        )
    return out


def overlay_labels(ctx: Context, shot: a.ShotEntry) -> list[Label]:
    """Each title (or kinetic text) of a shot, as a user would point at it."""
    kinds = [o.kind for o in ctx.ir_shots[shot.id].overlays]
    out = []
    for i, overlay in enumerate(ctx.ir_shots[shot.id].overlays):
        kind = "title" if overlay.kind == "title" else "kinetic text"
        nth = kinds[: i + 1].count(overlay.kind)
        which = f"{kind} {nth}" if kinds.count(overlay.kind) > 1 else f"the {kind}"
        out.append(Label(f"{which} of shot {shot.id}", where(overlay.span)))
    return out


def overlay_spec(
    ctx: Context, overlay: a.OverlaySpec, width: int, height: int
) -> tuple[dict[str, Any], str, Path]:
    """How one title is drawn at ``width``x``height``: the segment's overlay
    parameters (without its file names), its text as wrapped, and its font."""
    style = ctx.styles.get(overlay.style, {})
    font = font_file(style.get("font"), bool(style.get("bold", False)))
    size = int(style.get("size", TEXT_SIZE))
    size_px = max(8, round(size * min(width, height) / segment.REFERENCE_HEIGHT))
    text = overlay.text.upper() if style.get("uppercase") else overlay.text
    margin = style.get("margin")
    spec = {
        "size": size,
        "color": style.get("color", TEXT_COLOUR),
        "outline": style.get("outline"),
        "outline_width": style.get("outline_width", 2),
        "shadow": style.get("shadow"),
        "box": style.get("box"),
        "animation": style.get("animation"),
        "position": overlay.position or style.get("position", "center"),
        "margin": float(margin) if margin is not None else 6.0,
    }
    return spec, _wrap(text, size_px, width), font


def overlays(
    ctx: Context,
    shot: a.ShotEntry,
    inputs: dict[str, Input],
    width: int,
    height: int,
    labels: dict[str, Label] | None = None,
) -> list[dict[str, Any]]:
    labels = labels if labels is not None else {}
    named = overlay_labels(ctx, shot)
    out = []
    for i, overlay in enumerate(shot.overlays):
        labels[f"text-{i}.txt"] = labels[f"overlays[{i}]"] = named[i]
        spec, text, font = overlay_spec(ctx, overlay, width, height)
        font_name = f"font-{font.stem.lower()}.ttf"
        inputs[font_name] = SourceInput(font)
        inputs[f"text-{i}.txt"] = BlobInput(text.encode())
        end = (
            None
            if overlay.duration_frames is None
            else ctx.seconds(overlay.start_frame + overlay.duration_frames)
        )
        out.append(
            {
                "text_file": f"text-{i}.txt",
                "font_file": font_name,
                **spec,
                "start_s": ctx.seconds(overlay.start_frame),
                "end_s": end,
            }
        )
    return out


def segment_action(
    ctx: Context,
    index: int,
    shot: a.ShotEntry,
    width: int,
    height: int,
    suffix: str = "",
    *,
    encoder: a.EncoderSettings | None = None,
    reframe: str = "focus",
    clean: bool = False,
    captions: str | None = None,
    tail: bool = False,
) -> Action:
    """One shot's render. ``clean``: the shot's own frames only (plate and
    motion, no titles, no transition), the clean plate an editor's timeline
    puts on V1 under live titles. ``captions``: the captions action whose cut
    of this shot is burned in; the frames crossfades read then come from the
    segments themselves (``tail``: write this shot's), taken before the text."""
    inputs: dict[str, Input] = {}
    labels = shot_labels(ctx, shot, suffix)
    transition = {"kind": "cut", "frames": 0} if clean else ctx.transition(index, shot)
    if transition["kind"] == "crossfade":
        prev = ctx.shots[index - 1]
        source = f"segment{suffix}/{prev.id}" if captions else f"tail{suffix}/{prev.id}"
        inputs[segment.PREV_FRAME] = ActionInput(source, segment.TAIL)
        labels[segment.PREV_FRAME] = Label(
            f"the last frame of shot {prev.id}, which the crossfade starts from"
        )
    params: dict[str, Any] = {
        "width": width,
        "height": height,
        "fps": ctx.fps_pair,
        "frames": shot.duration_frames,
        "plate": plate(ctx, shot, inputs, reframe, labels),
        "motion": shot.motion.model_dump(mode="json"),
        "overlays": [] if clean else overlays(ctx, shot, inputs, width, height, labels),
        "transition": transition,
        "encoder": ctx.encoder(encoder),
    }
    # Every render also logs QC's detectors (ffmpeg/detect.py); a master
    # segment takes the report's thumbnail too.
    outputs = (segment.OUTPUT, detect.LOG)
    if not clean and not suffix:
        params["thumbnail"] = True
        outputs += (detect.THUMB,)
    if captions is not None:
        params["captions"] = True
        inputs[segment.CAPTIONS] = ActionInput(captions, f"captions-{shot.id}.ass")
        labels[segment.CAPTIONS] = Label(f"the captions of shot {shot.id} ({captions})")
        inputs.update(caption_fonts())
    if tail:
        params["tail"] = True
        outputs += (segment.TAIL,)
    return make(
        "segment",
        f"{'plate' if clean else 'segment'}{suffix}/{shot.id}",
        params,
        inputs,
        outputs,
        hermetic=ctx.hermetic_video,
        deterministic=ctx.hermetic_video,
        resources=ctx.video_hardware,
        origin=ctx.origin(shot.id),
        scene=shot.scene_id,
        description=f"{'clean plate of' if clean else 'render'} shot {shot.id}",
        labels=labels,
    )


def shot_labels(ctx: Context, shot: a.ShotEntry, suffix: str = "") -> dict[str, Label]:
    """The parameters of a shot's render, in the blueprint's words."""
    ir_shot = ctx.ir_shots[shot.id]
    at = where(ir_shot.span)
    of = f" of {suffix.removeprefix('@')}" if suffix else ""
    return {
        "frames": Label(f"the length of shot {shot.id}", at),
        "plate": Label(f"the plate of shot {shot.id}", where(ir_shot.plate.span) or at),
        "motion": Label(f"the move of shot {shot.id}", where(ir_shot.motion.span) or at),
        "transition": Label(
            f"the transition into shot {shot.id}", where(ir_shot.transition.span) or at
        ),
        "width": Label(f"the frame size{of}"),
        "height": Label(f"the frame size{of}"),
        "fps": Label("the episode's frame rate"),
        "encoder": Label(f"the encoder settings{of}"),
    }


def segments(
    ctx: Context,
    width: int,
    height: int,
    suffix: str = "",
    *,
    encoder: a.EncoderSettings | None = None,
    reframe: str = "focus",
    captions: str | None = None,
) -> list[Action]:
    """Every shot rendered at one size, with the last frames crossfades read:
    ``tail_frame`` actions, or with ``captions`` burned in, the segments'
    own frame from before the text."""
    faded_from = {
        ctx.shots[i - 1].id
        for i, shot in enumerate(ctx.shots)
        if ctx.transition(i, shot)["kind"] == "crossfade"
    }
    out = [
        segment_action(
            ctx,
            i,
            shot,
            width,
            height,
            suffix,
            encoder=encoder,
            reframe=reframe,
            captions=captions,
            tail=captions is not None and shot.id in faded_from,
        )
        for i, shot in enumerate(ctx.shots)
    ]
    for shot in ctx.shots:
        if shot.id in faded_from and captions is None:
            out.append(
                make(
                    "tail_frame",
                    f"tail{suffix}/{shot.id}",
                    _tail_params(ctx, shot, encoder),
                    {"segment.mp4": ActionInput(f"segment{suffix}/{shot.id}", segment.OUTPUT)},
                    origin=ctx.origin(shot.id),
                    scene=shot.scene_id,
                    description=f"last frame of {shot.id}",
                    labels={"frames": shot_labels(ctx, shot)["frames"]},
                )
            )
    return out


def _tail_params(
    ctx: Context, shot: a.ShotEntry, encoder: a.EncoderSettings | None
) -> dict[str, Any]:
    """A tail frame's parameters: its length, and the matrix of an HLG segment."""
    params: dict[str, Any] = {"frames": shot.duration_frames}
    space = tonemap.space({"encoder": ctx.encoder(encoder)})
    if space.name != tonemap.SDR:
        params["matrix"] = space.scale_matrix
    return params


def join(
    ctx: Context, action_id: str, pieces: list[ActionInput], audio: str, description: str
) -> Action:
    """A deliverable's per-shot pieces and its sound into one file, by stream copy."""
    names = [f"piece-{i:04d}.mp4" for i in range(1, len(pieces) + 1)]
    inputs: dict[str, Input] = {"list.txt": BlobInput(assemble.concat_list(names))}
    inputs.update(zip(names, pieces, strict=True))
    inputs["audio.m4a"] = ActionInput(audio, "audio.m4a")
    labels = {"list.txt": Label("the number of shots")}
    labels.update({n: Label(p.action) for n, p in zip(names, pieces, strict=True)})
    return make("join", action_id, {}, inputs, description=description, labels=labels)


def rule(ctx: Context) -> Produced:
    """The shared picture at the episode's size, joined: target ``video``."""
    actions = [*sanitise_actions(ctx), *segments(ctx, *ctx.size, reframe=ctx.reframe)]
    names = [f"seg-{i:04d}.mp4" for i in range(1, len(ctx.shots) + 1)]
    inputs: dict[str, Input] = {"list.txt": BlobInput(assemble.concat_list(names))}
    for name, shot in zip(names, ctx.shots, strict=True):
        inputs[name] = ActionInput(f"segment/{shot.id}", segment.OUTPUT)
    labels = {"list.txt": Label("the number of shots")}
    actions.append(
        make("concat", "concat", {}, inputs, description="join the segments", labels=labels)
    )
    return Produced(actions, {"video": "concat"}, {"concat": [("video.mp4", "video.mp4")]})


def master(ctx: Context) -> Produced:
    """The MP4 master: the segments and the master's sound, joined by stream copy
    in one step (no intermediate picture-only file)."""
    segments_ = [ActionInput(f"segment/{shot.id}", segment.OUTPUT) for shot in ctx.shots]
    mux = join(ctx, "mux", segments_, "loudness", description="the MP4 master")
    return Produced([mux], {"master": "mux"}, {"mux": [("joined.mp4", "master.mp4")]})
