"""Dashboard data behind the routes: a run's live status, usage per model and day."""

from __future__ import annotations

from autopack.api.context import ApiContext
from autopack.api.schemas_reports import DashboardRunStatus, Usage
from autopack.store import aggregates


def run_status(ctx: ApiContext, run_id: str) -> DashboardRunStatus:
    """State, phases done/total, current phase, tokens, cost, elapsed (404 if unknown)."""
    status = aggregates.run_status(ctx.store, run_id)
    executing = ctx.workers.busy(run_id) or ctx.store.lease(run_id).live()
    return DashboardRunStatus(**status.model_dump(), executing=executing)


def usage(ctx: ApiContext, *, days: int) -> Usage:
    """Tokens and cost per model and per UTC day over the last ``days`` days."""
    return aggregates.usage(ctx.store, days=days)
