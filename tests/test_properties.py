"""Property: formatting noise never changes the artifacts.

Comments, blank lines, indentation and the order of independent declarations
(cast entries, locations, templates, styles, presets, deliverables, asset
rights, the episode block itself) are layout, not meaning: the four
artifacts must come out byte for byte the same. Scenes keep their order,
which is the episode's order.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run_plan, write_tree

INDEPENDENT = [
    'episode t {\n  title "Noise"\n  format 640x360 @ 24fps\n  runtime 5s .. 60s\n'
    '  voice maya = tts "en-us" rate 170\n  voice leo = tts "en-gb" rate 150\n}',
    'load "std/deliverables"',
    'cast {\n  character maya "Maya" age 34\n}',
    'cast {\n  character leo "Leo" age 40\n  character rosa "Rosa" age 80 dead\n}',
    'locations {\n  location cafe "Cafe"\n}',
    'locations {\n  location street "Street"\n}',
    "template card(text: text, length: time = 2s) {\n  shot wide $length {\n"
    '    plate gradient "#000000" "#ffffff"\n    title $text style title\n  }\n}',
    'template talk(who: name, line: text) {\n  shot close {\n    plate image "a.png"\n'
    "    say $who $line\n  }\n}",
    'text_style loud {\n  size 90\n  color "#ff0000"\n}',
    "preset tiny {\n  kind video\n  resolution 320x180\n  crf 30\n}",
    "deliver master = youtube_1080p { crf 18 }",
    "deliver small = tiny",
    'asset "a.png" {\n  license_type "CC0"\n}',
]
SCENES = [
    'scene one at cafe time morning {\n  use card("One")\n  use talk(maya, "Hello there.")\n'
    '  shot wide 1s {\n    plate bars\n    kinetic "BARS" style loud\n  }\n}',
    'scene two at street time noon {\n  use talk(leo, "We walk, we talk.")\n'
    '  shot medium 30f {\n    plate video "b.mp4" in 1s out 2s\n    move pan_left 5%\n'
    "    transition crossfade 6f\n  }\n  fact rosa dead\n}",
    'scene three at cafe time evening {\n  use card("Three", length: 3s)\n}',
]

comment_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
noise_line = st.one_of(
    st.just(""),
    comment_text.map(lambda t: "# " + t),
    st.sampled_from(["   ", "\t", "  # }", '# say maya "x"']),
)


@st.composite
def layouts(draw: st.DrawFn) -> str:
    order = draw(st.permutations(range(len(INDEPENDENT))))
    # Where each scene goes among the independent declarations (kept in order).
    cuts = sorted(
        draw(st.lists(st.integers(0, len(order)), min_size=len(SCENES), max_size=len(SCENES)))
    )
    chunks: list[str] = []
    scene_index = 0
    for position in range(len(order) + 1):
        while scene_index < len(SCENES) and cuts[scene_index] == position:
            chunks.append(SCENES[scene_index])
            scene_index += 1
        if position < len(order):
            chunks.append(INDEPENDENT[order[position]])
    lines: list[str] = []
    for chunk in chunks:
        for line in chunk.split("\n"):
            indent = draw(st.sampled_from(["", "  ", "\t", "    "]))
            trailing = draw(st.one_of(st.just(""), comment_text.map(lambda t: "   # " + t)))
            lines.append(indent + line.strip() + trailing)
            lines.extend(draw(st.lists(noise_line, max_size=2)))
    return "\n".join(lines) + "\n"


def artifacts_for(text: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_tree(Path(tmp), {"main.episode": text})
        outcome = run_plan(root, out=root / "out")
        assert outcome.exit_code == 0, "\n".join(e.render() for e in outcome.errors)
        folder = root / "out" / "t"
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


CANONICAL = "\n\n".join([*INDEPENDENT, *SCENES]) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_formatting_noise_never_changes_the_artifacts(text: str) -> None:
    assert artifacts_for(text) == artifacts_for(CANONICAL)


def test_the_property_can_fail() -> None:
    """Guard: a change of meaning (scene order) does change the artifacts."""
    swapped = "\n\n".join([*INDEPENDENT, SCENES[1], SCENES[0], SCENES[2]]) + "\n"
    assert artifacts_for(swapped) != artifacts_for(CANONICAL)
