"""The dashboard's sessions, cookies, CSRF tokens and Content-Security-Policy.

The API authenticates every request by key; a browser cannot send a header on a link, so
the dashboard has a login form where a person pastes an API key once. The key is checked
like any API request (:meth:`autopack.api.auth.Authenticator.authenticate`: constant time,
failure limit), and the browser gets a random session id in a cookie that is ``HttpOnly``
(no script reads it), ``SameSite=Strict`` (no other site sends it), ``Secure`` when the
page came over https, and scoped to ``/ui``. The key itself stays on the server, in this
process's memory (:class:`SessionStore`), and is checked again on every request, so a
revoked key ends its sessions at once. A server restart ends every session.

Every form that changes something carries the session's CSRF token (random, compared in
constant time); the login form, before there is a session, carries a token that must match
a short-lived login cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "COOKIE_PATH",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "UI_CSP",
    "SessionStore",
    "UiSession",
    "clear_cookie",
    "new_token",
    "same_token",
    "set_cookie",
]

UI_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""Scripts and styles from this server only, no inline script or style, nothing framed."""

SESSION_COOKIE = "autopack_session"
LOGIN_COOKIE = "autopack_login"
COOKIE_PATH = "/ui"
LOGIN_COOKIE_SECONDS = 15 * 60


def new_token() -> str:
    """A random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Both present and equal (constant-time comparison)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """An ``HttpOnly``, ``SameSite=Strict`` cookie for ``/ui`` (``Secure`` over https)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    """Tell the browser to forget a cookie set by :func:`set_cookie`."""
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@dataclass
class UiSession:
    """One logged-in browser."""

    sid: str
    credential: str = field(repr=False)
    """The API key pasted at login: checked again on every request, never sent back."""
    csrf: str = field(repr=False)
    created: float
    seen: float
    flashes: list[tuple[str, str]] = field(default_factory=list)
    """Messages (kind, text) for the next page shown: set after a POST, shown once."""

    def flash(self, kind: str, text: str) -> None:
        """Queue a message for the next page."""
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        """The queued messages, removed."""
        out, self.flashes = self.flashes, []
        return out


class SessionStore:
    """Sessions in this process's memory, with idle and absolute expiry and a size bound."""

    def __init__(
        self,
        *,
        idle_seconds: float,
        lifetime_seconds: float,
        limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle = idle_seconds
        self.lifetime = lifetime_seconds
        self.limit = limit
        self._clock = clock
        self._sessions: dict[str, UiSession] = {}
        self._lock = threading.Lock()

    def create(self, credential: str) -> UiSession:
        """A new session (a fresh id: nothing carried over from before the login)."""
        now = self._clock()
        session = UiSession(new_token(), credential, new_token(), now, now)
        with self._lock:
            self._prune(now)
            if len(self._sessions) >= self.limit:
                oldest = min(self._sessions.values(), key=lambda s: s.seen)
                del self._sessions[oldest.sid]
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> UiSession | None:
        """The live session with this id (its idle clock restarts), else ``None``."""
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[sid]
                return None
            session.seen = now
            return session

    def drop(self, sid: str) -> None:
        """End a session (logout, or its key stopped working)."""
        with self._lock:
            self._sessions.pop(sid, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expired(self, session: UiSession, now: float) -> bool:
        return now - session.seen > self.idle or now - session.created > self.lifetime

    def _prune(self, now: float) -> None:
        for sid in [s.sid for s in self._sessions.values() if self._expired(s, now)]:
            del self._sessions[sid]
