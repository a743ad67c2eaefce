"""SQLAlchemy 2 ORM models: runs, tiers, phases, attempts, events, llm_calls, approvals.

``state`` columns may only be changed by :mod:`autopack.store.transitions`: an attribute
validator refuses any other assignment once a row exists, so no code path can skip the
transition table or forget the event.
"""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

# Set by the transition function while it changes a state; any other change is refused.
_STATE_WRITE_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "autopack_state_write_allowed", default=False
)


class DirectStateWriteError(RuntimeError):
    """Code tried to assign ``state`` without going through the transition function."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use autopack.store.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic names constraints predictably."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


Base.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _StateGuard:
    """Mixin: refuse direct writes to ``state`` on persisted rows."""

    @validates("state")
    def _guard_state(self, key: str, value: str) -> str:
        current = getattr(self, "state", None)
        if current is not None and not _STATE_WRITE_ALLOWED.get():
            raise DirectStateWriteError(
                f"{type(self).__name__}.state must change through store.transitions "
                f"({current} -> {value} refused)"
            )
        return value


class Run(_StateGuard, Base):
    """One run of a plan."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    goal: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(48), index=True)
    safety_profile: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(Text)
    token_cap: Mapped[int] = mapped_column(BigInteger)
    tokens_used: Mapped[int] = mapped_column(BigInteger, default=0)
    max_phases: Mapped[int | None] = mapped_column(Integer)
    max_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # Deferred: the whole plan (~650 bytes a phase) is decoded only when asked for, not on
    # every load of the run row (budget checks, transitions) — that made a phase O(plan).
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    spec_shape: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # From the compiled RunStrategy (its safety profile): when a minor issue needs cleanup.
    issue_cleanup_after_runs: Mapped[int | None] = mapped_column(Integer)
    issue_cleanup_after_tiers: Mapped[int | None] = mapped_column(Integer)
    cancel_requested_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    tiers: Mapped[list[Tier]] = relationship(
        back_populates="run", order_by="Tier.tier_index", cascade="all, delete-orphan"
    )
    phases: Mapped[list[Phase]] = relationship(
        back_populates="run", order_by="Phase.position", cascade="all, delete-orphan"
    )


class Tier(_StateGuard, Base):
    """An ordered group of phases within a run."""

    __tablename__ = "tiers"
    __table_args__ = (
        UniqueConstraint("run_id", "tier_id"),
        UniqueConstraint("run_id", "tier_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    tier_id: Mapped[str] = mapped_column(String(128))
    tier_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32), index=True)
    token_budget: Mapped[int] = mapped_column(BigInteger)
    tokens_used: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    run: Mapped[Run] = relationship(back_populates="tiers")
    phases: Mapped[list[Phase]] = relationship(back_populates="tier", order_by="Phase.phase_index")


class Phase(_StateGuard, Base):
    """One unit of work; carries its compiled strategy."""

    __tablename__ = "phases"
    __table_args__ = (
        UniqueConstraint("run_id", "phase_id"),
        Index("ix_phases_run_id_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    tier_pk: Mapped[int] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"), index=True)
    phase_id: Mapped[str] = mapped_column(String(128))
    phase_index: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    task_category: Mapped[str] = mapped_column(String(64), index=True)
    complexity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32), index=True)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    strategy: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts_used: Mapped[int] = mapped_column(Integer, default=0)
    tokens_used: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    run: Mapped[Run] = relationship(back_populates="phases")
    tier: Mapped[Tier] = relationship(back_populates="phases")
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="phase", order_by="Attempt.attempt_index", cascade="all, delete-orphan"
    )


class Attempt(Base):
    """One attempt at a phase: which models, what each role concluded, tokens, timings."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("phase_pk", "attempt_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    phase_pk: Mapped[int] = mapped_column(ForeignKey("phases.id", ondelete="CASCADE"))
    attempt_index: Mapped[int] = mapped_column(Integer)
    builder_model: Mapped[str | None] = mapped_column(String(128))
    auditor_model: Mapped[str | None] = mapped_column(String(128))
    builder_outcome: Mapped[str | None] = mapped_column(String(48))
    apply_outcome: Mapped[str | None] = mapped_column(String(48))
    ci_outcome: Mapped[str | None] = mapped_column(String(48))
    auditor_outcome: Mapped[str | None] = mapped_column(String(48))
    outcome: Mapped[str | None] = mapped_column(String(48), index=True)
    error_class: Mapped[str | None] = mapped_column(String(64), index=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    tokens_in: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_out: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)

    phase: Mapped[Phase] = relationship(back_populates="attempts")


class Event(Base):
    """An immutable record of one state change (or creation, with ``from_state`` NULL)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_run_id_id", "run_id", "id"),
        Index("ix_events_entity_entity_key", "entity", "entity_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(16))
    entity_key: Mapped[str] = mapped_column(String(128))
    from_state: Mapped[str | None] = mapped_column(String(48))
    to_state: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LlmCall(Base):
    """One call to a model: who, what, how many tokens, cost and latency."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    phase_id: Mapped[str | None] = mapped_column(String(128))
    attempt_pk: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    tokens_in: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_out: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0))
    latency_ms: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32), default="ok")
    error_class: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Approval(Base):
    """A request for a person's decision before high-risk work is applied."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status_requested_at", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    phase_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The Builder's answer waiting for this decision and the diff it makes: in the database,
    # not only in one worker's data directory, so any worker can apply an approval.
    answer: Mapped[str | None] = mapped_column(Text, deferred=True)
    diff: Mapped[str | None] = mapped_column(Text, deferred=True)


class BudgetReservation(Base):
    """Tokens set aside for one model call before it is made (see autopack.store.budget).

    ``open`` reservations count against the phase, tier and run caps together with the
    tokens already used; settling records the actual usage and frees the difference.
    """

    __tablename__ = "budget_reservations"
    __table_args__ = (Index("ix_budget_reservations_run_id_status", "run_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    tier_pk: Mapped[int | None] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"))
    phase_pk: Mapped[int | None] = mapped_column(ForeignKey("phases.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    tokens: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")
    actual_tokens: Mapped[int | None] = mapped_column(BigInteger)
    llm_call_id: Mapped[int | None] = mapped_column(ForeignKey("llm_calls.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]


class ApiKey(Base):
    """A key for the REST API: only its SHA-256 is stored (see :mod:`autopack.store.keys`).

    ``prefix`` is public (shown by ``autopack keys list``, part of the key) and finds the row;
    ``hash`` is compared in constant time. A revoked key keeps its row for the audit trail.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ExternalClaim(Base):
    """A claim on external work: a phase's build or review, by whom, until when, with what.

    Only the SHA-256 of the claim's token is stored; ``submission`` holds what was sent (the
    builder's answer, or the auditor's verdict as JSON) until an attempt consumes it. See
    :mod:`autopack.store.claims` for the statuses.
    """

    __tablename__ = "external_claims"
    __table_args__ = (
        Index("ix_external_claims_run_id_phase_id_role", "run_id", "phase_id", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    phase_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    claimed_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="active")
    attempt_index: Mapped[int | None] = mapped_column(Integer)
    submission: Mapped[str | None] = mapped_column(Text)
    refusals: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    consumed_at: Mapped[datetime | None]


class PhaseIssue(Base):
    """An issue as one phase of one run found it (level 1 of issue tracking).

    One row per (run, phase, issue key): a repeat in the same phase adds to ``occurrences``
    and refreshes ``last_seen`` and ``evidence``. ``tier_id`` is copied from the phase so
    aging can count distinct (run, tier) pairs without a join. See :mod:`autopack.issues`.
    """

    __tablename__ = "phase_issues"
    __table_args__ = (
        UniqueConstraint("run_id", "phase_id", "issue_key"),
        Index("ix_phase_issues_issue_key_last_seen", "issue_key", "last_seen"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    tier_id: Mapped[str] = mapped_column(String(128))
    phase_id: Mapped[str] = mapped_column(String(128))
    issue_key: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    file: Mapped[str | None] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class BacklogIssue(Base):
    """An issue in the project backlog across runs (level 3 of issue tracking).

    ``status`` is open, needs_cleanup or resolved; it is recomputed whenever an occurrence is
    recorded or the issue is resolved, from the ages counted over ``phase_issues`` since
    ``opened_at`` and the cleanup thresholds of the run that recorded it last.
    """

    __tablename__ = "issue_backlog"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_key: Mapped[str] = mapped_column(String(255), unique=True)
    severity: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    cleanup_after_runs: Mapped[int] = mapped_column(Integer)
    cleanup_after_tiers: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_run: Mapped[str | None] = mapped_column(String(128))
    last_run_id: Mapped[str] = mapped_column(String(128))
