"""Runs dispatched as jobs on a PostgreSQL queue (procrastinate), for workers on many machines.

:class:`QueueDispatcher` is the second implementation of
:class:`~autopack.engine.dispatch.Dispatcher`: ``execute`` enqueues a job instead of running
the run here, ``approve`` records the decision and enqueues the continuation, ``reject``
(nothing to continue) ends the run at once, under the lease, like the in-process one. The
jobs are executed by ``autopack worker`` processes (:mod:`autopack.engine.queue_worker`),
each calling the same :func:`~autopack.engine.run.execute_run` under the run's lease.

**Same transaction.** A job is a row that procrastinate's SQL function
``procrastinate_defer_jobs_v1`` inserts; :func:`enqueue_run` calls it on the caller's
session, so the job is committed with the change that calls for it (the run's creation, the
approval) or not at all: a failed create leaves no job, a stored run always has its job. The
``NOTIFY`` that wakes the workers is sent by PostgreSQL at that commit.

**One worker at a time.** Every job of a run carries ``queueing_lock`` = ``lock`` =
``autopack-run:<run_id>``: at most one job of the run waits (a second enqueue while one
waits is a no-op: that job will do the work), and procrastinate never starts a job while
another with the same lock is running. The run's lease (:class:`RunLease`) is the last word:
a job whose run is leased elsewhere (the CLI, the API's momentary lease, a worker that died
less than a lease ago) does not run it, it is retried when that lease expires.

**Workspaces.** A job names the run's repository (the enqueuing side's workspace, an absolute
path): workers must reach it at the same path, and share ``DATABASE_URL`` and, when set,
``AUTOPACK_DATA_DIR``.
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from autopack.engine.approval import _pending_approval, _pending_phase
from autopack.engine.attempt import Notify
from autopack.engine.dispatch import InProcessDispatcher
from autopack.engine.pending import pending_answer
from autopack.engine.queue_schema import SCHEMA, QueueError, ensure_queue_schema
from autopack.engine.run import EngineError, RunOutcome
from autopack.engine.services import Engine
from autopack.policy.states import RunState
from autopack.policy.strategy import RunStrategy
from autopack.spec.models import RunSpec
from autopack.store import records, runs
from autopack.store.views import RunDetail

QUEUE = "autopack"
"""The default queue (``autopack worker --queue`` picks others)."""
TASK = "autopack.run"
"""The task every run job calls (:mod:`autopack.engine.queue_worker` registers it)."""

__all__ = [
    "QUEUE",
    "TASK",
    "QueueDispatcher",
    "QueueError",
    "enqueue_run",
    "make_dispatcher",
    "run_lock",
]

_DEFER = text(
    f"SELECT unnest({SCHEMA}.procrastinate_defer_jobs_v1(ARRAY[ROW("
    ":queue, :task, 0, :lock, :lock, CAST(:args AS jsonb), NULL"
    f")::{SCHEMA}.procrastinate_job_to_defer_v1]))"
)

_QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"  # one waiting job per lock


def run_lock(run_id: str) -> str:
    """The job lock and queueing lock shared by every job of ``run_id``."""
    return f"autopack-run:{run_id}"


def enqueue_run(
    session: Session, run_id: str, *, workspace: str, base_ref: str = "HEAD", queue: str = QUEUE
) -> int | None:
    """Queue a job for ``run_id`` inside the caller's transaction.

    Returns the job's id, or ``None`` when a job of the run already waits (it will do the
    work; its queueing lock refuses a second one).
    """
    args = json.dumps({"run_id": run_id, "workspace": workspace, "base_ref": base_ref})
    params = {"queue": queue, "task": TASK, "lock": run_lock(run_id), "args": args}
    try:
        with session.begin_nested():  # a refused insert must not abort the whole transaction
            return int(session.execute(_DEFER, params).scalar_one())
    except IntegrityError as exc:
        diag = getattr(exc.orig, "diag", None)
        if getattr(diag, "constraint_name", None) != _QUEUEING_LOCK_INDEX:
            raise
        return None


class QueueDispatcher:
    """Enqueues runs for ``autopack worker`` processes (PostgreSQL only)."""

    def __init__(self, engine: Engine, *, queue: str = QUEUE) -> None:
        self.engine, self.queue = engine, queue
        ensure_queue_schema(engine.store.engine)

    def _enqueue(self, session: Session, run_id: str, base_ref: str = "HEAD") -> int | None:
        workspace = str(self.engine.settings.workspace.resolve())
        return enqueue_run(
            session, run_id, workspace=workspace, base_ref=base_ref, queue=self.queue
        )

    def create(
        self,
        spec: RunSpec,
        strategy: RunStrategy,
        *,
        shape: str | None = None,
        actor: str = "api",
        base_ref: str = "HEAD",
    ) -> RunDetail:
        """Store the run and queue its job in one transaction."""
        with self.engine.store.transaction() as session:
            runs.create_run(session, spec, strategy, shape=shape, actor=actor)
            self._enqueue(session, spec.run_id, base_ref)
            return runs.get_run(session, spec.run_id)

    def execute(self, run_id: str, *, base_ref: str = "HEAD", notify: Notify = print) -> RunOutcome:
        """Queue a job that starts or resumes ``run_id`` (the outcome says it is queued)."""
        with self.engine.store.transaction() as session:
            state = runs.get_run(session, run_id).state
            if RunState(state).is_terminal():
                raise EngineError(f"run {run_id!r} has ended ({state}); nothing to do")
            job = self._enqueue(session, run_id, base_ref)
        reason = f"queued as job {job}" if job is not None else "a job of this run already waits"
        notify(reason)
        return RunOutcome(run_id, state, reason)

    def approve(
        self,
        run_id: str,
        phase_id: str | None = None,
        *,
        by: str,
        notify: Notify = print,
        reason: str | None = None,
    ) -> RunOutcome:
        """Record the approval and queue the continuation, in one transaction.

        The worker's :func:`execute_run` applies the approved answer (saved when the phase
        stopped at the gate) as :func:`autopack.engine.approval.approve` would.
        """
        engine = self.engine
        phase_id = phase_id or _pending_phase(engine, run_id)
        approval_id = _pending_approval(engine, run_id, phase_id)
        if pending_answer(engine, run_id, phase_id, approval_id) is None:
            raise EngineError(f"the answer waiting for approval {approval_id} is missing")
        with engine.store.transaction() as session:
            records.decide_approval(
                session, approval_id, approve=True, decided_by=by, note=reason or None
            )
            state = runs.get_run(session, run_id).state
            self._enqueue(session, run_id)
        reason = f"phase {phase_id} approved by {by}; the run continues on a worker"
        notify(reason)
        return RunOutcome(run_id, state, reason)

    def reject(
        self, run_id: str, phase_id: str | None = None, *, by: str, reason: str
    ) -> RunOutcome:
        """Reject the waiting phase now (the run ends; no job needed), under the lease."""
        return InProcessDispatcher(self.engine).reject(run_id, phase_id, by=by, reason=reason)


def make_dispatcher(engine: Engine) -> InProcessDispatcher | QueueDispatcher:
    """The dispatcher ``AUTOPACK_DISPATCH`` asks for (the queue needs PostgreSQL)."""
    if engine.settings.dispatch == "queue":
        return QueueDispatcher(engine)
    return InProcessDispatcher(engine)
