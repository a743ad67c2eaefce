"""Log in with an API key, log out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from autopack.api.deps import ContextDep
from autopack.api.errors import ApiError
from autopack.web.access import UiError, ViewerDep, check_csrf, safe_next
from autopack.web.forms import FormDep
from autopack.web.options import Dashboard, DashboardDep
from autopack.web.security import (
    LOGIN_COOKIE,
    LOGIN_COOKIE_SECONDS,
    SESSION_COOKIE,
    clear_cookie,
    new_token,
    same_token,
    set_cookie,
)

router = APIRouter(prefix="/ui")

MAX_KEY = 512


def _login_form(
    request: Request, dash: Dashboard, *, next_url: str, error: str = "", status: int = 200
) -> HTMLResponse:
    token = new_token()
    response = dash.renderer.response(
        "login.html",
        status=status,
        viewer=None,
        nav="login",
        title="Log in",
        flashes=[],
        pending=0,
        next_url=next_url,
        csrf=token,
        error=error,
    )
    set_cookie(response, request, LOGIN_COOKIE, token, LOGIN_COOKIE_SECONDS)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, dash: DashboardDep, next: str | None = None, expired: str | None = None
) -> Response:
    """The login form (a logged-in browser goes straight on)."""
    target = safe_next(next)
    if dash.sessions.get(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(target, status_code=303)
    note = "Your session ended; log in again." if expired else ""
    return _login_form(request, dash, next_url=target, error=note)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, ctx: ContextDep, dash: DashboardDep, form: FormDep) -> Response:
    """Check the key like any API request; on success start a session."""
    target = safe_next(form.get("next"))
    if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf_token")):
        raise UiError(403, "Forbidden", "the login form is stale; reload it and try again")
    key = form.get("api_key", "").strip()
    if not key or len(key) > MAX_KEY:
        return _login_form(request, dash, next_url=target, error="Paste an API key.", status=422)
    try:
        principal = ctx.auth.authenticate(request, key)
    except ApiError as exc:
        return _login_form(request, dash, next_url=target, error=exc.message, status=exc.status)
    session = dash.sessions.create(key)
    session.flash("ok", f"Logged in as {principal.name} ({principal.role}).")
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        response, request, SESSION_COOKIE, session.sid, int(dash.options.session_lifetime_seconds)
    )
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, dash: DashboardDep, viewer: ViewerDep, form: FormDep) -> Response:
    """End the session."""
    check_csrf(request, viewer, form.get("csrf_token"))
    if viewer.session is not None:
        dash.sessions.drop(viewer.session.sid)
    response = RedirectResponse("/ui/login", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response
