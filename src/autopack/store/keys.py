"""API keys: created once and shown once, stored as a hash, checked in constant time.

A key reads ``apk_<prefix>_<secret>``: ``prefix`` is 12 random hex digits, public (listed by
``autopack keys list``, stored in clear) and only used to find the row; ``secret`` is 32
random bytes (``secrets.token_urlsafe``). Only the SHA-256 of the whole key is stored.

Why a plain SHA-256 and not bcrypt/scrypt/argon2: slow, salted hashes exist to protect
*low-entropy* secrets (passwords) against offline guessing. A key carries 256 random bits,
so guessing it from its hash is infeasible whatever the hash speed, and a fast hash keeps
the check cheap on every request. The comparison uses :func:`hmac.compare_digest`, so the
time it takes says nothing about how much of a guess was right.

Functions take a session and work inside the caller's transaction; the
:class:`autopack.store.service.Store` facade owns transactions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from autopack.store.errors import NotFoundError, StoreError
from autopack.store.models import ApiKey, utcnow

KEY_ROLES = ("viewer", "operator", "approver", "builder")
"""Roles a stored key can have (the ``AUTOPACK_API_KEY`` admin key has every right);
``builder`` is for external builders and auditors (claim and submit work, read)."""

KEY_SCHEME = "apk"
_TOUCH_EVERY = timedelta(seconds=60)


class ApiKeyError(StoreError):
    """A key cannot be created or revoked as asked."""

    code = "api_key_invalid"


class ApiKeyView(BaseModel):
    """A stored key without its secret."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else ``None``."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != 12 or len(secret) < 32:
        return None
    if not all(c in "0123456789abcdef" for c in prefix):
        return None
    return prefix, secret


def create_key(session: Session, name: str, role: str) -> tuple[ApiKeyView, str]:
    """Store a new key; returns its view and the key itself (never retrievable again)."""
    name = name.strip()
    if not name or len(name) > 128:
        raise ApiKeyError("a key needs a name of 1 to 128 characters")
    if role not in KEY_ROLES:
        raise ApiKeyError(f"unknown role {role!r} (use one of: {', '.join(KEY_ROLES)})")
    while True:
        prefix = secrets.token_hex(6)
        if session.scalars(select(ApiKey.id).where(ApiKey.prefix == prefix)).first() is None:
            break
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(name=name, role=role, prefix=prefix, hash=hash_key(key))
    session.add(row)
    session.flush()
    return ApiKeyView.model_validate(row), key


def list_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKeyView]:
    """Keys in creation order."""
    stmt = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return [ApiKeyView.model_validate(k) for k in session.scalars(stmt)]


def revoke_key(session: Session, ref: str) -> ApiKeyView:
    """Revoke the key whose id, prefix or (unambiguous, active) name is ``ref``."""
    conditions = [ApiKey.prefix == ref, ApiKey.name == ref]
    if ref.isdigit():
        conditions.append(ApiKey.id == int(ref))
    rows = list(session.scalars(select(ApiKey).where(or_(*conditions)).order_by(ApiKey.id)))
    exact = [r for r in rows if r.prefix == ref or str(r.id) == ref]
    if not exact:
        exact = [r for r in rows if r.revoked_at is None] or rows[-1:]
    if not exact:
        raise NotFoundError("api key", ref)
    if len(exact) > 1:
        ids = ", ".join(str(r.id) for r in exact)
        raise ApiKeyError(f"{len(exact)} active keys are named {ref!r} (ids {ids}); give the id")
    row = exact[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return ApiKeyView.model_validate(row)


def authenticate(session: Session, key: str) -> ApiKeyView | None:
    """The active key matching ``key`` (its ``last_used_at`` refreshed), else ``None``."""
    parts = split_key(key)
    if parts is None:
        return None
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[0])).one_or_none()
    if row is None or not hmac.compare_digest(row.hash, hash_key(key)):
        return None
    if row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now  # at most one write a minute per key
    return ApiKeyView.model_validate(row)
