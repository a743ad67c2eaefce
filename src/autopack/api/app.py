"""The app factory: ``create_app(settings)`` returns the Supervisor API as a FastAPI app.

Nothing happens at import. :func:`create_app` checks the security settings (a placeholder
admin key or a malformed failure limit is refused here, before anything listens) and wires
routers, error handlers and middleware; the lifespan opens the store, builds the engine and
starts the run workers (:mod:`autopack.api.context`), and closes them on shutdown.

Layers of a request, outermost first: :class:`~autopack.api.middleware.SecurityMiddleware`
(headers, body cap, errors without tracebacks) → HTTP latency metrics by route template
(:mod:`autopack.telemetry.http`) → CORS, only when ``AUTOPACK_CORS_ORIGINS``
lists origins → FastAPI's routing, where each route's dependencies authenticate and
authorise (:mod:`autopack.api.deps`) before a service function does the work.

Seams for what comes next: new API resources add their routers to :data:`ROUTERS` (the
dashboard at ``/ui`` is mounted apart, by :func:`autopack.web.mount_dashboard`: its pages
answer a browser without a key with a login form, not a 401); an HTTP-latency
middleware goes inside :class:`SecurityMiddleware` (add it before it in
:func:`_middleware`); external builders get their own router and service module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from limits import parse

from autopack import __version__
from autopack.api.auth import check_admin_key
from autopack.api.context import open_context
from autopack.api.errors import install_error_handlers
from autopack.api.middleware import SecurityMiddleware
from autopack.api.routers import (
    approvals,
    dashboard_api,
    external,
    health,
    integration,
    issues,
    metrics,
    normalize,
    parallel,
    reports,
    runs,
)
from autopack.api.services.metrics import install_telemetry
from autopack.engine import EngineOptions
from autopack.settings import Settings

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    parallel.router,  # before runs: /runs/parallel/… is not a run id
    runs.router,
    normalize.router,
    integration.router,
    approvals.router,
    external.router,
    metrics.router,
    reports.router,
    issues.router,
    dashboard_api.router,
)

DESCRIPTION = """\
Runs, approvals and integration branches of an Autopack server.

Every endpoint but `/health` needs an API key (`Authorization: Bearer <key>` or
`X-API-Key: <key>`); keys are created with `autopack keys create --role ...`.
Errors are `{"error": {"code", "message", "id", "details"?}}`.
"""


def create_app(
    settings: Settings,
    *,
    engine_options: EngineOptions | None = None,
    bind_host: str = "127.0.0.1",
    workers: int | None = None,
) -> FastAPI:
    """The API for ``settings``' workspace and database.

    ``bind_host`` is the address the server listens on: anonymous read
    (``AUTOPACK_ANONYMOUS_READ``) is honoured only on a loopback address. ``workers`` caps
    the runs executed at once (default ``AUTOPACK_API_WORKERS``).
    """
    check_admin_key(settings)
    try:
        parse(settings.auth_failure_limit)
    except ValueError as exc:
        raise ValueError(
            f"AUTOPACK_AUTH_FAILURE_LIMIT: {settings.auth_failure_limit!r} is not a rate "
            "limit such as 10/minute"
        ) from exc

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_context(
            settings, engine_options=engine_options, bind_host=bind_host, workers=workers
        ) as ctx:
            app.state.context = ctx
            app.state.limiter = ctx.auth.limiter  # where slowapi's decorators look for it
            yield

    app = FastAPI(
        title="Autopack Supervisor API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,  # served by health.router, behind a key like the rest
        docs_url=None,  # Swagger/ReDoc pages load scripts from a CDN: not under this CSP
        redoc_url=None,
    )
    for router in ROUTERS:
        app.include_router(router)
    # The dashboard (/ui) is not in ROUTERS: its pages answer a browser without a key with a
    # login form, not the API's 401. Imported here: it builds on this package's modules.
    from autopack.web import mount_dashboard

    mount_dashboard(app)
    install_error_handlers(app)
    _middleware(app, settings)
    return app


def _middleware(app: FastAPI, settings: Settings) -> None:
    """HTTP latency metrics and CORS (only when origins are configured) inside the security
    middleware (added last, so outermost: its 413s and 500s are what clients see)."""
    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )
    install_telemetry(app)  # app.state.telemetry, and the HTTP latency middleware
    app.add_middleware(SecurityMiddleware)  # added last: outermost
