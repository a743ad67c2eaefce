"""Claims on external work: who builds or reviews a waiting phase, until when, with what.

A phase configured for an external builder (or auditor) waits until someone claims it
through the API and submits. A claim is one ``external_claims`` row; its token
(``clm_<secret>``, 256 random bits) is shown once and stored only as its SHA-256, like an
API key. Statuses, per (run, phase, role)::

    active      claimed; live until ``expires_at``, then anyone may claim again
    submitted   an answer (builder) or a verdict (auditor, JSON) waits for the engine
    consumed    the engine started an attempt from it (``attempt_index``)
    expired     its lease ran out before a submission (set when the work is claimed again)

At most one claim per (run, phase, role) is live (active and unexpired, or submitted):
claiming takes the phase row's lock (``BEGIN IMMEDIATE`` on SQLite), so two claimers
racing for the same work cannot both win. :class:`ClaimStore` is the store's facade for
them (``store.claims``), one transaction per method.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from autopack.store.errors import NotFoundError, StoreError
from autopack.store.models import ExternalClaim, Phase, utcnow

ACTIVE, SUBMITTED, CONSUMED, EXPIRED = "active", "submitted", "consumed", "expired"
TOKEN_SCHEME = "clm"  # noqa: S105 - a prefix, not a secret
ROLES = ("builder", "auditor")


class ClaimError(StoreError):
    """A claim cannot be used as asked (``code`` says why)."""

    code = "claim_invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class ClaimHeldError(ClaimError):
    """Someone else holds a live claim on the work."""

    code = "claim_held"

    def __init__(self, claim: ClaimView) -> None:
        self.claim = claim
        what = "has submitted" if claim.status == SUBMITTED else "holds it"
        until = "" if claim.status == SUBMITTED else f" until {claim.expires_at:%H:%M:%S} UTC"
        super().__init__(
            f"{claim.role} work on {claim.phase_id!r}: {claim.claimed_by} {what}{until}"
        )


class ClaimView(BaseModel):
    """A claim without its token or submission."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    run_id: str
    phase_id: str
    role: str
    claimed_by: str
    status: str
    attempt_index: int | None
    refusals: int
    last_error: str | None
    created_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    consumed_at: datetime | None

    def live(self, now: datetime | None = None) -> bool:
        """Submitted, or active and not expired."""
        return self.status == SUBMITTED or (
            self.status == ACTIVE and self.expires_at > (now or utcnow())
        )


def hash_token(token: str) -> str:
    """The stored form of a claim token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lock_phase(session: Session, run_id: str, phase_id: str) -> None:
    found = session.scalar(
        select(Phase.id).where(Phase.run_id == run_id, Phase.phase_id == phase_id).with_for_update()
    )
    if found is None:
        raise NotFoundError("phase", phase_id, run_id)


def _live(session: Session, run_id: str, phase_id: str, role: str) -> ExternalClaim | None:
    rows = session.scalars(
        select(ExternalClaim)
        .where(
            ExternalClaim.run_id == run_id,
            ExternalClaim.phase_id == phase_id,
            ExternalClaim.role == role,
            ExternalClaim.status.in_((ACTIVE, SUBMITTED)),
        )
        .order_by(ExternalClaim.id.desc())
    )
    now = utcnow()
    return next((r for r in rows if ClaimView.model_validate(r).live(now)), None)


def claim(
    session: Session, run_id: str, phase_id: str, role: str, *, owner: str, ttl: float
) -> tuple[ClaimView, str]:
    """A new claim and its token; :class:`ClaimHeldError` while another one is live."""
    if role not in ROLES:
        raise ClaimError(f"unknown role {role!r}")
    now = utcnow()
    _lock_phase(session, run_id, phase_id)
    session.execute(
        update(ExternalClaim)
        .where(
            ExternalClaim.run_id == run_id,
            ExternalClaim.phase_id == phase_id,
            ExternalClaim.role == role,
            ExternalClaim.status == ACTIVE,
            ExternalClaim.expires_at <= now,
        )
        .values(status=EXPIRED)
        .execution_options(synchronize_session=False)
    )
    held = _live(session, run_id, phase_id, role)
    if held is not None:
        raise ClaimHeldError(ClaimView.model_validate(held))
    token = f"{TOKEN_SCHEME}_{secrets.token_urlsafe(32)}"
    row = ExternalClaim(
        run_id=run_id,
        phase_id=phase_id,
        role=role,
        token_hash=hash_token(token),
        claimed_by=owner[:128],
        status=ACTIVE,
        refusals=0,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    session.add(row)
    session.flush()
    return ClaimView.model_validate(row), token


def _by_token(session: Session, run_id: str, phase_id: str, role: str, token: str) -> ExternalClaim:
    """The active, unexpired claim ``token`` opens on this work, else :class:`ClaimError`."""
    row = session.scalars(
        select(ExternalClaim).where(ExternalClaim.token_hash == hash_token(token)).with_for_update()
    ).one_or_none()
    if row is None or (row.run_id, row.phase_id, row.role) != (run_id, phase_id, role):
        raise ClaimError(f"the token opens no {role} claim on {phase_id!r} of run {run_id!r}")
    if row.status not in (ACTIVE, EXPIRED):
        raise ClaimError(f"claim {row.id} was already {row.status}", code="claim_used")
    if row.status == EXPIRED or row.expires_at <= utcnow():
        raise ClaimError(
            f"claim {row.id} expired at {row.expires_at:%Y-%m-%d %H:%M:%S} UTC; claim the "
            "work again",
            code="claim_expired",
        )
    return row


class ClaimStore:
    """Claims through the store's transactions (``store.claims``)."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Session]]) -> None:
        self._tx = transaction

    def claim(
        self, run_id: str, phase_id: str, role: str, *, owner: str, ttl: float
    ) -> tuple[ClaimView, str]:
        """Claim the work (see :func:`claim`)."""
        with self._tx() as session:
            return claim(session, run_id, phase_id, role, owner=owner, ttl=ttl)

    def verify(self, run_id: str, phase_id: str, role: str, token: str) -> ClaimView:
        """The active claim ``token`` opens (:class:`ClaimError` otherwise)."""
        with self._tx() as session:
            return ClaimView.model_validate(_by_token(session, run_id, phase_id, role, token))

    def renew(self, run_id: str, phase_id: str, role: str, token: str, ttl: float) -> ClaimView:
        """Extend an active claim's lease from now."""
        with self._tx() as session:
            row = _by_token(session, run_id, phase_id, role, token)
            row.expires_at = utcnow() + timedelta(seconds=ttl)
            session.flush()
            return ClaimView.model_validate(row)

    def refuse(self, claim_id: int, error: str) -> ClaimView:
        """Count a refused submission (the claim stays active)."""
        with self._tx() as session:
            row = session.get(ExternalClaim, claim_id, with_for_update=True)
            if row is None:
                raise NotFoundError("claim", str(claim_id))
            row.refusals += 1
            row.last_error = error[:4000]
            session.flush()
            return ClaimView.model_validate(row)

    def submit(
        self, run_id: str, phase_id: str, role: str, token: str, submission: str
    ) -> ClaimView:
        """Store what the claimer sent; the engine consumes it (active → submitted)."""
        with self._tx() as session:
            row = _by_token(session, run_id, phase_id, role, token)
            row.status, row.submission, row.submitted_at = SUBMITTED, submission, utcnow()
            session.flush()
            return ClaimView.model_validate(row)

    def take(
        self, run_id: str, phase_id: str, role: str, *, attempt: int
    ) -> tuple[ClaimView, str] | None:
        """The oldest submission on the work, marked consumed by ``attempt``; or ``None``."""
        with self._tx() as session:
            row = session.scalars(
                select(ExternalClaim)
                .where(
                    ExternalClaim.run_id == run_id,
                    ExternalClaim.phase_id == phase_id,
                    ExternalClaim.role == role,
                    ExternalClaim.status == SUBMITTED,
                )
                .order_by(ExternalClaim.id)
                .with_for_update()
            ).first()
            if row is None:
                return None
            row.status, row.attempt_index, row.consumed_at = CONSUMED, attempt, utcnow()
            session.flush()
            return ClaimView.model_validate(row), row.submission or ""

    def live(self, run_id: str, phase_id: str, role: str) -> ClaimView | None:
        """The live claim on the work, if any."""
        with self._tx() as session:
            row = _live(session, run_id, phase_id, role)
            return ClaimView.model_validate(row) if row is not None else None

    def for_run(self, run_id: str) -> list[ClaimView]:
        """A run's claims, oldest first."""
        with self._tx() as session:
            rows = session.scalars(
                select(ExternalClaim)
                .where(ExternalClaim.run_id == run_id)
                .order_by(ExternalClaim.id)
            )
            return [ClaimView.model_validate(r) for r in rows]
