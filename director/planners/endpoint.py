"""A language model as planner, behind any OpenAI-compatible endpoint
(llama.cpp's server, Ollama, MLX, LM Studio, a bridge to an on-device model).

The request constrains the answer to the Action Plan's JSON Schema
(``response_format`` of type ``json_schema``, strict), at temperature 0 with
a fixed seed. Nothing the model says is trusted: the reply must parse, match
the schema, and every action must then pass the same checks as the
heuristic planner's (director/validate.py). Availability is asked first
(``GET /v1/models``); a missing server, a timeout, or an invalid plan raises
PlannerError with the reasons, and the run falls back to the heuristic
planner and says so.

No model can run on the machine that tests Reel; the tests talk to a local
HTTP server that replays recorded replies, valid and invalid ones.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pydantic import ValidationError

from .. import contract as c

NAME = "endpoint"
TIMEOUT_S = 120.0
PROBE_TIMEOUT_S = 3.0
SYSTEM = (
    "You are the assistant editor of Reel, a build system for video. You are given the "
    "analysis of a folder of camera dailies (each take's transcript, speech times, loudness, "
    "clipping, black frames, slate) and the current .episode blueprint. Propose an Action "
    "Plan that assembles a first cut: choose the best take of each line, trim dead air, "
    "order the lines, and drop unusable takes. Clip paths are relative to the dailies "
    "folder; times are seconds within the clip. Reply with the JSON of the plan only."
)


class PlannerError(RuntimeError):
    """The endpoint gave no usable plan; ``reasons`` say why, for the trace."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _get(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def _post(url: str, body: dict[str, Any], timeout: float) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


class EndpointPlanner:
    def __init__(self, base_url: str, model: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        if not self.base.endswith("/v1"):
            self.base += "/v1"
        self.model = model

    def available(self) -> str:
        """The model to use; PlannerError if the endpoint does not answer."""
        try:
            listed = _get(f"{self.base}/models", PROBE_TIMEOUT_S)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise PlannerError([f"the endpoint {self.base} is not available ({exc})"]) from None
        names = [m.get("id") for m in listed.get("data", []) if isinstance(m, dict)]
        if self.model:
            if self.model not in names:
                raise PlannerError([f"the endpoint has no model {self.model} (it has {names})"])
            return self.model
        if not names:
            raise PlannerError([f"the endpoint {self.base} lists no model"])
        return str(names[0])

    def request(
        self, model: str, analysis: dict[str, Any], blueprint: str, script: list[str] | None
    ) -> dict[str, Any]:
        return {
            "model": model,
            "temperature": 0,
            "seed": 0,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {
                    "role": "user",
                    "content": json.dumps(
                        {"analysis": analysis, "blueprint": blueprint, "script": script},
                        sort_keys=True,
                    ),
                },
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "ActionPlan", "schema": c.json_schema(), "strict": True},
            },
        }

    def plan(
        self, analysis: dict[str, Any], blueprint: str, script: list[str] | None = None
    ) -> c.ActionPlan:
        model = self.available()
        body = self.request(model, analysis, blueprint, script)
        try:
            reply = _post(f"{self.base}/chat/completions", body, TIMEOUT_S)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise PlannerError([f"the endpoint did not answer the request ({exc})"]) from None
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise PlannerError(["the reply has no choices[0].message.content"]) from None
        try:
            data = json.loads(content)
        except (TypeError, ValueError) as exc:
            raise PlannerError([f"the reply is not JSON ({exc})"]) from None
        try:
            return c.ActionPlan.model_validate(data)
        except ValidationError as exc:
            reasons = [
                f"{'.'.join(str(p) for p in err['loc']) or 'plan'}: {err['msg']}"
                for err in exc.errors()[:10]
            ]
            raise PlannerError(
                ["the plan does not match the Action Plan schema", *reasons]
            ) from None
