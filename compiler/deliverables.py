"""Each `deliver NAME = PRESET` is its own target, built from shared work.

The master picture and the mix are rendered once; a deliverable adds only
what is its own: a loudness pass to its target, chapters, a scaled proxy
with burned-in timecode, labels and captions, or copies of the captions.
Changing one deliverable's fields changes only its own actions' keys.

A video deliverable at another resolution (`shorts_vertical`, `youtube_4k`)
is a rendition: every shot rendered again at that size and crf, plates cropped
around each shot's focus point (`reframe focus`) or the centre, captions laid
out for that frame and burned in when the preset says so. A video deliverable's
sound is the master's unless its loudness, peak or bitrate differ. Which
deliverable is the master, and each one's encoder settings, come from
``roles`` through the RenderPlan.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from reel.backends.audio import loudness as loudness_backend
from reel.backends.ffmpeg import deliver as deliver_backend
from reel.backends.fonts import font_file
from reel.lang import ir
from reel.lang.diagnostics import Diagnostics

from . import roles
from .actions import Action, ActionInput, BlobInput, SourceInput

if TYPE_CHECKING:
    from .lower import Lowering


def _number(value: Any, default: float) -> float:
    return float(value) if value is not None else default


def caption_fonts() -> dict[str, SourceInput]:
    """The packaged fonts, as the `fonts/` folder libass draws burned-in captions with."""
    return {
        f"fonts/{font.name}": SourceInput(font)
        for font in (font_file(None, False), font_file(None, True))
    }


def lower_deliverables(lowering: Lowering, diags: Diagnostics) -> None:
    """Each deliverable's own actions, by its role (see ``roles``): the master is
    the shared picture and sound muxed; the others add only what is their own."""
    episode = lowering.episode
    for deliverable in episode.deliverables:
        props = roles.props(deliverable)
        name = deliverable.name
        role = roles.role(deliverable, episode)
        if role == "master":
            lowering.targets[name] = "mux"
            lowering.delivers["mux"] = [("master.mp4", f"{name}.mp4")]
        elif role == "audio":
            _audio(lowering, deliverable, props)
        elif role == "captions":
            lowering.targets[name] = "captions"
            lowering.delivers.setdefault("captions", []).extend(
                [("captions.srt", f"{name}.srt"), ("captions.vtt", f"{name}.vtt")]
            )
        elif role == "review_proxy":
            _proxy(lowering, deliverable, props)
        elif role == "timeline":
            _timeline(lowering, deliverable)
        else:
            _rendition(lowering, deliverable, props)


def sound(lowering: Lowering, deliverable: ir.Deliverable) -> str:
    """The loudness action a video deliverable's sound comes from: the master's
    when its loudness, peak and bitrate are the same, else its own."""
    settings = roles.audio_settings(deliverable)
    if settings == roles.audio_settings(roles.primary_video(lowering.episode)):
        return "loudness"
    action_id = f"loudness/{deliverable.name}"
    lowering.actions.append(
        Action(
            id=action_id,
            kind="loudness",
            params=settings,
            inputs={"mix.wav": ActionInput("mix", "mix.wav")},
            outputs=("audio.m4a", "loudness.json"),
            run=loudness_backend.normalise,
            description=f"loudness for {deliverable.name}",
        )
    )
    return action_id


def captions_ass(
    lowering: Lowering, deliverable: ir.Deliverable, size: tuple[int, int] | None = None
) -> str:
    """The captions action whose ASS a deliverable burns in: the shared one when
    the frame and the caption style are the episode's, else its own."""
    from .lower_audio import lower_captions

    style = roles.props(deliverable).get("caption_style") or lowering.episode.caption_style
    if size is None and style == lowering.episode.caption_style:
        return "captions"
    action = lower_captions(lowering, f"captions@{deliverable.name}", size, style)
    lowering.actions.append(action)
    return action.id


def _audio(lowering: Lowering, deliverable: ir.Deliverable, props: dict[str, Any]) -> None:
    name = deliverable.name
    lowering.actions.append(
        Action(
            id=f"loudness/{name}",
            kind="loudness",
            params={
                "target_lufs": _number(props.get("loudness"), -16.0),
                "true_peak_dbtp": _number(props.get("true_peak"), -1.0),
                "bitrate_kbps": int(props.get("audio_bitrate", 128)),
            },
            inputs={"mix.wav": ActionInput("mix", "mix.wav")},
            outputs=("audio.m4a", "loudness.json"),
            run=loudness_backend.normalise,
            description=f"loudness for {name}",
        )
    )
    fps = lowering.fps
    chapters = []
    seen = set()
    for shot in lowering.plan.shotlist.shots:
        if shot.scene_id not in seen:
            seen.add(shot.scene_id)
            chapters.append(
                {
                    "title": shot.scene_id.replace("_", " "),
                    "start_ms": round(Fraction(shot.start_frame) / fps * 1000),
                }
            )
    total_ms = round(Fraction(lowering.plan.shotlist.total_frames) / fps * 1000)
    lowering.actions.append(
        Action(
            id=f"podcast/{name}",
            kind="podcast",
            params={"chapters": chapters if props.get("chapters", True) else []},
            inputs={
                "audio.m4a": ActionInput(f"loudness/{name}", "audio.m4a"),
                "chapters.txt": BlobInput(
                    deliver_backend.chapters_metadata(
                        chapters if props.get("chapters", True) else [], total_ms
                    )
                ),
            },
            outputs=("podcast.m4a",),
            commands=deliver_backend.podcast_commands,
            description=f"{name}: audio with chapters",
        )
    )
    lowering.targets[name] = f"podcast/{name}"
    lowering.delivers[f"podcast/{name}"] = [("podcast.m4a", f"{name}.m4a")]


def _proxy(lowering: Lowering, deliverable: ir.Deliverable, props: dict[str, Any]) -> None:
    """The joined master picture, scaled down, with what a reviewer reads."""
    name = deliverable.name
    width, height = roles.size(deliverable, lowering.episode)
    fps = lowering.fps
    inputs: dict[str, Any] = {
        "video.mp4": ActionInput("concat", "video.mp4"),
        "audio.m4a": ActionInput(sound(lowering, deliverable), "audio.m4a"),
        "font-regular.ttf": SourceInput(font_file(None, False)),
    }
    labels = []
    if props.get("labels"):
        for i, shot in enumerate(lowering.plan.shotlist.shots):
            inputs[f"label-{i}.txt"] = BlobInput(f"{shot.scene_id} / {shot.id}".encode())
            labels.append(
                {
                    "start": round(float(Fraction(shot.start_frame) / fps), 6),
                    "end": round(float(Fraction(shot.start_frame + shot.duration_frames) / fps), 6),
                }
            )
    burn = roles.burns_captions(deliverable)
    if burn:
        inputs["captions.ass"] = ActionInput(captions_ass(lowering, deliverable), "captions.ass")
        inputs.update(caption_fonts())
    lowering.actions.append(
        Action(
            id=f"proxy/{name}",
            kind="review_proxy",
            params={
                "width": width,
                "height": height,
                "fps": [fps.numerator, fps.denominator],
                "encoder": lowering.encoder(lowering.deliverable_encoder(name)),
                "timecode": bool(props.get("timecode")),
                "labels": labels,
                "captions": burn,
            },
            inputs=inputs,
            outputs=("review.mp4",),
            commands=deliver_backend.review_proxy_commands,
            hermetic=lowering.hermetic_video,
            description=f"{name}: review proxy",
        )
    )
    lowering.targets[name] = f"proxy/{name}"
    lowering.delivers[f"proxy/{name}"] = [("review.mp4", f"{name}.mp4")]


def _timeline(lowering: Lowering, deliverable: ir.Deliverable) -> None:
    """The editor's hand-off: the cut, its titles, voices, music and effects."""
    from reel.backends import timeline as timeline_backend

    from .lower_audio import line_starts

    name = deliverable.name
    fps = lowering.fps
    plan = lowering.plan
    inputs: dict[str, Any] = {}
    shots, titles, voices, effects, markers = [], [], [], [], []
    starts = line_starts(lowering)
    seen_scenes: set[str] = set()
    for index, shot in enumerate(plan.shotlist.shots):
        media = f"media/{shot.id}.mp4"
        inputs[media] = ActionInput(_clean_plate(lowering, index, shot), "segment.mp4")
        shots.append(
            {
                "id": shot.id,
                "media": media,
                "start": shot.start_frame,
                "frames": shot.duration_frames,
                # The transition into this shot; the media does not bake it in.
                "transition": lowering.transition(index, shot),
            }
        )
        if shot.scene_id not in seen_scenes:
            seen_scenes.add(shot.scene_id)
            markers.append({"name": shot.scene_id, "start": shot.start_frame})
        for overlay in shot.overlays:
            style = lowering.styles.get(overlay.style, {})
            length = (
                overlay.duration_frames
                if overlay.duration_frames is not None
                else shot.duration_frames - overlay.start_frame
            )
            titles.append(
                {
                    "text": overlay.text,
                    "start": shot.start_frame + overlay.start_frame,
                    "frames": max(1, length),
                    "style": overlay.style,
                    "font": style.get("font", "DejaVu Sans"),
                    "size": int(style.get("size", 64)),
                    "color": _fcp_colour(style.get("color", "#ffffff")),
                }
            )
        for cue in shot.lines:
            media = f"media/voice-{cue.line_id}.wav"
            inputs[media] = ActionInput(f"voice/{cue.line_id}", "voice.wav")
            voices.append(
                {
                    "id": cue.line_id,
                    "media": media,
                    "start": round(Fraction(starts[cue.line_id], 48000) * fps),
                }
            )
        for i, cue in enumerate(shot.sfx):
            media = f"media/effect-{shot.id}-{i}.wav"
            inputs[media] = ActionInput(f"effect/{cue.asset_id}", "effect.wav")
            effects.append(
                {
                    "name": cue.asset_id.rsplit("/", 1)[-1],
                    "media": media,
                    "start": shot.start_frame + cue.start_frame,
                }
            )
    music = None
    if lowering.episode.music is not None and any(a.id == "music_bed" for a in lowering.actions):
        music = "media/music.wav"
        inputs[music] = ActionInput("music_bed", "music.wav")
    params = {
        "episode": lowering.episode.id,
        "title": lowering.episode.title,
        "fps": [fps.numerator, fps.denominator],
        "width": plan.shotlist.width,
        "height": plan.shotlist.height,
        "total_frames": plan.shotlist.total_frames,
        "shots": shots,
        "titles": titles,
        "voices": voices,
        "effects": effects,
        "music": music,
        "markers": markers,
    }
    outputs = (*timeline_backend.OUTPUTS, *sorted(inputs))
    lowering.actions.append(
        Action(
            id=f"timeline/{name}",
            kind="timeline",
            params=params,
            inputs=inputs,
            outputs=outputs,
            run=timeline_backend.export,
            toolchain=False,
            description=f"{name}: OTIO, FCPXML, FCP7 XML and EDL with their media",
        )
    )
    lowering.targets[name] = f"timeline/{name}"
    lowering.delivers[f"timeline/{name}"] = [(out, f"{name}/{out}") for out in outputs]


def _clean_plate(lowering: Lowering, index: int, shot: Any) -> str:
    """The action whose ``segment.mp4`` is the shot's clean plate for V1: the
    shot's own frames (plate and motion) without its titles, which the timeline
    carries as live title elements, nor its transition, which the timeline
    carries as a transition. A shot with neither is its segment as rendered."""
    transition = lowering.transition(index, shot)
    if not shot.overlays and (transition["kind"] == "cut" or not transition["frames"]):
        return f"segment/{shot.id}"
    action_id = f"plate/{shot.id}"
    if not any(action.id == action_id for action in lowering.actions):
        lowering.actions.append(
            lowering.segment(
                index,
                shot,
                lowering.plan.shotlist.width,
                lowering.plan.shotlist.height,
                reframe=lowering.reframe,
                clean=True,
            )
        )
    return action_id


def _fcp_colour(colour: str) -> str:
    """'#rrggbb' → FCPXML's 'r g b a' in 0..1."""
    body = colour.lstrip("#")
    parts = [int(body[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    alpha = int(body[6:8], 16) / 255 if len(body) == 8 else 1.0
    return " ".join(f"{p:.4g}" for p in (*parts, alpha))


def _rendition(lowering: Lowering, deliverable: ir.Deliverable, props: dict[str, Any]) -> None:
    """The picture at the deliverable's size, crf and framing, with its captions.

    At the episode's own size and framing the shared picture is reused (as is
    when its crf is the master's, re-encoded at the deliverable's crf when
    captions are burned in); at any other size, crf or framing every shot is
    rendered again at the deliverable's settings.
    """
    name = deliverable.name
    episode = lowering.episode
    width, height = roles.size(deliverable, episode)
    encoder = lowering.deliverable_encoder(name)
    burn = roles.burns_captions(deliverable)
    reframe = str(props.get("reframe", "focus"))
    shared_size = (width, height) == (episode.width, episode.height) and reframe == lowering.reframe
    if shared_size and (burn or encoder.crf == lowering.plan.render_plan.encoder.crf):
        concat = "concat"
    else:
        concat = lowering.picture(width, height, f"@{name}", encoder=encoder, reframe=reframe)
    inputs: dict[str, Any] = {
        "video.mp4": ActionInput(concat, "video.mp4"),
        "audio.m4a": ActionInput(sound(lowering, deliverable), "audio.m4a"),
    }
    if burn:
        frame = None if (width, height) == (episode.width, episode.height) else (width, height)
        captions = captions_ass(lowering, deliverable, frame)
        inputs["captions.ass"] = ActionInput(captions, "captions.ass")
        inputs.update(caption_fonts())
    lowering.actions.append(
        Action(
            id=f"rendition/{name}",
            kind="rendition",
            params={"burn_captions": burn, "encoder": lowering.encoder(encoder)},
            inputs=inputs,
            outputs=("rendition.mp4",),
            commands=deliver_backend.finish_rendition_commands,
            hermetic=lowering.hermetic_video or not burn,
            description=f"{name}: {width}x{height} rendition",
        )
    )
    lowering.targets[name] = f"rendition/{name}"
    lowering.delivers[f"rendition/{name}"] = [("rendition.mp4", f"{name}.mp4")]
