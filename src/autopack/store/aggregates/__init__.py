"""Aggregates for metrics, reports and dashboards, computed with ``GROUP BY`` in SQL.

The number of statements each function issues is fixed: it does not grow with the number
of runs, phases, attempts or model calls (``tests/api/test_metrics_queries.py`` counts
them on SQLite and PostgreSQL). Functions take the :class:`~autopack.store.Store` and run
one read transaction, like :mod:`autopack.store.costs`; they return the frozen views of
:mod:`autopack.store.aggregates.views`.

- :mod:`~autopack.store.aggregates.fleet`: every run at once — :func:`metrics_snapshot`
  (what ``GET /metrics`` exposes), :func:`runs_overview`, :func:`budget_analysis`,
  :func:`usage` (per model and UTC day).
- :mod:`~autopack.store.aggregates.per_run`: one run — :func:`run_tiers`,
  :func:`run_totals`, :func:`run_status`.
"""

from autopack.store.aggregates.fleet import budget_analysis, metrics_snapshot, runs_overview, usage
from autopack.store.aggregates.per_run import run_status, run_tiers, run_totals
from autopack.store.aggregates.views import (
    BudgetAnalysis,
    CurrentPhase,
    DailyUsage,
    LlmSeries,
    MetricsSnapshot,
    ModelUsage,
    RunBudget,
    RunListItem,
    RunsOverview,
    RunStatus,
    RunTierMetrics,
    RunTotals,
    TierMetrics,
    Usage,
)

__all__ = [
    "BudgetAnalysis",
    "CurrentPhase",
    "DailyUsage",
    "LlmSeries",
    "MetricsSnapshot",
    "ModelUsage",
    "RunBudget",
    "RunListItem",
    "RunStatus",
    "RunTierMetrics",
    "RunTotals",
    "RunsOverview",
    "TierMetrics",
    "Usage",
    "budget_analysis",
    "metrics_snapshot",
    "run_status",
    "run_tiers",
    "run_totals",
    "runs_overview",
    "usage",
]
