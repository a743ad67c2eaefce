"""The dashboard's own Content-Security-Policy, vendored scripts, and what pages never hold."""

from __future__ import annotations

import re
from pathlib import Path

from autopack.web.security import UI_CSP
from web.ui_helpers import Ui

STATIC = Path(__file__).resolve().parents[2] / "src" / "autopack" / "web" / "static"
PAGES = [
    "/ui/login",
    "/ui",
    "/ui/runs/calc-run",
    "/ui/runs/calc-run/phases/div",
    "/ui/approvals",
    "/ui/usage",
    "/ui/issues",
]


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in csp.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_pages_carry_a_strict_policy_without_inline_script(waiting: Ui) -> None:
    login = waiting.page("/ui/login")
    waiting.login("approver")
    for path in PAGES:
        response = waiting.page(path) if path != "/ui/login" else login
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert csp == UI_CSP
        policy = _directives(csp)
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path  # no inline script
        assert not re.search(r"\son[a-z]+=", html), path  # no event handler attributes
        assert not re.search(r"\sstyle=", html), path
        assert "https://" not in html.replace("https://evil", ""), path  # nothing remote


def test_the_api_keeps_its_own_policy(ui: Ui) -> None:
    csp = ui.client.get("/health").headers["content-security-policy"]
    assert _directives(csp)["default-src"] == ["'none'"] and "script-src" not in csp


def test_htmx_and_its_sse_extension_are_served_from_the_package(ui: Ui) -> None:
    for name, marker in [
        ("htmx.min.js", "htmx 2.0.11"),
        ("htmx-ext-sse.min.js", "htmx-ext-sse 2.2.4"),
    ]:
        response = ui.client.get(f"/ui/static/{name}")  # no session needed for static files
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]
        assert response.text.startswith(f"/*! {marker}")
        assert "Zero" in response.text.splitlines()[0]  # the licence travels with the file
        assert (STATIC / name).read_text(encoding="utf-8") == response.text
    assert ui.client.get("/ui/static/app.css").headers["content-type"].startswith("text/css")
    assert (STATIC / "htmx.LICENSE").is_file() and (STATIC / "htmx-ext-sse.LICENSE").is_file()
    for escape in ("/ui/static/%2e%2e/mount.py", "/ui/static/..%2fmount.py"):
        response = ui.client.get(escape, follow_redirects=False)
        assert response.status_code == 404 and "mount_dashboard" not in response.text


def test_dashboard_routes_stay_out_of_the_api_schema(ui: Ui) -> None:
    schema = ui.client.get("/openapi.json", headers=ui.api.key("viewer")).json()
    assert not [p for p in schema["paths"] if p.startswith("/ui")]
