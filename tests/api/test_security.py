"""Security headers, CORS closed by default, body cap, errors with an id and no traceback."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from api.api_helpers import ADMIN, Api

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _assert_secure(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    if response.headers.get("content-type", "").startswith("application/json"):
        assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_every_kind_of_response(api: Api) -> None:
    responses = [
        api.client.get("/health"),
        api.client.get("/runs", headers=ADMIN),
        api.client.get("/runs"),  # 401
        api.client.get("/runs/nope", headers=ADMIN),  # 404
        api.client.get("/nowhere"),  # 404 without a route
        api.client.delete("/runs", headers=ADMIN),  # 405
        api.client.post("/runs/start", content=b"{", headers=ADMIN),  # 422
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 404, 404, 405, 422]
    for response in responses:
        _assert_secure(response)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) >= {"code", "message", "id"} and len(error["id"]) == 16
    assert "server" not in responses[0].headers or "uvicorn" not in responses[0].headers["server"]


def test_cors_is_closed_by_default(api: Api) -> None:
    preflight = api.client.options(
        "/runs",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = api.client.get("/runs", headers={**ADMIN, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_allows_only_the_configured_origins(make_api) -> None:
    api = make_api(cors_origins="https://ops.example, https://other.example")
    ok = api.client.options(
        "/runs",
        headers={"Origin": "https://ops.example", "Access-Control-Request-Method": "GET"},
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://ops.example"
    _assert_secure(api.client.get("/runs", headers={**ADMIN, "Origin": "https://ops.example"}))
    evil = api.client.get("/runs", headers={**ADMIN, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


def test_an_internal_error_returns_an_id_and_no_traceback(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    database = api.ctx.settings.data_dir / "autopack.db"
    with sqlite3.connect(database) as conn:  # a broken database: a real internal error
        conn.execute("DROP TABLE approvals")
    with caplog.at_level(logging.ERROR, logger="autopack.api"):
        response = api.client.get("/approval/pending", headers=ADMIN)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and len(error["id"]) == 16
    text = response.text
    for leak in ("Traceback", "sqlite", "approvals", 'File "'):
        assert leak not in text
    _assert_secure(response)
    logged = [r for r in caplog.records if error["id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the server log has the cause


def test_a_request_body_over_the_cap_is_413(api: Api) -> None:
    huge = b'{"run_id": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = api.client.post(
        "/runs/start", content=huge, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks():
        for _ in range(6):
            yield b"x" * (1024 * 1024)

    streamed = api.client.post(
        "/runs/start", content=chunks(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_openapi_needs_a_key_and_documents_the_endpoints(api: Api) -> None:
    assert api.client.get("/openapi.json").status_code == 401
    assert api.client.get("/docs").status_code == 404  # no CDN-loaded pages
    doc = api.client.get("/openapi.json", headers=api.key("viewer")).json()
    assert {"/runs/start", "/runs/{run_id}/progress", "/approval/pending"} <= set(doc["paths"])
    schemes = doc["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
