"""The Director's pacing checks (seed 002): visual types, phase order, the arc's
shares and shot rhythm, measured at plan time on the ShotList (nothing renders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reel.compiler import artifacts as a

from helpers import HEADER, only, run_plan, write_tree


def header(arc: str) -> str:
    return HEADER.replace('  title "T"', f'  title "T"\n  arc {arc}', 1)


# establish 2s, escalate 4s, peak 3s, resolve 1s: 10 s, shares 20/40/30/10
PEAKY = """
scene a phase establish { shot wide 2s { } }
scene b phase escalate { shot wide 2s { } shot medium 2s { } }
scene c phase peak { shot close 3s { } }
scene d phase resolve { shot wide 1s { } }
"""

WELL_PACED = """
scene a phase establish { shot wide 2s tag atmosphere { } shot medium 1s tag character { } }
scene b phase escalate { shot wide 2s { } shot close 2s tag object { } shot close 1s { } }
scene c phase peak { shot close 1500ms tag character { } }
scene d phase resolve { shot wide 500ms { } }
"""  # 10 s: establish 30%, escalate 50%, peak 15%, resolve 5% (three_act ± 10)


def line(text: str, needle: str) -> int:
    """The 1-based line of ``text`` that holds ``needle``: sites without counting by hand."""
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


def report(outcome) -> a.PacingReport:
    assert outcome.exit_code == 0, [e.render() for e in outcome.errors]
    assert outcome.result.pacing is not None
    return outcome.result.pacing


def test_phases_out_of_order_warn_with_both_sites(episode) -> None:
    body = """
scene a phase establish { shot wide 1s { } }
scene b phase resolve { shot wide 1s { } }
scene c phase establish { shot wide 1s { } shot wide 1s { } }
"""
    outcome = episode(body)
    pacing = report(outcome)
    (finding,) = pacing.findings
    assert (finding.check, finding.phase, finding.shot_id) == ("order", "establish", "c.s01")
    breaks, earlier = line(HEADER + body, "scene c"), line(HEADER + body, "scene b")
    assert finding.site == f"main.episode:{breaks}:1"
    assert finding.earlier_site == f"main.episode:{earlier}:1"
    warning = only(outcome.warnings)
    assert "'establish' comes after 'resolve'" in warning.message
    assert str(warning.span).endswith(f"main.episode:{breaks}:1")
    assert any(f"main.episode:{earlier}:1" in note for note in warning.notes)
    assert pacing.sequence == ["establish", "resolve", "establish"]


def test_a_shot_phase_breaks_order_inside_its_scene(episode) -> None:
    body = "scene a phase escalate { shot wide 1s { } shot wide 1s phase establish { } }\n"
    (finding,) = report(episode(body)).findings
    assert finding.shot_id == "a.s02"
    assert finding.site == f"main.episode:{line(HEADER + body, 'scene a')}:43"


def test_a_climax_too_long_for_its_arc_warns(episode) -> None:
    outcome = episode(PEAKY, header=header("three_act"))
    pacing = report(outcome)
    assert pacing.arc is not None and pacing.arc.name == "three_act"
    by_phase = {f.phase: f for f in pacing.findings}
    assert set(by_phase) == {"peak"}  # 30% against 15% ± 10; the others are within 10
    assert by_phase["peak"].check == "proportion" and by_phase["peak"].severity == "warning"
    warning = only(outcome.warnings)
    assert "climax (peak) runs 30% of the episode, too long for arc 'three_act'" in warning.message


def test_a_strict_arc_is_a_gate(episode) -> None:
    outcome = episode(PEAKY, header=header("three_act { strict true }"))
    assert outcome.exit_code == 1
    error = only(outcome.errors)
    assert "too long for arc 'three_act'" in error.message
    peak = line(header("three_act { strict true }") + PEAKY, "scene c")
    assert str(error.span).endswith(f"main.episode:{peak}:1")  # the peak scene


def test_an_inline_arc_and_its_tolerance(episode) -> None:
    arc = "{ establish 20% escalate 40% peak 30% resolve 10% tolerance 0% }"
    assert report(episode(PEAKY, header=header(arc))).findings == []
    tight = "{ establish 20% escalate 45% peak 25% resolve 10% tolerance 4% }"
    findings = report(episode(PEAKY, header=header(tight))).findings
    assert sorted(f.phase for f in findings) == ["escalate", "peak"]


def test_arc_shares_must_add_up_to_100(episode) -> None:
    outcome = episode(PEAKY, header=header("three_act { peak 30% }"))
    assert outcome.exit_code == 2
    assert "add up to 115%, not 100%" in only(outcome.errors).message


def test_an_arc_named_as_text_or_misspelt_is_an_input_error(episode) -> None:
    outcome = episode(PEAKY, header=header('"rally"'))
    assert outcome.exit_code == 2 and "not text" in only(outcome.errors).message
    outcome = episode(PEAKY, header=header("three_acts"))
    error = only(outcome.errors)
    assert "unknown arc 'three_acts'" in error.message and "three_act" in (error.help or "")


def test_a_well_paced_episode_has_no_finding(episode) -> None:
    outcome = episode(WELL_PACED, header=header("three_act"))
    pacing = report(outcome)
    assert pacing.findings == [] and outcome.warnings == []
    shares = {p.phase: p.share_percent for p in pacing.phases}
    assert shares == {"establish": 30.0, "escalate": 50.0, "peak": 15.0, "resolve": 5.0}
    types = {p.phase: p.visual_types for p in pacing.phases}
    assert types["establish"] == {"atmosphere": 1, "character": 1}


def test_rhythm_per_phase(episode) -> None:
    pacing = report(episode(WELL_PACED))
    escalate = next(p for p in pacing.phases if p.phase == "escalate")
    assert escalate.shots == 3 and escalate.mean_shot_seconds == pytest.approx(5 / 3, abs=1e-4)
    # lengths 2, 2, 1: population variance 2/9, sigma sqrt(2)/3
    assert escalate.variance_shot_seconds2 == pytest.approx(2 / 9, abs=1e-4)
    assert escalate.stdev_shot_seconds == pytest.approx(2**0.5 / 3, abs=1e-4)
    assert pacing.arc is None and all(p.arc_percent is None for p in pacing.phases)


def test_proportions_come_from_the_shotlist(episode) -> None:
    """`auto` shots last as long as their lines: the shares are the ShotList's
    frames, not the blueprint's written durations."""
    outcome = episode(
        """
scene a phase establish { shot wide 1s { } }
scene b phase peak {
  shot close { say maya "This line is long enough to take several seconds to say aloud." }
}
"""
    )
    pacing = report(outcome)
    shotlist = outcome.result.shotlist
    frames = {s.id: s.duration_frames for s in shotlist.shots}
    peak = next(p for p in pacing.phases if p.phase == "peak")
    assert peak.frames == frames["b.s01"] > 24
    assert pacing.total_frames == sum(frames.values())
    assert peak.share_percent == pytest.approx(100 * frames["b.s01"] / sum(frames.values()), 1e-3)
    assert pacing.parents["ShotList"] == shotlist.content_hash


def test_unphased_shots_continue_the_phase_before_them(episode) -> None:
    outcome = episode(
        """
scene a { shot wide 1s { } }
scene b phase establish { shot wide 1s { } }
scene c { shot wide 1s { } }
"""
    )
    pacing = report(outcome)
    assert {p.phase: p.shots for p in pacing.phases} == {"unmarked": 1, "establish": 2}
    (finding,) = pacing.findings
    assert finding.check == "unmarked" and finding.shot_id == "a.s01"


def test_an_episode_without_phases_has_no_finding(episode) -> None:
    pacing = report(episode("scene a { shot wide 1s { } }"))
    assert pacing.findings == [] and [p.phase for p in pacing.phases] == ["unmarked"]


def test_unknown_visual_type_is_an_error_with_a_suggestion(episode) -> None:
    body = "scene a { shot wide 1s tag charactr { } }\n"
    outcome = episode(body)
    assert outcome.exit_code == 2
    error = only(outcome.errors)
    assert error.message == "unknown visual type 'charactr'"
    assert str(error.span).endswith(f"main.episode:{line(HEADER + body, 'scene a')}:28")
    assert error.help == "did you mean 'character'?"


def test_none_excludes_other_visual_types(episode) -> None:
    outcome = episode("scene a { shot wide 1s tag object tag none { } }")
    assert outcome.exit_code == 2
    assert "tagged 'none' is also tagged object" in only(outcome.errors).message


def test_the_report_is_written_with_the_plan(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.episode": header("three_act") + PEAKY})
    out = tmp_path / "out"
    outcome = run_plan(tmp_path, out=out)
    written = a.read_artifact(out / "t" / "PacingReport.json", a.PacingReport)
    assert written == outcome.result.pacing
    again = run_plan(tmp_path).result.pacing
    assert again.to_json() == written.to_json()  # deterministic
