"""Handing runs to workers under a lease, so a run is executed by one worker at a time.

A worker takes the run's lease (:meth:`Store.acquire_lease`), renews it from a heartbeat
thread every third of its lifetime, and gives it back when it stops. A worker that dies
stops renewing; once the lease has expired, ``autopack resume RUN`` (or another worker)
takes the run over: the workspace repairs itself, :func:`autopack.engine.resume.recover_run`
re-queues the interrupted phase, and execution continues. A worker whose lease was taken
over (it stalled longer than the lease) notices at its next safe point and stops without
touching the run again.

:class:`Dispatcher` is the interface the CLI and the API use; :class:`InProcessDispatcher`
executes in the calling process (the embedded, single-machine default);
:class:`autopack.engine.queue.QueueDispatcher` queues runs as jobs on PostgreSQL for
``autopack worker`` processes, which call the same :func:`execute_run` under the same lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from autopack.engine.approval import approve, reject
from autopack.engine.attempt import Notify
from autopack.engine.run import EngineError, RunOutcome, execute_run
from autopack.engine.services import Engine
from autopack.store import Store

_log = logging.getLogger(__name__)


class LeaseLostError(EngineError):
    """Another worker took the run over: this one must stop touching it."""

    code = "lease_lost"


def worker_id() -> str:
    """``host:pid:random`` — unique per worker process and invocation."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RunLease:
    """The lease on one run for the duration of a ``with`` block, with a heartbeat thread."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        *,
        owner: str | None = None,
        ttl: float = 60.0,
        interval: float | None = None,
    ) -> None:
        self.store, self.run_id, self.ttl = store, run_id, ttl
        self.owner = owner or worker_id()
        self.interval = interval if interval is not None else max(ttl / 3, 0.05)
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RunLease:
        self.store.acquire_lease(self.run_id, self.owner, self.ttl)
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self._lost.is_set():
            self.store.release_lease(self.run_id, self.owner)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                still_ours = self.store.renew_lease(self.run_id, self.owner, self.ttl)
            except Exception as exc:  # a failed beat is retried; expiry decides
                _log.warning("heartbeat for run %s failed: %s", self.run_id, exc)
                continue
            if not still_ours:
                self._lost.set()
                return

    @property
    def lost(self) -> bool:
        """The lease was taken over by another worker."""
        return self._lost.is_set()

    def check(self) -> None:
        """Raise :class:`LeaseLostError` when the lease is no longer ours."""
        if self._lost.is_set():
            raise LeaseLostError(
                f"the lease on run {self.run_id!r} was taken over by another worker; "
                "this worker stops here"
            )


class Dispatcher(Protocol):
    """Where runs are executed. Every entry point holds the run's lease while it works."""

    def execute(self, run_id: str, *, base_ref: str = "HEAD", notify: Notify = print) -> RunOutcome:
        """Start or resume a run and drive it as far as it can go."""
        ...

    def approve(
        self,
        run_id: str,
        phase_id: str | None = None,
        *,
        by: str,
        notify: Notify = print,
        reason: str | None = None,
    ) -> RunOutcome:
        """Approve the waiting phase and continue the run."""
        ...

    def reject(
        self, run_id: str, phase_id: str | None = None, *, by: str, reason: str
    ) -> RunOutcome:
        """Reject the waiting phase: it fails and the run ends for review."""
        ...


class InProcessDispatcher:
    """Executes runs in this process, one lease per call."""

    def __init__(self, engine: Engine, *, owner: str | None = None) -> None:
        self.engine = engine
        self.owner = owner or worker_id()

    def _lease(self, run_id: str) -> RunLease:
        return RunLease(
            self.engine.store, run_id, owner=self.owner, ttl=self.engine.settings.lease_seconds
        )

    def _held(self, run_id: str, work: Callable[[RunLease], RunOutcome]) -> RunOutcome:
        with self._lease(run_id) as lease:
            return work(lease)

    def execute(self, run_id: str, *, base_ref: str = "HEAD", notify: Notify = print) -> RunOutcome:
        """Start or resume ``run_id`` under its lease."""
        return self._held(
            run_id,
            lambda lease: execute_run(
                self.engine, run_id, base_ref=base_ref, notify=notify, lease_check=lease.check
            ),
        )

    def approve(
        self,
        run_id: str,
        phase_id: str | None = None,
        *,
        by: str,
        notify: Notify = print,
        reason: str | None = None,
    ) -> RunOutcome:
        """Approve the waiting phase and continue the run under its lease."""
        return self._held(
            run_id,
            lambda lease: approve(
                self.engine,
                run_id,
                phase_id,
                by=by,
                notify=notify,
                lease_check=lease.check,
                reason=reason,
            ),
        )

    def reject(
        self, run_id: str, phase_id: str | None = None, *, by: str, reason: str
    ) -> RunOutcome:
        """Reject the waiting phase (the run ends for review), holding the lease meanwhile."""
        return self._held(
            run_id, lambda lease: reject(self.engine, run_id, phase_id, by=by, reason=reason)
        )
