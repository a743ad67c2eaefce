"""HTTP request latency, observed in process by a plain ASGI middleware.

:class:`HttpMetricsMiddleware` times each HTTP request from the moment it enters until the
last body message is sent (or the app raises), and records it in
``autopack_http_request_duration_seconds{method, route}`` and
``autopack_http_requests_total{method, route, status}``. ``route`` is the route's *template*
(``/runs/{run_id}``), never the raw path, so a scan of made-up URLs cannot blow up the number
of series: requests that match no route are counted under ``<unmatched>``.

It sits just inside the security middleware, so it sees the status the client gets for
everything the app answers (401, 404, 422…). An exception that escapes the app is counted
as 500, which is what the security middleware answers; a request the security middleware
refuses before the app runs (a declared body over the cap) is not counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "<unmatched>"
"""The ``route`` label of requests that matched no route."""

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Bounds (seconds) of the HTTP latency histogram."""


@dataclass(frozen=True)
class HttpMetrics:
    """The HTTP series of one app, registered in that app's registry."""

    duration: Histogram
    requests: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> HttpMetrics:
        """Create the series in ``registry``."""
        return cls(
            duration=Histogram(
                "autopack_http_request_duration_seconds",
                "Time from request to the last byte of the response, by route template.",
                ("method", "route"),
                buckets=HTTP_BUCKETS,
                registry=registry,
            ),
            requests=Counter(
                "autopack_http_requests",
                "HTTP requests answered, by route template and status code.",
                ("method", "route", "status"),
                registry=registry,
            ),
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.duration.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(status)).inc()


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (set by the router), or ``<unmatched>``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetricsMiddleware:
    """Times every HTTP request and records it in :class:`HttpMetrics`."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the security middleware answers if the app raises

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            self.metrics.observe(
                scope.get("method", "?"),
                route_template(scope),
                status,
                time.perf_counter() - started,
            )
