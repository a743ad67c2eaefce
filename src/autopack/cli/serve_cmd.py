"""``autopack serve``: the Supervisor API on uvicorn, on 127.0.0.1 unless asked otherwise.

Another address is used only when ``--host`` names it (the explicit ask); listening beyond
this machine without any API key configured prints a warning, since then nobody can call
anything but ``/health``; anonymous read (``AUTOPACK_ANONYMOUS_READ``) is never honoured
there. ``--workers`` is the number of runs executed at once (threads of this one process;
several server processes can share a database, the run lease keeps them apart). Proxy
headers are not trusted (the client address feeds the auth-failure limiter): behind a
reverse proxy every client shares the proxy's address.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from autopack.cli.common import EXIT_USAGE, err_console, fail, get_settings, open_store

if TYPE_CHECKING:
    from autopack.engine import EngineOptions
    from autopack.settings import Settings

DEFAULT_HOST = "127.0.0.1"


def _preflight(settings: Settings, options: EngineOptions) -> int:
    """Open the store (migrating it) and build the engine once: clear errors before binding.

    Returns the number of active stored keys.
    """
    from autopack.engine import Engine
    from autopack.llm import LlmError
    from autopack.policy.governance import GovernanceConfigError
    from autopack.policy.models_config import ModelsConfigError
    from autopack.policy.strategy import StrategyConfigError

    with open_store(settings) as store:
        try:
            Engine(settings, store, options)
        except (StrategyConfigError, ModelsConfigError, GovernanceConfigError, LlmError) as exc:
            fail(f"invalid configuration: {exc}", EXIT_USAGE)
        return len(store.api_keys(include_revoked=False))


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help=f"Address to listen on (default {DEFAULT_HOST}; another one only when given).",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Runs executed at once (threads)."),
    ] = None,
    scripted: Annotated[
        Path | None,
        typer.Option(
            "--scripted",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="Answer every model call from a file (demos, tests).",
        ),
    ] = None,
) -> None:
    """Serve the REST API (runs, approvals, integration branches) with uvicorn."""
    import uvicorn

    from autopack.api import create_app
    from autopack.api.auth import is_loopback
    from autopack.engine import EngineOptions

    settings = get_settings()
    bind = host or DEFAULT_HOST
    options = EngineOptions(scripted=scripted.resolve() if scripted else None, actor="api")
    keys = _preflight(settings, options)
    warn = err_console()
    if not is_loopback(bind):
        if settings.api_key is None and keys == 0:
            warn.print(
                f"[yellow]warning:[/] listening on {bind} (beyond this machine) with no API key "
                "configured: set AUTOPACK_API_KEY or run `autopack keys create`"
            )
        if settings.anonymous_read:
            warn.print(
                "[yellow]warning:[/] AUTOPACK_ANONYMOUS_READ is ignored: the server does not "
                "listen on 127.0.0.1 or ::1 only"
            )
    try:
        app = create_app(settings, engine_options=options, bind_host=bind, workers=workers)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        app,
        host=bind,
        port=port,
        log_level=settings.log_level.lower(),
        server_header=False,
        proxy_headers=False,  # the client address feeds the failure limiter: no spoofing
    )
