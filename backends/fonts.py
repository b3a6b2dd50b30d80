"""Fonts from a package, never from the host.

The DejaVu family ships inside matplotlib's wheel (mpl-data/fonts/ttf). We
locate the folder without importing matplotlib (which is slow to import):
only the font files are used, and their digests enter the render keys.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

FAMILIES = {
    ("DejaVu Sans", False): "DejaVuSans.ttf",
    ("DejaVu Sans", True): "DejaVuSans-Bold.ttf",
    ("DejaVu Sans Mono", False): "DejaVuSansMono.ttf",
    ("DejaVu Sans Mono", True): "DejaVuSansMono-Bold.ttf",
    ("DejaVu Serif", False): "DejaVuSerif.ttf",
    ("DejaVu Serif", True): "DejaVuSerif-Bold.ttf",
}
DEFAULT_FAMILY = "DejaVu Sans"


class FontError(Exception):
    pass


@functools.lru_cache(maxsize=1)
def font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontError("the matplotlib package (which ships the DejaVu fonts) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def font_file(family: str | None, bold: bool) -> Path:
    name = FAMILIES.get((family or DEFAULT_FAMILY, bold))
    if name is None:
        known = sorted({f for f, _ in FAMILIES})
        raise FontError(
            f"unknown font family '{family}'; the bundled families are " + ", ".join(known)
        )
    path = font_dir() / name
    if not path.is_file():
        raise FontError(f"font file {name} is missing from the matplotlib package")
    return path
