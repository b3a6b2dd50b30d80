"""Every construct of the language parses into the AST it means."""

from __future__ import annotations

from pathlib import Path

from reel.lang import ast
from reel.lang.diagnostics import Diagnostics
from reel.lang.parser import parse_source
from reel.lang.source import SourceFile

EVERYTHING = r"""
# a comment
load "std/templates"   # trailing comment
episode pilot {
  title "The \"Trap\" of 5AM"
  format 1920x1080 @ 29.97fps
  runtime 45s .. 90s
  genre "drama"
  arc three_act
  music "bed.wav" bpm 96 license "CC0" gain -6dB
  voice maya = tts "en-us" rate 165 pitch 50
  captions standard
}
cast { character maya "Maya" age 34 role "lead"  character rosa "Rosa" age 80 dead }
locations { location cafe "Cafe" interior true }
template hook(text: text, bg: colour = "#000", n = 2s) {
  shot wide $n { plate gradient $bg "#fff" kinetic $text style accent }
}
scene s1 at cafe time morning day 2 phase peak {
  use hook("X", bg: "#111")
  shot close 1500ms focus left tag character tag object {
    plate video "v.mp4" in 1s out 48f fit contain
    move ken_burns 1.2 toward top_left ease false
    title "Hi" style title at 0.5s for 1s position lower_third
    kinetic "WOW"
    say maya "Hello." mood tense file "vo/1.wav"
    sfx "w.wav" at 200ms gain -3dB
    transition dip_to_black 12f
  }
  shot insert auto { plate placeholder "later" }
  fact maya age 34
  fact rosa dead
  present maya, rosa
}
text_style accent { color "#ffcc00" size 64 bold true }
caption_style cs { base accent accent_ratio 30% min_gap 2f }
preset p { kind video resolution 1280x720 loudness -14LUFS captions sidecar }
asset "bed.wav" { license_type "CC0" retrieval_date "2026-01-02" }
deliver master = p { crf 18 }
deliver bare = p
"""


def parse(text: str) -> tuple[ast.Module | None, Diagnostics]:
    diags = Diagnostics()
    source = SourceFile(Path("/virtual/t.episode"), text, "t.episode", "t.episode")
    return parse_source(source, diags), diags


def items(module: ast.Module, kind: type) -> list:
    return [i for i in module.items if isinstance(i, kind)]


def test_every_construct_parses_without_errors() -> None:
    module, diags = parse(EVERYTHING)
    assert not diags.items, [d.render() for d in diags.items]
    assert module is not None
    kinds = {type(i).__name__ for i in module.items}
    assert kinds == {
        "Load",
        "EpisodeDecl",
        "CastDecl",
        "LocationsDecl",
        "TemplateDecl",
        "SceneDecl",
        "BlockDecl",
        "DeliverDecl",
    }


def test_episode_settings_and_values() -> None:
    module, _ = parse(EVERYTHING)
    (episode,) = items(module, ast.EpisodeDecl)
    settings = {s.name: s for s in episode.settings}
    assert settings["title"].args[0] == ast.Value("string", 'The "Trap" of 5AM')
    assert settings["format"].args == (
        ast.Value("resolution", "1920x1080"),
        ast.Value("quantity", "29.97fps"),
    )
    assert settings["runtime"].args == (ast.Value("quantity", "45s"), ast.Value("quantity", "90s"))
    music = settings["music"]
    assert [(o.key, o.value.text) for o in music.options] == [
        ("bpm", "96"),
        ("license", "CC0"),
        ("gain", "-6dB"),
    ]
    voice = settings["voice"]
    # the character, the engine (`tts`: espeak-ng), the language
    assert voice.args[0] == ast.Value("name", "maya")
    assert [a.text for a in voice.args[1:]] == ["tts", "en-us"]
    assert settings["captions"].args[0] == ast.Value("name", "standard")


def test_cast_flags_and_locations() -> None:
    module, _ = parse(EVERYTHING)
    (cast,) = items(module, ast.CastDecl)
    maya, rosa = cast.characters
    assert (maya.id, maya.display_name.text, maya.flags) == ("maya", "Maya", ())
    assert rosa.flags == ("dead",)
    (locations,) = items(module, ast.LocationsDecl)
    assert locations.locations[0].options[0] == ast.Option("interior", ast.Value("bool", "true"))


def test_template_params_and_use_arguments() -> None:
    module, _ = parse(EVERYTHING)
    (template,) = items(module, ast.TemplateDecl)
    assert [(p.name, p.type, p.default) for p in template.params] == [
        ("text", "text", None),
        ("bg", "colour", ast.Value("string", "#000")),
        ("n", None, ast.Value("quantity", "2s")),
    ]
    shot = template.body[0]
    assert shot.duration == ast.Value("param", "n")
    (scene,) = items(module, ast.SceneDecl)
    use = scene.body[0]
    assert use == ast.UseStmt(
        "hook",
        (ast.UseArg(None, ast.Value("string", "X")), ast.UseArg("bg", ast.Value("string", "#111"))),
    )


def test_shot_statements() -> None:
    module, _ = parse(EVERYTHING)
    (scene,) = items(module, ast.SceneDecl)
    assert [(o.key, o.value.text) for o in scene.options] == [
        ("at", "cafe"),
        ("time", "morning"),
        ("day", "2"),
        ("phase", "peak"),
    ]
    shot = scene.body[1]
    assert shot.framing.text == "close" and shot.duration.text == "1500ms"
    assert [o.key for o in shot.options] == ["focus", "tag", "tag"]
    keywords = [i.keyword for i in shot.items]
    assert keywords == ["plate", "move", "title", "kinetic", "say", "sfx", "transition"]
    plate, move, title, kinetic, say, sfx, transition = shot.items
    assert plate.head.text == "video" and plate.args[0].text == "v.mp4"
    assert [o.key for o in plate.options] == ["in", "out", "fit"]
    assert move.head.text == "ken_burns" and move.args[0] == ast.Value("number", "1.2")
    assert title.args[0].text == "Hi" and len(title.options) == 4
    assert kinetic.options == ()
    assert say.head.text == "maya" and say.args[0].text == "Hello."
    assert sfx.args[0].text == "w.wav"
    assert transition.head.text == "dip_to_black" and transition.args[0].text == "12f"
    auto_shot = scene.body[2]
    assert auto_shot.duration is None


def test_facts_present_blocks_and_deliverables() -> None:
    module, _ = parse(EVERYTHING)
    (scene,) = items(module, ast.SceneDecl)
    facts = [s for s in scene.body if isinstance(s, ast.FactStmt)]
    assert [(f.character, f.attribute) for f in facts] == [("maya", "age"), ("rosa", "dead")]
    present = next(s for s in scene.body if isinstance(s, ast.PresentStmt))
    assert [v.text for v in present.characters] == ["maya", "rosa"]
    blocks = {b.kind: b for b in items(module, ast.BlockDecl)}
    assert set(blocks) == {"text_style", "caption_style", "preset", "asset"}
    assert blocks["asset"].name == "bed.wav"
    assert [p.key for p in blocks["preset"].props] == ["kind", "resolution", "loudness", "captions"]
    master, bare = items(module, ast.DeliverDecl)
    assert master.overrides == (ast.Prop("crf", ast.Value("number", "18")),)
    assert bare.overrides == ()


def test_spans_point_at_the_source() -> None:
    module, _ = parse('scene a {\n  shot wide 2s {\n    say maya "hi"\n  }\n}\n')
    say = module.items[0].body[0].items[0]
    assert (say.span.line, say.span.column) == (3, 5)
    assert (say.head.span.line, say.head.span.column) == (3, 9)


def test_layout_does_not_change_the_tree() -> None:
    dense, _ = parse('scene a { shot wide 2s { say maya "hi" } }')
    airy, _ = parse('# c\n\nscene a {\n\n  shot wide 2s {   # x\n say maya "hi"\n }\n}\n')
    assert dense == airy
