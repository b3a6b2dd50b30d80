"""Every artifact a build can write, for `reel schema`.

``artifacts.ARTIFACTS`` is a lone episode's chain (the planning artifacts and
RenderOutput). A build writes more, each defined beside the pass that makes
it: the QC verdicts (``qc.QCReport``) and, in a series, the canon snapshot
and what an episode changed in it (``canon_store.Canon``, ``CanonDiff``).
They are listed here, not in ``artifacts``, because their modules import
``artifacts``; a tool that validates a build's JSON needs all of them.
"""

from __future__ import annotations

from typing import Any

from .artifacts import ARTIFACTS, Artifact, json_schemas
from .canon_store import Canon, CanonDiff
from .qc import QCReport

PUBLISHED: tuple[type[Artifact], ...] = (*ARTIFACTS, QCReport, Canon, CanonDiff)


def published_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every artifact a build or a series build writes."""
    return json_schemas(PUBLISHED)
