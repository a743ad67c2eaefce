"""A quick fuzz of every route: garbage path parameters, queries and bodies never give a 5xx.

Deterministic and schema-free (a fuller, schema-driven fuzz comes later). It runs with the
admin key, so every request gets past authentication into the routes' own code.
"""

from __future__ import annotations

import json

import pytest

from api.api_helpers import ADMIN, Api, fill, routes

PATH_VALUES = [
    "x",
    "0",
    "-1",
    "99999999999999999999999",
    "..",
    "%2e%2e",
    "a" * 300,
    "%F0%9F%92%A5",
    "%00",
    "%20",
    "null",
    "base",
    "calc-run",
    "x.lock",
]
QUERIES = [
    {"limit": "-1"},
    {"limit": "abc", "offset": "1e9"},
    {"offset": "-5"},
    {"state": "'; DROP TABLE runs; --"},
    {"state": "DONE_SUCCESS"},
    {"base": "-x"},
    {"base": "HEAD~999"},
    {"base": "x" * 300},
    {"base": "refs/heads/../../etc"},
    {"run_id": "\u2603" * 200},
]
BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"x"',
    b"1e999",
    b"\xff\xfe\x00",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 900 + b"1" + b"}" * 900,
    json.dumps({"state": 5}).encode(),
    json.dumps({"state": "COMPLETE", "reason": "x" * 5000}).encode(),
    json.dumps({"state": "QUEUED", "explicit": "yes please"}).encode(),
    json.dumps({"reason": ["not", "text"]}).encode(),
    json.dumps({"run_id": "calc-run", "phase_id": "../../x", "reason": "r"}).encode(),
    json.dumps({"run_id": "x" * 1000, "tiers": "x"}).encode(),
    json.dumps({"run_id": "a", "tiers": [{"phases": [None, 1, "x"]}]}).encode(),
    json.dumps({"run": {"run_id": "b"}, "tiers": [], "phases": [{"tier_id": []}]}).encode(),
    json.dumps(
        {"run_id": "c", "phases": [{"phase_id": "p", "scope": {"paths": ["/etc"]}}]}
    ).encode(),
]


@pytest.fixture
def fuzzed(api: Api) -> Api:
    api.create_run("calc-run")
    api.ctx.store.request_approval("calc-run", "div", reason="fuzz")
    return api


def _check(api: Api, method: str, url: str, **kw: object) -> None:
    response = api.client.request(method, url, headers={**ADMIN, **kw.pop("headers", {})}, **kw)
    assert response.status_code < 500, (method, url, kw, response.status_code, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()


def test_no_route_answers_garbage_with_a_5xx(fuzzed: Api) -> None:
    served = routes()
    for method, template in served:
        for value in PATH_VALUES:
            _check(fuzzed, method, fill(template, value))
        url = fill(template, "calc-run" if "run_id" in template else "1")
        for params in QUERIES:
            _check(fuzzed, method, url, params=params)
        if method == "POST":
            for body in BODIES:
                for content_type in ("application/json", "text/plain"):
                    _check(
                        fuzzed, method, url, content=body, headers={"Content-Type": content_type}
                    )
    # Cancel came first (routes are sorted), so the resume garbage could not start the run.
    assert fuzzed.progress("calc-run")["state"] in {"RUN_CREATED", "CANCELLED"}
