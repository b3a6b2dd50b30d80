"""Fuzz `reel check`: whatever a blueprint holds, the command ends in 0, 1 or 2,
with diagnostics and never a traceback (issue 9).

How a case is made. A seeded random mutator (not hypothesis: a case must be
rebuilt from two numbers, and cheap to make) takes a valid blueprint of the
corpus, applies one to four mutations, and writes it as ``<case>/main.episode``
beside the files it loads and the pilot's media. The corpus is the pilot (all
four files), each stdlib module wrapped in an episode that uses it, and the
small episodes in ``tests/fuzz_seeds/`` (taken from the other tests). The
mutations work on bytes (invalid UTF-8, NUL, truncation), characters, tokens
(delete, duplicate, swap, replace by a hostile value of the same kind: huge
numbers, ``0x0``, ``-0f``, ``1e309s``, NUL in strings, 10,000-character names,
unicode), lines (delete, duplicate, swap, splice from other files) and whole
fragments (templates that use themselves, exponential template fan-out,
deep nesting, empty blocks, hostile settings and shot statements).

How a case is run. In process, through click's CliRunner, so the real `check`
command and its real error handler (`cli._handled`) decide the exit code, in
a few milliseconds instead of a Python start-up. The cache folder is shared by
the whole session: voice lines are rendered once per text (a TTS subprocess
each, about 0.2 s), so the corpus has few `say` lines and most mutations leave
them alone, yet some cases speak.

Reproducing. Case N of seed S is made from ``random.Random(f"{S}:{N}")`` alone;
a failure prints S, N, the mutations, the blueprint shrunk to what still fails,
the traceback (rerun with REEL_DEBUG=1) and the folder it was kept in.

    REEL_FUZZ_CASES=20000 pytest tests/test_fuzz.py   # more cases (default 1000)
    REEL_FUZZ_SEED=7 pytest tests/test_fuzz.py         # another seed ("random": a new one)
    REEL_FUZZ_SEED=0 REEL_FUZZ_CASE=123 pytest tests/test_fuzz.py -k fuzz_check   # one case
    REEL_FUZZ_TIMEOUT=10 ...                            # seconds before a case is a hang (30)
    pytest -s tests/test_fuzz.py                        # also print the run's timings
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reel.cli import main

from helpers import HEADER, PILOT, REPO

CASES = int(os.environ.get("REEL_FUZZ_CASES", "1000"))
SEED = os.environ.get("REEL_FUZZ_SEED", "0")
ONLY = os.environ.get("REEL_FUZZ_CASE")
CASE_TIMEOUT = float(os.environ.get("REEL_FUZZ_TIMEOUT", "30"))  # seconds: a hang is a bug too
ALLOWED_EXIT = {0, 1, 2}
MEMO_RESET = 200  # cases between two resets of the cache's digest memo
SEEDS_DIR = Path(__file__).resolve().parent / "fuzz_seeds"
STDLIB = REPO / "stdlib"

# ---- the corpus ----------------------------------------------------------------------------

Files = dict[str, str]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _pilot() -> Files:
    files = {"main.episode": _read(PILOT / "pilot.episode")}
    for act in sorted((PILOT / "scenes").glob("*.episode")):
        files[f"scenes/{act.name}"] = _read(act)
    return files


_STDLIB_USES = {
    "templates": 'scene uses {\n  use hook("FAILURE IS A TRAP")\n'
    '  use setup("assets/cafe.png", maya, "Everyone said discipline would fix everything.")\n'
    '  use payoff("assets/maya.png", maya, "Waking up was the point.", "WAKE UP")\n'
    '  use outro("The Trap", call: "Next time", length: 2s)\n}\n',
    "styles": 'scene styled {\n  shot wide 2s {\n    title "Title" style title\n'
    '    kinetic "Kinetic" style accent position top\n'
    '    title "Lower" style lower_third at 0.5s for 1s\n  }\n}\n',
    "deliverables": "scene one { shot wide 1s { plate bars } }\n"
    "deliver master = youtube_1080p { resolution 640x360 }\n"
    "deliver pod = podcast_audio\ndeliver subs = captions_only\ndeliver edit = resolve_timeline\n",
}


def _stdlib_seed(name: str) -> Files:
    """A stdlib module's text inside an episode that uses it (its declarations
    shadow the stdlib's own, so the text is checked as a user's)."""
    text = _read(STDLIB / f"{name}.episode")
    return {"main.episode": HEADER + "\n" + text + "\n" + _STDLIB_USES[name]}


def _seed_files() -> dict[str, Files]:
    seeds = {"pilot": _pilot()}
    for name in sorted(_STDLIB_USES):
        seeds[f"std_{name}"] = _stdlib_seed(name)
    companions = {"lib.episode": _read(SEEDS_DIR / "lib.episode")}
    for path in sorted(SEEDS_DIR.glob("*.episode")):
        if path.name not in companions:
            seeds[path.stem] = {"main.episode": _read(path), **companions}
    return seeds


SEEDS = _seed_files()
# Seeds with many voice lines cost a render per mutated line: pick them less often.
WEIGHTS = {"pilot": 1, "everything": 2, "canon": 2}
SEED_NAMES = sorted(SEEDS)
DONOR_TEXTS = [text for files in SEEDS.values() for text in files.values()] + [
    _read(p) for p in sorted(STDLIB.glob("*.episode"))
]
DONOR_LINES = [line for text in DONOR_TEXTS for line in text.splitlines() if line.strip()]

# ---- hostile values ---------------------------------------------------------------------

LONG = 10_000
KEYWORDS = (
    "load episode title format runtime genre arc music voice tts captions cast character "
    "dead alive locations location scene shot auto plate move say sfx transition fact "
    "present use template deliver text_style caption_style preset asset true false"
).split()


def _words(text: str) -> list[str]:
    return text.split()


HOSTILE: dict[str, list[str]] = {
    "string": [
        *(f'"{s}"' for s in _words("a\x00.png ./\x00 \x00 * ** #zzzzzz #fff #00000080 . ./ ../x")),
        *(f'"{s}"' for s in _words("../../../../etc/passwd /etc/hosts std/templates std/styles")),
        *(f'"{s}"' for s in _words("std/ ./main ./lib assets assets/ main.episode 2026-01-02")),
        *(f'"{s}"' for s in _words("assets/maya.png assets/music/bed.flac assets/sfx/beep.wav")),
        *(f'"{s}"' for s in _words("assets/street.mp4 assets/make_assets.py 2026-13-45 $text")),
        *(f'"{s}"' for s in _words("en-us en xx-zz en-us+f2 %s%n{0}")),
        '""',
        '" "',
        '"' + "a" * LONG + '"',
        '"' + "word " * 400 + '"',
        '"日本語のタイトル 🎬 ünïcödé"',
        '"\u202eevil\u0301\u200b"',
        '"\\\\"',
        '"\\n\\t\\q"',
        '"*a* *b* **"',
        '"C:\\\\x"',
        '"' + "a/" * 300 + 'b.png"',
        '"' + "x" * 300 + '.png"',
    ],
    "name": [
        *_words("_ __init__ CON nul black transparent wide push_in crossfade accent standard"),
        *_words("youtube_1080p maya rosa cafe hook Ω"),
        *KEYWORDS,
        "a" * LONG,
        "x" * 129,
        "x" * 300,
    ],
    "number": [
        *_words("0 -0 -1 1 0.5 150 151 100000 100001 99999999999999999999 00000000 -99999"),
        "1.0000000000000000000001",
        "1" + "0" * 400,
        "9" * 5000,
        "0." + "0" * 400 + "1",
    ],
    "quantity": [
        *_words("0s -0s -0f 0f -1s 1e309s 1f 0.4f 99999999999999999999s 0.00000000000000000001s"),
        *_words("1ms 0.5ms 1% 100% 101% -5% 0% -0dB 999999dB -99999999999999999999dB"),
        *_words("-14LUFS 1LUFS -1dBTP 99999dBTP 0fps 1fps 240fps 241fps 23.976fps 29.97fps"),
        *_words("0.001fps 99999999999999999999fps 2sec 2kg 12F 1S"),
        "1" + "0" * 400 + "s",
        "9" * 5000 + "f",
        "1" + "0" * 400 + "dB",
    ],
    "resolution": [
        *_words("0x0 1x1 16x16 8192x8192 8194x8192 17x16 99999999999999999999x16 00016x00016"),
        *_words("3840x2160 1080x1920"),
        "1" + "0" * 5000 + "x16",
    ],
    "param": ["$x", "$text", "$length", "$who", "$" + "a" * 1000],
    "punct": [
        *_words("{ } ( ) , : = @ .. $ ' \\ \""),
        *"\x00\t\r\u00a0\ufeff\u2028",
        "{" * 1000,
        "}" * 1000,
    ],
}
ALL_HOSTILE = [v for values in HOSTILE.values() for v in values]
CHARS = "{}()[],:=@.$#\"'\\\n\t\r\x00\x7f -_*%/0123456789xsfmaé日🎬\u200b\u202e\ufeff"


def _deep_chain(depth: int) -> str:
    lines = ["template d0() { shot wide 1f { } }"]
    lines += [f"template d{i}() {{ use d{i - 1}() }}" for i in range(1, depth + 1)]
    return "\n".join([*lines, f"scene deep {{ use d{depth}() }}"])


def _fan_out(width: int, depth: int) -> str:
    """A 'billion laughs' of templates: width**depth shots from a few lines."""
    lines = ["template f0() { shot wide 1f { } }"]
    for i in range(1, depth + 1):
        lines.append(f"template f{i}() {{ " + f"use f{i - 1}() " * width + "}")
    return "\n".join([*lines, f"scene fan {{ use f{depth}() }}"])


FRAGMENTS = [
    "template selfish() { use selfish() }\nscene selfish_scene { use selfish() }",
    "template ping() { use pong() }\ntemplate pong() { use ping() }\nscene pp { use ping() }",
    "template arg(x) { shot wide $x { } }\nscene argy { use arg(arg) }",
    _deep_chain(20),
    _deep_chain(16),
    _fan_out(10, 10),
    _fan_out(4, 8),
    "scene empty { }",
    "scene empty_shot { shot wide { } }",
    "cast { }",
    "locations { }",
    'cast { character maya "Other Maya" age 99 dead }',
    'episode second { title "Two" format 640x360 @ 24fps }',
    f'load "std/deliverables"\ndeliver {"d" * LONG} = youtube_1080p',
    f'load "std/deliverables"\ndeliver {"d" * 300} = podcast_audio',
    f"scene {'s' * LONG} {{ shot wide 1s {{ }} }}",
    f"template {'t' * LONG}() {{ shot wide 1s {{ }} }}",
    f"text_style {'y' * LONG} {{ size 1 }}",
    'load "./main"',
    'load "./"',
    'load "../"',
    'load "std/../../etc/passwd"',
    'load "./\x00"',
    'load "./' + "x" * 300 + '"',
    'asset "assets/maya.png" { license_type "x" }\nasset "./assets/maya.png" { license_type "y" }',
    'asset "a\x00.png" { license_type "x" }',
    'asset "' + "x" * 300 + '.png" { license_type "x" }',
    "scene many {\n" + "  shot wide 1f { }\n" * 500 + "}",
    "scene long_shot { shot wide 99999999999999999999s { } }",
    "scene tiny { shot wide 1f { transition crossfade 2f } }",
    "{" * 5000,
    "}" * 5000,
    "scene nest { " * 300 + "}" * 300,
    "# " + "x" * 100_000,
    "\x00" * 10,
    "preset weird { kind video resolution 16x16 fps 240fps crf 0 audio_bitrate 0 }\n"
    "deliver w = weird",
    "preset p2 { kind audio loudness -70LUFS true_peak 99999dBTP }\ndeliver a2 = p2",
    "caption_style zero { max_chars_per_line 0 max_lines 0 max_words_per_phrase 0 "
    "min_duration 0s max_duration 0s min_gap 0s accent_ratio 100% }",
]
SETTINGS = [
    'music "assets/music/bed.flac" bpm 20 snap 9999f',
    'music "assets/music/bed.flac" bpm 400 snap 1f',
    'music "assets/music/bed.flac" snap 4f',
    'music "assets/music/bed.flac" duck -99999dB attack 0s release 99999999s',
    'music "assets/sfx/beep.wav" bpm 96',
    'music "assets/sfx/beep.wav" snap 4f',
    'music "assets/sfx/whoosh.wav"',
    'music "assets/maya.png" bpm 96',
    'music "main.episode"',
    'music "a\x00.flac"',
    'voice maya = tts "en-us" rate 450 pitch 99 variant f2',
    'voice maya = tts "en-us" rate 80 pitch 0',
    'voice maya = tts "xx-zz"',
    'voice maya = tts "en-us" variant ' + "v" * 300,
    'voice nobody = tts "en-us"',
    "runtime 1f .. 1f",
    "runtime 99999999999999999999s .. 99999999999999999999s",
    "runtime 0.001ms .. 1s",
    "format 0x0 @ 0fps",
    "format 8192x8192 @ 240fps",
    "format 16x16 @ 1fps",
    "format 640x360 @ 23.976fps",
    "captions nothing",
    'title ""',
    'title "' + "T" * LONG + '"',
]
SHOT_STATEMENTS = [
    'say maya "' + "la " * 700 + '"',
    'say maya "日本語で話す。 Ünïcode, émoji 🎬."',
    'say maya "\x00"',
    'say maya "..."',
    'say maya "*" mood x',
    'say maya "Hi." file "assets/music/bed.flac"',
    'say maya "Hi." file "assets/maya.png"',
    'say maya "Hi." file "main.episode"',
    'say maya "Hi." file "assets"',
    'say maya "Hi." file "a\x00.wav"',
    'say rosa "I am back."',
    'plate image "a\x00.png"',
    'plate image "assets/street.mp4"',
    'plate image "main.episode"',
    'plate image "assets"',
    'plate image "' + "x" * 300 + '.png"',
    'plate video "assets/maya.png"',
    'plate video "assets/street.mp4" in 0s out 999s',
    'plate video "assets/street.mp4" in 99999999999999999999s',
    'plate video "assets/music/bed.flac"',
    'sfx "assets/sfx/beep.wav" at 99999999999s',
    'sfx "assets/maya.png"',
    'sfx "assets/street.mp4"',
    'sfx "assets/make_assets.py"',
    'title "x" at 99999999999s for 0.0001s',
    'kinetic "' + "K" * LONG + '"',
    "transition crossfade 99999f",
    "transition dip_to_black 0.5f",
    "move push_in 4",
    "move pan_left 100%",
    "move ken_burns 1 toward nowhere",
]


# ---- mutations ----------------------------------------------------------------------------

TOKEN = re.compile(
    r'"(?:\\.|[^"\\\n])*"|#[^\n]*|\$?[^\W\d]\w*|-?\d+(?:\.\d+)?(?:x\d+|[A-Za-z%]+)?|\.\.|\s+|.',
    re.S,
)


def _kind(token: str) -> str:
    if token.startswith('"'):
        return "string"
    if token.startswith("$"):
        return "param"
    if token[0].isalpha() or token[0] == "_":
        return "name"
    if re.fullmatch(r"-?\d+x\d+", token):
        return "resolution"
    if re.fullmatch(r"-?\d+(\.\d+)?", token):
        return "number"
    if token[0].isdigit() or token[0] == "-":
        return "quantity"
    return "punct"


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def _solid(tokens: list[str]) -> list[int]:
    """Indexes of the tokens that are not whitespace or comments."""
    return [i for i, t in enumerate(tokens) if not t.isspace() and not t.startswith("#")]


Mutator = Callable[[random.Random, str], str]


def _on_bytes(rng: random.Random, text: str, edit: Callable[[bytearray], None]) -> str:
    data = bytearray(text.encode("utf-8", "surrogateescape"))
    edit(data)
    return bytes(data).decode("utf-8", "surrogateescape")


def flip_bytes(rng: random.Random, text: str) -> str:
    def edit(data: bytearray) -> None:
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)

    return _on_bytes(rng, text, edit)


def insert_bytes(rng: random.Random, text: str) -> str:
    chunk = rng.choice(
        [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\r", b"\x1b"]
    )

    def edit(data: bytearray) -> None:
        at = rng.randint(0, len(data))
        data[at:at] = chunk

    return _on_bytes(rng, text, edit)


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randint(0, len(text))]


def delete_chars(rng: random.Random, text: str) -> str:
    if not text:
        return text
    start = rng.randrange(len(text))
    return text[:start] + text[start + rng.randint(1, 8) :]


def insert_chars(rng: random.Random, text: str) -> str:
    at = rng.randint(0, len(text))
    return text[:at] + "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 4))) + text[at:]


def _edit_tokens(
    rng: random.Random, text: str, edit: Callable[[list[str], list[int]], None]
) -> str:
    tokens = _tokens(text)
    solid = _solid(tokens)
    if solid:
        edit(tokens, solid)
    return "".join(tokens)


def delete_token(rng: random.Random, text: str) -> str:
    def edit(tokens: list[str], solid: list[int]) -> None:
        tokens[rng.choice(solid)] = ""

    return _edit_tokens(rng, text, edit)


def duplicate_token(rng: random.Random, text: str) -> str:
    def edit(tokens: list[str], solid: list[int]) -> None:
        i = rng.choice(solid)
        tokens[i] = tokens[i] + " " + tokens[i]

    return _edit_tokens(rng, text, edit)


def swap_tokens(rng: random.Random, text: str) -> str:
    def edit(tokens: list[str], solid: list[int]) -> None:
        i, j = rng.choice(solid), rng.choice(solid)
        tokens[i], tokens[j] = tokens[j], tokens[i]

    return _edit_tokens(rng, text, edit)


def hostile_token(rng: random.Random, text: str) -> str:
    """Replace a token by a hostile value, usually of the same kind."""

    def edit(tokens: list[str], solid: list[int]) -> None:
        i = rng.choice(solid)
        pool = HOSTILE[_kind(tokens[i])] if rng.random() < 0.8 else ALL_HOSTILE
        tokens[i] = rng.choice(pool)

    return _edit_tokens(rng, text, edit)


def donor_token(rng: random.Random, text: str) -> str:
    """Replace a token by one from another corpus file (a valid word in a wrong place)."""

    def edit(tokens: list[str], solid: list[int]) -> None:
        donor = _tokens(rng.choice(DONOR_TEXTS))
        choices = _solid(donor)
        if choices:
            tokens[rng.choice(solid)] = donor[rng.choice(choices)]

    return _edit_tokens(rng, text, edit)


def insert_keyword(rng: random.Random, text: str) -> str:
    def edit(tokens: list[str], solid: list[int]) -> None:
        i = rng.choice(solid)
        tokens[i] = f"{rng.choice(KEYWORDS)} {tokens[i]}"

    return _edit_tokens(rng, text, edit)


_DECLARED = re.compile(
    r"\b(episode|deliver|scene|template|character|location|text_style|caption_style|preset|"
    r"voice)(\s+)([A-Za-z_]\w*)"
)


def rename_declaration(rng: random.Random, text: str) -> str:
    """Give a declared thing (episode, deliverable, scene, ...) a hostile name:
    some of these names become file names."""
    found = list(_DECLARED.finditer(text))
    if not found:
        return text
    match = rng.choice(found)
    name = rng.choice(["e" * LONG, "e" * 300, "e" * 129, "e" * 128, "e" * 101, "_", "CON", "a1"])
    return text[: match.start(3)] + name + text[match.end(3) :]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def duplicate_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "\n".join(lines)


def swap_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def splice_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    lines.insert(rng.randint(0, len(lines)), rng.choice(DONOR_LINES))
    return "\n".join(lines)


def insert_fragment(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    lines.insert(rng.randint(0, len(lines)), rng.choice(FRAGMENTS))
    return "\n".join(lines)


def _insert_after(rng: random.Random, text: str, pattern: str, pool: list[str]) -> str:
    """Insert a line from ``pool`` after a random match of ``pattern``."""
    found = list(re.finditer(pattern, text))
    if not found:
        return insert_fragment(rng, text)
    at = rng.choice(found).end()
    return text[:at] + "\n  " + rng.choice(pool) + "\n" + text[at:]


def insert_setting(rng: random.Random, text: str) -> str:
    return _insert_after(rng, text, r"episode\s+\w+\s*\{", SETTINGS)


def insert_shot_statement(rng: random.Random, text: str) -> str:
    return _insert_after(rng, text, r"shot\b[^{\n]*\{", SHOT_STATEMENTS)


MUTATORS: list[tuple[Mutator, int]] = [
    (flip_bytes, 2),
    (insert_bytes, 2),
    (truncate, 2),
    (delete_chars, 4),
    (insert_chars, 4),
    (delete_token, 6),
    (duplicate_token, 4),
    (swap_tokens, 4),
    (hostile_token, 12),
    (donor_token, 6),
    (insert_keyword, 3),
    (rename_declaration, 3),
    (delete_line, 4),
    (duplicate_line, 3),
    (swap_lines, 3),
    (splice_line, 5),
    (insert_fragment, 6),
    (insert_setting, 4),
    (insert_shot_statement, 6),
]


# ---- cases --------------------------------------------------------------------------------


@dataclass
class Case:
    seed: str
    number: int
    corpus: str
    files: Files
    target: str  # the file that was mutated
    ops: list[str] = field(default_factory=list)
    as_folder: bool = False  # check the folder (entry found by scanning) instead of the file

    @property
    def label(self) -> str:
        return f"seed {self.seed} case {self.number}"


def make_case(seed: str, number: int) -> Case:
    """Case ``number`` of ``seed``: made from this pair alone, so it can be replayed."""
    rng = random.Random(f"{seed}:{number}")
    corpus = rng.choices(SEED_NAMES, weights=[WEIGHTS.get(n, 4) for n in SEED_NAMES])[0]
    files = dict(SEEDS[corpus])
    episodes = sorted(files)
    target = "main.episode" if rng.random() < 0.85 else rng.choice(episodes)
    case = Case(seed, number, corpus, files, target, as_folder=rng.random() < 0.1)
    text = files[target]
    functions, weights = zip(*MUTATORS, strict=True)
    for _ in range(min(4, 1 + int(rng.expovariate(1.2)))):
        mutate = rng.choices(functions, weights=weights)[0]
        text = mutate(rng, text)
        case.ops.append(mutate.__name__)
    files[target] = text
    return case


def write_case(case: Case, folder: Path, assets: Path) -> Path:
    """Write the case's files and hard-link the pilot's media beside them."""
    folder.mkdir(parents=True)
    for name, text in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    for source in assets.rglob("*"):
        dest = folder / "assets" / source.relative_to(assets)
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)
        except OSError:
            shutil.copyfile(source, dest)
    return folder if case.as_folder else folder / "main.episode"


class CaseTimeout(BaseException):
    """Raised in the main thread when a case runs too long (not an Exception,
    so Reel's own handler cannot turn it into an exit code)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise CaseTimeout(f"no answer after {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    exit_code: int | None
    output: str
    problem: str | None  # None: the case passed
    seconds: float
    trace: str = ""  # the traceback of a failure, once known


def run_check(entry: Path, cache: Path, timeout: float = CASE_TIMEOUT) -> Outcome:
    """`reel check ENTRY` in process, judged by the contract of issue 9."""
    started = time.perf_counter()
    try:
        with time_limit(timeout):
            result: Result = CliRunner().invoke(
                main, ["check", str(entry), "--cache-dir", str(cache)], env={"REEL_DEBUG": None}
            )
    except CaseTimeout as exc:
        trace = "".join(traceback.format_exception(exc)[-12:])
        return Outcome(None, "", f"hang: {exc}", time.perf_counter() - started, trace)
    seconds = time.perf_counter() - started
    output = result.output
    problem = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problem = f"exception escaped the CLI: {type(result.exception).__name__}"
    elif result.exit_code not in ALLOWED_EXIT:
        problem = f"exit code {result.exit_code}"
    elif "Traceback" in output or "internal error" in output:
        problem = "a traceback or internal error in the output"
    return Outcome(result.exit_code, output, problem, seconds)


def debug_traceback(entry: Path, cache: Path) -> str:
    """The traceback of a failing case: run it again with REEL_DEBUG=1."""
    args = ["check", str(entry), "--cache-dir", str(cache)]
    try:
        with time_limit(CASE_TIMEOUT):
            result = CliRunner().invoke(main, args, env={"REEL_DEBUG": "1"})
    except CaseTimeout as exc:
        return "".join(traceback.format_exception(exc)[-8:])
    if result.exc_info is None or isinstance(result.exception, SystemExit):
        return "(no traceback)"
    return "".join(traceback.format_exception(*result.exc_info)[-8:])


def shrink(case: Case, fails: Callable[[Case], bool], budget: int = 300) -> Case:
    """Delete lines, then tokens, of the mutated file while the case still fails."""
    for split, joiner in ((_lines, "\n"), (_tokens, "")):
        case, budget = _shrink_parts(case, split, joiner, fails, budget)
    return case


def _shrink_parts(
    case: Case,
    split: Callable[[str], list[str]],
    joiner: str,
    fails: Callable[[Case], bool],
    budget: int,
) -> tuple[Case, int]:
    """Delete ever smaller runs of parts (ddmin-style) that the failure does not need."""
    parts = split(case.files[case.target])
    chunk = max(1, len(parts) // 2)
    while chunk >= 1 and budget > 0:
        i = 0
        while i < len(parts) and budget > 0:
            if all(p.isspace() for p in parts[i : i + chunk]):
                i += chunk  # keep the spaces: `shot wide` glued is `shotwide`
                continue
            trial = parts[:i] + parts[i + chunk :]
            candidate = Case(**{**case.__dict__, "files": dict(case.files)})
            candidate.files[case.target] = joiner.join(trial)
            budget -= 1
            if fails(candidate):
                parts, case = trial, candidate
            else:
                i += chunk
        chunk //= 2
    return case, budget


def show(text: str, width: int = 200) -> str:
    """A blueprint as printable text: control bytes escaped, long lines cut."""
    out = []
    for line in text.split("\n"):
        line = "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in line)
        if len(line) > width:
            line = f"{line[:width]}... ({len(line)} characters)"
        out.append(line)
    return "\n".join(out)


# ---- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(cases folder, shared cache, a pristine copy of the pilot's media)."""
    base = tmp_path_factory.mktemp("fuzz")
    assets = base / "assets"
    shutil.copytree(PILOT / "assets", assets)
    return base / "cases", base / "cache", assets


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_blueprints_are_valid(name: str, fuzz_dirs: tuple[Path, Path, Path]) -> None:
    """The corpus must check clean, or mutations start from noise."""
    cases, cache, assets = fuzz_dirs
    case = Case("seed", 0, name, dict(SEEDS[name]), "main.episode")
    outcome = run_check(write_case(case, cases / f"seed-{name}", assets), cache)
    assert outcome.exit_code == 0, outcome.output


def _seed_value() -> str:
    if SEED == "random":
        return str(random.SystemRandom().randrange(10**9))
    return SEED


def test_fuzz_check(fuzz_dirs: tuple[Path, Path, Path]) -> None:
    """CASES mutated blueprints: every `reel check` ends in 0, 1 or 2, no traceback."""
    cases, cache, assets = fuzz_dirs
    seed = _seed_value()
    numbers = [int(ONLY)] if ONLY else range(CASES)
    failures: dict[str, list[tuple[Case, Outcome]]] = {}
    timings: list[float] = []
    for number in numbers:
        case = make_case(seed, number)
        folder = cases / f"case-{number}"
        if number % MEMO_RESET == 0:
            _forget_digest_memo(cache)
        outcome = run_check(write_case(case, folder, assets), cache)
        timings.append(outcome.seconds)
        if outcome.problem is None:
            shutil.rmtree(folder)
            continue
        key = _signature(outcome, folder, case, cache)
        failures.setdefault(key, []).append((case, outcome))
    _print_timings(seed, timings, cache)
    if failures:
        pytest.fail(_report(failures, cases, cache, assets), pytrace=False)


def _forget_digest_memo(cache: Path) -> None:
    """The cache's digest memo is keyed by path, and every case has new paths:
    kept, it would grow with every case, and every case reads and writes it.
    It is only a memo, so the fuzzer forgets it now and then."""
    (cache / "memo" / "digests.json").unlink(missing_ok=True)


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def _signature(outcome: Outcome, folder: Path, case: Case, cache: Path) -> str:
    """Group failures by where they happen: the last frame of Reel's own code
    in the traceback (a hang: its function, wherever in it the clock ran out)."""
    if not outcome.trace:
        entry = folder if case.as_folder else folder / "main.episode"
        outcome.trace = debug_traceback(entry, cache)
    ours = [
        (Path(f).relative_to(REPO).as_posix(), line, func)
        for f, line, func in _FRAME.findall(outcome.trace)
        if f.startswith(str(REPO)) and "/tests/" not in f and "/.venv/" not in f
    ]
    last = outcome.trace.strip().splitlines()[-1] if outcome.trace.strip() else ""
    last = re.sub(r"'[^']*'", "'...'", last)  # file names differ from case to case
    if not ours:
        where = "?"
    elif outcome.exit_code is None:
        where = f"{ours[-1][0]} in {ours[-1][2]}"
    else:
        where = f"{ours[-1][0]}:{ours[-1][1]}"
    return f"{outcome.problem} | {where} | {last[:160]}"


def _print_timings(seed: str, timings: list[float], cache: Path) -> None:
    """The run's figures (shown with `pytest -s`): per-case times, and how many
    voice lines were rendered (each is one action-cache entry)."""
    if not timings:
        return
    ordered = sorted(timings)
    voices = len(list((cache / "ac").glob("*.json"))) if (cache / "ac").is_dir() else 0
    print(
        f"\nfuzz: seed {seed}, {len(timings)} cases in {sum(timings):.1f}s: "
        f"mean {1000 * sum(timings) / len(timings):.1f} ms, "
        f"median {1000 * ordered[len(ordered) // 2]:.1f} ms, "
        f"95th percentile {1000 * ordered[int(len(ordered) * 0.95)]:.1f} ms, "
        f"max {ordered[-1]:.2f}s; {sum(1 for t in timings if t > 0.1)} case(s) over 100 ms; "
        f"{voices} voice line(s) rendered in the session, the rest from the cache"
    )


def _report(
    failures: dict[str, list[tuple[Case, Outcome]]], cases: Path, cache: Path, assets: Path
) -> str:
    total = sum(len(v) for v in failures.values())
    out = [f"{total} fuzz case(s) failed, {len(failures)} distinct crash site(s):"]
    for key, found in failures.items():
        case, outcome = found[0]
        budget = 0 if key.startswith("hang") else 300
        same = _symptom(outcome)
        small = shrink(case, lambda c, s=same: _still_fails(c, s, cases, cache, assets), budget)
        numbers = ", ".join(str(c.number) for c, _ in found[:20])
        out += [
            "",
            f"== {key}",
            f"   {len(found)} case(s): {numbers}{' ...' if len(found) > 20 else ''}",
            f"   first: {case.label} (corpus {case.corpus}, file {case.target}, "
            f"mutations {', '.join(case.ops)}), kept in {cases / f'case-{case.number}'}",
            f"   replay: REEL_FUZZ_SEED={case.seed} REEL_FUZZ_CASE={case.number} "
            "pytest tests/test_fuzz.py -k fuzz_check",
            "   shrunk blueprint:",
            *("   | " + line for line in show(small.files[small.target]).split("\n")),
            "   output:",
            *("   | " + line for line in outcome.output.strip().splitlines()[-6:]),
            "   traceback:",
            *("   | " + line for line in outcome.trace.strip().splitlines()),
        ]
    return "\n".join(out)


def _symptom(outcome: Outcome) -> tuple[str | None, str]:
    """What a failure looks like from outside: its problem and the error line
    Reel printed. Enough to shrink by, with one run per attempt (the traceback
    would take a second run)."""
    printed = [line for line in outcome.output.splitlines() if "internal error" in line]
    return outcome.problem, re.sub(r"'[^']*'", "'...'", printed[0] if printed else "")


def _still_fails(
    case: Case, symptom: tuple[str | None, str], cases: Path, cache: Path, assets: Path
) -> bool:
    folder = cases / "shrink"
    shutil.rmtree(folder, ignore_errors=True)
    outcome = run_check(write_case(case, folder, assets), cache, timeout=min(CASE_TIMEOUT, 5))
    return outcome.problem is not None and _symptom(outcome) == symptom
