"""report.html, opened in a real browser (Debian's headless Chromium): it draws
(a screenshot with many colours and the shots' thumbnails in it), logs no
console error, parses as well-formed markup, fetches nothing and holds no
absolute path; a no-op build leaves it alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from .helpers import HEADER, reel, write_tree

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

BODY = """
scene a at cafe phase establish {
  shot wide 1s { plate gradient "#0b1020" "#3a1c71"  kinetic "HELLO" }
  shot close { plate solid "#20c020"  say maya "The report shows this line." }
}
scene b at street { shot wide 1s { plate bars } }
"""
VOICE = '  voice maya = tts "en-us" rate 165\n}'


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    argv = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    argv += [f"--user-data-dir={profile}", "--no-first-run", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def console_errors(page: Path, profile: Path) -> list[str]:
    proc = chromium(
        "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri(), profile=profile
    )
    assert "</html>" in proc.stdout, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines() if "CONSOLE" in line]


@pytest.fixture
def built(tmp_path: Path) -> Path:
    header = HEADER.replace("format 640x360 @ 24fps\n}", "format 640x360 @ 24fps\n" + VOICE)
    assert VOICE in header
    write_tree(tmp_path / "ep", {"main.episode": header + BODY})
    args = ("--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"))
    proc = reel("build", str(tmp_path / "ep"), *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "out" / "t" / "report.html"


def test_report_is_one_well_formed_file_that_fetches_nothing(built: Path, tmp_path: Path):
    text = built.read_text(encoding="utf-8")
    root = etree.fromstring(text.encode(), etree.XMLParser())  # strict: raises on bad nesting
    images = root.findall(".//{*}img") or root.findall(".//img")
    assert len(images) == 3  # one thumbnail per shot
    assert all(img.get("src").startswith("data:image/jpeg;base64,") for img in images)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "<script" not in text and "<link" not in text
    assert str(tmp_path) not in text  # no absolute path
    for shot in ("a.s01", "a.s02", "b.s01"):
        assert shot in text
    assert "establish" in text and "<polyline" in text and "target -14 LUFS" in text


def test_a_noop_build_leaves_the_report_alone(built: Path, tmp_path: Path):
    before = built.stat()
    args = ("--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"))
    proc = reel("build", str(tmp_path / "ep"), *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = built.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@needs_chromium
def test_report_draws_in_chromium_without_console_errors(built: Path, tmp_path: Path):
    import numpy as np
    from PIL import Image

    profile = tmp_path / "chromium-profile"
    shot = tmp_path / "report.png"
    proc = chromium(
        "--window-size=1200,1600", f"--screenshot={shot}", built.as_uri(), profile=profile
    )
    assert shot.exists(), proc.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    assert colours > 500, f"the screenshot looks blank: {colours} colours"
    # The green shot's thumbnail is on screen (at least 192x108 px of a strong green;
    # the exact shade goes through BT.709, JPEG and the browser's colour handling).
    r, g, b = pixels.astype(int).T
    green = ((g > 150) & (r < 90) & (b < 90)).sum()
    assert green > 192 * 108 * 0.8, f"no thumbnail of the green shot ({green} px)"

    assert console_errors(built, profile) == []
    # The check above can see an error: a page that logs one is caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('x')</script></body></html>")
    assert console_errors(bad, profile), "Chromium's console log is not being read"
