"""``autopack worker``: execute the runs queued on PostgreSQL (``AUTOPACK_DISPATCH=queue``).

Start as many as wanted, on any machine that reaches the database and the runs'
repositories (at the same paths). SIGTERM or Ctrl-C stops taking jobs; running ones get
``--grace`` seconds to finish, then stop at their next safe point and are handed over to
another worker. See :mod:`autopack.engine.queue_worker`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from autopack.cli.common import EXIT_USAGE, fail, get_settings


def worker(
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", min=1, max=64, help="Runs executed at once (threads)."),
    ] = 1,
    queue: Annotated[
        list[str] | None,
        typer.Option("--queue", help="Queue to take jobs from (repeatable; default: autopack)."),
    ] = None,
    grace: Annotated[
        float,
        typer.Option(
            "--grace",
            min=0,
            help="On SIGTERM/Ctrl-C: seconds running runs may take to finish before they "
            "stop at a safe point and are handed over.",
        ),
    ] = 30.0,
    scripted: Annotated[
        Path | None,
        typer.Option(
            "--scripted",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="Answer every model call from a file (demos, tests, benchmarks).",
        ),
    ] = None,
) -> None:
    """Execute queued runs from PostgreSQL until stopped."""
    from autopack.engine import EngineOptions
    from autopack.engine.queue import QUEUE, QueueError
    from autopack.engine.queue_worker import WorkerConfig, run_worker

    settings = get_settings()
    if not settings.resolved_database_url().startswith("postgres"):
        fail("autopack worker needs a PostgreSQL DATABASE_URL (the queue lives there)", EXIT_USAGE)
    config = WorkerConfig(
        concurrency=concurrency,
        queues=tuple(queue or [QUEUE]),
        options=EngineOptions(scripted=scripted.resolve() if scripted else None, actor="worker"),
        grace=grace,
    )
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    try:
        run_worker(settings, config)
    except QueueError as exc:
        fail(str(exc), EXIT_USAGE)
    except SQLAlchemyError as exc:
        fail(f"cannot use the database: {exc.orig or type(exc).__name__}")
