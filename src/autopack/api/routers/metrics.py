"""``/metrics`` (Prometheus), ``/metrics/runs`` and ``/metrics/tiers/{run_id}`` (JSON).

Readers only, like every read: a Prometheus scrape job sends a viewer key
(``authorization: {credentials: ...}`` in its scrape config), or, for a scraper on the same
machine, the server opts in to anonymous read on loopback (``AUTOPACK_ANONYMOUS_READ=1``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from autopack.api.deps import ContextDep, Reader
from autopack.api.routers.runs import RunId
from autopack.api.schemas_reports import RunsOverview, RunTierMetrics
from autopack.api.services import metrics as service

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics: runs, attempts, tokens, cost, LLM and HTTP latency",
    responses={
        200: {
            "description": "Prometheus text format 0.0.4 (OpenMetrics when the Accept header "
            "asks for it).",
            "content": {"text/plain": {}, "application/openmetrics-text": {}},
        }
    },
)
def prometheus(request: Request, _who: Reader) -> Response:
    """Series read from the database at scrape time, plus this process's HTTP latency."""
    body, content_type = service.exposition(
        request.app.state.telemetry, request.headers.get("accept", "")
    )
    return Response(content=body, media_type=content_type)


@router.get(
    "/metrics/runs",
    response_model=RunsOverview,
    summary="Runs by state, success rate, mean duration, tokens and cost",
)
def runs(ctx: ContextDep, _who: Reader) -> RunsOverview:
    """Computed with aggregate SQL: a fixed number of queries however many runs exist."""
    return service.runs_overview(ctx)


@router.get(
    "/metrics/tiers/{run_id}",
    response_model=RunTierMetrics,
    summary="Per tier of a run: phases by state, attempts, tokens and cost",
)
def tiers(run_id: RunId, ctx: ContextDep, _who: Reader) -> RunTierMetrics:
    """404 for an unknown run."""
    return service.tier_metrics(ctx, run_id)
