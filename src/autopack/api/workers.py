"""The server's run workers: a bounded pool of threads that execute, resume and approve runs.

Each job calls the :class:`autopack.engine.InProcessDispatcher`, which holds the run's lease
while it works, so a run is never executed twice even when another process (the CLI, a
second server) reaches for it. The pool also remembers which runs it has queued or is
executing, so the API can refuse a second job for the same run before the lease would.
A job's exception has no caller to reach: it is logged, and the run's state in the store
says what happened. On shutdown queued jobs are dropped (their runs stay where they are)
and running ones are waited for; a server killed meanwhile leaves runs whose lease expires,
and ``autopack resume`` (or the API's resume) continues them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from autopack.api.errors import ApiError

log = logging.getLogger("autopack.api.workers")


class RunWorkers:
    """At most ``size`` jobs at a time, at most ``backlog`` waiting, one per run."""

    def __init__(self, size: int, *, backlog: int | None = None) -> None:
        self.size = size
        self.backlog = backlog if backlog is not None else size * 8
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="autopack-run")
        self._jobs: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def busy(self, run_id: str) -> bool:
        """A job for ``run_id`` is queued or running in this server."""
        with self._lock:
            job = self._jobs.get(run_id)
            return job is not None and not job.done()

    def pending(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return sum(not job.done() for job in self._jobs.values())

    def check_capacity(self) -> None:
        """503 when the queue is full (refuse before storing anything)."""
        if self.pending() >= self.size + self.backlog:
            raise ApiError(
                503,
                "workers_busy",
                f"all {self.size} run workers are busy and {self.backlog} jobs wait; retry later",
                headers={"Retry-After": "30"},
            )

    def submit(self, run_id: str, what: str, job: Callable[[], Any]) -> Future[Any]:
        """Queue ``job`` for ``run_id``; 409 when one is already queued or running for it."""
        self.check_capacity()
        with self._lock:
            current = self._jobs.get(run_id)
            if current is not None and not current.done():
                raise ApiError(
                    409,
                    "run_busy",
                    f"run {run_id!r} already has a job queued or running in this server",
                    details={"run_id": run_id},
                )
            future = self._pool.submit(self._run, run_id, what, job)
            self._jobs[run_id] = future
        future.add_done_callback(lambda f, rid=run_id: self._forget(rid, f))
        return future

    def _forget(self, run_id: str, future: Future[Any]) -> None:
        with self._lock:
            if self._jobs.get(run_id) is future:
                del self._jobs[run_id]

    @staticmethod
    def _run(run_id: str, what: str, job: Callable[[], Any]) -> Any:
        log.info("run %s: %s started", run_id, what)
        try:
            outcome = job()
        except Exception:
            log.exception("run %s: %s failed", run_id, what)
            raise
        log.info("run %s: %s finished: %s", run_id, what, getattr(outcome, "state", outcome))
        return outcome

    def shutdown(self) -> None:
        """Drop queued jobs, wait for running ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)
