"""Hostile inputs (issue 9): a blueprint may not read outside its project, hang on
a pipe, crash on a NUL, exhaust memory or time, or inject markup into captions.

Each test is a case the attack campaign found; it failed before the fix.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import webvtt

from helpers import HEADER, reel, run_plan, write_tree

SECRET = "TOPSECRET-do-not-print"


def rendered(outcome) -> str:
    return "\n".join(e.render() for e in outcome.errors)


def line_number(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# ---- 1. every path stays inside the project (or the stdlib) ---------------------
SHOT = "scene a {{\n  shot wide 2s {{ {} }}\n}}\n"
OUTSIDE_CASES = {  # (where it goes, text, message)
    "load to /etc/passwd": ("load", 'load "{up}etc/passwd"', "is outside the project"),
    "load through std/": ("load", 'load "std/../../../outside"', "is outside the project"),
    "load beside the project": ("load", 'load "../outside"', "is outside the project"),
    "plate": ("shot", 'plate image "../outside.png"', "is outside the project"),
    "sfx": ("shot", 'plate solid "#000000" sfx "../outside.wav"', "is outside the project"),
    "music": ("episode", 'music "../outside.wav"', "is outside the project"),
    "recorded voice": ("shot", 'say maya "hi" file "../outside.wav"', "is outside the project"),
    "symlink": (
        "shot",
        'plate image "link.png"',
        "is a symbolic link to a file outside the project",
    ),
    "symlinked folder": (
        "shot",
        'plate image "linked/outside.png"',
        "is a symbolic link to a file outside the project",
    ),
    "named pipe": ("shot", 'plate image "pipe.png"', "is a named pipe (FIFO), not a regular file"),
    "folder": ("shot", 'plate image "folder.png"', "is a folder, not a regular file"),
    "named pipe as a module": (
        "load",
        'load "./pipe"',
        "is a named pipe (FIFO), not a regular file",
    ),
}


@pytest.mark.parametrize("case", OUTSIDE_CASES)
def test_paths_outside_the_project_are_refused_unread(tmp_path: Path, case: str) -> None:
    """Loads, plates, sounds and recorded lines resolve (after symlinks) inside
    the project or the stdlib, and name regular files; anything else is a
    positioned error (exit 2) that never shows the outside file's content."""
    project = tmp_path / "project"
    # Outside files whose lines, parsed as an episode, would each be quoted.
    for name in ("outside.episode", "outside.png", "outside.wav"):
        (tmp_path / name).write_text(f"{SECRET} one\n{SECRET} two\n")
    where, statement, message = OUTSIDE_CASES[case]
    statement = statement.format(up="../" * (len(project.parts) + 2))
    if where == "load":
        text, needle = f"{statement}\n{HEADER}", "load"
    elif where == "episode":
        episode = HEADER.replace('  title "T"\n', f'  title "T"\n  {statement}\n')
        text, needle = episode + SHOT.format('plate solid "#000000"'), "music"
    else:
        text, needle = HEADER + SHOT.format(statement), "shot wide"
    write_tree(project, {"main.episode": text})
    (project / "link.png").symlink_to(tmp_path / "outside.png")
    (project / "linked").symlink_to(tmp_path)
    (project / "folder.png").mkdir()
    os.mkfifo(project / "pipe.png")
    os.mkfifo(project / "pipe.episode")

    out = run_plan(project)

    assert out.exit_code == 2, rendered(out)
    (err,) = out.errors
    assert message in err.message
    assert err.span is not None and Path(err.span.file.display).name == "main.episode"
    assert err.span.line == line_number(text, needle)
    assert err.help
    assert SECRET not in rendered(out) and "root:" not in rendered(out)


# ---- 2. a named pipe beside the entry -----------------------------------------------
def test_a_named_pipe_beside_the_entry_never_blocks(tmp_path: Path) -> None:
    """Finding the entry in a folder opens only regular files: a FIFO called
    `x.episode` used to block `reel check DIR` forever."""
    write_tree(tmp_path, {"main.episode": HEADER + SHOT.format('plate solid "#000000"')})
    os.mkfifo(tmp_path / "x.episode")
    cache = str(tmp_path / "cache")
    try:
        in_folder = subprocess.run(
            [sys.executable, "-m", "reel.cli", "check", str(tmp_path), "--cache-dir", cache],
            capture_output=True,
            text=True,
            timeout=60,
        )
        named = subprocess.run(
            [sys.executable, "-m", "reel.cli", "check", str(tmp_path / "x.episode")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reel blocked on a named pipe")
    assert in_folder.returncode == 0, in_folder.stderr
    assert named.returncode == 2
    assert '"x.episode" is a named pipe (FIFO), not a regular file' in named.stderr


# ---- 3. a NUL byte in a path --------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        'load "./\0"\n' + HEADER,
        HEADER + 'scene a {\n  shot wide 2s { plate image "a\0.png" }\n}\n',
        HEADER + 'scene a {\n  shot wide 2s { plate solid "#000000" sfx "b\0.wav" }\n}\n',
    ],
    ids=["load", "plate", "sfx"],
)
def test_a_nul_byte_in_a_path_is_a_positioned_error(tmp_path: Path, body: str) -> None:
    """Found by a fuzzer: a NUL reached the OS and crashed Reel (exit 70)."""
    write_tree(tmp_path, {"main.episode": body})
    proc = reel("check", "main.episode", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr
    line = line_number(body, "\0")
    assert f"--> main.episode:{line}:" in proc.stderr
    assert "holds a NUL byte" in proc.stderr


# ---- 4. limits, checked before anything is decoded or allocated ----------------------
def _png_header_only(path: Path, width: int, height: int) -> None:
    """A valid grey PNG of width×height, all zeros: a few hundred KB on disk that
    decode to width×height bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    packer = zlib.compressobj(1)
    row = bytes(width + 1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    chunks = chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)


def _peak_rss_of(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the CLI under a fresh Python whose only child it is, so the child's
    peak resident memory (ru_maxrss) is not mixed with earlier children's."""
    runner = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", runner, sys.executable, "-m", "reel.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    code, peak = proc.stdout.split()
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return subprocess.CompletedProcess(args, int(code), "", proc.stderr), int(peak) * scale


def test_oversized_media_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A 1 GiB sparse 'image' drove `reel check` to 1.1 GB before it was refused;
    a PNG whose header claims more pixels than the limit was decoded whole."""
    body = (
        'scene a {\n  shot wide 2s { plate image "huge.png" }\n'
        '  shot wide 2s { plate image "wide.png" }\n}\n'
    )
    write_tree(tmp_path, {"main.episode": HEADER + body})
    with (tmp_path / "huge.png").open("wb") as sparse:
        sparse.truncate(1 << 30)
    _png_header_only(tmp_path / "wide.png", 9000, 9000)

    proc, peak = _peak_rss_of(
        ["check", "main.episode", "--cache-dir", str(tmp_path / "cache")], tmp_path
    )

    assert proc.returncode == 1, proc.stderr
    assert peak < 300 * 2**20, f"peak memory {peak / 2**20:.0f} MiB"
    text = HEADER + body
    assert f"main.episode:{line_number(text, 'huge.png')}:" in proc.stderr
    assert "huge.png is 1 GiB, over the limit of 256 MiB for image files" in proc.stderr
    assert f"main.episode:{line_number(text, 'wide.png')}:" in proc.stderr
    assert "wide.png has a picture of more than 67,108,864 pixels, over the limit" in proc.stderr
    assert "8192×8192" in proc.stderr


def test_durations_over_the_limits_are_refused_before_rendering(tmp_path: Path) -> None:
    """`shot wide 86400s` used to plan a day-long render; an episode's total is bounded too."""
    day = 'scene a {\n  shot wide 86400s { plate solid "#000000" }\n}\n'
    write_tree(tmp_path / "day", {"main.episode": HEADER + day})
    out = run_plan(tmp_path / "day")
    assert out.exit_code == 2
    (err,) = out.errors
    assert err.message == "shot a.s01 lasts 24 h, over the limit of 10 min for one shot"
    assert err.span.line == line_number(HEADER + day, "86400s")

    long = "scene a {\n" + '  shot wide 590s { plate solid "#000000" }\n' * 19 + "}\n"
    write_tree(tmp_path / "long", {"main.episode": HEADER + long})
    out = run_plan(tmp_path / "long")
    assert out.exit_code == 2
    (err,) = out.errors
    assert err.message == "episode t lasts 3 h 7 min, over the limit of 3 h"
    assert err.span.line == line_number(HEADER, "episode t")


# ---- 5. typed text never becomes caption markup --------------------------------------
TYPED = r"{\fs300\c&H0000FF&}Run --> now <b>bold</b> & stop \N here"


def _libass_text(dialogue: str) -> str:
    """What libass draws for ASS dialogue text with no override blocks: its
    escapes `\\{` and `\\}` are braces, and a word joiner draws nothing."""
    return dialogue.replace("\\{", "{").replace("\\}", "}").replace("\u2060", "")


def test_dialogue_text_is_escaped_in_every_caption_format(tmp_path: Path) -> None:
    """Dialogue reached the caption files raw: `{\\fs300...}` restyled the burned-in
    ASS captions, and `-->` and `<b>` reached SRT and WebVTT cue text."""
    spoken = TYPED.replace("\\", "\\\\")  # as written in a .episode string
    body = f'scene a {{\n  shot wide {{ plate solid "#000000" say maya "{spoken}" }}\n}}\n'
    write_tree(tmp_path / "p", {"main.episode": HEADER + body})
    proc = reel(
        "build",
        f"{tmp_path / 'p'}:captions",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "out" / "t"

    # WebVTT, read by an independent parser (webvtt-py); references decoded as HTML.
    cues = list(webvtt.read(str(folder / "captions.vtt")))
    assert " ".join(html.unescape(c.text).replace("\n", " ") for c in cues) == TYPED
    assert len(cues) == 2  # 57 characters: two events of at most two lines of 42

    # SubRip: only the timing lines hold an arrow, no tag can form, the words read as typed.
    srt = (folder / "captions.srt").read_text(encoding="utf-8")
    blocks = [b.split("\n") for b in srt.strip().split("\n\n")]
    assert len(blocks) == len(cues)
    assert [line for line in srt.splitlines() if "-->" in line] == [b[1] for b in blocks]
    assert not re.search(r"<\/?[A-Za-z]|\{\\|\\[Nnh]|&[A-Za-z#]", srt)
    shown = " ".join(" ".join(b[2:]) for b in blocks).replace("\u2060", "")
    assert shown == TYPED

    # ASS: no live override block or escape in any dialogue event.
    ass = (folder / "captions.ass").read_text(encoding="utf-8")
    dialogue = [line.split(",", 9)[9] for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert dialogue
    for text in dialogue:
        assert not re.search(r"(?<!\\)[{}]", text), text  # every brace is escaped
        assert not re.search(r"\\[Nnh]", text), text
    assert " ".join(_libass_text(t) for t in dialogue) == TYPED
