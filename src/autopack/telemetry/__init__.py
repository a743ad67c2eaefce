"""Telemetry: Prometheus series of an Autopack server, in a registry of its own.

:class:`Telemetry` holds one :class:`~prometheus_client.CollectorRegistry` per app (never
the library's global default registry, so several apps in one process, as in the tests,
do not clash) with two kinds of series:

- observed in process — HTTP request latency and counts, by route template
  (:mod:`autopack.telemetry.http`, a middleware inside the API's security middleware);
- read from the database at scrape time — runs, phases, attempts, model calls, tokens,
  cost and model-call latency (:mod:`autopack.telemetry.collector`). These are computed
  from the rows every process wrote, so they are right across workers and restarts.

Nothing here knows FastAPI: :mod:`autopack.api.services.metrics` wires it into the app.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Info
from prometheus_client.exposition import choose_encoder

from autopack import __version__
from autopack.store.aggregates import MetricsSnapshot
from autopack.telemetry.collector import LLM_LATENCY_BOUNDS_MS, StoreCollector
from autopack.telemetry.http import UNMATCHED, HttpMetrics, HttpMetricsMiddleware

__all__ = [
    "LLM_LATENCY_BOUNDS_MS",
    "UNMATCHED",
    "HttpMetrics",
    "HttpMetricsMiddleware",
    "StoreCollector",
    "Telemetry",
]


class Telemetry:
    """The series of one app: its registry, the HTTP metrics and the database collector."""

    def __init__(self, source: Callable[[], MetricsSnapshot]) -> None:
        self.registry = CollectorRegistry()
        self.http = HttpMetrics.register(self.registry)
        Info("autopack_build", "Version of the Autopack server.", registry=self.registry).info(
            {"version": __version__}
        )
        self.registry.register(StoreCollector(source))

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """Every series (this queries the database) and the content type, in the format the
        ``Accept`` header asks for: Prometheus text 0.0.4 by default, OpenMetrics on request."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
