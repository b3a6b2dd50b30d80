"""The pinned toolchain: the ffmpeg binary from the imageio-ffmpeg wheel.

Its file digest is part of every render action's key, so a different ffmpeg
can never serve a cached result made by another. Commands run with a
scrubbed environment (TZ=UTC, LC_ALL=C, no inherited variables).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
from pathlib import Path

HERMETIC_ENV = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C", "LANG": "C"}
# Every encode: no metadata, no creation time, bit-exact code paths.
# Intermediate audio: 16-bit PCM WAV, bit-exact, no metadata.
PCM_OUT = [
    "-c:a",
    "pcm_s16le",
    "-fflags",
    "+bitexact",
    "-flags:a",
    "+bitexact",
    "-map_metadata",
    "-1",
]
BITEXACT_OUT = [
    "-map_metadata",
    "-1",
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
    "-flags:a",
    "+bitexact",
]


class ToolchainError(Exception):
    pass


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> Path:
    """The binary inside the imageio-ffmpeg wheel.

    Found by looking in the wheel's folder, not with
    ``imageio_ffmpeg.get_ffmpeg_exe()``: that runs ``ffmpeg -version`` on every
    call, and a no-op build must start no process. Nor does it honour
    IMAGEIO_FFMPEG_EXE: the pinned binary is the toolchain.
    """
    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainError("the imageio-ffmpeg package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "binaries"
    found = sorted(p for p in folder.glob("ffmpeg-*") if p.is_file() and os.access(p, os.X_OK))
    if len(found) != 1:
        raise ToolchainError(f"expected one ffmpeg binary in {folder}, found {len(found)}")
    return found[0]


class ToolError(Exception):
    """A tool ran and failed; carries the tail of its stderr."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"ffmpeg exited with {returncode}")
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr

    def tail(self, lines: int = 12) -> str:
        kept = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return "\n".join(kept[-lines:])


# Options every ffmpeg invocation starts with, run here or written by --emit-commands.
COMMON_ARGS = ("-hide_banner", "-nostdin", "-y", "-v", "error")

# An action that is nothing but ffmpeg invocations describes them as data: the
# executor runs them, and `reel build --emit-commands` writes the very same
# argument lists into a script, so what is emitted is what is executed.
Commands = list[list[str]]


def run_ffmpeg(args: list[str], cwd: Path) -> None:
    """Run the pinned ffmpeg in ``cwd`` with relative paths and a clean environment."""
    argv = [str(ffmpeg_exe()), *COMMON_ARGS, *args]
    proc = subprocess.run(argv, cwd=cwd, env=HERMETIC_ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(["ffmpeg", *argv[1:]], proc.returncode, proc.stderr)


def ffmpeg_report(args: list[str], cwd: Path) -> str:
    """Run the pinned ffmpeg at log level info and return what it printed: the
    way a filter that measures (ebur128) reports its figures."""
    argv = [str(ffmpeg_exe()), "-hide_banner", "-nostdin", "-v", "info", *args]
    proc = subprocess.run(argv, cwd=cwd, env=HERMETIC_ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(["ffmpeg", *args], proc.returncode, proc.stderr)
    return proc.stderr


def run_commands(commands: Commands, cwd: Path) -> None:
    for args in commands:
        run_ffmpeg(args, cwd)


@functools.lru_cache(maxsize=8)
def has_encoder(name: str) -> bool:
    """Whether the pinned ffmpeg was built with encoder ``name``."""
    proc = subprocess.run(
        [str(ffmpeg_exe()), "-hide_banner", "-encoders"],
        env=HERMETIC_ENV,
        capture_output=True,
        text=True,
    )
    return any(line.split()[1:2] == [name] for line in proc.stdout.splitlines())


def main() -> None:
    """``python -m reel.backends.ffmpeg.toolchain`` prints the pinned binary's path:
    how an emitted build script finds the same ffmpeg the executor uses."""
    print(ffmpeg_exe())


if __name__ == "__main__":
    main()
