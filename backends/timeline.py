"""The Resolve timeline: a self-contained folder with the cut as OTIO, FCPXML
1.10, FCP7 XML and a CMX3600 EDL, and its media beside it (relative paths).

OpenTimelineIO is the model, and writes the .otio, the FCP7 XML and the EDL
through its adapters; what the adapters would otherwise guess (the FCP7 Text
generator, the sequence's frame size, transition alignment, reel names) is
given to them as the adapter metadata they read. FCPXML 1.10 is written here
by hand: OTIO's FCPXML writer drops titles and effects, and Resolve users need
the titles as editable title elements. It is valid against Apple's DTD
(``tests/dtd/FCPXMLv1_10.dtd``).

Tracks: V1 the shot segments (with their transitions), V2 the titles (live
text; V3 and up for titles that overlap), A1 the voice lines, A2 the music
bed, A3 the effects, A4 the video plates' own sound (only when a clip has
sound to hear); a marker at each scene start.

Transitions: a shot's ``transition`` (``{"kind", "frames"}``, from the shot
list) becomes a real transition where the format has one, starting at the cut
and lying over the incoming shot's first frames, the frames where the render
placed it. The segments carry no handles: the outgoing shot has no media past
its out point, so an editor's application holds its last frame (which is what
the render blends from) or shortens the transition.
"""

from __future__ import annotations

import re
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote

from .kind import Kind

OUTPUTS = ("timeline.otio", "timeline.fcpxml", "timeline.xml", "timeline.edl")

# Final Cut Pro's own effect identifiers (as FCP writes them in its exports).
BASIC_TITLE_UID = (
    ".../Titles.localized/Bumper:Opener.localized/Basic Title.localized/Basic Title.moti"
)
CROSS_DISSOLVE_UID = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"
FADE_TO_COLOR_UID = "FxPlug:F779C565-486D-4633-8035-0374B4DB8F5C"  # black by default

# Per transition kind: FCPXML transition name and effect, FCP7 effect name and id.
TRANSITIONS = {
    "crossfade": ("Cross Dissolve", "Cross Dissolve", CROSS_DISSOLVE_UID, "Cross Dissolve"),
    "dip_to_black": ("Dip to Color", "Fade To Color", FADE_TO_COLOR_UID, "Dip to Color Dissolve"),
}


# ---- what the params and the media say --------------------------------------------------
@dataclass(frozen=True)
class Sound:
    """An audio file's exact length, and the whole frames of it a timeline cuts.

    Timeline edits sit on frame boundaries, so a clip uses the whole frames
    the file holds (rounded down: a clip never asks for audio past the end of
    its file); the asset keeps its exact length in samples.
    """

    samples: int
    rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.samples, self.rate)


def _sound(path: Path, fps: Fraction) -> Sound:
    with wave.open(str(path), "rb") as handle:
        samples, rate, channels = handle.getnframes(), handle.getframerate(), handle.getnchannels()
    return Sound(samples, rate, channels, int(Fraction(samples, rate) * fps))


@dataclass(frozen=True)
class Transition:
    """A transition into shot ``index``, over its first ``frames`` frames."""

    index: int
    kind: str
    frames: int


def transitions(params: dict[str, Any]) -> list[Transition]:
    """The shots' transitions, as the render made them.

    Reads each shot's ``transition`` param. A crossfade into the first shot
    has nothing to fade from, and is a dip from black, as the render draws it.
    Shots without the param (older plans) are cuts.
    """
    out = []
    for index, shot in enumerate(params["shots"]):
        spec = shot.get("transition") or {}
        kind, frames = spec.get("kind", "cut"), int(spec.get("frames", 0))
        if kind == "crossfade" and index == 0:
            kind = "dip_to_black"
        if kind in TRANSITIONS and frames > 0:
            out.append(Transition(index, kind, min(frames, shot["frames"])))
    return out


def media_url(media: str) -> str:
    """A media path as a relative URL reference (RFC 3986), resolved against the
    timeline file's own location: the folder stays self-contained and
    machine-independent, which an absolute ``file://`` URL cannot be."""
    return quote(media, safe="/")


def reel_names(shots: list[dict[str, Any]]) -> dict[str, str]:
    """A unique CMX3600 reel name (8 characters, letters and digits) per source file.

    Cutting shot ids to eight characters gives every shot of a scene the same
    reel (``cold_open.s01``, ``.s02`` → ``coldopen``), and conforming by reel
    then links the wrong file. Each file gets up to four letters of its id and
    a running number instead; the clip name stays in ``* FROM CLIP NAME:``.
    """
    names: dict[str, str] = {}
    for shot in shots:
        if shot["media"] not in names:
            stem = re.sub(r"[^A-Za-z0-9]", "", shot["id"]).upper()[:4] or "REEL"
            names[shot["media"]] = f"{stem}{len(names) + 1:0{8 - len(stem)}d}"
    return names


# ---- the OTIO model ---------------------------------------------------------------------
def _track(otio: Any, name: str, kind: Any, items: list[tuple[int, int, Any]], rate: float) -> Any:
    """A track from (start frame, length in frames, clip) items, with gaps between."""
    track = otio.schema.Track(name=name, kind=kind)
    cursor = 0
    for start, length, clip in sorted(items, key=lambda x: x[0]):
        if start > cursor:
            track.append(
                otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(0, rate),
                        otio.opentime.RationalTime(start - cursor, rate),
                    )
                )
            )
        elif start < cursor:  # overlaps cannot share a track: trim to what fits
            trim = cursor - start
            if trim >= length:
                continue
            clip.source_range = otio.opentime.TimeRange(
                clip.source_range.start_time + otio.opentime.RationalTime(trim, rate),
                otio.opentime.RationalTime(length - trim, rate),
            )
            length -= trim
        track.append(clip)
        cursor = max(cursor, start) + length
    return track


def _fcp7_rate(fps: Fraction) -> dict[str, Any]:
    timebase = -(-fps.numerator // fps.denominator)
    return {"timebase": timebase, "ntsc": "FALSE" if timebase == fps else "TRUE"}


def _fcp7_colour(colour: str) -> dict[str, int]:
    """FCPXML's 'r g b a' (0..1) as an FCP7 colour value (0..255)."""
    parts = [round(float(p) * 255) for p in colour.split()] + [255] * 4
    red, green, blue, alpha = parts[:4]
    return {"alpha": alpha, "red": red, "green": green, "blue": blue}


def _text_generator(otio: Any, title: dict[str, Any], rate: float) -> Any:
    """A title as FCP 7's Text generator (a ``generatoritem`` in FCP7 XML).

    OTIO has no title schema: a GeneratorReference whose ``fcp_xml`` metadata
    holds the effect's fields is what the FCP7 adapter writes as a
    ``generatoritem`` (and reads back the same way); the text is its ``str``
    parameter, as Final Cut 7 and Resolve read it.
    """
    effect = {
        "effectcategory": "Text",
        "effecttype": "generator",
        "mediatype": "video",
        "parameter": [
            {"parameterid": "str", "name": "Text", "value": title["text"]},
            {"parameterid": "fontname", "name": "Font", "value": title["font"]},
            {"parameterid": "fontsize", "name": "Size", "value": title["size"]},
            {"parameterid": "fontalign", "name": "Alignment", "value": 2},  # centre
            {
                "parameterid": "fontcolor",
                "name": "Font Color",
                "value": _fcp7_colour(title["color"]),
            },
        ],
    }
    frames = otio.opentime.RationalTime(title["frames"], rate)
    zero = otio.opentime.RationalTime(0, rate)
    reference = otio.schema.GeneratorReference(
        name="Text",
        generator_kind="Text",
        parameters={"text": title["text"], "style": title["style"]},
        available_range=otio.opentime.TimeRange(zero, frames),
        metadata={"fcp_xml": effect},
    )
    return otio.schema.Clip(
        name=title["text"],
        media_reference=reference,
        source_range=otio.opentime.TimeRange(zero, frames),
    )


def _transition(otio: Any, transition: Transition, rate: float) -> Any:
    """An OTIO transition over the incoming shot's first frames (``in_offset`` 0).

    The FCP7 adapter writes such a transition with alignment ``start-black``
    and a Cross Dissolve unless told otherwise; its ``fcp_xml`` metadata gives
    the alignment FCP 7 uses for a transition that starts at the cut (``start``;
    a dip from black is ``start-black``) and the effect.
    """
    name, _, _, effect_id = TRANSITIONS[transition.kind]
    return otio.schema.Transition(
        name=name,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=otio.opentime.RationalTime(0, rate),
        out_offset=otio.opentime.RationalTime(transition.frames, rate),
        metadata={
            "reel": {"kind": transition.kind},
            "fcp_xml": {
                "alignment": "start-black" if transition.kind == "dip_to_black" else "start",
                "effect": {
                    "name": effect_id,
                    "effectid": effect_id,
                    "effectcategory": "Dissolve",
                    "effecttype": "transition",
                    "mediatype": "video",
                },
            },
        },
    )


def _title_lanes(titles: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Titles on as many video tracks as their overlaps need (V2, V3, ...).

    Two titles on screen at once cannot share a track; each goes on the lowest
    track free at its start, so none is trimmed or dropped. There is always at
    least one title track.
    """
    lanes: list[list[dict[str, Any]]] = [[]]
    ends = [0]
    for title in sorted(titles, key=lambda t: t["start"]):
        lane = next((i for i, end in enumerate(ends) if end <= title["start"]), len(lanes))
        if lane == len(lanes):
            lanes.append([])
            ends.append(0)
        lanes[lane].append(title)
        ends[lane] = title["start"] + title["frames"]
    return lanes


def build_timeline(sandbox: Path, params: dict[str, Any]) -> Any:
    import opentimelineio as otio

    fps = Fraction(*params["fps"])
    rate = float(fps)
    reels = reel_names(params["shots"])

    def rt(frames: int) -> Any:
        return otio.opentime.RationalTime(frames, rate)

    def clip(name: str, media: str, frames: int, fcp: dict[str, Any]) -> Any:
        ref = otio.schema.ExternalReference(
            target_url=media_url(media),
            available_range=otio.opentime.TimeRange(rt(0), rt(frames)),
            metadata={"fcp_xml": fcp},
        )
        return otio.schema.Clip(
            name=name, media_reference=ref, source_range=otio.opentime.TimeRange(rt(0), rt(frames))
        )

    def sound_clip(name: str, media: str) -> tuple[int, Any]:
        sound = _sound(sandbox / media, fps)
        audio = {"samplecharacteristics": {"depth": 16, "samplerate": sound.rate}}
        fcp = {"media": {"audio": {**audio, "channelcount": sound.channels}}}
        return sound.frames, clip(name, media, sound.frames, fcp)

    picture = {"width": params["width"], "height": params["height"]}
    video = []
    for shot in params["shots"]:
        item = clip(
            shot["id"],
            shot["media"],
            shot["frames"],
            {"media": {"video": {"samplecharacteristics": picture}}},
        )
        item.metadata["cmx_3600"] = {"reel": reels[shot["media"]]}
        video.append((shot["start"], shot["frames"], item))
    title_lanes = _title_lanes(params["titles"])
    voices = [(v["start"], *sound_clip(v["id"], v["media"])) for v in params["voices"]]
    music = [(0, *sound_clip("music", params["music"]))] if params["music"] else []
    effects = [(e["start"], *sound_clip(e["name"], e["media"])) for e in params["effects"]]
    camera = [(c["start"], *sound_clip(c["name"], c["media"])) for c in params.get("camera", [])]

    timeline = otio.schema.Timeline(name=params["title"])
    # The sequence's frame size and rate, which FCP7 XML keeps in <format>.
    sample = {"rate": _fcp7_rate(fps), **picture, "anamorphic": "FALSE"}
    sample |= {"pixelaspectratio": "square", "fielddominance": "none"}
    timeline.metadata["fcp_xml"] = {
        "media": {"video": {"format": {"samplecharacteristics": sample}}}
    }
    Video, Audio = otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio
    v1 = _track(otio, "V1", Video, video, rate)
    for transition in reversed(transitions(params)):
        shot_id = params["shots"][transition.index]["id"]
        position = next(i for i, item in enumerate(v1) if item.name == shot_id)
        v1.insert(position, _transition(otio, transition, rate))
    timeline.tracks.append(v1)
    for lane, titles in enumerate(title_lanes):
        items = [(t["start"], t["frames"], _text_generator(otio, t, rate)) for t in titles]
        timeline.tracks.append(_track(otio, f"V{lane + 2} titles", Video, items, rate))
    timeline.tracks.append(_track(otio, "A1 voice", Audio, voices, rate))
    timeline.tracks.append(_track(otio, "A2 music", Audio, music, rate))
    timeline.tracks.append(_track(otio, "A3 effects", Audio, effects, rate))
    if camera:  # the video plates' own sound, each under its shot
        timeline.tracks.append(_track(otio, "A4 camera", Audio, camera, rate))
    for marker in params["markers"]:
        timeline.tracks.markers.append(
            otio.schema.Marker(
                name=marker["name"],
                marked_range=otio.opentime.TimeRange(rt(marker["start"]), rt(1)),
                color=otio.schema.MarkerColor.GREEN,
            )
        )
    return timeline


# ---- FCPXML 1.10 ------------------------------------------------------------------------
def _time(value: Fraction) -> str:
    """FCPXML rational time in seconds: exact, '5s' or '12345/48000s'."""
    if value.denominator == 1:
        return f"{value.numerator}s"
    return f"{value.numerator}/{value.denominator}s"


def _t(frames: int, fps: Fraction) -> str:
    """FCPXML time of a whole number of frames."""
    return _time(Fraction(frames) / fps)


class _Fcpxml:
    """The FCPXML document being written: resources, then the spine's clips.

    The DTD fixes the order of a clip's children: anchored items (titles,
    connected audio) before markers, so markers are added last (:meth:`finish`).
    """

    def __init__(self, params: dict[str, Any], sandbox: Path) -> None:
        self.params, self.sandbox = params, sandbox
        self.fps = Fraction(*params["fps"])
        self.root = ET.Element("fcpxml", version="1.10")
        self.resources = ET.SubElement(self.root, "resources")
        ET.SubElement(
            self.resources,
            "format",
            id="r1",
            width=str(params["width"]),
            height=str(params["height"]),
            frameDuration=_time(1 / self.fps),
        )
        self.effects: dict[str, str] = {}
        self.assets: dict[str, str] = {}
        self.clips: list[tuple[dict[str, Any], ET.Element]] = []

    def effect(self, name: str, uid: str) -> str:
        if uid not in self.effects:
            ident = f"r{len(self.effects) + 2}"
            ET.SubElement(self.resources, "effect", id=ident, name=name, uid=uid)
            self.effects[uid] = ident
        return self.effects[uid]

    def _asset(self, media: str, attributes: dict[str, str]) -> str:
        if media not in self.assets:
            ident = f"a{len(self.assets) + 1}"
            node = ET.SubElement(
                self.resources, "asset", id=ident, name=Path(media).stem, start="0s", **attributes
            )
            ET.SubElement(node, "media-rep", kind="original-media", src=media_url(media))
            self.assets[media] = ident
        return self.assets[media]

    def video_asset(self, media: str, frames: int) -> str:
        """A shot segment: picture only, exactly ``frames`` frames long."""
        attributes = {"duration": _t(frames, self.fps), "hasVideo": "1", "videoSources": "1"}
        return self._asset(media, {**attributes, "hasAudio": "0", "format": "r1"})

    def audio_asset(self, media: str, sound: Sound) -> str:
        """An audio file: its exact length, rate and channels, and no video format."""
        return self._asset(
            media,
            {
                "duration": _time(sound.seconds),
                "hasVideo": "0",
                "hasAudio": "1",
                "audioSources": "1",
                "audioChannels": str(sound.channels),
                "audioRate": str(sound.rate),
            },
        )

    def spine(self) -> ET.Element:
        params = self.params
        library = ET.SubElement(self.root, "library")
        event = ET.SubElement(library, "event", name=params["episode"])
        project = ET.SubElement(event, "project", name=params["title"])
        sequence = ET.SubElement(
            project,
            "sequence",
            format="r1",
            duration=_t(params["total_frames"], self.fps),
            tcStart="0s",
            tcFormat="NDF",
            audioLayout="stereo",
            audioRate="48k",
        )
        return ET.SubElement(sequence, "spine")

    def shots(self, spine: ET.Element) -> None:
        into = {t.index: t for t in transitions(self.params)}
        for index, shot in enumerate(self.params["shots"]):
            if index in into:
                self.transition(spine, into[index], shot)
            node = ET.SubElement(
                spine,
                "asset-clip",
                ref=self.video_asset(shot["media"], shot["frames"]),
                name=shot["id"],
                offset=_t(shot["start"], self.fps),
                start="0s",
                duration=_t(shot["frames"], self.fps),
                format="r1",
            )
            self.clips.append((shot, node))

    def transition(self, spine: ET.Element, transition: Transition, shot: dict[str, Any]) -> None:
        """A transition starting at the cut into ``shot``, over its first frames."""
        name, effect_name, uid, _ = TRANSITIONS[transition.kind]
        node = ET.SubElement(
            spine,
            "transition",
            name=name,
            offset=_t(shot["start"], self.fps),
            duration=_t(transition.frames, self.fps),
        )
        ET.SubElement(node, "filter-video", ref=self.effect(effect_name, uid), name=effect_name)

    def parent(self, start: int) -> tuple[dict[str, Any], ET.Element]:
        """The spine clip a connected item at ``start`` hangs from."""
        return next(((s, n) for s, n in reversed(self.clips) if s["start"] <= start), self.clips[0])

    def titles(self) -> None:
        """Each title a Basic Title in lane 1, connected to the shot it starts in."""
        ref = self.effect("Basic Title", BASIC_TITLE_UID) if self.params["titles"] else ""
        for i, title in enumerate(self.params["titles"]):
            shot, node = self.parent(title["start"])
            element = ET.SubElement(
                node,
                "title",
                ref=ref,
                lane="1",
                name=title["text"],
                offset=_t(title["start"] - shot["start"], self.fps),
                start="0s",
                duration=_t(title["frames"], self.fps),
            )
            text = ET.SubElement(element, "text")
            ET.SubElement(text, "text-style", ref=f"ts{i + 1}").text = title["text"]
            style_def = ET.SubElement(element, "text-style-def", id=f"ts{i + 1}")
            ET.SubElement(
                style_def,
                "text-style",
                font=title["font"],
                fontSize=str(title["size"]),
                fontColor=title["color"],
                alignment="center",
            )

    def sounds(self) -> None:
        """Voices (lane -1), music (-2, from the start), effects (-3) and the
        video plates' own sound (-4, each at its shot's start)."""
        items = [(-1, v["id"], v["media"], v["start"]) for v in self.params["voices"]]
        if self.params["music"]:
            items.append((-2, "music", self.params["music"], 0))
        items += [(-3, e["name"], e["media"], e["start"]) for e in self.params["effects"]]
        items += [(-4, c["name"], c["media"], c["start"]) for c in self.params.get("camera", [])]
        for lane, name, media, start in items:
            sound = _sound(self.sandbox / media, self.fps)
            shot, node = self.parent(start)
            # A clip shorter than one frame keeps its exact length.
            length = _t(sound.frames, self.fps) if sound.frames else _time(sound.seconds)
            ET.SubElement(
                node,
                "asset-clip",
                ref=self.audio_asset(media, sound),
                lane=str(lane),
                name=name,
                offset=_t(start - shot["start"], self.fps),
                start="0s",
                duration=length,
            )

    def finish(self) -> str:
        markers = {m["start"]: m["name"] for m in self.params["markers"]}
        for shot, node in self.clips:
            if shot["start"] in markers:
                ET.SubElement(
                    node,
                    "marker",
                    start="0s",
                    duration=_t(1, self.fps),
                    value=markers[shot["start"]],
                )
        ET.indent(self.root)
        for text in self.root.iter("text"):  # mixed content: indenting would add to the title
            text.text = None
            for span in text:
                span.tail = None
        body = ET.tostring(self.root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + body + "\n"


def write_fcpxml(path: Path, params: dict[str, Any], sandbox: Path) -> None:
    document = _Fcpxml(params, sandbox)
    spine = document.spine()
    document.shots(spine)
    if document.clips:
        document.titles()
        document.sounds()
    path.write_text(document.finish(), encoding="utf-8")


# ---- CMX3600 ----------------------------------------------------------------------------
_CUT_LINE = re.compile(r"^(\d{3})  (\S+)(\s+)(\S+)(\s+)C(\s+)(\S+) (\S+) (\S+) (\S+)$")


def _dips_from_black(text: str, dips: set[str]) -> str:
    """Make each dip's A side black (``BL``).

    OTIO's CMX writer writes every dissolve from the previous event's reel;
    a dip from black starts from black. In a dissolve into a dipping shot, the
    zero-length cut line gets the reel ``BL`` and the event's ``* FROM``
    comments (naming the previous clip) go; the dissolve line is unchanged.
    """
    lines = text.split("\n")
    dropped: set[int] = set()
    for i, line in enumerate(lines[:-1]):
        match = _CUT_LINE.match(line)
        dissolve = lines[i + 1]
        if not (match and dissolve[5:13].strip() in dips and dissolve[20:22] == "D "):
            continue
        zero, record = "00:00:00:00", match.group(9)
        times = f"{zero} {zero} {record} {record}"
        lines[i] = f"{match.group(1)}  {'BL':8} {match.group(4):5} C        {times}"
        j = i + 2
        while j < len(lines) and lines[j].startswith("* FROM"):
            dropped.add(j)
            j += 1
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


_DISSOLVE = re.compile(r"^(\d{3}  \S+\s+\S+\s+)D (\d{3})    ", re.MULTILINE)


def _standard_columns(text: str) -> str:
    """Dissolve lines in CMX3600's columns: the transition code in its four-wide
    field and the duration in the next (``D    008``). OTIO's writer puts the
    duration straight after the ``D`` (``D 008``), which column readers such as
    pycmx read as a transition ``D 00`` of operand ``8``."""
    return _DISSOLVE.sub(r"\1D    \2 ", text)


def write_edl(path: Path, timeline: Any, params: dict[str, Any]) -> None:
    """The cut (V1) with its dissolves, one unique reel per source file."""
    import opentimelineio as otio

    edl = otio.schema.Timeline(name=params["title"])
    edl.tracks.append(timeline.tracks[0].clone())
    text = otio.adapters.write_to_string(edl, adapter_name="cmx_3600", style="avid")
    reels = reel_names(params["shots"])
    dips = {
        reels[params["shots"][t.index]["media"]]
        for t in transitions(params)
        if t.kind == "dip_to_black"
    }
    path.write_text(_standard_columns(_dips_from_black(text, dips)), encoding="utf-8")


def export(sandbox: Path, params: dict[str, Any]) -> None:
    import opentimelineio as otio

    timeline = build_timeline(sandbox, params)
    otio.adapters.write_to_file(timeline, str(sandbox / "timeline.otio"))
    otio.adapters.write_to_file(timeline, str(sandbox / "timeline.xml"), adapter_name="fcp_xml")
    write_edl(sandbox / "timeline.edl", timeline, params)
    write_fcpxml(sandbox / "timeline.fcpxml", params, sandbox)


class _TimelineParamsOptional(TypedDict, total=False):
    """Parameters given only when there is camera sound, so other episodes keep their keys."""

    camera: list[dict[str, Any]]  # name, media, start: a video plate's own sound


class TimelineParams(_TimelineParamsOptional):
    episode: str
    title: str
    fps: list[int]
    width: int
    height: int
    total_frames: int
    shots: list[dict[str, Any]]  # id, media, start, frames, transition
    titles: list[dict[str, Any]]
    voices: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    music: str | None
    markers: list[dict[str, Any]]


TIMELINE = Kind(
    name="timeline",
    params=TimelineParams,
    inputs=("media/*",),
    outputs=(*OUTPUTS, "media/*"),
    run=export,
    toolchain=False,
    about="OTIO, FCPXML, FCP7 XML and CMX3600 EDL, with the media they reference",
)
