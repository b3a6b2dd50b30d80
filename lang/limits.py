"""The largest inputs Reel accepts, checked before anything is decoded or allocated.

A hostile or broken file (a sparse gigabyte named ``.png``, a PNG whose header
claims 16000×16000 pixels, ``shot wide 86400s``) must be refused from its size,
its header or its declared duration, never after it has filled memory or kept a
render running for a day. Each limit is generous for professional work; the
comment beside it says why that value. ``docs/language.md`` ("Limits") lists them
for users; changing one here changes what the error messages say.
"""

from __future__ import annotations

from fractions import Fraction

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30

# An `.episode` file is hand-written text. The bundled pilot (9 scenes, 22 shots)
# is under 3 KiB; 4 MiB is some 100,000 lines, far past any blueprint a person
# writes, and small enough that parsing it stays a matter of seconds.
MAX_SOURCE_BYTES = 4 * MIB

# Media files, by the kind of use. Checked from the file's size (a `stat`, no read).
MAX_FILE_BYTES = {
    # ffmpeg's image demuxers read a still whole into memory before decoding it.
    # An 8192×8192 8-bit RGBA picture stored raw is 256 MiB; PNG or JPEG at the
    # resolution limit are far smaller, so no real still is refused.
    "image": 256 * MIB,
    # Video is streamed by ffmpeg and only hashed by Reel, never held in memory.
    # Ten minutes (the shot limit) of 4K ProRes 4444 XQ (~1.7 Gb/s) is ~128 GB.
    "video": 256 * GIB,
    # WAV's own ceiling (its RIFF sizes are 32-bit). Three hours (the episode
    # limit) of 48 kHz 24-bit stereo WAV is 3.1 GB, so a full-length bed fits.
    "audio": 4 * GIB,
}

# The largest picture a plate may have, read from the stream header before any
# frame is decoded. It matches the largest output format (`format` takes sizes
# up to 8192×8192), so a plate never needs more pixels than the frame it fills;
# ffmpeg's decoders are also told to refuse frames with more pixels than this.
MAX_WIDTH = 8192
MAX_HEIGHT = 8192
MAX_PIXELS = MAX_WIDTH * MAX_HEIGHT

# One shot renders as one segment action. Ten minutes covers a long take or a
# whole interview answer; longer material is better cut into shots anyway, so an
# edit re-renders a part and not the whole.
MAX_SHOT_SECONDS = Fraction(10 * 60)

# Feature length with room to spare (most features run under 2.5 h); the audio
# mix holds the whole episode in memory, so the bound also bounds the mix. A
# longer programme is several episodes.
MAX_EPISODE_SECONDS = Fraction(3 * 60 * 60)

# An audio file (music bed, effect, recorded line) is decoded whole by the beat
# detector and the mix; none needs to be longer than the longest episode.
MAX_AUDIO_SECONDS = MAX_EPISODE_SECONDS


def describe_bytes(size: int) -> str:
    """A byte count as people read it: '1.0 GiB', '256 MiB', '12 KiB'."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def describe_seconds(seconds: Fraction | float) -> str:
    """A duration as people read it: '10 min', '3 h', '24 h 0 min'."""
    total = float(seconds)
    if total >= 3600:
        hours, rest = divmod(total, 3600)
        minutes = rest / 60
        return f"{hours:.0f} h" if minutes < 0.5 else f"{hours:.0f} h {minutes:.0f} min"
    if total >= 60:
        minutes, rest = divmod(total, 60)
        return f"{minutes:.0f} min" if rest < 0.5 else f"{minutes:.0f} min {rest:.0f} s"
    return f"{total:g} s"
