"""Reports behind the routes: budget analysis across runs, one run's summary."""

from __future__ import annotations

from autopack.api.context import ApiContext
from autopack.api.schemas_reports import BudgetAnalysis, RunSummaryReport
from autopack.engine.report import build_report
from autopack.store import aggregates


def budget_analysis(ctx: ApiContext, *, limit: int, offset: int) -> BudgetAnalysis:
    """Budget totals, a page of runs by share of cap used, overruns, usage per model."""
    return aggregates.budget_analysis(ctx.store, limit=limit, offset=offset)


def run_summary(ctx: ApiContext, run_id: str) -> RunSummaryReport:
    """The run's markdown report with its totals in structured form (404 if unknown)."""
    totals = aggregates.run_totals(ctx.store, run_id)
    markdown = build_report(ctx.store, run_id, ctx.settings)
    return RunSummaryReport(run_id=run_id, totals=totals, markdown=markdown)
