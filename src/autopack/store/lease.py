"""Worker leases on runs: one worker executes a run at a time, a dead worker's lease expires.

A lease is three columns on ``runs`` (owner, expiry, last heartbeat). Taking it is one
conditional ``UPDATE`` (free, expired, or already ours), so two workers racing for the same
run cannot both win on SQLite or PostgreSQL; renewing only succeeds for the owner whose
lease has not been taken over. Times come from the caller's clock (``now``) so tests can
move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from autopack.store.errors import NotFoundError, StoreError
from autopack.store.models import Run, utcnow


class LeaseHeldError(StoreError):
    """Another worker holds a live lease on the run."""

    code = "lease_held"

    def __init__(self, run_id: str, owner: str, expires_at: datetime) -> None:
        self.run_id, self.owner, self.expires_at = run_id, owner, expires_at
        super().__init__(
            f"run {run_id!r} is being executed by {owner} (lease until "
            f"{expires_at:%Y-%m-%d %H:%M:%S} UTC); wait for it, or for the lease to expire"
        )


@dataclass(frozen=True)
class Lease:
    """A lease as read back from the database."""

    run_id: str
    owner: str | None
    expires_at: datetime | None
    heartbeat_at: datetime | None

    def live(self, now: datetime | None = None) -> bool:
        """Whether someone holds it right now."""
        return (
            self.owner is not None
            and self.expires_at is not None
            and self.expires_at > (now or utcnow())
        )


def read_lease(session: Session, run_id: str) -> Lease:
    """The run's lease columns."""
    row = session.execute(
        select(Run.lease_owner, Run.lease_expires_at, Run.heartbeat_at).where(Run.id == run_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError("run", run_id)
    return Lease(run_id, row[0], row[1], row[2])


def acquire_lease(
    session: Session, run_id: str, owner: str, ttl: float, *, now: datetime | None = None
) -> Lease:
    """Take the lease when free, expired or ours; else raise :class:`LeaseHeldError`."""
    now = now or utcnow()
    result = session.execute(
        update(Run)
        .where(
            Run.id == run_id,
            or_(
                Run.lease_owner.is_(None),
                Run.lease_owner == owner,
                Run.lease_expires_at.is_(None),
                Run.lease_expires_at <= now,
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=ttl),
            heartbeat_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current = read_lease(session, run_id)  # raises NotFoundError for an unknown run
        raise LeaseHeldError(run_id, current.owner or "?", current.expires_at or now)
    return Lease(run_id, owner, now + timedelta(seconds=ttl), now)


def renew_lease(
    session: Session, run_id: str, owner: str, ttl: float, *, now: datetime | None = None
) -> bool:
    """Extend our lease; ``False`` when it is no longer ours (expired and taken over)."""
    now = now or utcnow()
    result = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.lease_owner == owner)
        .values(lease_expires_at=now + timedelta(seconds=ttl), heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_lease(session: Session, run_id: str, owner: str) -> bool:
    """Give the lease up (only the owner can); ``False`` when it was not ours."""
    result = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
