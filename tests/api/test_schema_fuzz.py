"""Schema-driven fuzz: schemathesis generates requests from the app's own OpenAPI document.

For every operation, valid (positive) and invalid (negative) requests are generated from
its parameters and body schemas and sent in-process (schemathesis' ASGI transport: no
socket) with the admin key, so they reach the routes' own code. The one property checked
is schemathesis' ``not_a_server_error``: no request gets a 5xx.

Random ids mostly find nothing (404), so a third pass pins the path parameters to things
that exist — a run whose phase waits for an external builder, an approval — and puts a
live claim's token into generated bodies: generated answers then go through the engine's
dry run (edit parser, governance), generated plans through the spec loader.
``max_examples`` stays small: the three passes take well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.api_helpers import ADMIN, Api
from api.external_helpers import RUN, claim, ext_plan, start

MAX_EXAMPLES = 20
# Known ids: the external work first (while its phase waits), then what moves the phase,
# then what ends the run or hands it to a worker.
LATER = ("update_status", "/resume", "/cancel")


@pytest.fixture
def fuzzed(api: Api) -> tuple[Api, str]:
    """A waiting external phase (with a live claim) and a pending approval."""
    start(api, ext_plan())
    token = claim(api, ADMIN, lease_seconds=3600)["work"]["claim"]["token"]
    api.ctx.store.request_approval(RUN, "readme", reason="fuzz")
    return api, token


def _with_token(case: schemathesis.Case, token: str) -> schemathesis.Case:
    if isinstance(case.body, dict) and "token" in case.body:
        case.body = {**case.body, "token": token}
    return case


@pytest.mark.parametrize("mode", ["positive", "negative", "known"])
def test_no_generated_request_gets_a_server_error(fuzzed: tuple[Api, str], mode: str) -> None:
    api, token = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app, headers=ADMIN)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = [op.label for op in operations]
    assert "POST /runs/{run_id}/phases/{phase_id}/builder_result" in labels
    assert len(labels) >= 20
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    fixed: dict[str, Any] = {}
    if mode == "known":
        fixed = {"run_id": RUN, "phase_id": "mul-default", "approval_id": 1}
        operations.sort(key=lambda op: (any(w in op.label for w in LATER), op.label))
    codes: list[int] = []
    skipped: list[str] = []

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        strategy = operation.as_strategy(
            generation_mode=generation,
            path_parameters={k: v for k, v in fixed.items() if k in names} or None,
        )

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy.map(lambda c: _with_token(c, token)))
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=ADMIN)
            codes.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error], headers=ADMIN)

        try:
            check()
        except Unsatisfiable:  # no invalid request exists (no parameters, no body)
            assert generation is GenerationMode.NEGATIVE, operation.label
            skipped.append(operation.label)
    assert len(skipped) < len(operations) // 2, skipped
    assert len(codes) >= len(operations) - len(skipped)
    assert all(code < 500 for code in codes)
    if mode == "known":  # the pinned ids were found: not everything was a 404
        assert sum(code != 404 for code in codes) > len(codes) // 2
