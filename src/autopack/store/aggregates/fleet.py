"""Aggregates over every run: the Prometheus snapshot, the runs overview, budgets, usage.

Each function takes the :class:`~autopack.store.Store`, runs one read transaction and a
fixed number of ``GROUP BY`` queries: the number of statements does not depend on how many
runs, phases, attempts or model calls the database holds (tests count them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from autopack.policy.states import RunState
from autopack.store.aggregates.sql import (
    TERMINAL_RUN_STATES,
    as_date,
    dec,
    failed_attempt,
    hit_budget,
    seconds_between,
    total,
    used_fraction,
    utc_day,
)
from autopack.store.aggregates.views import (
    BudgetAnalysis,
    DailyUsage,
    LlmSeries,
    MetricsSnapshot,
    ModelUsage,
    RunBudget,
    RunsOverview,
    Usage,
)
from autopack.store.models import Attempt, LlmCall, Phase, Run

if TYPE_CHECKING:
    from autopack.store.service import Store

__all__ = ["budget_analysis", "metrics_snapshot", "runs_overview", "usage"]


def _counts(session: Session, column: Any) -> dict[Any, int]:
    return {
        key: int(n) for key, n in session.execute(select(column, func.count()).group_by(column))
    }


def metrics_snapshot(store: Store, latency_bounds_ms: Sequence[int]) -> MetricsSnapshot:
    """Runs and phases by state, attempts by outcome, model calls per (model, role, status)
    with latency bucket counts for ``latency_bounds_ms``: four queries."""
    bounds = tuple(int(b) for b in latency_bounds_ms)
    buckets = [func.count(LlmCall.id).filter(LlmCall.latency_ms <= b) for b in bounds]
    llm = select(
        LlmCall.model,
        LlmCall.role,
        LlmCall.status,
        func.count(LlmCall.id),
        total(LlmCall.tokens_in),
        total(LlmCall.tokens_out),
        func.sum(LlmCall.cost_usd),
        func.count(LlmCall.latency_ms),
        total(LlmCall.latency_ms),
        *buckets,
    ).group_by(LlmCall.model, LlmCall.role, LlmCall.status)
    with store.transaction() as session:
        runs = _counts(session, Run.state)
        phases = _counts(session, Phase.state)
        outcomes = _counts(session, Attempt.outcome)
        series = [
            LlmSeries(
                model=row[0],
                role=row[1],
                status=row[2],
                calls=int(row[3]),
                tokens_in=int(row[4]),
                tokens_out=int(row[5]),
                cost_usd=dec(row[6]),
                latency_count=int(row[7]),
                latency_sum_ms=int(row[8]),
                latency_buckets=tuple(int(n) for n in row[9:]),
            )
            for row in session.execute(llm)
        ]
    in_progress = outcomes.pop(None, 0)
    return MetricsSnapshot(
        runs_by_state=runs,
        phases_by_state=phases,
        attempts_by_outcome=outcomes,
        attempts_in_progress=in_progress,
        latency_bounds_ms=bounds,
        llm=series,
    )


def runs_overview(store: Store) -> RunsOverview:
    """Counts by state, success rate, mean duration, tokens and cost: three queries."""
    with store.transaction() as session:
        ended = Run.finished_at.is_not(None) & Run.started_at.is_not(None)
        duration = seconds_between(session, Run.started_at, Run.finished_at)
        by_state = session.execute(
            select(
                Run.state,
                func.count(),
                total(Run.tokens_used),
                total(Run.token_cap),
                func.sum(duration).filter(ended),
                func.count().filter(ended),
            ).group_by(Run.state)
        ).all()
        calls, cost = session.execute(
            select(func.count(LlmCall.id), func.sum(LlmCall.cost_usd))
        ).one()
        attempts, failed = session.execute(
            select(func.count(Attempt.id), func.count(Attempt.id).filter(failed_attempt()))
        ).one()
    counts = {state: int(n) for state, n, *_ in by_state}
    timed = sum(int(row[5]) for row in by_state)
    seconds = sum(float(row[4] or 0) for row in by_state)
    finished = sum(n for s, n in counts.items() if s in TERMINAL_RUN_STATES)
    succeeded = counts.get(RunState.DONE_SUCCESS.value, 0)
    return RunsOverview(
        runs=sum(counts.values()),
        by_state=counts,
        finished=finished,
        succeeded=succeeded,
        failed=sum(n for s, n in counts.items() if RunState(s).is_failure()),
        cancelled=counts.get(RunState.CANCELLED.value, 0),
        success_rate=succeeded / finished if finished else None,
        mean_duration_seconds=seconds / timed if timed else None,
        tokens_used=sum(int(row[2]) for row in by_state),
        token_cap=sum(int(row[3]) for row in by_state),
        cost_usd=dec(cost),
        llm_calls=int(calls),
        attempts=int(attempts),
        failed_attempts=int(failed),
    )


def _run_budgets(
    session: Session, where: Any, *, by_use: bool, limit: int, offset: int
) -> list[RunBudget]:
    """A page of runs, each with its cost (a subquery per page row, on ``run_id``'s index).

    ``by_use``: highest share of the cap first; otherwise newest first.
    """
    frac = used_fraction().label("frac")
    cols = (Run.id, Run.state, Run.token_cap, Run.tokens_used, Run.created_at, frac)
    newest = (Run.created_at.desc(), Run.id)
    keys = (frac.desc(), *newest) if by_use else newest
    page = select(*cols).where(where).order_by(*keys).limit(limit).offset(offset).subquery()
    cost = select(func.sum(LlmCall.cost_usd)).where(LlmCall.run_id == page.c.id)
    outer = (page.c.created_at.desc(), page.c.id)
    stmt = select(page, cost.scalar_subquery().label("cost")).order_by(
        *((page.c.frac.desc(), *outer) if by_use else outer)
    )
    return [
        RunBudget(
            run_id=row.id,
            state=row.state,
            token_cap=int(row.token_cap),
            tokens_used=int(row.tokens_used),
            used_pct=round(float(row.frac) * 100, 2),
            cost_usd=dec(row.cost),
            hit_budget=row.state == RunState.DONE_FAILED_BUDGET_EXHAUSTED.value
            or row.tokens_used >= row.token_cap,
        )
        for row in session.execute(stmt)
    ]


def budget_analysis(store: Store, *, limit: int = 50, offset: int = 0) -> BudgetAnalysis:
    """Budget totals, a page of runs by share of cap used, runs that hit their budget, and
    usage per model: five queries."""
    with store.transaction() as session:
        runs, cap, used, hit = session.execute(
            select(
                func.count(),
                total(Run.token_cap),
                total(Run.tokens_used),
                func.count().filter(hit_budget()),
            )
        ).one()
        cost = session.scalar(select(func.sum(LlmCall.cost_usd)))
        items = _run_budgets(session, true(), by_use=True, limit=limit, offset=offset)
        hit_runs = _run_budgets(session, hit_budget(), by_use=False, limit=limit, offset=0)
        models = _model_usage(session)
    return BudgetAnalysis(
        runs=int(runs),
        token_cap=int(cap),
        tokens_used=int(used),
        cost_usd=dec(cost),
        runs_hit_budget=int(hit),
        items=items,
        limit=limit,
        offset=offset,
        hit_budget=hit_runs,
        models=models,
    )


def _model_usage(session: Session, *where: Any) -> list[ModelUsage]:
    stmt = (
        select(
            LlmCall.model,
            func.count(LlmCall.id),
            total(LlmCall.tokens_in),
            total(LlmCall.tokens_out),
            func.sum(LlmCall.cost_usd),
        )
        .where(*where)
        .group_by(LlmCall.model)
        .order_by(LlmCall.model)
    )
    return [
        ModelUsage(model=m, calls=int(n), tokens_in=int(i), tokens_out=int(o), cost_usd=dec(c))
        for m, n, i, o, c in session.execute(stmt)
    ]


def usage(store: Store, *, days: int, now: datetime | None = None) -> Usage:
    """Tokens and cost per model and per UTC day over the last ``days`` days (today
    included): one query grouped by day and model."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    since = today - timedelta(days=days - 1)
    start = datetime.combine(since, time(0), tzinfo=UTC)
    with store.transaction() as session:
        day = utc_day(session)
        stmt = (
            select(
                day,
                LlmCall.model,
                func.count(LlmCall.id),
                total(LlmCall.tokens_in),
                total(LlmCall.tokens_out),
                func.sum(LlmCall.cost_usd),
            )
            .where(LlmCall.created_at >= start)
            .group_by(day, LlmCall.model)
            .order_by(day, LlmCall.model)
        )
        daily = [
            DailyUsage(day=as_date(d), model=m, calls=n, tokens_in=i, tokens_out=o, cost_usd=dec(c))
            for d, m, n, i, o, c in session.execute(stmt)
        ]
    per_model: dict[str, list[DailyUsage]] = {}
    for row in daily:
        per_model.setdefault(row.model, []).append(row)
    models = [
        ModelUsage(
            model=model,
            calls=sum(r.calls for r in rows),
            tokens_in=sum(r.tokens_in for r in rows),
            tokens_out=sum(r.tokens_out for r in rows),
            cost_usd=sum((r.cost_usd for r in rows), dec(0)),
        )
        for model, rows in sorted(per_model.items())
    ]
    return Usage(
        days=days,
        since=since,
        calls=sum(m.calls for m in models),
        tokens_in=sum(m.tokens_in for m in models),
        tokens_out=sum(m.tokens_out for m in models),
        cost_usd=sum((m.cost_usd for m in models), dec(0)),
        models=models,
        daily=daily,
    )
