"""Logging in with an API key, the session cookie, logging out, anonymous read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.api_helpers import ADMIN_KEY
from web.a11y import problems
from web.ui_helpers import Ui, csrf_of


def _cookie_header(response: Any, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def test_pages_send_an_anonymous_browser_to_the_login_form(ui: Ui) -> None:
    response = ui.page("/ui/runs/x?tab=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/runs/x%3Ftab%3D1"
    form = ui.page("/ui/login?next=/ui/runs/x")
    assert form.status_code == 200
    assert problems(form.text, nav=False) == []
    assert '<label for="api_key">API key</label>' in form.text
    assert 'name="next" value="/ui/runs/x"' in form.text
    # Scripts asking for a fragment or a stream get a 401, not a redirect to a form.
    assert ui.client.get("/ui/runs/x/live", headers={"HX-Request": "true"}).status_code == 401
    stream = ui.client.get("/ui/runs/x/events", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 401


def test_login_sets_a_strict_http_only_cookie_and_keeps_the_key_server_side(ui: Ui) -> None:
    response = ui.login("approver")
    assert response.headers["location"] == "/ui"
    cookie = _cookie_header(response, "autopack_session")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Path=/ui" in cookie and "Secure" not in cookie  # plain http here
    assert ui.api.keys["approver-key"] not in cookie
    page = ui.page("/ui")
    assert page.status_code == 200
    assert "Logged in as approver-key (approver)." in page.text
    assert "Logged in as" not in ui.page("/ui").text  # a message is shown once


def test_login_over_https_marks_the_cookie_secure(ui: Ui) -> None:
    form = ui.client.get("https://testserver/ui/login")
    assert "Secure" in _cookie_header(form, "autopack_login")
    response = ui.client.post(
        "https://testserver/ui/login",
        data={"api_key": ADMIN_KEY, "csrf_token": csrf_of(form.text), "next": "/ui"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Secure" in _cookie_header(response, "autopack_session")


def test_a_wrong_key_is_refused_and_counted(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui(auth_failure_limit="2/minute")
    for _ in range(2):
        form = ui.page("/ui/login")
        refused = ui.client.post(
            "/ui/login",
            data={"api_key": "apk_nope", "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert refused.status_code == 401
        assert "the API key is not valid" in refused.text
        assert "autopack_session" not in refused.headers.get("set-cookie", "")
    form = ui.page("/ui/login")
    limited = ui.client.post(
        "/ui/login",
        data={"api_key": ADMIN_KEY, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert limited.status_code == 429  # the API's failure limit, even for a good key now


def test_login_needs_the_form_token(ui: Ui) -> None:
    ui.page("/ui/login")
    forged = ui.client.post(
        "/ui/login", data={"api_key": ADMIN_KEY, "csrf_token": "guess"}, follow_redirects=False
    )
    assert forged.status_code == 403
    ui.client.cookies.clear()
    no_cookie = ui.client.post(
        "/ui/login", data={"api_key": ADMIN_KEY, "csrf_token": "x"}, follow_redirects=False
    )
    assert no_cookie.status_code == 403
    json_body = ui.client.post("/ui/login", json={"api_key": ADMIN_KEY}, follow_redirects=False)
    assert json_body.status_code == 415


def test_next_only_leads_inside_the_dashboard(ui: Ui) -> None:
    for target, expected in [
        ("/ui/runs/a", "/ui/runs/a"),
        ("//evil.example/ui", "/ui"),
        ("https://evil.example/ui", "/ui"),
        ("/api", "/ui"),
        ("/ui\\@evil", "/ui"),
    ]:
        ui.client.cookies.clear()
        form = ui.page("/ui/login")
        response = ui.client.post(
            "/ui/login",
            data={"api_key": ADMIN_KEY, "csrf_token": csrf_of(form.text), "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == expected, target


def test_logout_needs_the_token_and_ends_the_session(ui: Ui) -> None:
    ui.login("viewer")
    page = ui.page("/ui")
    assert ui.client.post("/ui/logout", data={}, follow_redirects=False).status_code == 403
    assert ui.page("/ui").status_code == 200  # still logged in
    out = ui.client.post(
        "/ui/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert ui.page("/ui").status_code == 303


def test_a_revoked_key_ends_its_sessions(ui: Ui) -> None:
    ui.login("viewer")
    assert ui.page("/ui").status_code == 200
    ui.api.ctx.store.revoke_api_key("viewer-key")
    response = ui.page("/ui/usage")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/usage&expired=1"
    assert "Your session ended" in ui.page(response.headers["location"]).text


def test_a_forged_session_cookie_is_not_a_session(ui: Ui) -> None:
    ui.client.cookies.set("autopack_session", "made-up", path="/ui")
    assert ui.page("/ui").status_code == 303


def test_anonymous_read_follows_the_api_setting(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui(anonymous_read=True)
    ui.api.create_run("calc-run")
    ui.api.ctx.store.request_approval("calc-run", "div", reason="check")
    page = ui.page("/ui")
    assert page.status_code == 200 and "Anonymous (read only)" in page.text
    inbox = ui.page("/ui/approvals")
    assert inbox.status_code == 200 and 'action="/ui/approvals/1/approve"' not in inbox.text
    refused = ui.client.post("/ui/approvals/1/approve", data={"csrf_token": ""})
    assert refused.status_code == 403
    off_loopback = make_ui(anonymous_read=True, bind_host="0.0.0.0")
    assert off_loopback.page("/ui").status_code == 303


def test_a_form_posted_after_the_session_ended_returns_to_its_page(ui: Ui) -> None:
    response = ui.client.post("/ui/approvals/1/approve", data={}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/approvals"
