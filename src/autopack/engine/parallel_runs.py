"""Several runs at once, each on its own branch and worktree; then the merge queue lands them.

:func:`run_batch` is what ``autopack parallel`` and ``POST /runs/parallel`` call:

1. **Execute** the stored runs, at most ``max_concurrent`` at a time, all from one base
   commit (``base_ref`` is resolved once, before any run starts). Each run goes through
   :class:`~autopack.engine.dispatch.InProcessDispatcher` and so holds its run lease for as
   long as it executes: a run is never executed twice, even if another worker reaches for it.
2. **Land** the runs that ended ``DONE_SUCCESS``, in the order given (not the order they
   finished: the result does not depend on timing), through
   :class:`~autopack.workspace.merge_queue.MergeQueue` with :class:`RunChecks` — the union of
   the run's committed phases' CI specs, re-run on the rebased tree against a baseline taken
   on the target's tip. ``docs/BUILD_HISTORY.md``, where every run appends its entry, merges
   as a union: two runs' entries never conflict.
3. **Clean up**: the worktrees of runs that ended (any terminal state) are removed; their
   branches stay for review. A run waiting for an approval keeps its worktree.
4. **Report**: :mod:`autopack.engine.batch_report` (markdown + JSON in the data directory).

Decision: threads in one process, not subprocesses. The work of a run is waiting on model
calls, git and check subprocesses, so the GIL costs nothing; the run lease, the store and the
git layout already make concurrent runs safe (the API server's workers run runs the same
way, and phases run in parallel lanes within a run). The :class:`~autopack.store.Store` is
shared: each of its methods opens its own session and transaction, the connection pool is
thread-safe, and SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` and a busy timeout. Each
run gets its own :class:`Engine` (its own providers, learners and caches built from the same
settings), so no provider state is shared between runs. Git is safe too: each run writes only
its own worktree, its own branch and its own ``refs/autopack/<run>/`` refs.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autopack.checks import Baseline, CheckReport, compute_baseline
from autopack.engine.batch_report import BatchReport, batch_dir, build_batch_report
from autopack.engine.dispatch import InProcessDispatcher
from autopack.engine.history import HISTORY_FILE
from autopack.engine.run import EngineError
from autopack.engine.services import Engine
from autopack.policy.states import PhaseState, RunState
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import CiSpec, RunSpec
from autopack.store.models import utcnow
from autopack.workspace import Git, WorkspaceError
from autopack.workspace.cleanup import remove_run
from autopack.workspace.merge_queue import ChecksVerdict, Landing, MergeQueue

__all__ = ["BatchOptions", "RunChecks", "new_batch_id", "run_batch"]

_log = logging.getLogger(__name__)

Notify = Callable[[str], None]
UNION_PATHS = (HISTORY_FILE,)
"""Append-only files every run writes to: merged as a union by the queue."""


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs."""

    max_concurrent: int = 2
    base_ref: str = "HEAD"
    target: str | None = None
    """Branch the queue lands on (default: the branch checked out in the repository)."""
    merge: bool = True
    """``False``: run only; nothing lands (``--no-merge``)."""


def new_batch_id() -> str:
    """``batch-YYYYmmdd-HHMMSS-<hex>``."""
    return f"batch-{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_batch(
    engine: Engine,
    run_ids: Sequence[str],
    options: BatchOptions,
    *,
    batch_id: str | None = None,
    notify: Notify = print,
) -> BatchReport:
    """Execute, land, clean up and report (saved under ``<data_dir>/batches/<batch_id>``).

    Raises :class:`EngineError` before anything runs when ``run_ids`` repeats a run, the base
    does not name a commit, or the target cannot be used.
    """
    if len(set(run_ids)) != len(run_ids):
        raise EngineError("a run appears twice in the batch")
    settings = engine.settings
    base = Git(settings.workspace).try_rev_parse(f"{options.base_ref}^{{commit}}")
    if base is None:
        raise EngineError(f"base {options.base_ref!r} does not name a commit")
    queue: MergeQueue | None = None
    if options.merge:  # before any token is spent: a bad target fails now
        try:
            queue = MergeQueue(
                settings.workspace,
                target=options.target,
                checks=RunChecks(engine),
                union_paths=UNION_PATHS,
            )
        except WorkspaceError as exc:
            raise EngineError(f"cannot land on the target: {exc.message}") from exc
    batch_id = batch_id or new_batch_id()
    write_manifest(settings.data_dir, batch_id, run_ids, options, queue.target if queue else None)
    started = utcnow()
    errors = execute_runs(engine, run_ids, options.max_concurrent, base, notify)
    landings: dict[str, Landing] = {}
    if queue is not None:
        for run_id in run_ids:
            if engine.store.get_run(run_id).state == RunState.DONE_SUCCESS:
                notify(f"[{run_id}] landing on {queue.target}")
                landing = queue.land(run_id)
                notify(f"[{run_id}] {landing.status.value}: {landing.reason}")
                landings[run_id] = landing
    removed = remove_finished_worktrees(engine, run_ids)
    report = build_batch_report(
        engine.store,
        run_ids,
        batch_id=batch_id,
        errors=errors,
        landings=landings,
        merge=options.merge,
        target=queue.target if queue else None,
        max_concurrent=options.max_concurrent,
        started_at=started,
        finished_at=utcnow(),
        removed=removed,
    )
    report.save(settings.data_dir)
    return report


def write_manifest(
    data_dir: Path,
    batch_id: str,
    run_ids: Sequence[str],
    options: BatchOptions,
    target: str | None,
) -> Path:
    """``batch.json``: which runs a batch holds, written before it starts (for status)."""
    folder = batch_dir(data_dir, batch_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "batch.json"
    manifest = {
        "batch_id": batch_id,
        "run_ids": list(run_ids),
        "max_concurrent": options.max_concurrent,
        "merge": options.merge,
        "target": target,
        "created_at": utcnow().isoformat(),
    }
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def execute_runs(
    engine: Engine, run_ids: Sequence[str], max_concurrent: int, base: str, notify: Notify
) -> dict[str, str]:
    """Drive every run as far as it goes, ``max_concurrent`` at a time; errors by run.

    A run whose execution raised (its lease is held elsewhere, its workspace cannot be
    made, a provider is misconfigured…) is recorded with the error; the others go on. The
    run's state in the store says where it stands either way. A run that has ended already
    (the batch is run again after a conflict was resolved) is not executed: it only goes
    through the queue again.
    """

    def one(run_id: str) -> str | None:
        state = engine.store.get_run(run_id).state
        if RunState(state).is_terminal():  # a batch run again: only the landing is left
            notify(f"[{run_id}] ended already ({state})")
            return None
        own = Engine(engine.settings, engine.store, engine.options)
        try:
            outcome = InProcessDispatcher(own).execute(
                run_id, base_ref=base, notify=lambda m: notify(f"[{run_id}] {m}")
            )
        except Exception as exc:  # recorded in the report; the other runs go on
            _log.exception("run %s failed to execute", run_id)
            notify(f"[{run_id}] error: {exc}")
            return f"{type(exc).__name__}: {exc}"
        notify(f"[{run_id}] {outcome.state}: {outcome.reason}")
        return None

    workers = max(1, min(max_concurrent, len(run_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="autopack-batch") as pool:
        results = list(pool.map(one, run_ids))
    return {run_id: err for run_id, err in zip(run_ids, results, strict=True) if err}


def remove_finished_worktrees(engine: Engine, run_ids: Sequence[str]) -> list[str]:
    """Remove the worktrees of runs that ended; their branches and refs stay."""
    removed: list[str] = []
    s = engine.settings
    for run_id in run_ids:
        if RunState(engine.store.get_run(run_id).state).is_terminal():
            remove_run(s.workspace, s.data_dir, run_id, delete_branch=False)
            removed.append(run_id)
    return removed


class RunChecks:
    """A run's checks for the merge queue: each distinct (CI spec, profile) of its phases.

    Only committed phases count (a skipped phase proved nothing). The baseline is taken on
    the target's tip, so a test that already fails there is not held against the run.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._baselines: dict[str, list[Baseline | None]] = {}

    def suites(self, run_id: str) -> list[tuple[CiSpec | None, str]]:
        """The run's distinct (CI spec, CI profile) pairs, in phase order."""
        store = self.engine.store
        spec = RunSpec.model_validate(store.run_spec(run_id))
        views = {p.phase_id: p for p in store.get_run(run_id).phases}
        seen: dict[str, tuple[CiSpec | None, str]] = {}
        for tier in spec.tiers:
            for phase in tier.phases:
                view = views[phase.phase_id]
                if view.state != PhaseState.COMPLETE:
                    continue
                profile = PhaseStrategy.model_validate(view.strategy).ci_profile
                ci = phase.scope.ci
                key = json.dumps([ci.model_dump(mode="json") if ci else None, profile])
                seen.setdefault(key, (ci, profile))
        return list(seen.values())

    def _runner(self, run_id: str):
        return self.engine.runner(self.engine.artifacts_dir(run_id) / "landing")

    def baseline(self, run_id: str, checkout: Path, commit: str) -> None:
        """What already fails on the target's tip, per suite."""
        runner = self._runner(run_id)
        self._baselines[run_id] = [
            compute_baseline(
                runner, checkout, ci, commit=commit, profile=profile, label="landing-baseline"
            )
            for ci, profile in self.suites(run_id)
        ]

    def verify(self, run_id: str, checkout: Path, commit: str) -> ChecksVerdict:
        """Every suite on the proposed tree; new failures make the verdict fail."""
        runner = self._runner(run_id)
        suites = self.suites(run_id)
        baselines = self._baselines.pop(run_id, [None] * len(suites))
        reports = [
            runner.run(checkout, ci, profile=profile, baseline=base, label="landing")
            for (ci, profile), base in zip(suites, baselines, strict=True)
        ]
        failed = [r for r in reports if not r.ok]
        if not reports:
            return ChecksVerdict(ok=True, summary="no checks: no committed phase")
        if not failed:
            return ChecksVerdict(ok=True, summary="; ".join(r.summary() for r in reports))
        return ChecksVerdict(ok=False, summary="; ".join(_failure(r) for r in failed))


def _failure(report: CheckReport) -> str:
    text = f"checks failed after the rebase: {report.summary()}"
    if report.new_failures:
        shown = ", ".join(report.new_failures[:5])
        more = f" and {len(report.new_failures) - 5} more" if len(report.new_failures) > 5 else ""
        text += f"; new failures: {shown}{more}"
    return text
