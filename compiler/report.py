"""``report.html``: the build at a glance, one self-contained file.

A contact sheet (a thumbnail per shot with its id, duration, scene and
phase), the master's short-term loudness over time against its target, the
stems' levels, the gates, what ran and what was cached, and the timings.
Images are data: URIs and the SVG and CSS are inline; a Content-Security-Policy
forbids every fetch, so the file opens the same from a mail, a CI artifact or
a disk with no network.

The pictures and curves come from the cached ``report`` action
(``rules/report.py``): measuring is work, and work is an action. What ran,
what was cached and the timings are this run's record (``run_summary.json``),
which no action of the run can take as an input, so the page is put together
here, where the set is delivered. Like ``run_summary.json`` it is a log of
the last build that did work (its timings differ run to run), so it is
recorded as one: never compared by `reel verify` or the no-op check, and a
no-op build leaves it as it is. It holds no clock time and no absolute path:
the same run record gives the same bytes.
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from .outputs import OutputSet
from .qc import piece_action_id
from .rules.report import ACTION, thumbnail_action
from .store import Store

FILE = "report.html"

# Scene colours: distinct, readable on white, cycled.
PALETTE = ("#3b6fd1", "#d1673b", "#2f9e6e", "#9b4fd1", "#c9a227", "#d13b7a", "#3bb5c9", "#6b7280")
STEM_COLOURS = {"voice": "#3b6fd1", "music": "#d1673b", "effects": "#2f9e6e"}

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2430;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:#5b6270}.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 2px #0002;
min-width:110px}
.tile b{display:block;font-size:22px}.ok{color:#1f8a4c}.bad{color:#c0392b}.warn{color:#b7791f}
h3{font-size:14px;margin:16px 0 6px}th{background:#eef0f4}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
figure{margin:0;background:#fff;border-radius:6px;overflow:hidden;box-shadow:0 1px 2px #0002;
border-top:5px solid var(--c)}
figure img{display:block;width:100%;height:auto;background:#000}
figcaption{padding:6px 8px;font-size:12px}figcaption b{font-size:13px}
.chip{display:inline-block;border-radius:9px;padding:0 7px;color:#fff;background:var(--c);
font-size:11px}
svg{background:#fff;border-radius:6px;box-shadow:0 1px 2px #0002;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#5b6270}
table{border-collapse:collapse;background:#fff}td,th{padding:3px 10px;text-align:left;
border-bottom:1px solid #e4e6ea;font-size:12px;vertical-align:top}
.bar{display:inline-block;height:10px;background:#3b6fd1;border-radius:2px}
.cached{background:#b8c2d6}
"""


def write_report(result: Any, staged: OutputSet, store: Store) -> None:
    """Write ``report.html`` into the staged set, as a log (see the module's doc)."""
    media = None
    res = result.report.results.get(ACTION)
    if res is not None:
        media = json.loads(store.read_blob(res.outputs["report.json"]))
        media["thumbs"] = thumbnails(result, store)
    page = render(result.plan, result.summary, media)
    staged.path(FILE).write_text(page, encoding="utf-8")
    staged.add_written(FILE, log=True)


def wanted_thumbnails(shot_ids: list[str], actions: set[str], wanted: set[str]) -> set[str]:
    """The renders whose thumbnails a wanted report shows, when QC measures them
    as pieces of a delivered file anyway (a deliverable called master that is
    a rendition does not render the master's segments for a thumbnail)."""
    if ACTION not in wanted:
        return set()
    return {
        thumbnail_action(s) for s in shot_ids if piece_action_id(thumbnail_action(s)) in actions
    }


def thumbnails(result: Any, store: Store) -> dict[str, str]:
    """Each shot's thumbnail as a data: URI (the report stays one file)."""
    thumbs = {}
    for shot in result.plan.shotlist.shots:
        made = result.report.results.get(thumbnail_action(shot.id))
        if made is not None and "thumb.jpg" in made.outputs:
            data = base64.b64encode(store.read_blob(made.outputs["thumb.jpg"])).decode()
            thumbs[shot.id] = "data:image/jpeg;base64," + data
    return thumbs


def render(plan: Any, summary: dict[str, Any], media: dict[str, Any] | None) -> str:
    shotlist = plan.shotlist
    episode = plan.episode
    fps = shotlist.fps_num / shotlist.fps_den
    seconds = shotlist.total_frames / fps
    scenes = list(dict.fromkeys(s.scene_id for s in shotlist.shots))
    colour = {scene: PALETTE[i % len(PALETTE)] for i, scene in enumerate(scenes)}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"/>',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\"/>",
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{escape(episode.title)}: build report</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(episode.title)}</h1>",
        f'<p class="sub">{escape(episode.id)} · {seconds:.2f} s · {shotlist.total_frames} '
        f"frames at {fps:g} fps · {shotlist.width}×{shotlist.height} · "
        f"{len(scenes)} scenes, {len(shotlist.shots)} shots · targets: "
        f"{escape(', '.join(summary.get('targets', [])))}</p>",
        _tiles(summary),
        "<h2>Gates</h2>",
        _gates(plan, summary, seconds),
        "<h2>Pacing</h2>",
        _pacing(getattr(plan, "pacing", None)),
        "<h2>Contact sheet</h2>",
        _sheet(episode, shotlist, colour, media),
        "<h2>Loudness of the master</h2>",
        _loudness(media, summary, shotlist, colour),
        "<h2>Stems</h2>",
        _stems(media, seconds),
        "<h2>What ran</h2>",
        _ran(summary),
        "<h2>Timings</h2>",
        _stages(summary),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _tiles(summary: dict[str, Any]) -> str:
    actions = summary.get("actions", {})
    rate = summary.get("cache_hit_rate")
    total_ms = summary.get("stages_ms", {}).get("total")
    tiles = [
        ("actions", actions.get("total", 0)),
        ("ran", actions.get("ran", 0)),
        ("cached", actions.get("cached", 0)),
        ("cache hits", f"{rate * 100:.0f}%" if rate is not None else "–"),
        ("failed", actions.get("failed", 0)),
        ("build", f"{total_ms / 1000:.1f} s" if total_ms is not None else "–"),
    ]
    cells = "".join(f'<div class="tile">{k}<b>{escape(str(v))}</b></div>' for k, v in tiles)
    return f'<div class="tiles">{cells}</div>'


def _verdict(ok: bool, text: str) -> str:
    mark = '<b class="ok">✓</b>' if ok else '<b class="bad">✗</b>'
    return f"<tr><td>{mark}</td><td>{text}</td></tr>"


def _gates(plan: Any, summary: dict[str, Any], seconds: float) -> str:
    episode = plan.episode
    facts = sum(len(scene.facts) for scene in episode.scenes)
    rows = [_verdict(True, f"canon: {facts} facts agree with the cast and the story")]
    low, high = episode.runtime_min, episode.runtime_max
    if low is not None or high is not None:
        window = f"{low if low is not None else ''}..{high if high is not None else ''}"
        rows.append(_verdict(True, f"runtime: {seconds:.2f} s within {escape(window)}"))
    loud = summary.get("loudness")
    if loud:
        out = loud["output"]
        rows.append(
            _verdict(
                bool(loud["reached"]),
                f"loudness: {out['integrated_lufs']:.1f} LUFS (target "
                f"{loud['target_lufs']:.1f}), true peak {out['true_peak_dbtp']:.1f} dBTP "
                f"(ceiling {loud['true_peak_ceiling_dbtp']:.1f}), gain {loud['gain_db']:+.1f} dB"
                + (f", limiter {loud['limiter_db']:.1f} dB" if loud.get("limiter_db") else ""),
            )
        )
    placeholders = summary.get("placeholders") or 0  # a count
    rows.append(_verdict(not placeholders, f"placeholders: {placeholders} (missing pictures)"))
    for warning in summary.get("warnings") or []:
        rows.append(f'<tr><td><b class="bad">!</b></td><td>{escape(warning)}</td></tr>')
    return "\n".join(
        [
            f"<table>{''.join(rows)}</table>",
            "<h3>Every gate, per deliverable</h3>",
            _gate_results(summary.get("gates") or []),
            "<h3>Approvals</h3>",
            _approvals(summary.get("approvals") or []),
            "<h3>QC of each delivered file</h3>",
            _qc(summary.get("qc")),
        ]
    )


STATUS = {"pass": "ok", "approved": "ok", "warn": "warn", "fail": "bad"}


def _cell(value: Any) -> str:
    return f"<td>{escape(str(value))}</td>" if value not in (None, "") else "<td>–</td>"


def _gate_results(results: list[dict[str, Any]]) -> str:
    """Each GateResult (run_summary's ``gates``, as RenderOutput has them): a
    row per gate, deliverable and target, its status, and why and the fix."""
    if not results:
        return '<p class="sub">no gate results</p>'
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "gate",
            "deliverable",
            "publish",
            "target",
            "status",
            "reason",
            "fix",
            "site",
            "approver",
        )
    )
    rows = [f'<tr class="head">{head}</tr>']
    for r in results:
        status = r.get("status", "")
        rows.append(
            f'<tr class="gate {escape(status)}">'
            + _cell(r.get("gate"))
            + _cell(r.get("deliverable"))
            + _cell("publish" if r.get("publish") else "no")
            + _cell("every target" if r.get("target") == "*" else r.get("target"))
            + f'<td><b class="{STATUS.get(status, "")}">{escape(status)}</b></td>'
            + _cell(r.get("reason"))
            + _cell(r.get("fix"))
            + _cell(r.get("site"))
            + _cell(r.get("approver"))
            + "</tr>"
        )
    return f'<table class="gates">{"".join(rows)}</table>'


def _approvals(approvals: list[dict[str, Any]]) -> str:
    if not approvals:
        return '<p class="sub">no approvals: no gate was lifted</p>'
    head = "".join(f"<th>{h}</th>" for h in ("gate", "target", "approver", "reason", "site"))
    rows = [f'<tr class="head">{head}</tr>']
    for x in approvals:
        rows.append(
            '<tr class="approval">'
            + "".join(_cell(x.get(k)) for k in ("gate", "target", "approver", "reason", "site"))
            + "</tr>"
        )
    return f'<table class="approvals">{"".join(rows)}</table>'


def _qc(files: list[dict[str, Any]] | None) -> str:
    """QC's verdict per delivered file, with each failed check (QCReport.json
    has every measurement)."""
    if files is None:
        return '<p class="sub">not checked (nothing was delivered)</p>'
    head = "".join(f"<th>{h}</th>" for h in ("deliverable", "file", "verdict", "checks", "failed"))
    rows = [f'<tr class="head">{head}</tr>']
    for f in files:
        failed = f.get("failed") or []
        blocking = any(c.get("blocking", True) for c in failed)
        verdict = "pass" if f.get("passed") else "fail"
        if f.get("passed") and failed:
            verdict = "warn"  # failures that do not block (a draft's loudness)
        mark = STATUS["fail" if not f.get("passed") and blocking else verdict]
        notes = "<br/>".join(
            f"{escape(c['check'])}: measured {escape(c['measured'])}, expected "
            f"{escape(c['target'])}" + (f" ({escape(c['reason'])})" if c.get("reason") else "")
            for c in failed
        )
        rows.append(
            '<tr class="qc">'
            + _cell(f.get("deliverable"))
            + _cell(f.get("path"))
            + f'<td><b class="{mark}">{verdict}</b></td>'
            + _cell(f"{f.get('checks', 0) - len(failed)}/{f.get('checks', 0)} passed")
            + (f"<td>{notes}</td>" if notes else "<td>–</td>")
            + "</tr>"
        )
    return f'<table class="qcfiles">{"".join(rows)}</table>'


def _pacing(report: Any) -> str:
    """PacingReport as a table: each phase's share against the arc, with a bar,
    its shots and their rhythm, then the findings (read from the artifact)."""
    if report is None:
        return '<p class="sub">not measured</p>'
    arc = report.arc
    head = (
        "no arc declared"
        if arc is None
        else f"arc {escape(arc.name)} ± {arc.tolerance_points:g} points"
        + (" (strict: a finding blocks)" if arc.strict else "")
    )
    rows = [
        "<tr><th>phase</th><th>share</th><th>arc</th><th>shots</th>"
        "<th>mean shot</th><th>σ</th><th>visual types</th></tr>"
    ]
    for p in report.phases:
        bar = f'<span class="bar" style="width:{p.share_percent * 2:.0f}px"></span>'
        types = ", ".join(f"{k} {v}" for k, v in p.visual_types.items())
        target = "–" if p.arc_percent is None else f"{p.arc_percent:g}%"
        rows.append(
            f"<tr><td>{escape(p.phase)}</td><td>{bar} {p.share_percent:.1f}%</td>"
            f"<td>{target}</td><td>{p.shots}</td><td>{p.mean_shot_seconds:.2f} s</td>"
            f"<td>{p.stdev_shot_seconds:.2f} s</td><td>{escape(types)}</td></tr>"
        )
    findings = [
        _verdict(False, escape(f"{f.message}" + (f" ({f.site})" if f.site else "")))
        for f in report.findings
    ] or [_verdict(True, "phases in order and within the arc")]
    return (
        f'<p class="sub">{head} · {escape(" → ".join(report.sequence))}</p>'
        f"<table>{''.join(rows)}</table><table>{''.join(findings)}</table>"
    )


def _sheet(
    episode: Any, shotlist: Any, colour: dict[str, str], media: dict[str, Any] | None
) -> str:
    thumbs = (media or {}).get("thumbs", {})
    # A shot's phase, else its scene's (the blueprint may give it on either).
    phases = {scene.id: scene.phase for scene in episode.scenes}
    height = round(192 * shotlist.height / shotlist.width)
    cards = []
    for shot in shotlist.shots:
        c = colour[shot.scene_id]
        src = thumbs.get(shot.id)
        img = (
            f'<img src="{src}" width="192" height="{height}" alt="shot {escape(shot.id)}"/>'
            if src
            else ""
        )
        shot_phase = shot.phase or phases.get(shot.scene_id)
        phase = f' <span class="chip">{escape(shot_phase)}</span>' if shot_phase else ""
        cards.append(
            f'<figure style="--c:{c}">{img}<figcaption><b>{escape(shot.id)}</b><br/>'
            f"{shot.duration_seconds:.2f} s · {shot.duration_frames} f · scene "
            f"{escape(shot.scene_id)}{phase}</figcaption></figure>"
        )
    note = "" if thumbs else '<p class="sub">No thumbnails: this build made no master.</p>'
    return note + f'<div class="sheet">{"".join(cards)}</div>'


def _axis(width: int, height: int, pad: int, top: float, bottom: float, step: float) -> list[str]:
    out = []
    value = top
    while value >= bottom - 1e-9:
        y = pad + (top - value) / (top - bottom) * (height - 2 * pad)
        out.append(
            f'<line x1="{pad}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eceef2"/>'
            f'<text x="4" y="{y + 4:.1f}">{value:g}</text>'
        )
        value -= step
    return out


def _loudness(
    media: dict[str, Any] | None, summary: dict[str, Any], shotlist: Any, colour: dict[str, str]
) -> str:
    points = (media or {}).get("loudness") or []
    if not points:
        return '<p class="sub">No loudness curve: this build made no master.</p>'
    loud = summary.get("loudness") or {}
    target = loud.get("target_lufs")
    width, height, pad = 900, 240, 28
    top, bottom = 0.0, -48.0
    end = max(p[0] for p in points) or 1.0

    def x(t: float) -> float:
        return pad + t / end * (width - pad - 8)

    def y(v: float) -> float:
        v = min(max(v, bottom), top)
        return pad + (top - v) / (top - bottom) * (height - 2 * pad)

    body = _axis(width, height, pad, top, bottom, 12.0)
    fps = shotlist.fps_num / shotlist.fps_den
    seen: set[str] = set()
    for shot in shotlist.shots:  # scene bands along the bottom
        x0, x1 = x(shot.start_frame / fps), x((shot.start_frame + shot.duration_frames) / fps)
        body.append(
            f'<rect x="{x0:.1f}" y="{height - pad + 4}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="6" fill="{colour[shot.scene_id]}"/>'
        )
        if shot.scene_id not in seen:
            seen.add(shot.scene_id)
            body.append(
                f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{pad}" y2="{height - pad}" '
                f'stroke="#dfe2e8" stroke-dasharray="2 3"/>'
            )
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    body.append(f'<polyline points="{line}" fill="none" stroke="#3b6fd1" stroke-width="1.6"/>')
    if target is not None:
        body.append(
            f'<line x1="{pad}" x2="{width - 8}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="#c0392b" stroke-dasharray="6 4" stroke-width="1.4"/>'
            f'<text x="{width - 150}" y="{y(target) - 5:.1f}" style="fill:#c0392b">'
            f"target {target:g} LUFS</text>"
        )
    body.append(f'<text x="{pad}" y="{height - 4}">0 s</text>')
    body.append(f'<text x="{width - 50}" y="{height - 4}">{end:.1f} s</text>')
    caption = (
        "Short-term loudness (3 s window, LUFS) every 100 ms, measured on the master "
        "with ffmpeg's ebur128; the dashed line is the target; the bands are the scenes."
    )
    return _svg(width, height, "loudness of the master over time", body) + (
        f'<p class="sub">{caption}</p>'
    )


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def _stems(media: dict[str, Any] | None, seconds: float) -> str:
    stems = (media or {}).get("stems") or {}
    if not stems:
        return '<p class="sub">No stems in this build.</p>'
    window = media.get("stem_window", 0.5) if media else 0.5
    width, height, pad = 900, 200, 28
    top, bottom = 0.0, -60.0
    longest = max((len(v) for v in stems.values()), default=1) or 1

    def x(i: int) -> float:
        return pad + i / max(longest - 1, 1) * (width - pad - 8)

    def y(v: float) -> float:
        return pad + (top - min(max(v, bottom), top)) / (top - bottom) * (height - 2 * pad)

    body = _axis(width, height, pad, top, bottom, 20.0)
    legend = []
    for n, (name, levels) in enumerate(sorted(stems.items())):
        c = STEM_COLOURS.get(name, PALETTE[n % len(PALETTE)])
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(levels))
        if levels:
            body.append(f'<polyline points="{line}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        peak = max(levels) if levels else None
        loudest = f" loudest {peak:.1f} dBFS" if peak is not None else " empty"
        legend.append(f'<span class="chip" style="--c:{c}">{escape(name)}</span>{loudest}')
    body.append(f'<text x="{width - 60}" y="{height - 4}">{seconds:.1f} s</text>')
    return _svg(width, height, "stem levels over time", body) + (
        f'<p class="sub">RMS level per {window:g} s (dBFS): {" · ".join(legend)}</p>'
    )


def _ran(summary: dict[str, Any]) -> str:
    actions = summary.get("actions", {})
    ran, cached = actions.get("ran", 0), actions.get("cached", 0)
    total = max(ran + cached, 1)
    bar = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 22" width="600" height="22" '
        f'role="img" aria-label="ran versus cached">'
        f'<rect x="0" y="2" width="{600 * ran / total:.1f}" height="18" fill="#3b6fd1"/>'
        f'<rect x="{600 * ran / total:.1f}" y="2" width="{600 * cached / total:.1f}" '
        f'height="18" fill="#b8c2d6"/></svg>'
    )
    legend = f'<p class="sub">{ran} ran (blue) · {cached} taken from the cache (grey)</p>'
    rows = sorted(summary.get("ran") or [], key=lambda r: (-r["seconds"], r["action"]))
    longest = max((r["seconds"] for r in rows), default=0) or 1
    lines = [
        f"<tr><td>{escape(r['action'])}</td><td>{r['seconds']:.2f} s</td>"
        f'<td><span class="bar" style="width:{max(1, round(160 * r["seconds"] / longest))}px">'
        f"</span></td><td>{escape('; '.join(map(str, r.get('why') or [])))}</td></tr>"
        for r in rows
    ]
    voices = summary.get("voices") or {}
    extra = (
        f'<p class="sub">voices: {len(voices.get("ran", []))} synthesised, '
        f"{voices.get('cached', 0)} from the cache</p>"
        if voices
        else ""
    )
    table = (
        "<table><tr><th>action</th><th>time</th><th></th><th>why it ran</th></tr>"
        + "".join(lines)
        + "</table>"
        if lines
        else '<p class="sub">Nothing ran: every action came from the cache.</p>'
    )
    return bar + legend + extra + table


def _stages(summary: dict[str, Any]) -> str:
    stages = {k: v for k, v in (summary.get("stages_ms") or {}).items() if k != "total"}
    if not stages:
        return ""
    longest = max(stages.values()) or 1
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{v / 1000:.2f} s</td>"
        f'<td><span class="bar" style="width:{max(1, round(300 * v / longest))}px"></span></td>'
        "</tr>"
        for k, v in stages.items()
    )
    total = (summary.get("stages_ms") or {}).get("total")
    foot = f'<p class="sub">total {total / 1000:.2f} s</p>' if total is not None else ""
    return f"<table>{rows}</table>{foot}"
