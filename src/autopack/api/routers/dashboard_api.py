"""``/dashboard`` data: a run's live status and usage per model and day (JSON for the UI)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from autopack.api.deps import ContextDep, Reader
from autopack.api.routers.runs import RunId
from autopack.api.schemas_reports import DashboardRunStatus, Usage
from autopack.api.services import dashboard_api as service

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get(
    "/runs/{run_id}/status",
    response_model=DashboardRunStatus,
    summary="Compact live status of a run: state, phases done, current phase, tokens, cost",
)
def run_status(run_id: RunId, ctx: ContextDep, _who: Reader) -> DashboardRunStatus:
    """404 for an unknown run. Cheap enough to poll."""
    return service.run_status(ctx, run_id)


@router.get(
    "/usage",
    response_model=Usage,
    summary="Tokens and cost per model and per UTC day",
)
def usage(
    ctx: ContextDep,
    _who: Reader,
    days: Annotated[int, Query(ge=1, le=366, description="Days back, today included.")] = 30,
) -> Usage:
    """Every model call of the period, whatever run made it."""
    return service.usage(ctx, days=days)
