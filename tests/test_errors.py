"""Bad input: every error names file:line:col, says what and how, and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from reel.compiler.files import is_file

from helpers import HEADER, only, reel, run_plan, write_tree


def where(diag) -> tuple[str, int, int]:
    return (Path(diag.span.file.display).name, diag.span.line, diag.span.column)


def line_of(text: str, needle: str) -> int:
    full = HEADER + text
    for number, line in enumerate(full.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


# ---- syntax -----------------------------------------------------------------
def test_misspelt_keyword_suggests_the_keyword(episode) -> None:
    body = "scene a {\n  shto wide 2s { }\n}\n"
    out = episode(body)
    err = only(out.errors)
    assert out.exit_code == 2
    assert err.message.startswith("unexpected 'shto'")
    assert where(err) == ("main.episode", line_of(body, "shto"), 3)
    assert err.help == "did you mean 'shot'?"


@pytest.mark.parametrize(
    "snippet, word, column, keyword",
    [
        ("shotwide 2s { }", "shotwide", 3, "shot"),
        ('shot wide 2s { platevideo "x.mp4" }', "platevideo", 18, "plate"),
    ],
)
def test_a_keyword_glued_to_a_word_is_not_two_words(
    episode, snippet: str, word: str, column: int, keyword: str
) -> None:
    """Found by the fuzzer: where only a keyword could come, the lexer read
    `shotwide` as `shot wide` and the blueprint passed."""
    body = f"scene a {{\n  {snippet}\n}}\n"
    out = episode(body)
    err = only(out.errors)
    assert out.exit_code == 2
    assert err.message.startswith(f"unexpected '{word}', expected ")
    assert where(err) == ("main.episode", line_of(body, word), column)
    assert err.help == f"did you mean '{keyword}'?"


def test_incomplete_statement_points_at_its_end(episode) -> None:
    body = "scene a {\n  shot wide 2s {\n    say maya\n  }\n}\n"
    err = only(episode(body).errors)
    assert err.message.startswith("expected ") and "a string" in err.message
    assert where(err) == ("main.episode", line_of(body, "say maya"), 12)


def test_single_quotes_get_a_hint(episode) -> None:
    err = only(episode("scene a {\n  shot wide 2s { title 'x' }\n}\n").errors)
    assert err.message == "unexpected character '''"
    assert "double quotes" in err.help


def test_unterminated_string(episode) -> None:
    body = 'scene a {\n  shot wide 2s { title "Canal Street }\n}\n'
    err = only(episode(body).errors)
    assert err.message == "this string is never closed"
    assert where(err) == ("main.episode", line_of(body, "Canal"), 24)


def test_unclosed_brace_points_at_the_brace(episode) -> None:
    body = 'scene a {\n  shot wide 2s { title "x" }\n'
    err = only(episode(body).errors)
    assert err.message == "this '{' is never closed"
    assert where(err) == ("main.episode", line_of(body, "scene a"), 9)


def test_several_syntax_errors_are_all_reported(episode) -> None:
    body = (
        'scene a {\n  shto wide 2s { }\n  shot wide 2s { plate solid "#000" }\n}\n'
        "scene b {\n  shot wide 2s { say maya }\n}\n"
        "scene c {\n  shot wide 2s { title 'x' }\n}\n"
    )
    out = episode(body)
    lines = [e.span.line for e in out.errors]
    assert lines == [line_of(body, "shto"), line_of(body, "say maya }"), line_of(body, "title 'x'")]


# ---- names ---------------------------------------------------------------------
def test_unknown_character_suggests_the_near_name(episode) -> None:
    body = 'scene a {\n  shot wide 2s { say mya "hi" }\n}\n'
    err = only(episode(body).errors)
    assert err.message == "unknown character 'mya'"
    assert where(err) == ("main.episode", line_of(body, "mya"), 22)
    assert err.help.startswith("did you mean 'maya'?")


@pytest.mark.parametrize(
    "body, message, help_start",
    [
        (
            "scene a at cafee { shot wide 2s { } }",
            "unknown location 'cafee'",
            "did you mean 'cafe'?",
        ),
        ("scene a { shot wdie 2s { } }", "unknown framing 'wdie'", "did you mean 'wide'?"),
        (
            'scene a { shot wide 2s { plate imag "x.png" } }',
            "unknown plate kind 'imag'",
            "did you mean 'image'?",
        ),
        (
            "scene a { shot wide 2s { move push_inn } }",
            "unknown motion 'push_inn'",
            "did you mean 'push_in'?",
        ),
        (
            'scene a { shot wide 2s { title "x" style acent } }',
            "unknown text style 'acent'",
            "did you mean 'accent'?",
        ),
        (
            'scene a { shot wide 2s { say maya "x" moood calm } }',
            "unknown option 'moood' for say",
            "did you mean 'mood'?",
        ),
        ('scene a { use hoook("x") }', "unknown template 'hoook'", "did you mean 'hook'?"),
        (
            "scene a { shot wide 2s { transition crosfade } }",
            "unknown transition 'crosfade'",
            "did you mean 'crossfade'?",
        ),
        (
            "scene a { shot wide 2s { } }\ndeliver m = youtube_1080 ",
            "unknown preset 'youtube_1080'",
            "did you mean 'youtube_1080p'?",
        ),
        (
            "scene a time mornin { shot wide 2s { } }",
            "unknown time of day 'mornin'",
            "did you mean 'morning'?",
        ),
    ],
)
def test_unknown_names(episode, body: str, message: str, help_start: str) -> None:
    err = only(episode('load "std/templates"\nload "std/deliverables"\n' + body).errors)
    assert err.message == message
    assert err.help.startswith(help_start)
    assert err.span is not None and err.span.line > 0


def test_duplicate_declarations(episode) -> None:
    err = only(episode("scene a { shot wide 2s { } }\nscene a { shot wide 2s { } }\n").errors)
    assert err.message == "scene 'a' is declared twice"
    assert "the first is at" in err.help


# ---- units and values -----------------------------------------------------------------
@pytest.mark.parametrize(
    "snippet, message, help_part",
    [
        ("shot wide 2kg { }", "unknown unit 'kg'", "'s', 'ms', 'f'"),
        ("shot wide 2sec { }", "unknown unit 'sec'", "did you mean 's'?"),
        (
            "shot wide 2dB { }",
            "wrong unit 'dB' (decibels): expected a time in s, ms or frames (f)",
            "'s'",
        ),
        ("shot wide 2 { }", "expected a time in s, ms or frames (f), found a number 2", "e.g. 2s"),
        ("shot wide 0s { }", "a time must be positive, found 0s", None),
        ('shot wide 2s { plate solid "#12" }', '"#12" is not a colour', "#rrggbb"),
        (
            'shot wide 2s { sfx "w.wav" gain -6 }',
            "expected a gain in dB, found a number -6",
            "-12dB",
        ),
        ("shot wide 2s { move pan_left 10 }", "expected a percentage, found a number 10", "30%"),
        (
            'shot wide 2s { plate image "/etc/x.png" }',
            '"/etc/x.png" is not a relative path',
            "relative",
        ),
    ],
)
def test_wrong_units_and_values(episode, snippet: str, message: str, help_part: str | None) -> None:
    body = f"scene a {{\n  {snippet}\n}}\n"
    err = only(episode(body).errors)
    assert err.message == message
    assert err.span.line == line_of(body, snippet)
    if help_part:
        assert help_part in err.help


def test_bad_format_and_runtime() -> None:
    header = 'episode t {\n  title "T"\n  format 641x360 @ 24fpx\n  runtime 90s .. 45s\n}\n'
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = write_tree(Path(tmp), {"main.episode": header + "scene a { shot wide 2s { } }"})
        out = run_plan(root)
    messages = [e.message for e in out.errors]
    assert "resolution 641x360 is not usable" in messages
    assert "unknown unit 'fpx'" in messages
    assert "the runtime window is upside down" in messages


# ---- templates ------------------------------------------------------------------------
TEMPLATE = "template card(text: text, length: time = 2s) { shot wide $length { title $text } }\n"


@pytest.mark.parametrize(
    "call, message",
    [
        ('use card("a", 2s, 3)', "too many arguments to 'card': it takes 2, 3 given"),
        ("use card()", "missing argument 'text' in the call to 'card'"),
        ('use card("a", size: 2)', "'card' has no parameter 'size'"),
        ("use card(12)", "argument 'text' of 'card' must be text, found number '12'"),
        ('use card("a", length: 2kg)', "unknown unit 'kg'"),
        ('use card(text: "a", "b")', "a positional argument cannot follow a named one"),
    ],
)
def test_template_called_with_wrong_arguments(episode, call: str, message: str) -> None:
    body = TEMPLATE + f"scene a {{\n  {call}\n}}\n"
    errors = episode(body).errors
    assert message in [e.message for e in errors], [e.render() for e in errors]
    err = next(e for e in errors if e.message == message)
    assert err.span.line == line_of(body, call)
    if "unknown unit" not in message:
        assert (
            "card(text: text, length: time = 2s)" in (err.help or "")
            or "first" in (err.help or "")
            or "positional" in (err.help or "")
        )


def test_errors_inside_an_expansion_name_the_use_site(episode) -> None:
    body = (
        'template bad(who: name) { shot wide 2s { say $who "hi" } }\n'
        "scene a {\n  use bad(nobody)\n}\n"
    )
    err = only(episode(body).errors)
    assert err.message == "unknown character 'nobody'"
    assert any("in the expansion of 'bad' used at" in n for n in err.notes)


def test_parameter_outside_a_template(episode) -> None:
    err = only(episode("scene a {\n  shot wide $x { }\n}\n").errors)
    assert err.message.startswith("'$x' is a template parameter, but this is not inside")


def test_unknown_parameter_in_a_template(episode) -> None:
    err = only(
        episode(
            'template t(text: text) { shot wide 2s { title $txt } }\nscene s { use t("x") }\n'
        ).errors
    )
    assert err.message == "unknown parameter '$txt'"
    assert err.help.startswith("did you mean 'text'?")


def test_recursive_template(episode) -> None:
    err = only(episode("template t() { use t() }\nscene s { use t() }\n").errors)
    assert err.message == "template 't' uses itself: t -> t"


# ---- loads ---------------------------------------------------------------------------------
def test_load_cycle_shows_the_chain(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.episode": HEADER + 'load "./a"\nscene s { shot wide 2s { } }\n',
            "a.episode": 'load "./b"\n',
            "b.episode": 'load "./a"\n',
        },
    )
    err = only(run_plan(tmp_path).errors)
    chain = [
        Path(part.strip()).name for part in err.message.removeprefix("load cycle: ").split("->")
    ]
    assert chain == ["a.episode", "b.episode", "a.episode"]
    assert "third module" in err.help
    assert where(err) == ("b.episode", 1, 6)


def test_missing_module(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.episode": HEADER + 'load "./scens"\nload "std/templatez"\n'
            "scene s { shot wide 2s { } }\n",
            "scenes.episode": "",
        },
    )
    errors = run_plan(tmp_path).errors
    assert [e.message for e in errors] == [
        "cannot find module './scens'",
        "no stdlib module 'std/templatez'",
    ]
    assert errors[0].help == "did you mean './scenes'?"
    assert errors[1].help == "did you mean 'std/templates'?"


def test_missing_path_on_the_command_line(tmp_path: Path) -> None:
    proc = reel("check", "nowhere", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no such file or folder: nowhere" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "main.episode").write_bytes(b'episode t { title "\xff" }')
    err = only(run_plan(tmp_path).errors)
    assert "is not UTF-8 text" in err.message


# ---- the command line ---------------------------------------------------------------------
def test_cli_reports_all_errors_with_carets_and_exit_2(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"main.episode": HEADER + 'scene a {\n  shot wdie 2kg { say mya "x" }\n}\n'}
    )
    proc = reel("check", "main.episode", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") == 3
    assert "main.episode:9:8" in proc.stderr  # wdie
    assert "\n  |        ^^^^\n" in proc.stderr
    assert "reel: 3 errors" in proc.stderr
    out = tmp_path / "reel-out"
    proc = reel("build", "main.episode", cwd=tmp_path)
    assert proc.returncode == 2 and not out.exists()


def test_user_declarations_shadow_the_stdlib_but_not_each_other(episode) -> None:
    body = (
        'load "std/templates"\ntext_style accent { color "#00ff00" }\n'
        "template hook(text: text) { shot wide 1s { title $text style accent } }\n"
        'scene a { use hook("mine") }\n'
    )
    out = episode(body)
    assert out.exit_code == 0, [e.render() for e in out.errors]
    (shot,) = out.result.shotlist.shots
    assert shot.duration_frames == 24 and shot.overlays[0].kind == "title"
    twice = episode(
        "text_style accent { size 1 }\ntext_style accent { size 2 }\nscene a { shot wide 1s { } }\n"
    )
    assert only(twice.errors).message == "text style 'accent' is declared twice"


# ---- limits and odd input, found by the fuzzer (tests/test_fuzz.py) ------------------------


def _fan_out(width: int, depth: int) -> str:
    """Templates that multiply: width**depth shots from a few lines."""
    lines = ["template f0() { shot wide 1f { } }"]
    for i in range(1, depth + 1):
        lines.append(f"template f{i}() {{ " + f"use f{i - 1}() " * width + "}")
    return "\n".join([*lines, f"scene fan {{ use f{depth}() }}"])


def _deep_chain(depth: int) -> str:
    lines = ["template d0() { shot wide 1f { } }"]
    lines += [f"template d{i}() {{ use d{i - 1}() }}" for i in range(1, depth + 1)]
    return "\n".join([*lines, f"scene deep {{ use d{depth}() }}"])


@pytest.mark.parametrize(
    "body, what, line, column",
    [
        (
            'episode {name} {{ title "T" format 640x360 @ 24fps }}\n'
            "scene a {{ shot wide 1s {{ }} }}\n",
            "episode",
            1,
            9,
        ),
        (
            'episode t {{ title "T" format 640x360 @ 24fps }}\n'
            "scene {name} {{ shot wide 1s {{ }} }}\n",
            "scene",
            2,
            7,
        ),
        (
            'load "std/deliverables"\nepisode t {{ title "T" format 640x360 @ 24fps }}\n'
            "scene a {{ shot wide 1s {{ }} }}\ndeliver {name} = podcast_audio\n",
            "deliverable",
            4,
            9,
        ),
    ],
)
def test_names_that_become_file_names_are_at_most_100_characters(
    tmp_path: Path, body: str, what: str, line: int, column: int
) -> None:
    """An episode id or deliverable name of 10,000 characters crashed the build
    with "File name too long": they name files under the output folder."""
    write_tree(tmp_path, {"main.episode": body.format(name="n" * 101)})
    out = run_plan(tmp_path)
    err = only(out.errors)
    assert out.exit_code == 2
    assert err.message == f"this {what} name is 101 characters long; the limit is 100"
    assert where(err) == ("main.episode", line, column)
    assert "become file names" in err.help
    write_tree(tmp_path, {"main.episode": body.format(name="n" * 100)})
    assert run_plan(tmp_path).exit_code == 0


def test_templates_that_multiply_stop_with_an_error(episode) -> None:
    """Ten templates each using the next ten times asked for 10**10 shots: the
    check ran forever. Now expansion stops at 10,000 and says where."""
    body = _fan_out(10, 10) + "\n"
    out = episode(body)
    err = only(out.errors)
    assert out.exit_code == 2
    assert err.message == "templates expand more than 10000 times in this episode"
    assert where(err) == ("main.episode", HEADER.count("\n") + 12, 17)  # use f10() in the scene
    assert "multiplies" in err.help


def test_a_missing_template_multiplied_is_bounded_too(episode) -> None:
    """Uses of an unknown template count towards the limit: multiplied, they
    made thousands of errors per level, and the check took minutes."""
    body = _fan_out(10, 10).replace("template f2() {", "template unused() {") + "\n"
    out = episode(body)
    assert out.exit_code == 2
    assert out.errors[0].message == "unknown template 'f2'"
    assert len(out.errors) <= 10_001
    assert out.errors[-1].message == "templates expand more than 10000 times in this episode"
    assert where(out.errors[-1]) == ("main.episode", HEADER.count("\n") + 12, 17)


def test_templates_nested_too_deep_are_not_called_recursive(episode) -> None:
    err = only(episode(_deep_chain(20) + "\n").errors)
    assert err.message.startswith("templates nest more than 16 deep: d20 -> d19 -> ")
    assert "uses itself" not in err.message


@pytest.mark.parametrize(
    "snippet, digits, column",
    [
        ("shot wide " + "9" * 5000 + "f { }", 5000, 13),
        ('shot wide 1s { plate checker "#000" "#fff" cell ' + "1" * 400 + " }", 400, 51),
        ("shot wide 1s { move pan_left 0." + "0" * 40 + "1% }", 42, 32),
    ],
)
def test_a_number_with_thousands_of_digits_is_an_error(
    episode, snippet: str, digits: int, column: int
) -> None:
    """Python refuses to convert a 5000-digit integer from text, and a 400-digit
    one overflowed a float: both crashed with an internal error."""
    out = episode(f"scene a {{\n  {snippet}\n}}\n")
    err = only(out.errors)
    assert out.exit_code == 2
    assert err.message == f"this number has {digits} digits; a number may have at most 30"
    assert where(err) == ("main.episode", HEADER.count("\n") + 2, column)
    assert "typo" in err.help


def test_a_resolution_with_thousands_of_digits_is_an_error(tmp_path: Path) -> None:
    header = 'episode t { title "T" format 1' + "0" * 5000 + "x16 @ 24fps }\n"
    write_tree(tmp_path, {"main.episode": header + "scene a { shot wide 1s { } }\n"})
    out = run_plan(tmp_path)
    err = only(out.errors)
    assert err.message == "this number has 5003 digits; a number may have at most 30"
    assert where(err) == ("main.episode", 1, 30)


def test_a_path_that_cannot_exist_is_a_positioned_error(episode) -> None:
    """A 300-character file name made `Path.is_file()` raise ENAMETOOLONG while
    the asset manifest was built (exit 70); it is now an error at the path."""
    assert not is_file(Path("x" * 300)) and not is_file(Path("a\x00b"))
    name = "x" * 300 + ".png"
    out = episode(f'scene a {{\n  shot wide 1s {{ plate image "{name}" }}\n}}\n')
    assert out.exit_code == 2
    err = only(out.errors)
    assert err.message.startswith(f'cannot read "{name}"')
    assert where(err) == ("main.episode", HEADER.count("\n") + 2, 30)


# ---- colours ------------------------------------------------------------------
def test_a_colour_name_works_as_a_plate_colour(episode) -> None:
    """Issue 13: `plate solid black` failed to parse, with the error on the next line."""
    out = episode('scene a {\n  shot wide 2s { plate solid black  title "hi" style title }\n}\n')
    assert out.exit_code == 0, out.errors
    (shot,) = out.result.episode.scenes[0].shots
    assert shot.plate.colours == ("#000000",)


@pytest.mark.parametrize(
    "plate, word, help_start",
    [
        ("plate solid blak", "blak", "did you mean 'black'?"),
        ('plate gradient "#000" whte', "whte", "did you mean 'white'?"),
        ('plate solid "blak"', '"blak"', "did you mean black?"),
    ],
)
def test_an_unknown_colour_is_named_at_its_place_with_a_suggestion(
    episode, plate: str, word: str, help_start: str
) -> None:
    body = f"scene a {{\n  shot wide 2s {{\n    {plate}\n  }}\n}}\n"
    out = episode(body)
    err = only(out.errors)
    assert out.exit_code == 2
    assert "colour" in err.message and word.strip('"') in err.message
    assert where(err) == ("main.episode", line_of(body, plate), 5 + plate.index(word))
    assert err.help.startswith(help_start)
    assert '"#rrggbb"' in err.help


def test_an_option_without_a_value_after_a_plate_is_named(episode) -> None:
    body = 'scene a {\n  shot wide 2s {\n    plate image "a.png" fit\n  }\n}\n'
    err = only(episode(body).errors)
    assert err.message == "option 'fit' of `plate image` has no value"
    assert where(err) == ("main.episode", line_of(body, "fit"), 25)
