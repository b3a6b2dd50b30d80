"""Every construct resolves to the typed IR it means."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from reel.lang.diagnostics import Diagnostics
from reel.lang.resolve import analyse
from reel.lang.values import Time

from helpers import write_tree
from test_parser import EVERYTHING


def test_every_construct_resolves(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.episode": EVERYTHING})
    diags = Diagnostics()
    ep = analyse(tmp_path / "main.episode", diags)
    assert (ep.width, ep.height, ep.fps) == (1920, 1080, Fraction(30000, 1001))
    assert (ep.runtime_min, ep.runtime_max) == (Time(Fraction(45), "s"), Time(Fraction(90), "s"))
    assert ep.title == 'The "Trap" of 5AM' and ep.genre == "drama" and ep.arc == "three_act"
    assert ep.music.path == "bed.wav" and ep.music.bpm == 96 and ep.music.gain_db == -6
    assert [(v.character, v.language, v.rate, v.pitch) for v in ep.voices] == [
        ("maya", "en-us", 165, 50)
    ]
    assert ep.caption_style == "standard"
    assert [(c.id, c.age, c.alive, c.role) for c in ep.cast] == [
        ("maya", 34, True, "lead"),
        ("rosa", 80, False, None),
    ]
    assert ep.locations[0].interior is True
    (scene,) = ep.scenes
    assert (scene.location, scene.time_of_day, scene.day, scene.phase) == (
        "cafe",
        "morning",
        2,
        "peak",
    )
    assert scene.present == ("maya", "rosa")
    assert [(f.character, f.attribute, f.value, f.after_shot) for f in scene.facts] == [
        ("maya", "age", 34, 3),
        ("rosa", "alive", False, 3),
    ]
    hook, close, auto = scene.shots
    assert hook.template == "hook" and hook.duration == Time(Fraction(2), "s")
    assert hook.plate.colours == ("#111111", "#ffffff")  # "#111" expanded, arg bound
    assert hook.overlays[0].text == "X" and hook.overlays[0].style == "accent"
    assert close.duration == Time(Fraction(3, 2), "s")
    assert (close.focus, close.tags) == ("left", ("character", "object"))
    assert close.plate.in_point == Time(Fraction(1), "s")
    assert close.plate.out_point == Time(Fraction(48), "f")
    assert dict(close.plate.options) == {"fit": "contain"}
    assert (close.motion.kind, close.motion.amount, close.motion.toward, close.motion.ease) == (
        "ken_burns",
        Fraction(6, 5),
        "top_left",
        False,
    )
    title, kinetic = close.overlays
    assert (title.at, title.duration, title.position) == (
        Time(Fraction(1, 2), "s"),
        Time(Fraction(1), "s"),
        "lower_third",
    )
    assert kinetic.style == "kinetic"  # the default style of its kind
    (line,) = close.lines
    assert (line.speaker, line.mood, line.file) == ("maya", "tense", "vo/1.wav")
    assert close.sfx[0].at == Time(Fraction(1, 5), "s") and close.sfx[0].gain_db == -3
    assert (close.transition.kind, close.transition.duration) == (
        "dip_to_black",
        Time(Fraction(12), "f"),
    )
    assert auto.duration is None and auto.plate.kind == "placeholder"
    assert auto.plate.description == "later"
    blocks = {
        b.kind: dict(b.props)
        for b in (*ep.text_styles, *ep.caption_styles, *ep.presets, *ep.assets)
        if b.name in ("accent", "cs", "p", "bed.wav")
    }
    assert blocks["text_style"]["color"] == "#ffcc00" and blocks["text_style"]["bold"] is True
    assert blocks["caption_style"]["accent_ratio"] == 30
    assert blocks["caption_style"]["min_gap"] == Time(Fraction(2), "f")
    assert blocks["preset"]["loudness"] == -14 and blocks["preset"]["captions"] == "sidecar"
    assert blocks["asset"]["retrieval_date"] == "2026-01-02"
    master, bare = ep.deliverables  # in declaration order: roles follow it, not names
    assert (master.name, bare.name) == ("master", "bare")
    assert dict(master.props)["crf"] == 18 and "crf" not in dict(bare.props)
    assert [w.message for w in diags.warnings] == []
