"""Who is calling, and what they may do: API keys, roles, anonymous read, failure limits.

A request carries a key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys
are either stored (``autopack keys create``, checked by :mod:`autopack.store.keys`) or the
admin key ``AUTOPACK_API_KEY`` (every right; compared in constant time on digests, so its
length does not leak either). Roles map to permissions:

    viewer    read
    operator  read, run control (start, cancel, resume, update_status, approval requests),
              external work
    approver  read, approve/reject (and approval requests)
    builder   read, external work (claim a phase's build or review, submit the result)
    admin     everything (AUTOPACK_API_KEY only)

Without a key a request gets 401 — except ``/health`` (no dependency at all) and, when the
operator opted in with ``AUTOPACK_ANONYMOUS_READ=1`` *and* the server listens on a loopback
address only, reads. A presented key that is wrong counts as a failure against the client
address; past ``AUTOPACK_AUTH_FAILURE_LIMIT`` (default 10/minute) that address gets 429
until the window ends, whatever key it sends. The limiter is slowapi's (in-memory, per
process); rate limits on whole routes can use the same :attr:`Authenticator.limiter`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import parse
from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.requests import Request

from autopack.api.errors import ApiError
from autopack.settings import Settings
from autopack.store import Store


class Permission(StrEnum):
    """What a request needs."""

    READ = "read"
    RUN_CONTROL = "run_control"
    APPROVE = "approve"
    EXTERNAL_WORK = "external_work"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({Permission.READ}),
    "operator": frozenset({Permission.READ, Permission.RUN_CONTROL, Permission.EXTERNAL_WORK}),
    "approver": frozenset({Permission.READ, Permission.APPROVE}),
    "builder": frozenset({Permission.READ, Permission.EXTERNAL_WORK}),
    "admin": frozenset(Permission),
}

ADMIN_NAME = "admin"
ANONYMOUS_NAME = "anonymous"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "admin", "apikey", "api-key"}
MIN_ADMIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class Principal:
    """The caller: a key's name and role (``anonymous`` for opted-in anonymous reads)."""

    name: str
    role: str
    key_id: int | None = None
    anonymous: bool = False
    """Not authenticated: an anonymous read on a loopback-only server."""

    def can(self, permission: Permission) -> bool:
        """Whether the role grants ``permission``."""
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


ANONYMOUS = Principal(ANONYMOUS_NAME, "viewer", anonymous=True)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: only this machine can connect."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_admin_key(settings: Settings) -> None:
    """Refuse a placeholder or short ``AUTOPACK_API_KEY`` at start-up (ValueError)."""
    if settings.api_key is None:
        return
    key = settings.api_key.get_secret_value()
    if key.strip().lower() in _PLACEHOLDERS or len(key) < MIN_ADMIN_KEY_LENGTH:
        raise ValueError(
            f"AUTOPACK_API_KEY must be at least {MIN_ADMIN_KEY_LENGTH} random characters and "
            "not a placeholder (try: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )


class Authenticator:
    """Turns a request's credential into a :class:`Principal`, or raises 401/429."""

    def __init__(self, settings: Settings, store: Store, *, bind_host: str) -> None:
        check_admin_key(settings)
        self.store = store
        self.anonymous_read = settings.anonymous_read and is_loopback(bind_host)
        admin = settings.api_key.get_secret_value() if settings.api_key else None
        self._admin_digest = _digest(admin) if admin else None
        self.failure_limit = parse(settings.auth_failure_limit)
        self.limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")

    def authenticate(self, request: Request, credential: str | None) -> Principal:
        """The caller, or :class:`ApiError` 401 (no or bad key) / 429 (too many failures)."""
        if not credential:
            if self.anonymous_read:
                return ANONYMOUS
            raise ApiError(
                401,
                "unauthorized",
                "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        client = get_remote_address(request)
        if not self.limiter.limiter.test(self.failure_limit, "auth-failure", client):
            reset = self.limiter.limiter.get_window_stats(
                self.failure_limit, "auth-failure", client
            ).reset_time
            retry = max(1, int(reset - time.time()) + 1)
            raise ApiError(
                429,
                "too_many_auth_failures",
                f"too many failed authentications from this address; retry in {retry}s",
                headers={"Retry-After": str(retry)},
            )
        principal = self._verify(credential)
        if principal is None:
            self.limiter.limiter.hit(self.failure_limit, "auth-failure", client)
            raise ApiError(
                401,
                "invalid_api_key",
                "the API key is not valid (unknown, malformed or revoked)",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return principal

    def _verify(self, credential: str) -> Principal | None:
        if self._admin_digest is not None and hmac.compare_digest(
            _digest(credential), self._admin_digest
        ):
            return Principal(ADMIN_NAME, "admin")
        key = self.store.authenticate_api_key(credential)
        if key is None:
            return None
        return Principal(key.name, key.role, key.id)

    def authorize(self, principal: Principal, *needed: Permission) -> None:
        """403 unless the principal has one of ``needed`` (401 for anonymous callers)."""
        if any(principal.can(p) for p in needed):
            return
        wanted = " or ".join(p.value for p in needed)
        if principal.anonymous:
            raise ApiError(
                401,
                "unauthorized",
                f"this needs an API key with the {wanted} permission",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise ApiError(
            403,
            "forbidden",
            f"role {principal.role!r} ({principal.name}) lacks the {wanted} permission",
            details={"role": principal.role, "needs": [p.value for p in needed]},
        )


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()
