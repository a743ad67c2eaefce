"""Aggregates of one run: its tiers, its totals, its live status.

Like :mod:`autopack.store.aggregates.fleet`, each function runs one read transaction and a
fixed number of ``GROUP BY`` queries, whatever the number of phases, attempts and calls.
An unknown run raises :class:`~autopack.store.NotFoundError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from autopack.policy.states import PhaseState, RunState
from autopack.store.aggregates.sql import dec, elapsed, failed_attempt, total
from autopack.store.aggregates.views import (
    CurrentPhase,
    ModelUsage,
    RunStatus,
    RunTierMetrics,
    RunTotals,
    TierMetrics,
)
from autopack.store.errors import NotFoundError
from autopack.store.models import Approval, Attempt, LlmCall, Phase, Run, Tier
from autopack.store.records import attempt_stats

if TYPE_CHECKING:
    from autopack.store.service import Store

__all__ = ["run_status", "run_tiers", "run_totals"]

# A phase in one of these states is the one being worked on.
_ACTIVE = tuple(
    s.value
    for s in (
        PhaseState.EXECUTING,
        PhaseState.PENDING_REVIEW,
        PhaseState.PENDING_APPROVAL,
        PhaseState.GATE,
        PhaseState.CI_RUNNING,
    )
)


def _run_row(session: Session, run_id: str) -> Any:
    row = session.execute(
        select(
            Run.id,
            Run.state,
            Run.goal,
            Run.token_cap,
            Run.tokens_used,
            Run.failure_reason,
            Run.cancel_requested_at,
            Run.created_at,
            Run.started_at,
            Run.finished_at,
        ).where(Run.id == run_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError("run", run_id)
    return row


def _phase_states(session: Session, run_id: str) -> dict[str, int]:
    stmt = select(Phase.state, func.count()).where(Phase.run_id == run_id).group_by(Phase.state)
    return {state: int(n) for state, n in session.execute(stmt)}


def _calls(session: Session, run_id: str) -> tuple[int, Any]:
    stmt = select(func.count(LlmCall.id), func.sum(LlmCall.cost_usd)).where(
        LlmCall.run_id == run_id
    )
    calls, cost = session.execute(stmt).one()
    return int(calls), dec(cost)


def run_tiers(store: Store, run_id: str) -> RunTierMetrics:
    """Per tier: phases by state, attempts, tokens and cost (six queries)."""
    on_phase = and_(Phase.run_id == LlmCall.run_id, Phase.phase_id == LlmCall.phase_id)
    with store.transaction() as session:
        run = _run_row(session, run_id)
        tiers = session.scalars(
            select(Tier).where(Tier.run_id == run_id).order_by(Tier.tier_index)
        ).all()
        states: dict[int, dict[str, int]] = {}
        for tier_pk, state, n in session.execute(
            select(Phase.tier_pk, Phase.state, func.count())
            .where(Phase.run_id == run_id)
            .group_by(Phase.tier_pk, Phase.state)
        ):
            states.setdefault(tier_pk, {})[state] = int(n)
        attempts = {
            tier_pk: (int(n), int(failed))
            for tier_pk, n, failed in session.execute(
                select(
                    Phase.tier_pk,
                    func.count(Attempt.id),
                    func.count(Attempt.id).filter(failed_attempt()),
                )
                .join(Attempt, Attempt.phase_pk == Phase.id)
                .where(Phase.run_id == run_id)
                .group_by(Phase.tier_pk)
            )
        }
        costs = {
            tier_pk: (int(n), dec(cost))
            for tier_pk, n, cost in session.execute(
                select(Phase.tier_pk, func.count(LlmCall.id), func.sum(LlmCall.cost_usd))
                .join(Phase, on_phase)
                .where(LlmCall.run_id == run_id)
                .group_by(Phase.tier_pk)
            )
        }
        _, run_cost = _calls(session, run_id)
        out = [
            TierMetrics(
                tier_id=t.tier_id,
                tier_index=t.tier_index,
                name=t.name,
                state=t.state,
                phases=sum(states.get(t.id, {}).values()),
                phases_by_state=states.get(t.id, {}),
                attempts=attempts.get(t.id, (0, 0))[0],
                failed_attempts=attempts.get(t.id, (0, 0))[1],
                tokens_used=t.tokens_used,
                token_budget=t.token_budget,
                llm_calls=costs.get(t.id, (0, dec(0)))[0],
                cost_usd=costs.get(t.id, (0, dec(0)))[1],
            )
            for t in tiers
        ]
    return RunTierMetrics(
        run_id=run.id,
        state=run.state,
        tokens_used=int(run.tokens_used),
        token_cap=int(run.token_cap),
        cost_usd=run_cost,
        unattributed_cost_usd=run_cost - sum((t.cost_usd for t in out), dec(0)),
        tiers=out,
    )


def run_totals(store: Store, run_id: str) -> RunTotals:
    """A run's totals: phases by state, attempts, tokens, cost per model and role (four
    queries)."""
    stmt = (
        select(
            LlmCall.model,
            LlmCall.role,
            func.count(LlmCall.id),
            total(LlmCall.tokens_in),
            total(LlmCall.tokens_out),
            func.sum(LlmCall.cost_usd),
        )
        .where(LlmCall.run_id == run_id)
        .group_by(LlmCall.model, LlmCall.role)
        .order_by(LlmCall.model, LlmCall.role)
    )
    with store.transaction() as session:
        run = _run_row(session, run_id)
        states = _phase_states(session, run_id)
        stats = attempt_stats(session, run_id)
        models = [
            ModelUsage(model=m, role=r, calls=n, tokens_in=i, tokens_out=o, cost_usd=dec(c))
            for m, r, n, i, o, c in session.execute(stmt)
        ]
    return RunTotals(
        run_id=run.id,
        state=run.state,
        goal=run.goal,
        failure_reason=run.failure_reason,
        phase_count=sum(states.values()),
        phases_complete=states.get(PhaseState.COMPLETE.value, 0),
        phases_by_state=states,
        attempts=stats["attempts"],
        failed_attempts=stats["failures"],
        ci_runs=stats["ci_runs"],
        tokens_used=int(run.tokens_used),
        token_cap=int(run.token_cap),
        cost_usd=sum((m.cost_usd for m in models), dec(0)),
        llm_calls=sum(m.calls for m in models),
        models=models,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_seconds=elapsed(run.started_at or run.created_at, run.finished_at),
    )


def run_status(store: Store, run_id: str, *, now: datetime | None = None) -> RunStatus:
    """State, phases done/total, the current phase, tokens, cost, pending approvals and
    elapsed time (five queries)."""
    with store.transaction() as session:
        run = _run_row(session, run_id)
        states = _phase_states(session, run_id)
        current = session.execute(
            select(Phase, Tier.tier_id)
            .join(Tier, Tier.id == Phase.tier_pk)
            .where(Phase.run_id == run_id, Phase.state.in_(_ACTIVE))
            .order_by(Phase.position)
            .limit(1)
        ).one_or_none()
        calls, cost = _calls(session, run_id)
        pending = session.scalar(
            select(func.count(Approval.id)).where(
                Approval.run_id == run_id, Approval.status == "pending"
            )
        )
        phase = None
        if current is not None:
            p, tier_id = current
            phase = CurrentPhase(
                phase_id=p.phase_id,
                tier_id=tier_id,
                name=p.name,
                state=p.state,
                attempts_used=p.attempts_used,
                tokens_used=p.tokens_used,
            )
    return RunStatus(
        run_id=run.id,
        state=run.state,
        terminal=RunState(run.state).is_terminal(),
        phases_complete=states.get(PhaseState.COMPLETE.value, 0),
        phases_failed=states.get(PhaseState.FAILED.value, 0),
        phase_count=sum(states.values()),
        current_phase=phase,
        tokens_used=int(run.tokens_used),
        token_cap=int(run.token_cap),
        cost_usd=cost,
        llm_calls=calls,
        pending_approvals=int(pending or 0),
        cancel_requested=run.cancel_requested_at is not None,
        failure_reason=run.failure_reason,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        elapsed_seconds=elapsed(run.started_at or run.created_at, run.finished_at, now),
    )
