"""The dashboard's aggregate reads: a fixed number of SQL queries, whatever the data size.

What the store's facade and aggregates do not answer yet: costs per phase of a run,
failures grouped across runs, the count of pending approvals, and a cheap "did anything
change" signature for the live run page. Each function takes the
:class:`~autopack.store.Store`, runs one read-only transaction and returns plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from autopack.policy.states import RunState
from autopack.store import Store
from autopack.store.models import Approval, Attempt, Event, LlmCall, Run

__all__ = [
    "FailureGroup",
    "RunSignature",
    "failure_groups",
    "pending_approvals",
    "phase_costs",
    "run_signature",
]


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0))


def phase_costs(store: Store, run_id: str) -> dict[str, Decimal]:
    """Phase id → summed model call cost (USD) of one run (Doctor calls included)."""
    stmt = (
        select(LlmCall.phase_id, func.sum(LlmCall.cost_usd))
        .where(LlmCall.run_id == run_id, LlmCall.phase_id.is_not(None))
        .group_by(LlmCall.phase_id)
    )
    with store.transaction() as session:
        return {str(pid): _money(total) for pid, total in session.execute(stmt)}


def pending_approvals(store: Store) -> int:
    """How many approvals wait for a decision."""
    stmt = select(func.count(Approval.id)).where(Approval.status == "pending")
    with store.transaction() as session:
        return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class RunSignature:
    """What changes whenever anything a run page shows changes."""

    state: str
    token: str

    @property
    def terminal(self) -> bool:
        """The run has ended: nothing more will change by itself."""
        return RunState(self.state).is_terminal()


def run_signature(store: Store, run_id: str) -> RunSignature | None:
    """State, last event, attempts, tokens and lease of a run in one query (``None``: no run)."""
    last_event = select(func.max(Event.id)).where(Event.run_id == run_id).scalar_subquery()
    attempts = select(func.count(Attempt.id)).where(Attempt.run_id == run_id).scalar_subquery()
    finished = (
        select(func.count(Attempt.id))
        .where(Attempt.run_id == run_id, Attempt.finished_at.is_not(None))
        .scalar_subquery()
    )
    stmt = select(
        Run.state, Run.tokens_used, Run.lease_owner, last_event, attempts, finished
    ).where(Run.id == run_id)
    with store.transaction() as session:
        row = session.execute(stmt).one_or_none()
    if row is None:
        return None
    state, tokens, owner, event, started, done = row
    token = f"{state}.{event or 0}.{started}.{done}.{tokens}.{1 if owner else 0}"
    return RunSignature(state=state, token=token)


@dataclass(frozen=True)
class FailureGroup:
    """Failed attempts of one kind with one message, across runs."""

    error_class: str
    message: str
    occurrences: int
    runs: int
    last_seen: datetime
    sample_run: str
    """One run where it happened (the greatest id, for a link)."""


def failure_groups(store: Store, *, limit: int = 200) -> list[FailureGroup]:
    """Attempt failures grouped by class and message, most frequent first."""
    last = func.max(Attempt.started_at)
    stmt = (
        select(
            Attempt.error_class,
            Attempt.error_message,
            func.count(Attempt.id),
            func.count(func.distinct(Attempt.run_id)),
            last,
            func.max(Attempt.run_id),
        )
        .where(Attempt.error_class.is_not(None))
        .group_by(Attempt.error_class, Attempt.error_message)
        .order_by(func.count(Attempt.id).desc(), last.desc())
        .limit(limit)
    )
    with store.transaction() as session:
        rows = session.execute(stmt).all()
    return [
        FailureGroup(str(cls), str(msg or ""), int(n), int(r), when, str(run))
        for cls, msg, n, r, when, run in rows
    ]
