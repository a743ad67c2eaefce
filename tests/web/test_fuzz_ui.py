"""Garbage in every dashboard route's path, query and form: never a 5xx, never JSON."""

from __future__ import annotations

import re

from autopack.web import DashboardOptions
from autopack.web.routes import approvals, live, pages, session
from web.ui_helpers import Ui, csrf_of

VALUES = ["x", "0", "-1", "99999999999999999999", "..", "%2e%2e", "a" * 300, "%00", "%F0%9F%92%A5"]
QUERIES = [
    {"state": "'; DROP TABLE runs; --"},
    {"page": "-3"},
    {"page": "1e9"},
    {"since": "\n\nevent: x"},
    {"next": "//evil"},
    {"expired": "1"},
]
BODIES = [b"", b"reason=%ZZ", b"\xff\xfe", b"a=" + b"&a=".join([b"b"] * 50), b"csrf_token"]


def _routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)  # type: ignore[attr-defined]
        for part in (session, pages, live, approvals)
        for route in part.router.routes
        for method in route.methods  # type: ignore[attr-defined]
        if method != "HEAD"
    )


def test_no_dashboard_route_answers_garbage_with_a_5xx(waiting: Ui) -> None:
    waiting.api.app.state.dashboard.options = DashboardOptions(
        poll_seconds=0.01, stream_seconds=0.02, linger_seconds=0.01
    )
    waiting.login("approver")
    token = csrf_of(waiting.page("/ui").text)
    served = _routes()
    assert len(served) >= 12
    for method, template in served:
        garbage = [re.sub(r"\{[^}]+\}", v, template) for v in VALUES]
        real = re.sub(r"\{[^}]+\}", "calc-run", template).replace("/phases/calc-run", "/phases/div")
        for url in garbage:
            response = waiting.client.request(method, url, follow_redirects=False)
            assert response.status_code < 500, (method, url, response.text)
        for params in QUERIES:
            response = waiting.client.request(method, real, params=params, follow_redirects=False)
            assert response.status_code < 500, (method, real, params, response.text)
        if method != "POST":
            continue
        for url in (real, garbage[0]):
            for body in BODIES:
                response = waiting.client.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    follow_redirects=False,
                )
                assert response.status_code < 500, (url, body, response.text)
                kind = response.headers.get("content-type", "")
                assert not kind.startswith("application/json"), (url, body)
    # Nothing was decided by the garbage (no valid token went with it).
    assert waiting.api.ctx.store.approvals(status="pending", run_id="calc-run")
    assert token
