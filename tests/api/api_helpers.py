"""Helpers of the API tests: keys, plans, the :class:`Api` handle and its polling loop."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from autopack.api.context import ApiContext
from autopack.spec.loader import load_spec_data
from support.engine_script import APPROVE, DIV, DOCTOR, GOOD_MUL, PLAN, README

ADMIN_KEY = "test-admin-key-0123456789abcdef"

FAST_SCRIPT: dict[str, Any] = {
    "answers": [
        {"role": "builder", "phase": "mul-default", "text": GOOD_MUL},
        {"role": "builder", "phase": "readme", "text": README},
        {"role": "builder", "phase": "div", "text": DIV},
        {"role": "auditor", "text": APPROVE},
        {"role": "judge", "text": APPROVE},
        {"role": "doctor", "text": DOCTOR},
    ]
}

TERMINAL = {
    "DONE_SUCCESS",
    "DONE_FAILED_BUDGET_EXHAUSTED",
    "DONE_FAILED_POLICY_VIOLATION",
    "DONE_FAILED_REQUIRES_HUMAN_REVIEW",
    "DONE_FAILED_ENVIRONMENT",
    "CANCELLED",
}


def bearer(key: str) -> dict[str, str]:
    """Headers sending ``key`` as a bearer token."""
    return {"Authorization": f"Bearer {key}"}


ADMIN = bearer(ADMIN_KEY)


def plan(run_id: str = "calc-run") -> dict[str, Any]:
    """The engine tests' plan (three phases, ``div`` waits for approval) under ``run_id``."""
    data = copy.deepcopy(PLAN)
    data["run_id"] = run_id
    return data


@dataclass
class Api:
    """An app, its client and shortcuts into its context."""

    app: FastAPI
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def ctx(self) -> ApiContext:
        return self.app.state.context

    def key(self, role: str, name: str | None = None) -> dict[str, str]:
        """Headers for a stored key of ``role`` (created once per role and name)."""
        name = name or f"{role}-key"
        if name not in self.keys:
            _, secret = self.ctx.store.create_api_key(name, role)
            self.keys[name] = secret
        return bearer(self.keys[name])

    def create_run(self, run_id: str) -> str:
        """Store a run without executing it (as `autopack runs create` would)."""
        loaded = load_spec_data(plan(run_id))
        compiled = self.ctx.engine.strategy.compile_run(loaded.spec)
        self.ctx.store.create_run(loaded.spec, compiled, shape=loaded.shape, actor="test")
        return run_id

    def progress(self, run_id: str) -> dict[str, Any]:
        response = self.client.get(f"/runs/{run_id}/progress", headers=ADMIN)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for(self, run_id: str, states: set[str], timeout: float = 60.0) -> dict[str, Any]:
        """Poll ``/progress`` until the run is in one of ``states`` and no worker has it."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.progress(run_id)
            if body["state"] in states and not body["executing"]:
                return body
            if body["state"] in TERMINAL - states and not body["executing"]:
                raise AssertionError(f"run ended {body['state']}: {body['failure_reason']}")
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} still {body['state']} after {timeout}s")
            time.sleep(0.05)


def routes() -> list[tuple[str, str]]:
    """Every (method, path template) the app serves, from its routers."""
    from autopack.api.app import ROUTERS

    return sorted(
        (method, route.path)  # type: ignore[attr-defined]
        for router in ROUTERS
        for route in router.routes
        for method in route.methods  # type: ignore[attr-defined]
        if method != "HEAD"
    )


def fill(template: str, value: str) -> str:
    """``template`` with every ``{param}`` replaced by ``value``."""
    import re

    return re.sub(r"\{[^}]+\}", value, template)
