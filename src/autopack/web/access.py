"""Who looks at the dashboard, and what they may do there.

:func:`current_viewer` (the ``ViewerDep`` dependency of every page) finds the session from
its cookie and authenticates its key again through the API's
:class:`~autopack.api.auth.Authenticator`, so roles, revocation and the failure limit are
the API's own. Without a session the viewer is anonymous when the server allows anonymous
reads (``AUTOPACK_ANONYMOUS_READ`` on a loopback address), else :class:`LoginRequiredError`
sends the browser to the login form. Roles: every role reads; approving needs ``approve``.

:class:`UiError` is the dashboard's error: rendered as an HTML page, never as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from autopack.api.auth import ANONYMOUS, Permission, Principal
from autopack.api.deps import ContextDep
from autopack.api.errors import ApiError
from autopack.web.options import DashboardDep
from autopack.web.security import SESSION_COOKIE, UiSession, same_token

__all__ = [
    "LoginRequiredError",
    "UiError",
    "Viewer",
    "ViewerDep",
    "check_csrf",
    "current_viewer",
    "login_url",
    "require",
    "safe_next",
]


class UiError(Exception):
    """An error shown as a dashboard page with an HTTP status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class LoginRequiredError(Exception):
    """No usable session: the browser goes to the login form, then back to ``next_url``."""

    def __init__(self, next_url: str, reason: str = "") -> None:
        super().__init__(reason or "login required")
        self.next_url, self.reason = next_url, reason


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: the API principal and their session (none: anonymous)."""

    principal: Principal
    session: UiSession | None

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def anonymous(self) -> bool:
        return self.principal.anonymous

    @property
    def can_approve(self) -> bool:
        """May approve and reject."""
        return self.principal.can(Permission.APPROVE)

    @property
    def csrf(self) -> str:
        """The session's CSRF token ('' for anonymous viewers, who post nothing)."""
        return self.session.csrf if self.session else ""


def safe_next(value: str | None) -> str:
    """A place inside the dashboard to return to (anything else becomes ``/ui``)."""
    if value is None or not (value == "/ui" or value.startswith(("/ui/", "/ui?"))):
        return "/ui"
    if "\\" in value or any(ord(c) < 0x20 for c in value):
        return "/ui"
    return value


def login_url(next_url: str) -> str:
    """The login form, returning to ``next_url`` afterwards."""
    return "/ui/login?next=" + quote(safe_next(next_url), safe="/")


def _return_to(request: Request) -> str:
    """Where to come back after logging in: this page, or for a form post, the page it was on
    (a form's target cannot be opened with GET)."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/ui/approvals" if request.url.path.startswith("/ui/approvals/") else "/ui"


def current_viewer(request: Request, ctx: ContextDep, dash: DashboardDep) -> Viewer:
    """The viewer of this request, or :class:`LoginRequiredError` / :class:`UiError` (429)."""
    here = _return_to(request)
    session = dash.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        if ctx.auth.anonymous_read:
            return Viewer(ANONYMOUS, None)
        raise LoginRequiredError(here)
    try:
        principal = ctx.auth.authenticate(request, session.credential)
    except ApiError as exc:
        if exc.status == 429:
            raise UiError(429, "Too many failed logins", exc.message) from None
        dash.sessions.drop(session.sid)
        raise LoginRequiredError(here, "your key is no longer valid; log in again") from None
    if not principal.can(Permission.READ):
        raise UiError(403, "Forbidden", f"role {principal.role!r} cannot read the dashboard")
    return Viewer(principal, session)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def require(viewer: Viewer, permission: Permission) -> None:
    """403 (as a page) unless the viewer holds ``permission``."""
    if viewer.principal.can(permission):
        return
    if viewer.anonymous:
        raise LoginRequiredError("/ui/approvals", f"log in with a key that has {permission.value}")
    raise UiError(
        403,
        "Forbidden",
        f"role {viewer.role!r} ({viewer.name}) lacks the {permission.value} permission",
    )


def check_csrf(request: Request, viewer: Viewer, given: str | None) -> None:
    """Refuse (403) a form post without the session's token or from another origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise UiError(403, "Forbidden", "the form was posted from another site")
    if viewer.session is None or not same_token(viewer.session.csrf, given):
        raise UiError(
            403,
            "Forbidden",
            "the form's security token is missing or stale; reload the page and try again",
        )
