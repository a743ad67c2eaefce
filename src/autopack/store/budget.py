"""The token budget ledger: reserve before a model call, settle after, never overrun a cap.

A reservation is checked against three caps at once — the phase's ``incident_token_cap``
(from its compiled strategy), the tier's ``token_budget`` and the run's ``token_cap`` — as
``used + open reservations + requested <= cap``. The check and the insert happen in one
transaction that first locks the run row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), so concurrent callers of one run are serialised and
cannot jointly exceed a cap. Settling records the real usage in ``llm_calls``, adds it to the
attempt, phase, tier and run, and frees what was reserved but not used.

The guarantee holds when the reservation is an upper bound of the call's usage: callers
reserve a conservative input estimate plus the ``max_tokens`` the provider is held to. A
provider that reports more than was reserved is recorded truthfully and flagged
(``overrun``), and every later reservation sees it.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autopack.store.errors import NotFoundError, StoreError
from autopack.store.models import BudgetReservation, Phase, Run, Tier, utcnow
from autopack.store.records import record_llm_call
from autopack.store.views import LlmCallView


class BudgetExhaustedError(StoreError):
    """A call was refused: reserving its tokens would exceed a cap. Nothing was reserved."""

    code = "budget_exhausted"

    def __init__(
        self, scope: str, key: str, *, cap: int, used: int, reserved: int, requested: int
    ) -> None:
        self.scope, self.key = scope, key
        self.cap, self.used, self.reserved, self.requested = cap, used, reserved, requested
        super().__init__(
            f"{scope} {key!r} budget exhausted: {used:,} used + {reserved:,} reserved + "
            f"{requested:,} requested > cap {cap:,}"
        )


class ReservationError(StoreError):
    """A reservation was settled or released twice, or does not match."""

    code = "reservation_invalid"


class Reservation(BaseModel):
    """Tokens held for one call."""

    model_config = ConfigDict(frozen=True)

    id: int
    run_id: str
    phase_id: str | None
    role: str
    model: str
    tokens: int


class ScopeBudget(BaseModel):
    """Cap, used and reserved tokens of one run, tier or phase."""

    model_config = ConfigDict(frozen=True)

    scope: str
    key: str
    cap: int
    used: int
    reserved: int

    @property
    def available(self) -> int:
        """Tokens that may still be reserved."""
        return max(0, self.cap - self.used - self.reserved)


def _open_sum(session: Session, column: object, value: object) -> int:
    stmt = select(func.coalesce(func.sum(BudgetReservation.tokens), 0)).where(
        column == value,  # type: ignore[operator]
        BudgetReservation.status == "open",
    )
    return int(session.scalar(stmt) or 0)


def _locked_run(session: Session, run_id: str) -> Run:
    run = session.scalars(select(Run).where(Run.id == run_id).with_for_update()).one_or_none()
    if run is None:
        raise NotFoundError("run", run_id)
    return run


def _phase(session: Session, run_id: str, phase_id: str) -> Phase:
    phase = session.scalars(
        select(Phase).where(Phase.run_id == run_id, Phase.phase_id == phase_id)
    ).one_or_none()
    if phase is None:
        raise NotFoundError("phase", phase_id, run_id)
    return phase


def scope_budgets(session: Session, run_id: str, phase_id: str | None) -> list[ScopeBudget]:
    """The run's budget, and the tier's and phase's when a phase is named."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError("run", run_id)
    out = [
        ScopeBudget(
            scope="run",
            key=run_id,
            cap=run.token_cap,
            used=run.tokens_used,
            reserved=_open_sum(session, BudgetReservation.run_id, run_id),
        )
    ]
    if phase_id is not None:
        phase = _phase(session, run_id, phase_id)
        tier: Tier = phase.tier
        out.append(
            ScopeBudget(
                scope="tier",
                key=tier.tier_id,
                cap=tier.token_budget,
                used=tier.tokens_used,
                reserved=_open_sum(session, BudgetReservation.tier_pk, tier.id),
            )
        )
        out.append(
            ScopeBudget(
                scope="phase",
                key=phase_id,
                cap=int(phase.strategy.get("incident_token_cap", run.token_cap)),
                used=phase.tokens_used,
                reserved=_open_sum(session, BudgetReservation.phase_pk, phase.id),
            )
        )
    return out


def reserve(
    session: Session, run_id: str, phase_id: str | None, *, tokens: int, role: str, model: str
) -> Reservation:
    """Hold ``tokens`` for a call, or raise :class:`BudgetExhaustedError` (nothing held)."""
    if tokens <= 0:
        raise ValueError("a reservation needs a positive number of tokens")
    _locked_run(session, run_id)  # serialises every reservation of this run
    for budget in scope_budgets(session, run_id, phase_id):
        if budget.used + budget.reserved + tokens > budget.cap:
            raise BudgetExhaustedError(
                budget.scope,
                budget.key,
                cap=budget.cap,
                used=budget.used,
                reserved=budget.reserved,
                requested=tokens,
            )
    phase = _phase(session, run_id, phase_id) if phase_id is not None else None
    row = BudgetReservation(
        run_id=run_id,
        tier_pk=phase.tier_pk if phase else None,
        phase_pk=phase.id if phase else None,
        role=role,
        model=model,
        tokens=tokens,
        status="open",
    )
    session.add(row)
    session.flush()
    return Reservation(
        id=row.id, run_id=run_id, phase_id=phase_id, role=role, model=model, tokens=tokens
    )


def _open_reservation(session: Session, reservation_id: int) -> BudgetReservation:
    row = session.get(BudgetReservation, reservation_id)
    if row is None:
        raise NotFoundError("reservation", str(reservation_id))
    _locked_run(session, row.run_id)
    session.refresh(row)
    if row.status != "open":
        raise ReservationError(f"reservation {reservation_id} is already {row.status}")
    return row


def settle(
    session: Session,
    reservation_id: int,
    *,
    provider: str,
    tokens_in: int,
    tokens_out: int,
    cost_usd: Decimal | float = 0,
    latency_ms: int | None = None,
    attempt_id: int | None = None,
    status: str = "ok",
    error_class: str | None = None,
) -> LlmCallView:
    """Record a finished call's real usage; frees the unused part of the reservation."""
    row = _open_reservation(session, reservation_id)
    phase = session.get(Phase, row.phase_pk) if row.phase_pk is not None else None
    call = record_llm_call(
        session,
        provider=provider,
        model=row.model,
        role=row.role,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=cost_usd,
        latency_ms=latency_ms,
        run_id=row.run_id,
        phase_id=phase.phase_id if phase else None,
        attempt_id=attempt_id,
        status=status,
        error_class=error_class,
    )
    actual = int(tokens_in) + int(tokens_out)
    row.status = "settled"
    row.actual_tokens = actual
    row.llm_call_id = call.id
    row.settled_at = utcnow()
    if actual > row.tokens:
        row.reason = f"overrun: used {actual} of {row.tokens} reserved"
    session.flush()
    return call


def release(session: Session, reservation_id: int, *, reason: str) -> None:
    """Free a reservation whose call never produced usage (refused, failed to connect)."""
    row = _open_reservation(session, reservation_id)
    row.status = "released"
    row.reason = reason
    row.settled_at = utcnow()
    session.flush()


def release_stale(session: Session, run_id: str, *, reason: str = "worker restarted") -> int:
    """Release every open reservation of a run (after a crash no call is in flight)."""
    _locked_run(session, run_id)
    rows = session.scalars(
        select(BudgetReservation).where(
            BudgetReservation.run_id == run_id, BudgetReservation.status == "open"
        )
    ).all()
    for row in rows:
        row.status = "released"
        row.reason = reason
        row.settled_at = utcnow()
    session.flush()
    return len(rows)
