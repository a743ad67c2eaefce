"""``autopack worker``: executes queued runs, one lease per run, on any machine.

procrastinate's worker fetches jobs (``SELECT … FOR UPDATE SKIP LOCKED``, woken by
``LISTEN/NOTIFY``, polling as a fallback) and runs the run task in a thread per job, up to
``concurrency`` at once. The task (:func:`run_job`) builds the :class:`Engine` for the job's
workspace, takes the run's :class:`RunLease` and calls :func:`execute_run` — the entry point
the in-process dispatcher uses.

**Retries** (:class:`RunRetry`). A run leased elsewhere (``LeaseHeldError``) is retried
when that lease expires; a run whose lease was lost, or whose worker is stopping, is
retried at once (the next worker resumes it); a run that cannot go on from its state
(``EngineError``: it ended, its approval vanished) or no longer exists fails the job
without retry; any other error is retried a few times (``ERROR_RETRIES``) with a growing
wait, then the job fails and the run stays where it stopped (``autopack resume`` or the API's resume
queues it again). A job whose run has already ended does nothing and succeeds.

**Dead workers** (:class:`StalledJobSweeper`). Every worker writes a heartbeat into
``procrastinate_workers`` every third of ``AUTOPACK_LEASE_SECONDS``. A thread of every worker
sweeps, every half lease: jobs still ``doing`` whose worker missed its heartbeats for a whole
lease (killed, machine gone) are put back to ``todo`` with procrastinate's own retry
function; sweeps are serialised by an advisory lock so a job is never put back twice. The
next worker to fetch it takes the run's lease once the dead worker's lease has expired
(before that, ``LeaseHeldError`` schedules it for the expiry) and resumes the run
(:mod:`autopack.engine.resume`): phases already committed stay committed, the interrupted
one starts again from its snapshot. Should a worker only stall (not die) for a whole lease,
its job may start elsewhere: the lease still allows one executor at a time.

**Stopping** (SIGTERM/SIGINT). The worker takes no new job, lets running ones finish for
``grace`` seconds, then asks them to stop: each stops at its next safe point (before an
attempt or a state change), gives its lease back and is retried at once, on another worker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from autopack.engine.dispatch import LeaseLostError, RunLease, worker_id
from autopack.engine.queue import QUEUE, TASK
from autopack.engine.queue_schema import SCHEMA, ensure_queue_schema
from autopack.engine.run import EngineError, execute_run
from autopack.engine.services import Engine, EngineOptions
from autopack.policy.states import RunState
from autopack.settings import Settings
from autopack.store import LeaseHeldError, NotFoundError, Store

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.jobs import Job
    from procrastinate.retry import RetryDecision

log = logging.getLogger("autopack.worker")

ERROR_RETRIES = 3
"""An unexpected error is retried (after 2, 4, 8 s) while the job has been put back fewer
than this many times in all (waits for a lease count too: procrastinate keeps one count)."""


class WorkerStoppingError(LeaseLostError):
    """This worker is shutting down: the run stops at its next safe point, handed over."""

    code = "worker_stopping"


@dataclass(frozen=True)
class WorkerConfig:
    """How one ``autopack worker`` process runs."""

    concurrency: int = 1
    """Runs executed at once by this process (each in its own thread)."""
    queues: tuple[str, ...] = (QUEUE,)
    options: EngineOptions = field(default_factory=lambda: EngineOptions(actor="worker"))
    grace: float | None = 30.0
    """On stop, seconds running jobs may take to finish before they are asked to stop
    (``None``: wait for them)."""


def queue_conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _timings(settings: Settings) -> dict[str, float]:
    """Heartbeats, stall detection and polling, all derived from the lease's lifetime."""
    lease = settings.lease_seconds
    return {
        "heartbeat": max(lease / 3, 0.05),
        "stall": lease,
        "poll": min(max(lease / 2, 0.1), 5.0),
    }


def run_job(
    settings: Settings,
    store: Store,
    options: EngineOptions,
    *,
    run_id: str,
    workspace: str,
    base_ref: str = "HEAD",
    stopping: Any = lambda: False,
) -> str:
    """Execute one queued run under its lease; the run's state when this job ends."""
    state = store.get_run(run_id).state
    if RunState(state).is_terminal():
        log.info("run %s: already ended (%s); nothing to do", run_id, state)
        return state
    job_settings = settings.model_copy(update={"workspace": Path(workspace)})
    engine = Engine(job_settings, store, options)

    def notify(message: str) -> None:
        log.info("run %s: %s", run_id, message)

    with RunLease(store, run_id, owner=worker_id(), ttl=settings.lease_seconds) as lease:

        def check() -> None:
            lease.check()
            if stopping():
                raise WorkerStoppingError(f"the worker stops; run {run_id!r} is handed over")

        outcome = execute_run(engine, run_id, base_ref=base_ref, notify=notify, lease_check=check)
    log.info("run %s: %s (%s)", run_id, outcome.state, outcome.reason)
    return str(outcome.state)


def _retry_strategy() -> Any:
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class RunRetry(BaseRetryStrategy):
        """When a failed run job is tried again (see the module docstring)."""

        def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
            if isinstance(exception, LeaseHeldError):
                at = max(exception.expires_at, datetime.now(UTC)) + timedelta(milliseconds=50)
                return RetryDecision(retry_at=at)
            if isinstance(exception, LeaseLostError):  # includes WorkerStoppingError
                return RetryDecision(retry_at=datetime.now(UTC))
            if isinstance(exception, (EngineError, NotFoundError)):
                return None
            if job.attempts < ERROR_RETRIES:
                return RetryDecision(retry_in={"seconds": 2 ** (job.attempts + 1)})
            return None

    return RunRetry()


def build_app(settings: Settings, store: Store, config: WorkerConfig) -> procrastinate.App:
    """A procrastinate app on the store's database, with the run task registered."""
    import procrastinate
    from procrastinate.job_context import JobContext

    connector = procrastinate.PsycopgConnector(
        conninfo=queue_conninfo(settings.resolved_database_url()),
        kwargs={"options": f"-c search_path={SCHEMA}"},
        min_size=1,
        max_size=config.concurrency + 3,
    )
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, pass_context=True, retry=_retry_strategy(), queue=QUEUE)
    def _run(context: JobContext, run_id: str, workspace: str, base_ref: str = "HEAD") -> str:
        return run_job(
            settings,
            store,
            config.options,
            run_id=run_id,
            workspace=workspace,
            base_ref=base_ref,
            stopping=context.should_abort,
        )

    return app


_STALLED = text(
    "SELECT job.id FROM procrastinate_jobs job "
    "LEFT JOIN procrastinate_workers w ON w.id = job.worker_id "
    "WHERE job.status = 'doing' "
    "AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => :stall)) "
    "ORDER BY job.id FOR UPDATE OF job SKIP LOCKED"
)
_SWEEP_LOCK = 0x41505157


def sweep_stalled_jobs(engine: SqlEngine, stall_seconds: float) -> list[int]:
    """Put the jobs of dead workers back in the queue; their ids.

    One sweeper at a time (a transaction-scoped advisory lock; a busy lock skips this
    sweep), so no job is put back twice.
    """
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('search_path', :s, true)"), {"s": SCHEMA})
        if not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _SWEEP_LOCK}
        ).scalar():
            return []
        conn.execute(
            text("SELECT procrastinate_prune_stalled_workers_v1(:stall)"), {"stall": stall_seconds}
        )
        ids = [int(r[0]) for r in conn.execute(_STALLED, {"stall": stall_seconds})]
        for job_id in ids:
            conn.execute(
                text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"),
                {"id": job_id},
            )
    return ids


class StalledJobSweeper(threading.Thread):
    """Calls :func:`sweep_stalled_jobs` every ``interval`` seconds until stopped."""

    def __init__(self, engine: SqlEngine, *, stall: float, interval: float) -> None:
        super().__init__(name="autopack-sweeper", daemon=True)
        self.engine, self.stall, self.interval = engine, stall, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                for job_id in sweep_stalled_jobs(self.engine, self.stall):
                    log.warning("job %s: its worker stopped beating; queued again", job_id)
            except Exception as exc:  # the database may be briefly away: sweep again later
                log.warning("sweeping stalled jobs failed: %s", exc)

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop_event.set()
        self.join()


def run_worker(settings: Settings, config: WorkerConfig) -> None:
    """Execute queued runs until SIGTERM/SIGINT (see the module docstring)."""
    store = Store.open(settings)
    try:
        ensure_queue_schema(store.engine)
        app = build_app(settings, store, config)
        t = _timings(settings)
        sweeper = StalledJobSweeper(store.engine, stall=t["stall"], interval=t["poll"])
        sweeper.start()
        try:
            app.run_worker(
                queues=list(config.queues),
                concurrency=config.concurrency,
                name=f"autopack-worker-{worker_id()}",
                update_heartbeat_interval=t["heartbeat"],
                stalled_worker_timeout=t["stall"],
                fetch_job_polling_interval=t["poll"],
                abort_job_polling_interval=max(t["poll"], 1.0),
                shutdown_graceful_timeout=config.grace,
                listen_notify=True,
                install_signal_handlers=True,
            )
        finally:
            sweeper.stop()
    finally:
        store.close()
