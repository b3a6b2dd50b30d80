"""The docs match the code, and every code block in them works.

* docs/language.md lists exactly the vocabulary the resolver uses
  (lang/vocabulary.py, the stdlib's presets, styles and templates, the defaults
  in the compiler), so neither can drift from the other;
* every documented keyword, option, colour name and closed-list word is walked
  through the parser and resolver in a minimal episode;
* every fenced block of README.md and docs/*.md is checked: `episode` blocks are
  parsed and resolved (and the files they name exist), `sh` blocks use only
  commands and options the CLI has, `text` blocks (the layout) name real paths,
  `synopsis` blocks use only words of the language.

Fast by design: the in-process parser and resolver, no render.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from reel import cli
from reel.backends.fonts import FAMILIES
from reel.compiler import plan as plan_mod
from reel.compiler import roles
from reel.compiler.media import check_media
from reel.compiler.rules.sound import DUCK_DEFAULTS
from reel.compiler.store import Store
from reel.lang import ast
from reel.lang import resolve as resolve_mod
from reel.lang import vocabulary as vocab
from reel.lang.diagnostics import Diagnostics, ReelError
from reel.lang.parser import keywords, parse_source
from reel.lang.source import SourceFile
from reel.lang.values import UNITS

from helpers import REPO, run_plan

LANGUAGE = REPO / "docs" / "language.md"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DOC_ASSETS = REPO / "examples" / "docs"
FENCE_KINDS = {"episode", "synopsis", "sh", "text"}


# ---- reading Markdown -----------------------------------------------------------------------
def fenced_blocks(path: Path) -> list[tuple[str, str, int]]:
    """(info string, text, line of the opening fence) of every fenced block."""
    out, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            info, start, body = lines[i][3:].strip(), i + 1, []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((info, "\n".join(body) + "\n", start))
        i += 1
    return out


def section(heading: str, path: Path = LANGUAGE) -> str:
    """The text under a heading (any level), up to the next heading of that level or above."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    assert match, f"no heading '{heading}' in {path.name}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def table(heading: str, path: Path = LANGUAGE) -> list[list[str]]:
    """The rows (cells, stripped) of the first table under a heading, header excluded."""
    rows: list[str] = []
    for line in section(heading, path).splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break  # the first table only
    assert rows, f"no table under '{heading}'"
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]
    return [c for c in cells[2:]]


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def first_column(heading: str) -> list[str]:
    return [ticked(row[0])[0] for row in table(heading)]


def closed_list(label: str) -> list[str]:
    """The words of a `- LABEL: `a`, `b` …` line of the scenes section."""
    text = section("Scenes and shots")
    match = re.search(rf"^- {label}[^:]*:(.*?)(?=^- |\n\n)", text, re.M | re.S)
    assert match, label
    return ticked(match.group(1))


def defaults(heading: str, option_col: int = 0, default_col: int = 2) -> dict[str, str]:
    return {
        ticked(row[option_col])[0]: (ticked(row[default_col]) or [row[default_col]])[0]
        for row in table(heading)
    }


# ---- the reference lists exactly the vocabulary --------------------------------------------
def test_units() -> None:
    assert first_column("Units") == list(UNITS)


def test_colour_names_and_values() -> None:
    documented = {ticked(r[0])[0]: ticked(r[1])[0] for r in table("Colours")}
    assert documented == vocab.COLOUR_NAMES


def test_keywords() -> None:
    assert sorted(first_column("Keywords")) == sorted(keywords())


@pytest.mark.parametrize(
    "label, words",
    [
        ("FRAMING", vocab.FRAMINGS),
        ("TIME_OF_DAY", vocab.TIMES_OF_DAY),
        ("PHASE", vocab.PHASES),
        ("VISUAL_TYPE", vocab.VISUAL_TYPES),
        ("POINT", vocab.FOCUS),
        ("POSITION", vocab.POSITIONS),
        ("FIT", vocab.FITS),
        ("EXTEND", vocab.EXTENDS),
        ("SOUND", vocab.SWITCHES),
        ("COLOUR", vocab.COLOUR_SPACES),
    ],
)
def test_closed_lists(label: str, words: tuple[str, ...]) -> None:
    assert closed_list(label) == list(words)


def test_music_options_and_defaults() -> None:
    documented = defaults("Music", default_col=2)
    assert list(documented) == list(vocab.MUSIC_OPTIONS)
    assert documented["duck"] == f"{DUCK_DEFAULTS['gain_db']:g}dB"
    assert documented["attack"] == f"{DUCK_DEFAULTS['attack'] * 1000:g}ms"
    assert documented["release"] == f"{DUCK_DEFAULTS['release'] * 1000:g}ms"


def test_voice_options_and_defaults() -> None:
    documented = defaults("Voices", default_col=2)
    assert list(documented) == list(vocab.VOICE_OPTIONS)
    assert documented["rate"] == str(resolve_mod.DEFAULT_VOICE_RATE)
    assert documented["pitch"] == str(resolve_mod.DEFAULT_VOICE_PITCH)


def test_piper_options_and_engines() -> None:
    text = LANGUAGE.read_text()
    section = text[text.index("Piper (`piper`) options:") :]
    rows = re.findall(r"^\| `(\w+)` \|", section.split("\n\n", 2)[1], re.M)
    assert rows == list(vocab.PIPER_VOICE_OPTIONS)
    for engine in vocab.VOICE_ENGINES:  # each engine is shown in the synopsis
        assert f"= {engine} " in text


def _option_pairs(heading: str) -> set[tuple[str, str]]:
    pairs = set()
    for row in table(heading):
        for statement in ticked(row[0]):
            for option in ticked(row[1]):
                pairs.add((statement, option))
    return pairs


EXPECTED_OPTIONS = {
    "scene": vocab.SCENE_OPTIONS,
    "shot": vocab.SHOT_OPTIONS,
    "title": vocab.OVERLAY_OPTIONS,
    "kinetic": vocab.OVERLAY_OPTIONS,
    "say": vocab.SAY_OPTIONS,
    "sfx": vocab.SFX_OPTIONS,
    "move": vocab.MOTION_OPTIONS,
    "music": vocab.MUSIC_OPTIONS,
    "voice": vocab.VOICE_OPTIONS,
    "character": vocab.CHARACTER_OPTIONS,
    "location": vocab.LOCATION_OPTIONS,
    "plate": {k: t for _, spec in vocab.PLATES.values() for k, t in spec.items()},
}


def test_every_option_of_every_statement() -> None:
    expected = {(s, o) for s, spec in EXPECTED_OPTIONS.items() for o in spec}
    assert _option_pairs("Options") == expected


def test_canon_options() -> None:
    expected = {(s, o) for s in ("character", "location") for o in EXPECTED_OPTIONS[s]}
    assert _option_pairs("Canon: cast and locations") == expected


_PLATE_VALUES = {
    "a path": ("path",),
    "a colour": ("colour",),
    "two colours": ("colour", "colour"),
    "a string": ("string",),
    "": (),
}


def test_plates() -> None:
    rows = table("Plates")
    assert [ticked(r[0])[0] for r in rows] == list(vocab.PLATES)
    for row in rows:
        kind = ticked(row[0])[0]
        wanted, spec = vocab.PLATES[kind]
        assert _PLATE_VALUES[row[1]] == wanted, kind
        assert ticked(re.sub(r"\([^)]*\)", "", row[2])) == list(spec), kind


def test_motions_and_transitions() -> None:
    motions = table("Motion")
    assert [ticked(r[0])[0] for r in motions] == list(vocab.MOTIONS)
    for row in motions:
        kind = ticked(row[0])[0]
        default = {"zoom": vocab.DEFAULT_ZOOM, "percent": vocab.DEFAULT_PAN + "%", None: None}
        assert (ticked(row[2]) or [None])[0] == default[vocab.MOTIONS[kind]], kind
    transitions = table("Transitions")
    assert [ticked(r[0])[0] for r in transitions] == list(vocab.TRANSITIONS)
    for row in transitions:
        kind = ticked(row[0])[0]
        takes = vocab.TRANSITIONS[kind]
        assert (ticked(row[2]) or [None])[0] == (vocab.DEFAULT_TRANSITION if takes else None)


def test_template_parameter_types() -> None:
    text = section("Templates")
    sentence = re.search(r"TYPE is one of (.*?)\n\(", text, re.S)
    assert sentence and ticked(sentence.group(1)) == list(vocab.TEMPLATE_PARAM_TYPES)


@pytest.mark.parametrize("block", list(vocab.BLOCK_PROPS))
def test_property_block_fields(block: str) -> None:
    assert first_column(f"{block} fields") == list(vocab.BLOCK_PROPS[block])


def test_preset_field_defaults_are_the_compilers() -> None:
    documented = defaults("preset fields")
    assert documented["kind"] == "video"
    assert documented["crf"] == str(roles.DEFAULT_CRF)
    assert documented["audio_bitrate"] == str(roles.DEFAULT_AUDIO_BITRATE)
    assert documented["loudness"] == f"{roles.DEFAULT_LOUDNESS:g}LUFS"
    assert documented["true_peak"] == f"{roles.DEFAULT_TRUE_PEAK:g}dBTP"
    rows = {ticked(r[0])[0]: r for r in table("preset fields")}
    assert ticked(rows["kind"][1]) == list(vocab.DELIVERABLE_KINDS)
    assert ticked(rows["captions"][1]) == list(vocab.CAPTION_MODES)
    assert ticked(rows["reframe"][1]) == list(roles.SUPPORTED["video"]["reframe"])


def test_asset_field_defaults_are_the_compilers() -> None:
    for field, default in defaults("asset fields").items():
        value = plan_mod.DEFAULT_RIGHTS[field]
        expected = {None: "none", False: "false", True: "true"}.get(value, f'"{value}"')
        assert default == expected, field


def test_fonts() -> None:
    row = next(r for r in table("text_style fields") if ticked(r[0]) == ["font"])
    assert sorted(t.strip('"') for t in ticked(row[1])) == sorted({f for f, _ in FAMILIES})


def test_what_each_deliverable_kind_reads() -> None:
    rows = table("Deliverables")
    assert [ticked(r[0])[0] for r in rows] == list(vocab.DELIVERABLE_KINDS)
    for row in rows:
        kind = ticked(row[0])[0]
        assert set(ticked(row[1])[0].split()) == roles.READS[kind] - {"kind"}, kind


def test_render_profiles_and_the_default() -> None:
    rows = table("Quality and render profiles")
    documented = {ticked(r[0])[0]: ticked(r[1])[0] for r in rows}
    assert documented == {name: p["preset"] for name, p in plan_mod.PROFILES.items()}
    (default,) = [ticked(r[0])[0] for r in rows if "default" in r[2]]
    build = cli.main.commands["build"]
    profile = next(p for p in build.params if p.name == "profile")
    assert default == profile.default
    # reel build --help says the same.
    help_text = " ".join(profile.help.split())
    for name, settings in plan_mod.PROFILES.items():
        assert f"{name} = " in help_text and settings["preset"] in help_text
    assert f"{default} = x264 preset {plan_mod.PROFILES[default]['preset']} (the default)" in (
        help_text
    )
    assert "crf" in help_text


def _stdlib_decls(name: str) -> list:
    path = REPO / "stdlib" / f"{name}.episode"
    module = parse_source(SourceFile(path, path.read_text(), path.name, path.name), Diagnostics())
    assert module is not None
    return list(module.items)


def _props_text(props: tuple[ast.Prop, ...]) -> str:
    return " ".join(
        f'{p.key} "{p.value.text}"' if p.value.kind == "string" else f"{p.key} {p.value.text}"
        for p in props
    )


def test_the_stdlib_presets_as_documented() -> None:
    documented = {ticked(r[0])[0]: ticked(r[1])[0] for r in table("std/deliverables")}
    shipped = {d.name: _props_text(d.props) for d in _stdlib_decls("deliverables")}
    assert documented == shipped


def test_the_stdlib_styles_as_documented() -> None:
    documented = {ticked(r[0])[0]: ticked(r[1])[0] for r in table("std/styles")}
    shipped = {d.name: _props_text(d.props) for d in _stdlib_decls("styles")}
    assert documented == shipped


def test_the_stdlib_arcs_as_documented() -> None:
    documented = {ticked(r[0])[0]: ticked(r[1])[0] for r in table("std/arcs")}
    shipped = {d.name: _props_text(d.props) for d in _stdlib_decls("arcs")}
    assert documented == shipped


def test_the_stdlib_templates_as_documented() -> None:
    from reel.lang.expand import _param_text

    documented = [ticked(r[0])[0] for r in table("std/templates")]
    shipped = [
        f"{t.name}({', '.join(_param_text(p) for p in t.params)})"
        for t in _stdlib_decls("templates")
    ]
    assert documented == shipped


def test_no_reference_a_user_cannot_look_up() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert not re.search(r"seed[ -]\d{3}|§", text), doc.name


# ---- every documented word through the parser and resolver ----------------------------------
HEADER = """load "std/deliverables"
episode t {
  title "T"
  format 640x360 @ 24fps
}
cast { character maya "Maya Chen" age 34  character leo "Leo" age 40 }
locations { location cafe "Cafe" }
"""
SAMPLE = {  # one valid value of each type the vocabulary names
    "time": "1s",
    "focus": "left",
    "name": "x",
    "path": '"assets/maya.png"',
    "decibels": "-3dB",
    "bpm": "96",
    "string": '"words"',
    "wpm": "170",
    "pitch": "40",
    "age": "30",
    "bool": "false",
    "int": "2",
    "number": "30",
    "percent": "10%",
    "position": "lower_third",
    "phase": "peak",
    "visual_type": "object",
    "time_of_day": "dusk",
    "location": "cafe",
    "text_style": "lower_third",
    "caption_style": "social",
    "fit": "contain",
    "extend": "loop",
    "colour_space": "linear",
    "switch": "off",
    "colour": "white",
    "loudness": "-16LUFS",
    "true_peak": "-2dBTP",
    "fps": "24fps",
    "resolution": "1280x720",
    "deliverable_kind": "video",
    "caption_mode": "both",
    "cleanup": "strong",
    "line_source": "camera",
    "date": '"2026-01-01"',
}
SOUND = {("music", "path"), ("sfx", "path"), ("say", "file")}


def _in_shot(statement: str) -> str:
    return f"scene s {{\n  shot wide 2s {{\n    {statement}\n  }}\n}}\n"


def _option_snippet(statement: str, option: str, value: str) -> str:
    return {
        "scene": f"scene s {option} {value} {{ shot wide 1s {{ }} }}\n",
        "shot": f"scene s {{ shot wide 1s {option} {value} {{ }} }}\n",
        "title": _in_shot(f'title "x" {option} {value}'),
        "kinetic": _in_shot(f'kinetic "x" {option} {value}'),
        # `clean` is a recorded line's: it comes with the recording; `from camera`
        # with the shot's take
        "say": _in_shot(f'say maya "hi" {RECORDING if option == "clean" else ""}{option} {value}')
        if option != "from"
        else _in_shot(f'plate video "assets/clip.mp4"  say maya "hi" from {value}'),
        "sfx": _in_shot(f'sfx "assets/sfx/whoosh.wav" {option} {value}'),
        "move": _in_shot(f"move ken_burns {option} {value}"),
        "music": f'episode_setting music "assets/bed.wav" {option} {value}',
        "voice": f'episode_setting voice maya = tts "en-us" {option} {value}',
        "character": f'cast {{ character zed "Zed" {option} {value} }}\n',
        "location": f'locations {{ location pier "Pier" {option} {value} }}\n',
    }[statement]


RECORDING = 'file "assets/bed.wav" '


def resolve_snippet(root: Path, snippet: str):
    """Resolve HEADER + snippet (an `episode_setting …` goes inside the episode block)."""
    text = HEADER
    if snippet.startswith("episode_setting "):
        text = text.replace("  title", f"  {snippet[len('episode_setting ') :]}\n  title", 1)
    else:
        text += snippet
    if not re.search(r"^scene ", text, re.M):
        text += "scene z { shot wide 1s { } }\n"
    if not (root / "assets").exists():
        shutil.copytree(DOC_ASSETS / "assets", root / "assets")
    (root / "main.episode").write_text(text, encoding="utf-8")
    diags = Diagnostics()
    try:
        return resolve_mod.analyse(root / "main.episode", diags)
    except ReelError as exc:
        raise AssertionError(
            "\n".join(f"{d.message} ({d.help})" for d in exc.diagnostics) + "\n" + text
        ) from None


def _documented_options() -> list[tuple[str, str]]:
    return sorted(
        (s, o) for s, o in _option_pairs("Options") if s not in ("plate", "title", "kinetic")
    ) + sorted((s, o) for s, o in _option_pairs("Options") if s in ("title", "kinetic"))


@pytest.mark.parametrize("statement, option", _documented_options())
def test_each_documented_option_resolves(tmp_path: Path, statement: str, option: str) -> None:
    type_ = EXPECTED_OPTIONS[statement][option]
    resolve_snippet(tmp_path, _option_snippet(statement, option, SAMPLE[type_]))


def _plate_cases() -> list[tuple[str, str]]:
    cases = []
    for row in table("Plates"):
        kind = ticked(row[0])[0]
        wanted, spec = vocab.PLATES[kind]
        args = " ".join(SAMPLE[t] if t != "colour" else "black" for t in wanted)
        cases.append((kind, args))
        for option, type_ in spec.items():
            cases.append((kind, f"{args} {option} {SAMPLE[type_]}"))
    return cases


@pytest.mark.parametrize("kind, rest", _plate_cases())
def test_each_documented_plate_and_plate_option_resolves(
    tmp_path: Path, kind: str, rest: str
) -> None:
    episode = resolve_snippet(tmp_path, _in_shot(f"plate {kind} {rest}"))
    assert episode.scenes[0].shots[0].plate.kind == kind


def _colour_places(name: str) -> dict[str, str]:
    return {
        "plate solid": _in_shot(f"plate solid {name}"),
        "plate gradient": _in_shot(f'plate gradient {name} "#123456"'),
        "plate checker": _in_shot(f"plate checker white {name} cell 8"),
        "plate stripes": _in_shot(f"plate stripes {name} {name} width 4"),
        "plate radial": _in_shot(f"plate radial {name} black radius 50"),
        "text_style": (
            f"text_style t {{ color {name} outline {name} shadow {name} box {name} }}\n"
            + _in_shot('title "x" style t')
        ),
        "template argument": (
            "template c(bg: colour) { shot wide 1s { plate solid $bg } }\n"
            f"scene s {{ use c({name}) }}\n"
        ),
        "template default": (
            f"template c(bg: colour = {name}) {{ shot wide 1s {{ plate solid $bg }} }}\n"
            "scene s { use c() }\n"
        ),
        "quoted": _in_shot(f'plate solid "{name}"'),
    }


@pytest.mark.parametrize("name", first_column("Colours"))
@pytest.mark.parametrize("place", list(_colour_places("x")))
def test_each_documented_colour_name_works_everywhere(tmp_path: Path, name: str, place) -> None:
    episode = resolve_snippet(tmp_path, _colour_places(name)[place])
    hex_value = vocab.COLOUR_NAMES[name]
    if place == "text_style":
        style = dict(next(s for s in episode.text_styles if s.name == "t").props)
        assert {style[k] for k in ("color", "outline", "shadow", "box")} == {hex_value}
    else:
        assert hex_value in episode.scenes[0].shots[0].plate.colours


_CLOSED = {
    "FRAMING": lambda w: f"scene s {{ shot {w} 1s {{ }} }}\n",
    "TIME_OF_DAY": lambda w: f"scene s time {w} {{ shot wide 1s {{ }} }}\n",
    "PHASE": lambda w: f"scene s phase {w} {{ shot wide 1s phase {w} {{ }} }}\n",
    "VISUAL_TYPE": lambda w: f"scene s {{ shot wide 1s tag {w} {{ }} }}\n",
    "POINT": lambda w: f"scene s {{ shot wide 1s focus {w} {{ move push_in toward {w} }} }}\n",
    "POSITION": lambda w: (
        f"text_style t {{ position {w} }}\n" + _in_shot(f'title "x" style t position {w}')
    ),
    "FIT": lambda w: _in_shot(f'plate image "assets/maya.png" fit {w}'),
}


@pytest.mark.parametrize(
    "label, word", [(label, w) for label in _CLOSED for w in closed_list(label)]
)
def test_each_documented_closed_list_word_resolves(tmp_path: Path, label: str, word: str) -> None:
    resolve_snippet(tmp_path, _CLOSED[label](word))


@pytest.mark.parametrize(
    "table_name, statement",
    [("Motion", "move {} "), ("Transitions", "transition {} ")],
)
def test_each_documented_move_and_transition_resolves(
    tmp_path: Path, table_name: str, statement: str
) -> None:
    for kind in first_column(table_name):
        resolve_snippet(tmp_path, _in_shot(statement.format(kind)))


@pytest.mark.parametrize("block", list(vocab.BLOCK_PROPS))
def test_each_documented_block_field_resolves(tmp_path: Path, block: str) -> None:
    fields = first_column(f"{block} fields")
    samples = {
        "font": '"DejaVu Serif"',
        "base": "caption_base",
        "accent": "accent",
        "animation": "pop",
        "reframe": "center",
        "container": "mp4",
        "video_codec": "h264",
        "audio_codec": "aac",
    }
    body = " ".join(f"{f} {samples.get(f, SAMPLE[vocab.BLOCK_PROPS[block][f]])}" for f in fields)
    name = '"assets/maya.png"' if block == "asset" else "b"
    resolve_snippet(tmp_path, f"{block} {name} {{ {body} }}\n")


def test_each_documented_unit_resolves(tmp_path: Path) -> None:
    uses = {
        "s": _in_shot('sfx "assets/sfx/whoosh.wav" at 1s'),
        "ms": _in_shot('sfx "assets/sfx/whoosh.wav" at 100ms'),
        "f": "scene s { shot wide 12f { } }\n",
        "fps": "preset p { fps 24fps }\n",
        "%": "text_style t { margin 5% }\n",
        "dB": _in_shot('sfx "assets/sfx/whoosh.wav" gain -3dB'),
        "LUFS": "preset p { loudness -20LUFS }\n",
        "dBTP": "preset p { true_peak -2dBTP }\n",
    }
    assert set(uses) == set(first_column("Units"))
    for snippet in uses.values():
        resolve_snippet(tmp_path, snippet)


def test_every_documented_keyword_is_in_a_tested_example() -> None:
    words: set[str] = set()
    for doc in DOCS:
        for info, text, _ in fenced_blocks(doc):
            if info == "episode":
                words |= set(re.findall(r"[A-Za-z_]+", re.sub(r'"[^"]*"|#.*', "", text)))
    assert set(first_column("Keywords")) <= words


# ---- every code block of the README and the docs ---------------------------------------------
def _blocks(kind: str) -> list:
    return [
        pytest.param(doc, text, id=f"{doc.name}:{line}")
        for doc in DOCS
        for info, text, line in fenced_blocks(doc)
        if info == kind
    ]


def test_every_block_says_what_it_is() -> None:
    for doc in DOCS:
        for info, _, line in fenced_blocks(doc):
            assert info in FENCE_KINDS, (
                f"{doc.name}:{line}: fence '{info}' is not one of {FENCE_KINDS}"
            )


@pytest.mark.parametrize("doc, text", _blocks("episode"))
def test_every_episode_block_parses_resolves_and_its_files_exist(
    tmp_path: Path, doc: Path, text: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(DOC_ASSETS / "assets", project / "assets")
    for folder in ("footage", "vo"):  # the README's footage block names the phone example's
        shutil.copytree(REPO / "examples" / "phone" / folder, project / folder)
    if not re.search(r"^episode ", text, re.M):
        text = HEADER + text
    (project / "main.episode").write_text(text, encoding="utf-8")
    diags = Diagnostics()
    try:
        episode = resolve_mod.analyse(project / "main.episode", diags)
        roles.check_deliverables(episode, diags)
        assert not diags.has_errors(), diags.errors
        # Missing sounds are errors (pictures become placeholders): the media check.
        check_media(episode, project, Store(tmp_path / "cache"))
    except ReelError as exc:
        raise AssertionError("\n".join(str(d.message) for d in exc.diagnostics)) from None


def test_the_readme_one_screen_is_the_shipped_example() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## The language in one screen\n\n```episode\n(.*?)```\n", readme, re.S)
    assert block
    assert (DOC_ASSETS / "one_screen.episode").read_text(encoding="utf-8") == block.group(1)


def test_the_shipped_one_screen_example_checks(tmp_path: Path) -> None:
    """`reel check examples/docs` as a reader would run it (gates included;
    without a cache, lines are timed by estimate, so no voice is rendered)."""
    project = tmp_path / "docs"
    shutil.copytree(DOC_ASSETS, project)
    out = run_plan(project, "one_screen.episode")
    assert out.exit_code == 0, [d.message for d in out.errors]


def test_the_doc_assets_are_small() -> None:
    files = [p for p in (DOC_ASSETS / "assets").rglob("*") if p.is_file()]
    assert files and sum(p.stat().st_size for p in files) < 200_000


_SHELL_OK = {"pip", "python", "mkdir", "cd", "sh", "nginx"}


def _dask_command(name: str):  # the click command of `dask scheduler` / `dask worker`
    if name == "scheduler":
        from distributed.cli.dask_scheduler import main
    else:
        assert name == "worker", f"dask has no command '{name}' used here"
        from distributed.cli.dask_worker import main
    return main


def _command_lines(text: str) -> list[list[str]]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"\s#\s.*$", "", line).strip()
        for part in re.split(r"&&|;", line):
            if part.strip():
                out.append(shlex.split(part))
    return out


@pytest.mark.parametrize("doc, text", _blocks("sh"))
def test_every_shell_block_uses_real_commands_and_options(doc: Path, text: str) -> None:
    for argv in _command_lines(text):
        argv = argv[:-1] if argv[-1] == "&" else argv  # started in the background
        if argv[0] == "dask":  # parsed by Dask's own command line, as `dask` would
            with _dask_command(argv[1]).make_context(argv[1], argv[2:]):
                pass
            continue
        if argv[0] != "reel":
            assert argv[0] in _SHELL_OK, argv
            continue
        # click parses the arguments exactly as `reel` would, without running anything.
        command = cli.main.commands.get(argv[1])
        assert command is not None, f"reel has no command '{argv[1]}'"
        with command.make_context(argv[1], argv[2:]):
            pass


def test_every_command_in_the_readme_table_exists() -> None:
    rows = [
        ln for ln in section("Commands", REPO / "README.md").splitlines() if ln.startswith("| `")
    ]
    for row in rows:
        name = ticked(row)[0].split()[1]
        assert name in cli.main.commands, name


@pytest.mark.parametrize("doc, text", _blocks("text"))
def test_every_layout_block_names_real_paths(doc: Path, text: str) -> None:
    parent = ""
    for line in text.splitlines():
        first = line.split()[0].rstrip(":") if line.strip() else ""
        if not ("/" in first or "." in first):
            continue
        if line.startswith(" "):  # a folder inside the last top-level one
            first = parent + first
        else:
            parent = first
        assert (REPO / first).exists(), first


def _language_words() -> set[str]:
    words = set(keywords()) | set(UNITS) | {"true", "false", "std"}
    for spec in EXPECTED_OPTIONS.values():
        words |= set(spec)
    for props in vocab.BLOCK_PROPS.values():
        words |= set(props)
    words |= set(vocab.PLATES) | set(vocab.MOTIONS) | set(vocab.TRANSITIONS)
    words |= set(vocab.DELIVERABLE_KINDS) | set(vocab.CAPTION_MODES)
    words |= set(vocab.VOICE_ENGINES)  # `voice X = tts "…"`, `voice X = piper "…"`
    words |= {"name"}  # `fact CHARACTER name "…"`
    words |= set(vocab.APPROVABLE_GATES) | set(vocab.APPROVE_OPTIONS)  # `approve rights … by`
    return words


@pytest.mark.parametrize("doc, text", _blocks("synopsis"))
def test_every_synopsis_uses_only_words_of_the_language(doc: Path, text: str) -> None:
    """Lower-case words are the language's; UPPERCASE ones are for the reader to fill in."""
    words = set(re.findall(r"\b[a-z][a-z_]*\b", re.sub(r'"[^"]*"|#.*', "", text)))
    assert words - _language_words() == set()
