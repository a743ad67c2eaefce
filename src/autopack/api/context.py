"""What the API's routes work with, built once when the app starts and closed when it stops.

:class:`ApiContext` holds the settings, the store, the engine (strategy, routing, providers…)
with its in-process dispatcher, the run workers and the authenticator. The app's lifespan
creates it (:func:`open_context`) and puts it on ``app.state.context``; dependencies in
:mod:`autopack.api.deps` hand its parts to the routes. Nothing here reads the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from autopack.api.auth import Authenticator
from autopack.api.workers import RunWorkers
from autopack.engine import Engine, EngineOptions, InProcessDispatcher
from autopack.engine.queue import QueueDispatcher, make_dispatcher
from autopack.settings import Settings
from autopack.store import Store

log = logging.getLogger("autopack.api")


@dataclass
class ApiContext:
    """The services of one API process."""

    settings: Settings
    store: Store
    engine: Engine
    dispatcher: InProcessDispatcher | QueueDispatcher  # AUTOPACK_DISPATCH
    workers: RunWorkers
    auth: Authenticator
    bind_host: str

    def notify_for(self, run_id: str):
        """The engine's progress messages for ``run_id``, as log lines."""

        def notify(message: str) -> None:
            log.info("run %s: %s", run_id, message)

        return notify


@contextmanager
def open_context(
    settings: Settings,
    *,
    engine_options: EngineOptions | None = None,
    bind_host: str = "127.0.0.1",
    workers: int | None = None,
) -> Iterator[ApiContext]:
    """Open the store, build the engine and start the workers; undo all of it on exit."""
    store = Store.open(settings)
    pool: RunWorkers | None = None
    try:
        engine = Engine(settings, store, engine_options or EngineOptions(actor="api"))
        auth = Authenticator(settings, store, bind_host=bind_host)
        pool = RunWorkers(workers or settings.api_workers)
        yield ApiContext(
            settings=settings,
            store=store,
            engine=engine,
            dispatcher=make_dispatcher(engine),
            workers=pool,
            auth=auth,
            bind_host=bind_host,
        )
    finally:
        if pool is not None:
            pool.shutdown()
        store.close()
