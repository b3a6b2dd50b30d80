"""The Resolve timeline: a self-contained folder with the cut as OTIO, FCPXML
1.10, FCP7 XML and a CMX3600 EDL, and its media beside it (relative paths).

OpenTimelineIO is the model, and writes the .otio, the FCP7 XML and the EDL
through its adapters. FCPXML 1.10 is written here by hand: OTIO's FCPXML
writer drops titles and effects, and Resolve users need the titles as
editable title elements.

Tracks: V1 the shot segments, V2 the titles (generator clips), A1 the voice
lines, A2 the music bed, A3 the effects; a marker at each scene start.
"""

from __future__ import annotations

import wave
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

OUTPUTS = ("timeline.otio", "timeline.fcpxml", "timeline.xml", "timeline.edl")


def _wav_frames(path: Path, fps: Fraction) -> int:
    with wave.open(str(path), "rb") as handle:
        seconds = Fraction(handle.getnframes(), handle.getframerate())
    return max(1, -(-int(seconds * fps * 1000) // 1000))  # ceil to whole frames


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


def build_timeline(sandbox: Path, params: dict[str, Any]) -> Any:
    import opentimelineio as otio

    fps = Fraction(*params["fps"])
    rate = float(fps)

    def rt(frames: int) -> Any:
        return otio.opentime.RationalTime(frames, rate)

    def clip(name: str, media: str, frames: int, start_in: int = 0) -> Any:
        ref = otio.schema.ExternalReference(
            target_url=media, available_range=otio.opentime.TimeRange(rt(0), rt(frames + start_in))
        )
        return otio.schema.Clip(
            name=name,
            media_reference=ref,
            source_range=otio.opentime.TimeRange(rt(start_in), rt(frames)),
        )

    timeline = otio.schema.Timeline(name=params["title"])
    video = [
        (s["start"], s["frames"], clip(s["id"], s["media"], s["frames"])) for s in params["shots"]
    ]
    titles = []
    for t in params["titles"]:
        ref = otio.schema.GeneratorReference(
            name="title",
            generator_kind="Title",
            parameters={"text": t["text"], "style": t["style"]},
            available_range=otio.opentime.TimeRange(rt(0), rt(t["frames"])),
        )
        titles.append(
            (
                t["start"],
                t["frames"],
                otio.schema.Clip(
                    name=t["text"],
                    media_reference=ref,
                    source_range=otio.opentime.TimeRange(rt(0), rt(t["frames"])),
                ),
            )
        )
    voices = [
        (
            v["start"],
            _wav_frames(sandbox / v["media"], fps),
            clip(v["id"], v["media"], _wav_frames(sandbox / v["media"], fps)),
        )
        for v in params["voices"]
    ]
    music = []
    if params["music"]:
        frames = _wav_frames(sandbox / params["music"], fps)
        music = [(0, frames, clip("music", params["music"], frames))]
    effects = [
        (
            e["start"],
            _wav_frames(sandbox / e["media"], fps),
            clip(e["name"], e["media"], _wav_frames(sandbox / e["media"], fps)),
        )
        for e in params["effects"]
    ]
    Video, Audio = otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio
    timeline.tracks.append(_track(otio, "V1", Video, video, rate))
    timeline.tracks.append(_track(otio, "V2 titles", Video, titles, rate))
    timeline.tracks.append(_track(otio, "A1 voice", Audio, voices, rate))
    timeline.tracks.append(_track(otio, "A2 music", Audio, music, rate))
    timeline.tracks.append(_track(otio, "A3 effects", Audio, effects, rate))
    for marker in params["markers"]:
        timeline.tracks.markers.append(
            otio.schema.Marker(
                name=marker["name"],
                marked_range=otio.opentime.TimeRange(rt(marker["start"]), rt(1)),
                color=otio.schema.MarkerColor.GREEN,
            )
        )
    return timeline


def _t(frames: int, fps: Fraction) -> str:
    """FCPXML rational time: frames × frame duration, in seconds."""
    value = Fraction(frames) / fps
    if value.denominator == 1:
        return f"{value.numerator}s"
    return f"{value.numerator}/{value.denominator}s"


def write_fcpxml(path: Path, params: dict[str, Any], sandbox: Path) -> None:
    fps = Fraction(*params["fps"])
    root = ET.Element("fcpxml", version="1.10")
    resources = ET.SubElement(root, "resources")
    frame = Fraction(1) / fps
    ET.SubElement(
        resources,
        "format",
        id="r1",
        width=str(params["width"]),
        height=str(params["height"]),
        frameDuration=f"{frame.numerator}/{frame.denominator}s",
    )
    ET.SubElement(
        resources,
        "effect",
        id="r2",
        name="Basic Title",
        uid=".../Titles.localized/Bumper:Opener.localized/Basic Title.localized/Basic Title.moti",
    )
    assets: dict[str, str] = {}

    def asset(media: str, frames: int, video: bool) -> str:
        if media not in assets:
            ident = f"a{len(assets) + 1}"
            node = ET.SubElement(
                resources,
                "asset",
                id=ident,
                name=Path(media).stem,
                start="0s",
                duration=_t(frames, fps),
                hasVideo="1" if video else "0",
                hasAudio="0" if video else "1",
                format="r1",
            )
            ET.SubElement(node, "media-rep", kind="original-media", src=media)
            assets[media] = ident
        return assets[media]

    library = ET.SubElement(root, "library")
    event = ET.SubElement(library, "event", name=params["episode"])
    project = ET.SubElement(event, "project", name=params["title"])
    sequence = ET.SubElement(
        project,
        "sequence",
        format="r1",
        duration=_t(params["total_frames"], fps),
        tcStart="0s",
        tcFormat="NDF",
        audioLayout="stereo",
        audioRate="48k",
    )
    spine = ET.SubElement(sequence, "spine")
    markers = {m["start"]: m["name"] for m in params["markers"]}
    clips = []
    for shot in params["shots"]:
        ref = asset(shot["media"], shot["frames"], True)
        node = ET.SubElement(
            spine,
            "asset-clip",
            ref=ref,
            name=shot["id"],
            offset=_t(shot["start"], fps),
            start="0s",
            duration=_t(shot["frames"], fps),
            format="r1",
        )
        clips.append((shot, node))
        if shot["start"] in markers:
            ET.SubElement(
                node, "marker", start="0s", duration=_t(1, fps), value=markers[shot["start"]]
            )

    def parent(start: int) -> tuple[dict, ET.Element]:
        return next(((s, n) for s, n in reversed(clips) if s["start"] <= start), clips[0])

    for i, title in enumerate(params["titles"]):
        shot, node = parent(title["start"])
        t = ET.SubElement(
            node,
            "title",
            ref="r2",
            lane="1",
            name=title["text"],
            offset=_t(title["start"] - shot["start"], fps),
            duration=_t(title["frames"], fps),
        )
        text = ET.SubElement(t, "text")
        ET.SubElement(text, "text-style", ref=f"ts{i + 1}").text = title["text"]
        style_def = ET.SubElement(t, "text-style-def", id=f"ts{i + 1}")
        ET.SubElement(
            style_def,
            "text-style",
            font=title["font"],
            fontSize=str(title["size"]),
            fontColor=title["color"],
            alignment="center",
        )
    lanes = [(-1, params["voices"], "id"), (-3, params["effects"], "name")]
    for lane, items, key in lanes:
        for item in items:
            frames = _wav_frames(sandbox / item["media"], fps)
            shot, node = parent(item["start"])
            ET.SubElement(
                node,
                "asset-clip",
                ref=asset(item["media"], frames, False),
                lane=str(lane),
                name=item[key],
                offset=_t(item["start"] - shot["start"], fps),
                start="0s",
                duration=_t(frames, fps),
            )
    if params["music"] and clips:
        frames = _wav_frames(sandbox / params["music"], fps)
        ET.SubElement(
            clips[0][1],
            "asset-clip",
            ref=asset(params["music"], frames, False),
            lane="-2",
            name="music",
            offset="0s",
            start="0s",
            duration=_t(frames, fps),
        )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + body + "\n",
        encoding="utf-8",
    )


def export(sandbox: Path, params: dict[str, Any]) -> None:
    import opentimelineio as otio

    timeline = build_timeline(sandbox, params)
    otio.adapters.write_to_file(timeline, str(sandbox / "timeline.otio"))
    # OTIO's FCP7 writer cannot write generator clips: the titles live in the
    # FCPXML (as editable title elements) and the .otio; FCP7 gets the rest.
    fcp7 = timeline.clone()
    del fcp7.tracks[1]
    otio.adapters.write_to_file(fcp7, str(sandbox / "timeline.xml"), adapter_name="fcp_xml")
    # CMX3600 holds one video track: the cut itself (V1), with its clip names.
    edl = otio.schema.Timeline(name=params["title"])
    edl.tracks.append(timeline.tracks[0].clone())
    otio.adapters.write_to_file(
        edl, str(sandbox / "timeline.edl"), adapter_name="cmx_3600", style="avid"
    )
    write_fcpxml(sandbox / "timeline.fcpxml", params, sandbox)
