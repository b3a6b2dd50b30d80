"""'Did you mean' suggestions for misspelt names, keywords and units."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word``, or None when nothing is close."""
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return lowered[word.lower()]
    # Abbreviations and spelt-out forms: "sec" for "s", "frames" for "f".
    prefixed = [c for c in pool if word.startswith(c) or c.startswith(word)]
    if prefixed:
        return max(prefixed, key=len)
    return None


def hint(word: str, candidates: Iterable[str], what: str) -> str:
    """A help line: the suggestion if there is one, else the valid choices."""
    pool = sorted(set(candidates))
    best = did_you_mean(word, pool)
    if best is not None:
        return f"did you mean '{best}'?"
    if not pool:
        return f"there are no {what} to choose from"
    shown = ", ".join(f"'{c}'" for c in pool[:12])
    more = "" if len(pool) <= 12 else f" (and {len(pool) - 12} more)"
    return f"known {what}: {shown}{more}"
