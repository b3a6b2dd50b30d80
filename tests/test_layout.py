"""Issue 13, layout: burned captions never cover a title.

The boxes are measured from decoded pixels, never from Reel's own geometry:
the title is drawn in pure blue (low luma, strong blue chroma) and the
captions in white and yellow (high luma) on a black plate, so each layer's
pixels are told apart in every frame of the rendered vertical short.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from reel.compiler.session import Session
from reel.compiler.store import Store

from helpers import reel, write_tree

CENTRED = """
load "std/deliverables"
episode x {
  title "X"
  format 320x180 @ 24fps
}
cast { character ann "Ann" age 30 }
text_style blue { size 72 bold true color "#0000ff" position center }
scene one {
  shot wide { plate solid "#000000" title "COFFEE 101" style blue
    say ann "Coffee is a trap. Never drink it after noon, or sleep will fail you." }
}
deliver master = youtube_1080p { resolution 320x180 }
deliver shorts = shorts_vertical { resolution 180x320 }
"""

Box = tuple[int, int, int, int]


def bbox(mask: np.ndarray) -> Box | None:
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())) if len(xs) else None


def intersect(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def test_a_short_with_a_centred_title_has_no_overlapping_text(tmp_path: Path) -> None:
    """The social caption style draws its accent phrases in the middle of the
    frame, where the title is: the line moves to the top band of the safe area."""
    write_tree(tmp_path, {"x.episode": CENTRED})
    proc = reel("build", "x.episode", "--out", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    with av.open(str(tmp_path / "out" / "x" / "shorts.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    both = yellow = 0
    for index, frame in enumerate(frames):
        r, g, b = frame[..., 0], frame[..., 1], frame[..., 2]
        title = bbox(b - np.maximum(r, g) > 60)
        caption = bbox(frame.mean(axis=2) > 100)
        if title is None or caption is None:
            continue
        both += 1
        yellow += int(((r > 160) & (g > 120) & (b < 90)).sum() > 10)  # the accent phrase
        assert not intersect(title, caption), f"frame {index}: caption {caption}, title {title}"
        height = frame.shape[0]
        assert height * 0.05 <= caption[1] and caption[3] <= height * 0.95, "outside the safe area"
    assert both > 60, "the title and the captions should share most of the shot"
    assert yellow > 5, "the accent phrase (drawn mid-frame by default) should be on screen"


def test_the_master_captions_keep_their_place_when_nothing_collides(tmp_path: Path) -> None:
    """The same line in the standard style (no keywords, all at the bottom)
    does not meet the 16:9 master's centred title: its parameters get no
    alignment, so its captions and its action's key are what they were."""
    write_tree(tmp_path, {"x.episode": CENTRED})
    session = Session(tmp_path / "x.episode", Store(tmp_path / "cache"))
    actions = session.lowered.by_id()
    assert all("align" not in line for line in actions["captions"].params["lines"])
    assert [line.get("align") for line in actions["captions@shorts"].params["lines"]] == [8]
    assert not session.diags.warnings


CROWDED = """
load "std/deliverables"
episode x {
  title "X"
  format 320x180 @ 24fps
}
cast { character ann "Ann" age 30 }
scene one {
  shot wide 2s {
    plate solid "#000000"
    title "TOP" position top
    title "MIDDLE" position center
    title "BOTTOM" position bottom
    say ann "Never again."
  }
}
deliver master = youtube_1080p { resolution 320x180 }
deliver shorts = shorts_vertical { resolution 180x320 }
"""


def test_a_caption_with_nowhere_to_go_warns_with_both_sites(tmp_path: Path) -> None:
    """Titles in the top, middle and bottom bands leave the vertical short's
    captions no free place: the build warns at the line and at the title."""
    write_tree(tmp_path, {"x.episode": CROWDED})
    session = Session(tmp_path / "x.episode", Store(tmp_path / "cache"))
    session.lowered  # noqa: B018 - lowering lays the captions out
    warnings = [d for d in session.diags.warnings if "captions of line" in d.message]
    assert warnings, [d.render() for d in session.diags.warnings]
    shorts = [d.render() for d in warnings if "in shorts (180x320)" in d.message]
    assert len(shorts) == 1, [d.render() for d in warnings]
    text = shorts[0]
    assert "x.episode:14:5" in text  # the `say`
    assert any(f"x.episode:{n}:5" in text for n in (11, 12, 13)), text  # a title
    assert "help:" in text


def test_a_caption_font_reel_does_not_ship_is_measured_as_libass_draws_it(tmp_path: Path) -> None:
    """libass draws an unknown family with the packaged DejaVu Sans: the layout
    measures that font instead of stopping the build."""
    write_tree(
        tmp_path,
        {
            "x.episode": 'load "std/deliverables"\n'
            'episode x { title "X" format 320x180 @ 24fps  captions mine }\n'
            'cast { character ann "Ann" age 30 }\n'
            'text_style cb { font "Comic Sans" size 44 position center }\n'
            "caption_style mine { base cb accent cb }\n"
            'scene one { shot wide 2s { plate solid "#000000" title "HI" say ann "Hello." } }\n'
            "deliver master = youtube_1080p { resolution 320x180 }\n"
        },
    )
    session = Session(tmp_path / "x.episode", Store(tmp_path / "cache"))
    lines = session.lowered.by_id()["captions"].params["lines"]
    assert [line.get("align") for line in lines] == [8]
