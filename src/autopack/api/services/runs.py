"""Run operations behind the routes: start, page, show, progress, update_status, cancel, resume.

Each function takes the :class:`~autopack.api.context.ApiContext` and plain values, calls the
store, the engine and the workers, and returns a schema or raises a domain error (mapped to
HTTP by :mod:`autopack.api.errors`). Changes that must not race a worker executing the run
(a manual phase transition, cancelling an idle run) are made while holding the run's lease
for a moment: if a worker holds it, the change is refused (409) instead of pulling the
state from under it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas import (
    BudgetOut,
    CancelOut,
    LeaseOut,
    PhaseProgress,
    RunAccepted,
    RunOut,
    RunPage,
    RunProgress,
    StatusChanged,
    StatusUpdate,
    TierProgress,
)
from autopack.engine.queue import QueueDispatcher
from autopack.policy.states import RunState
from autopack.spec.loader import load_spec_data
from autopack.store import LeaseHeldError
from autopack.store.budget import ScopeBudget
from autopack.workspace import Git

# A run in one of these states is not being driven: a cancel ends it at once.
_IDLE = (RunState.RUN_CREATED, RunState.GATE, RunState.PHASE_QUEUEING)
_MOMENT = 30.0  # seconds: lease taken by the API for one state change


def _progress_url(run_id: str) -> str:
    return f"/runs/{run_id}/progress"


def _check_base_ref(ctx: ApiContext, base_ref: str) -> None:
    if Git(ctx.settings.workspace).try_rev_parse(f"{base_ref}^{{commit}}") is None:
        raise ApiError(
            422,
            "bad_base_ref",
            f"base {base_ref!r} does not name a commit in the workspace repository",
            details={"issues": [{"loc": "query.base", "message": "not a commit"}]},
        )


def start_run(ctx: ApiContext, plan: Any, *, base_ref: str, actor: str) -> RunAccepted:
    """Validate ``plan`` (any accepted shape), store the run, queue its execution."""
    loaded = load_spec_data(plan, source="request body")  # SpecError → 422, nothing stored
    _check_base_ref(ctx, base_ref)
    ctx.workers.check_capacity()
    compiled = ctx.engine.strategy.compile_run(loaded.spec)
    if isinstance(ctx.dispatcher, QueueDispatcher):  # stored and queued in one transaction
        run = ctx.dispatcher.create(
            loaded.spec, compiled, shape=loaded.shape, actor=actor, base_ref=base_ref
        )
        return RunAccepted(
            run_id=run.run_id, state=run.state, queued=True, progress=_progress_url(run.run_id)
        )
    run = ctx.store.create_run(loaded.spec, compiled, shape=loaded.shape, actor=actor)
    execute = ctx.dispatcher.execute
    ctx.workers.submit(
        run.run_id,
        "execute",
        lambda: execute(run.run_id, base_ref=base_ref, notify=ctx.notify_for(run.run_id)),
    )
    return RunAccepted(
        run_id=run.run_id, state=run.state, queued=True, progress=_progress_url(run.run_id)
    )


def page_runs(ctx: ApiContext, *, state: str | None, limit: int, offset: int) -> RunPage:
    """Newest runs first, ``limit`` from ``offset``."""
    items = ctx.store.list_runs(state=state, limit=limit, offset=offset)
    more = len(items) == limit
    return RunPage(
        items=items, limit=limit, offset=offset, next_offset=offset + limit if more else None
    )


def show_run(ctx: ApiContext, run_id: str) -> RunOut:
    """A run with tiers, phases, its cancel flag and lease."""
    detail = ctx.store.get_run(run_id)
    lease = ctx.store.lease(run_id)
    return RunOut(
        **detail.model_dump(),
        cancel_requested=ctx.store.cancel_requested(run_id),
        lease=LeaseOut(
            owner=lease.owner,
            expires_at=lease.expires_at,
            heartbeat_at=lease.heartbeat_at,
            live=lease.live(),
        ),
    )


def _budget(scope: str, key: str, cap: int, used: int, reserved: int = 0) -> BudgetOut:
    return BudgetOut(
        scope=scope,
        key=key,
        cap=cap,
        used=used,
        reserved=reserved,
        left=max(0, cap - used - reserved),
    )


def _run_budget(budget: ScopeBudget) -> BudgetOut:
    return _budget("run", budget.key, budget.cap, budget.used, budget.reserved)


def run_progress(ctx: ApiContext, run_id: str) -> RunProgress:
    """Tiers and phases with attempts and budgets, in a fixed number of queries."""
    store = ctx.store
    detail = store.get_run(run_id)
    attempts = store.run_attempts(run_id)
    phases_by_tier: dict[str, list[PhaseProgress]] = {t.tier_id: [] for t in detail.tiers}
    for p in detail.phases:
        cap = int(p.strategy.get("incident_token_cap", detail.token_cap))
        phases_by_tier[p.tier_id].append(
            PhaseProgress(
                phase_id=p.phase_id,
                name=p.name,
                state=p.state,
                task_category=p.task_category,
                complexity=p.complexity,
                attempts_used=p.attempts_used,
                max_attempts=int(p.strategy.get("builder_attempts", 0)),
                approval_required=bool(p.strategy.get("approval_required", False)),
                budget=_budget("phase", p.phase_id, cap, p.tokens_used),
                attempts=attempts.get(p.phase_id, []),
            )
        )
    tiers = [
        TierProgress(
            tier_id=t.tier_id,
            name=t.name,
            state=t.state,
            budget=_budget("tier", t.tier_id, t.token_budget, t.tokens_used),
            phases=phases_by_tier[t.tier_id],
        )
        for t in detail.tiers
    ]
    return RunProgress(
        run_id=run_id,
        state=detail.state,
        phases_complete=detail.phases_complete,
        phase_count=detail.phase_count,
        executing=store.lease(run_id).live() or ctx.workers.busy(run_id),
        cancel_requested=store.cancel_requested(run_id),
        failure_reason=detail.failure_reason,
        budget=_run_budget(store.budgets(run_id)[0]),
        attempts=store.attempt_stats(run_id),
        cost_usd=store.total_cost(run_id),
        tiers=tiers,
    )


@contextmanager
def _holding_lease(ctx: ApiContext, run_id: str) -> Iterator[None]:
    """Hold the run's lease for one change; :class:`LeaseHeldError` (409) while it executes."""
    if ctx.workers.busy(run_id):
        raise ApiError(
            409,
            "run_busy",
            f"run {run_id!r} has a job queued or running in this server; wait or cancel it",
        )
    owner = f"api:{uuid.uuid4().hex[:12]}"
    ctx.store.acquire_lease(run_id, owner, _MOMENT)
    try:
        yield
    finally:
        ctx.store.release_lease(run_id, owner)


def update_phase_status(
    ctx: ApiContext, run_id: str, phase_id: str, update: StatusUpdate, *, actor: str
) -> StatusChanged:
    """Move a phase through the transition table (409 with the allowed targets otherwise)."""
    ctx.store.get_run(run_id)  # 404 before anything else
    with _holding_lease(ctx, run_id):
        event = ctx.store.transition_phase(
            run_id,
            phase_id,
            update.state,
            reason=update.reason or f"set by {actor} through the API",
            actor=actor,
            explicit=update.explicit,
        )
    return StatusChanged(
        run_id=run_id,
        phase_id=phase_id,
        from_state=event.from_state,
        to_state=event.to_state,
        event_id=event.id,
    )


def cancel_run(ctx: ApiContext, run_id: str, *, actor: str) -> CancelOut:
    """Record the request; an idle run ends now, an executing one at its next safe point."""
    store = ctx.store
    store.request_cancel(run_id)  # 404 for an unknown run
    stopping = False
    try:
        with _holding_lease(ctx, run_id):
            state = store.get_run(run_id).state
            if state in _IDLE:
                store.transition_run(
                    run_id, RunState.CANCELLED, reason=f"cancelled by {actor}", actor=actor
                )
    except (LeaseHeldError, ApiError):
        stopping = True  # a worker has it: it sees the request before its next attempt
    return CancelOut(
        run_id=run_id,
        state=store.get_run(run_id).state,
        cancel_requested=True,
        stopping=stopping,
    )


def resume_run(ctx: ApiContext, run_id: str) -> RunAccepted:
    """Queue a worker to continue the run; 409 while it has ended or another worker has it."""
    store = ctx.store
    run = store.get_run(run_id)
    if RunState(run.state).is_terminal():
        raise ApiError(
            409,
            "run_ended",
            f"run {run_id!r} has ended ({run.state}); there is nothing to resume",
            details={"state": run.state},
        )
    lease = store.lease(run_id)
    if lease.live():
        raise LeaseHeldError(run_id, lease.owner or "?", lease.expires_at)  # type: ignore[arg-type]
    execute, notify = ctx.dispatcher.execute, ctx.notify_for(run_id)
    ctx.workers.submit(run_id, "resume", lambda: execute(run_id, notify=notify))
    return RunAccepted(run_id=run_id, state=run.state, queued=True, progress=_progress_url(run_id))
