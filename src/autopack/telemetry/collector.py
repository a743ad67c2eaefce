"""Series computed from the database at scrape time (a custom prometheus-client collector).

Runs, phases, attempts and model calls are recorded in the database by whichever process
did the work (this server's workers, ``autopack run`` in a terminal, workers on other
machines sharing PostgreSQL). Counting them in process would miss all but our own and
start from zero at every restart, so :class:`StoreCollector` reads them with a fixed
number of aggregate queries (:func:`autopack.store.aggregates.metrics_snapshot`) each time
Prometheus scrapes:

- ``autopack_runs{state}``, ``autopack_phases{state}`` (gauges; every state listed, 0 included);
- ``autopack_phase_attempts_total{outcome}`` (finished attempts) and
  ``autopack_phase_attempts_in_progress``;
- ``autopack_llm_calls_total{model, role, status}``,
  ``autopack_llm_tokens_total{model, role, direction="in"|"out"}``,
  ``autopack_llm_cost_usd_total{model, role}``;
- ``autopack_llm_latency_seconds{model, role}``: a histogram built from ``llm_calls.latency_ms``
  (the latency each provider call recorded), bucket counts computed in SQL;
- ``autopack_store_up``: 1, or 0 when the database did not answer (the other database
  series are then absent from that scrape, not reported as zeros).

The "counters" are totals of rows: they only go down when runs are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString
from sqlalchemy.exc import SQLAlchemyError

from autopack.policy.states import PhaseState, RunState
from autopack.store.aggregates import LlmSeries, MetricsSnapshot

log = logging.getLogger("autopack.telemetry")

LLM_LATENCY_BOUNDS_MS: tuple[int, ...] = (
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    20_000,
    30_000,
    60_000,
    120_000,
    300_000,
)
"""Bucket bounds of ``autopack_llm_latency_seconds``, in milliseconds (as stored)."""


def _families() -> dict[str, Metric]:
    return {
        "runs": GaugeMetricFamily("autopack_runs", "Runs by state.", labels=["state"]),
        "phases": GaugeMetricFamily("autopack_phases", "Phases by state.", labels=["state"]),
        "attempts": CounterMetricFamily(
            "autopack_phase_attempts", "Finished phase attempts by outcome.", labels=["outcome"]
        ),
        "in_progress": GaugeMetricFamily(
            "autopack_phase_attempts_in_progress", "Phase attempts started and not finished."
        ),
        "calls": CounterMetricFamily(
            "autopack_llm_calls",
            "Model calls by model, role and status.",
            labels=["model", "role", "status"],
        ),
        "tokens": CounterMetricFamily(
            "autopack_llm_tokens",
            "Tokens of model calls by model, role and direction (in = prompt, out = answer).",
            labels=["model", "role", "direction"],
        ),
        "cost": CounterMetricFamily(
            "autopack_llm_cost_usd",
            "Cost of model calls in USD by model and role.",
            labels=["model", "role"],
        ),
        "latency": HistogramMetricFamily(
            "autopack_llm_latency_seconds",
            "Latency of model calls (as recorded with each call) by model and role.",
            labels=["model", "role"],
        ),
    }


class StoreCollector:
    """Collects the database series from ``source`` (a fresh snapshot on every scrape)."""

    def __init__(self, source: Callable[[], MetricsSnapshot]) -> None:
        self.source = source

    def describe(self) -> Iterable[Metric]:
        """The families this collector yields (no query: used when it is registered)."""
        return [*_families().values(), _up(1)]

    def collect(self) -> Iterator[Metric]:
        """Query the database and yield every family."""
        try:
            snapshot = self.source()
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer: %r", exc)
            yield _up(0)
            return
        yield _up(1)
        yield from families(snapshot)


def _up(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "autopack_store_up", "1 when the database answered this scrape.", value=value
    )


def families(snapshot: MetricsSnapshot) -> Iterable[Metric]:
    """The metric families of one snapshot."""
    out = _families()
    for state in RunState:
        out["runs"].add_metric([state.value], snapshot.runs_by_state.get(state.value, 0))
    for state in PhaseState:
        out["phases"].add_metric([state.value], snapshot.phases_by_state.get(state.value, 0))
    for outcome, n in sorted(snapshot.attempts_by_outcome.items()):
        out["attempts"].add_metric([outcome], n)
    out["in_progress"].add_metric([], snapshot.attempts_in_progress)
    by_model: dict[tuple[str, str], list[LlmSeries]] = {}
    for s in snapshot.llm:
        out["calls"].add_metric([s.model, s.role, s.status], s.calls)
        by_model.setdefault((s.model, s.role), []).append(s)
    bounds = snapshot.latency_bounds_ms
    for (model, role), series in sorted(by_model.items()):
        out["tokens"].add_metric([model, role, "in"], sum(s.tokens_in for s in series))
        out["tokens"].add_metric([model, role, "out"], sum(s.tokens_out for s in series))
        cost = sum((s.cost_usd for s in series), Decimal(0))
        out["cost"].add_metric([model, role], float(cost))
        counts = [sum(s.latency_buckets[i] for s in series) for i in range(len(bounds))]
        timed = sum(s.latency_count for s in series)
        buckets = [(floatToGoString(b / 1000), n) for b, n in zip(bounds, counts, strict=True)]
        out["latency"].add_metric(
            [model, role],
            [*buckets, ("+Inf", timed)],
            sum_value=sum(s.latency_sum_ms for s in series) / 1000,
        )
    return out.values()
