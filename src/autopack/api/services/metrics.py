"""Metrics behind the routes: the Prometheus exposition and the aggregate run metrics.

:func:`install_telemetry` gives an app its own :class:`~autopack.telemetry.Telemetry`
(registry, HTTP latency middleware, database collector); ``create_app`` calls it from its
middleware seam, so the latency middleware sits inside the security middleware.
"""

from __future__ import annotations

from fastapi import FastAPI

from autopack.api.context import ApiContext
from autopack.api.schemas_reports import RunsOverview, RunTierMetrics
from autopack.store import aggregates
from autopack.store.aggregates import MetricsSnapshot
from autopack.telemetry import LLM_LATENCY_BOUNDS_MS, HttpMetricsMiddleware, Telemetry


def install_telemetry(app: FastAPI) -> Telemetry:
    """Create the app's telemetry (``app.state.telemetry``) and add its HTTP middleware.

    Call it before adding the security middleware: middleware added later wraps it.
    """

    def snapshot() -> MetricsSnapshot:
        context: ApiContext = app.state.context  # set by the lifespan before any request
        return aggregates.metrics_snapshot(context.store, LLM_LATENCY_BOUNDS_MS)

    telemetry = Telemetry(snapshot)
    app.state.telemetry = telemetry
    app.add_middleware(HttpMetricsMiddleware, metrics=telemetry.http)
    return telemetry


def exposition(telemetry: Telemetry, accept: str) -> tuple[bytes, str]:
    """Every series in the format ``accept`` asks for, and its content type."""
    return telemetry.render(accept)


def runs_overview(ctx: ApiContext) -> RunsOverview:
    """Counts by state, success rate, mean duration, tokens and cost over every run."""
    return aggregates.runs_overview(ctx.store)


def tier_metrics(ctx: ApiContext, run_id: str) -> RunTierMetrics:
    """Per tier of ``run_id``: phases by state, attempts, tokens, cost (404 if unknown)."""
    return aggregates.run_tiers(ctx.store, run_id)
