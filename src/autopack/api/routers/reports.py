"""``/reports``: budget analysis across runs, a run's summary report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from autopack.api.deps import ContextDep, Reader
from autopack.api.routers.runs import RunId
from autopack.api.schemas_reports import BudgetAnalysis, RunSummaryReport
from autopack.api.services import reports as service

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get(
    "/budget_analysis",
    response_model=BudgetAnalysis,
    summary="Token caps and use per run, runs that hit their budget, usage per model",
)
def budget_analysis(
    ctx: ContextDep,
    _who: Reader,
    limit: Annotated[int, Query(ge=1, le=500, description="Runs per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> BudgetAnalysis:
    """Runs are listed by the share of their cap they used, highest first."""
    return service.budget_analysis(ctx, limit=limit, offset=offset)


@router.get(
    "/run_summary/{run_id}",
    response_model=RunSummaryReport,
    summary="A run's markdown report with its totals",
)
def run_summary(run_id: RunId, ctx: ContextDep, _who: Reader) -> RunSummaryReport:
    """404 for an unknown run."""
    return service.run_summary(ctx, run_id)
