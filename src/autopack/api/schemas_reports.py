"""Response bodies of the metrics, reports and dashboard endpoints.

Like :mod:`autopack.api.schemas`, these reuse the store's read models — here the
aggregates of :mod:`autopack.store.aggregates.views` — and add only what the API shows on
top of them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from autopack.store.aggregates.views import (
    BudgetAnalysis,
    RunsOverview,
    RunStatus,
    RunTierMetrics,
    RunTotals,
    Usage,
)

__all__ = [
    "BudgetAnalysis",
    "DashboardRunStatus",
    "RunSummaryReport",
    "RunTierMetrics",
    "RunsOverview",
    "Usage",
]


class RunSummaryReport(BaseModel):
    """``GET /reports/run_summary/{run_id}``: the markdown report and its numbers."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    totals: RunTotals
    markdown: str = Field(
        description="The report `autopack runs report` prints: summary, totals, phases, "
        "failures, approvals, how to merge."
    )


class DashboardRunStatus(RunStatus):
    """``GET /dashboard/runs/{run_id}/status``: the run's live status."""

    executing: bool = Field(description="A worker has the run (queued here, or holds its lease).")
