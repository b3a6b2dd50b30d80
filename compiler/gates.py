"""Quality gates over the locked timeline and the asset manifest (seed 003 §15).

A gate failure names the gate, the target, the site and the fix, and exits 1.
The runtime gate judges the episode; the publish gates (rights, placeholders,
content safety) judge each deliverable, and block only those marked `publish`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reel.lang import ir
from reel.lang.diagnostics import Diagnostics, GateError
from reel.lang.source import Span

from . import artifacts as a
from . import roles
from .plan import asset_uses
from .timing import Timeline


def runtime_gate(episode: ir.Episode, timeline: Timeline) -> None:
    """The episode's runtime must lie in its declared window."""
    out = Diagnostics()
    total = timeline.total_frames
    seconds = timeline.seconds(total)
    low, high = episode.runtime_min, episode.runtime_max
    if low is not None and total < low.frames(episode.fps):
        out.error(
            f"runtime gate: '{episode.id}' runs {seconds:.2f}s, shorter than its window "
            f"{low}..{high}",
            episode.span,
            "add shots or lines, lengthen shots, or lower the runtime's minimum",
        )
    if high is not None and total > high.frames(episode.fps):
        out.error(
            f"runtime gate: '{episode.id}' runs {seconds:.2f}s, longer than its window "
            f"{low}..{high}",
            episode.span,
            "cut shots, shorten them, or raise the runtime's maximum",
        )
    if out.has_errors():
        raise GateError(out.errors)


# ---- publish gates (seed 003 §15, §17, §25) -------------------------------------------
# Severity is per deliverable: a deliverable marked `publish true` is what
# leaves the building, so a gate's failure blocks it (exit 1); for any other
# (a review proxy, a draft master) the same failure is a warning, because a
# reviewer may watch what a viewer may not.

# The built-in content-safety list: a few strong English profanities, matched
# as whole words in any case. It is deliberately short (a guard against a
# slip reaching a publish master, not a moderation system); a blueprint adds
# its own words with `blocklist "word" …` in the episode block.
BLOCKLIST: tuple[str, ...] = ("fuck", "fucking", "motherfucker", "shit", "cunt")
UNKNOWN_LICENCES = frozenset({"", "unknown", "none", "unlicensed"})
# Which deliverable kinds carry which of an episode's assets.
_CARRIES: dict[str, frozenset[str]] = {
    "video": frozenset({"image", "video", "audio", "unknown"}),
    "timeline": frozenset({"image", "video", "audio", "unknown"}),
    "audio": frozenset({"audio"}),
    "captions": frozenset(),
}


@dataclass(frozen=True)
class Finding:
    """One thing a gate found wrong with one target."""

    gate: str
    target: str
    reason: str
    fix: str
    span: Span | None
    media: str | None = None  # the asset's media (which deliverables carry it); None: all
    publish_only: bool = False  # a failure only for a publish deliverable (else passes)
    warned: bool = False  # already warned of elsewhere (a placeholder): no second warning
    notes: tuple[str, ...] = ()


@dataclass
class GateOutcome:
    """Every gate's verdict per deliverable, and the approvals relied on."""

    results: list[a.GateResult] = field(default_factory=list)
    approvals: list[a.Approval] = field(default_factory=list)


def site(span: Span | None) -> str | None:
    """file:line:col with the file relative to the episode root: the only form
    of a path allowed into an artifact (the cwd must not change its bytes)."""
    return f"{span.file.key}:{span.line}:{span.column}" if span is not None else None


def is_publish(deliverable: ir.Deliverable) -> bool:
    """A deliverable is published only when it says so (`publish true`): a
    preset is a format, not a decision to ship, and the same preset serves drafts."""
    return dict(deliverable.props).get("publish") is True


def _deliverables(episode: ir.Episode) -> list[tuple[str, str, bool]]:
    """(name, kind, publish) of each deliverable; a build with none makes a
    master that is not published."""
    if not episode.deliverables:
        return [("master", "video", False)]
    return [(d.name, roles.kind(d), is_publish(d)) for d in episode.deliverables]


def _rights(
    episode: ir.Episode, manifest: a.AssetManifest, approved: dict[str, ir.Approval]
) -> tuple[list[Finding], list[tuple[a.AssetEntry, ir.Approval]]]:
    uses = asset_uses(episode)
    blocks = {b.name: b for b in episode.assets}
    found, lifted = [], []
    for asset in manifest.assets:
        if asset.placeholder:
            continue  # the placeholders gate judges a missing file
        unknown = asset.license_type.strip().lower() in UNKNOWN_LICENCES
        if not unknown and asset.redistributable:
            continue
        if asset.path in approved:
            lifted.append((asset, approved[asset.path]))
            continue
        block = blocks.get(asset.path)
        notes = (f"its asset block is at {block.span}",) if block is not None else ()
        if unknown:
            reason = f'its licence is unknown (license_type "{asset.license_type}")'
        else:
            reason = "it is not cleared for redistribution (redistributable false)"
        found.append(
            Finding(
                "rights",
                asset.path,
                reason,
                f'declare its licence: asset "{asset.path}" {{ license_type "CC0" '
                "redistributable true }, or have it approved: "
                f'approve rights "{asset.path}" by "NAME" reason "WHY"',
                uses.get(asset.path, {}).get("span"),
                media=asset.media,
                # Internal use of a non-redistributable file is allowed (seed 003
                # §25.3): only publishing it is a failure. An unknown licence
                # warns on every build.
                publish_only=not unknown,
                notes=notes,
            )
        )
    return found, lifted


def _placeholders(episode: ir.Episode, manifest: a.AssetManifest) -> list[Finding]:
    uses = asset_uses(episode)
    return [
        Finding(
            "placeholders",
            asset.path,
            "the file is missing: a placeholder slate stands in for it",
            "add the file (or fix the path), or leave this deliverable unpublished while drafting",
            uses.get(asset.path, {}).get("span"),
            media=asset.media,
            warned=True,  # build_manifest warned of it already
        )
        for asset in manifest.assets
        if asset.placeholder
    ]


def _texts(episode: ir.Episode) -> list[tuple[str, str, Span | None]]:
    """(what, text, site) of every text a viewer reads or hears: the title,
    on-screen titles, and lines (the captions are made from the lines)."""
    out: list[tuple[str, str, Span | None]] = [("the episode's title", episode.title, episode.span)]
    for shot in episode.shots:
        for overlay in shot.overlays:
            out.append((f"a {overlay.kind} in shot {shot.id}", overlay.text, overlay.span))
        for line in shot.lines:
            out.append((f"{line.speaker}'s line in shot {shot.id}", line.text, line.span))
    return out


def blocklist(episode: ir.Episode) -> tuple[str, ...]:
    """The built-in words and the blueprint's own, lower case, in order."""
    return tuple(dict.fromkeys((*BLOCKLIST, *(w.lower() for w in episode.blocklist))))


def _content(episode: ir.Episode) -> list[Finding]:
    words = blocklist(episode)
    if not words:
        return []
    pattern = re.compile(
        r"(?<![\w])(" + "|".join(re.escape(w) for w in words) + r")(?![\w])", re.IGNORECASE
    )
    found = []
    for what, text, span in _texts(episode):
        hits = sorted({m.group(1).lower() for m in pattern.finditer(text)})
        if hits:
            quoted = ", ".join(f'"{h}"' for h in hits)
            found.append(
                Finding(
                    "content_safety",
                    what,
                    f"it contains the blocked word(s) {quoted}",
                    "reword it; a word the blueprint blocks is in the episode's `blocklist`",
                    span,
                )
            )
    return found


def publish_gates(
    episode: ir.Episode, manifest: a.AssetManifest, diags: Diagnostics
) -> GateOutcome:
    """Run the rights, placeholders and content-safety gates for every
    deliverable. Warnings go to ``diags``; a failure on a publish deliverable
    raises GateError (exit 1) naming the site, what is wrong and the fix."""
    approved = {x.target: x for x in episode.approvals if x.gate == "rights"}
    rights, lifted = _rights(episode, manifest, approved)
    findings = [*rights, *_placeholders(episode, manifest), *_content(episode)]
    outcome = GateOutcome()
    blocked = Diagnostics()
    targets = _deliverables(episode)
    for finding in findings:
        failing, warning = [], []
        for name, kind, publish in targets:
            if finding.media is not None and finding.media not in _CARRIES.get(kind, frozenset()):
                continue
            if finding.publish_only and not publish:
                continue
            status = "fail" if publish else "warn"
            (failing if publish else warning).append(name)
            outcome.results.append(
                a.GateResult(
                    gate=finding.gate,
                    deliverable=name,
                    publish=publish,
                    target=finding.target,
                    status=status,
                    reason=finding.reason,
                    fix=finding.fix,
                    site=site(finding.span),
                )
            )
        gate = finding.gate.replace("_", " ")
        if failing:
            names = ", ".join(f"'{n}'" for n in failing)
            blocked.error(
                f"{gate} gate: {finding.target}: {finding.reason}; it blocks the publish "
                f"deliverable(s) {names}",
                finding.span,
                finding.fix,
                notes=finding.notes,
            )
        elif warning and not finding.warned:
            names = ", ".join(f"'{n}'" for n in warning)
            diags.warning(
                f"{gate} gate: {finding.target}: {finding.reason} (a warning for {names}, "
                "which is not published; it would block a `publish true` deliverable)",
                finding.span,
                finding.fix,
                notes=finding.notes,
            )
    for asset, approval in lifted:
        where = site(approval.span)
        outcome.approvals.append(
            a.Approval(
                gate="rights",
                target=asset.path,
                approver=approval.approver,
                reason=approval.reason,
                site=where,
            )
        )
        for name, kind, publish in targets:
            if asset.media in _CARRIES.get(kind, frozenset()):
                outcome.results.append(
                    a.GateResult(
                        gate="rights",
                        deliverable=name,
                        publish=publish,
                        target=asset.path,
                        status="approved",
                        reason=approval.reason,
                        site=where,
                        approver=approval.approver,
                    )
                )
    for approval in episode.approvals:
        if approval.target not in {x.path for x in manifest.assets}:
            diags.warning(
                f"an approval names {approval.target}, but nothing uses it",
                approval.span,
                "remove the approval, or fix its path",
            )
    failed = {(r.gate, r.deliverable) for r in outcome.results if r.status in ("fail", "warn")}
    for gate in ("rights", "placeholders", "content_safety"):
        for name, _, publish in targets:
            if (gate, name) not in failed:
                outcome.results.append(
                    a.GateResult(
                        gate=gate, deliverable=name, publish=publish, target="*", status="pass"
                    )
                )
    outcome.results.sort(key=lambda r: (r.gate, r.deliverable, r.target, r.status))
    if blocked.has_errors():
        raise GateError(blocked.errors)
    return outcome
