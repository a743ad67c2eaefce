"""The run: tiers in order, phases in index order, one terminal state with a reason.

:func:`execute_run` creates (or reopens and repairs) the run's integration worktree, brings
the store in line with it after an interruption (:mod:`autopack.engine.resume`), computes
the baseline of already-failing checks on the base commit, and drives each phase through
:func:`autopack.engine.phase.run_phase`. It stops at an approval gate (the run waits in
``GATE``; :func:`autopack.engine.approval.approve` / ``reject`` continue it), at a run-level
cap (tokens, wall time, phases, CI runs, failed attempts), at a failed phase, or when a
cancel was requested — checked before every attempt; otherwise it appends the run's entry
to ``docs/BUILD_HISTORY.md`` and ends ``DONE_SUCCESS`` with every phase committed on
``autonomous/<run_id>``. When the run's workspace is a git remote URL the workspace is a
mirror's (:mod:`autopack.workspace.remote`): every commit is pushed before its phase is
recorded, and a refused push stops this worker (:class:`RemoteBranchMovedError`) without
touching the run. With ``max_parallel`` above 1, consecutive phases of a tier whose
scopes do not overlap run at the same time in lanes (:mod:`autopack.engine.parallel`) and
still land one commit each, in index order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from autopack.checks import Baseline, compute_baseline
from autopack.engine.attempt import AttemptContext, Notify
from autopack.engine.history import append_history
from autopack.engine.parallel import fresh_snapshot, plan_batches, run_batch
from autopack.engine.pending import pending_answer
from autopack.engine.phase import PhaseOutcome, PhaseResult, run_phase
from autopack.engine.resume import recover_run
from autopack.engine.services import Engine
from autopack.policy.states import PhaseState, RunState, TierState
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import CiSpec, PhaseSpec, RunSpec
from autopack.store.models import utcnow
from autopack.store.views import PhaseView, RunDetail
from autopack.workspace import Git, IntegrationWorkspace
from autopack.workspace.remote import RemoteMovedError, remote_for

_TERMINAL_FOR = {
    PhaseOutcome.BUDGET_EXHAUSTED: RunState.DONE_FAILED_BUDGET_EXHAUSTED,
    PhaseOutcome.ENVIRONMENT: RunState.DONE_FAILED_ENVIRONMENT,
    PhaseOutcome.FAILED: RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW,
}

LeaseCheck = Callable[[], None]
"""Raises when this worker no longer holds the run's lease (see :mod:`.dispatch`)."""


class EngineError(RuntimeError):
    """The run cannot be driven from its current state."""

    code = "engine_error"


@dataclass
class RunOutcome:
    """Where the run stands after this invocation."""

    run_id: str
    state: str
    reason: str
    phases: dict[str, PhaseResult] = field(default_factory=dict)

    @property
    def waiting(self) -> bool:
        """The run waits at an approval gate."""
        return self.state == RunState.GATE


class RemoteBranchMovedError(EngineError):
    """Another worker (or a person) moved the run's remote branch: this worker stopped
    without overwriting it (see :mod:`autopack.workspace.remote`)."""

    code = "remote_moved"


def _workspace(engine: Engine, run_id: str, base_ref: str, spec: RunSpec) -> IntegrationWorkspace:
    s = engine.settings
    url = s.workspace_url.get_secret_value() if s.workspace_url else None
    remote = remote_for(spec.workspace, url, s.data_dir)
    if remote is not None:  # fetched; the remote's autonomous/<run_id> is the truth
        return remote.open_run(run_id, base_ref=base_ref)
    # The base ref exists once the workspace was created; open() re-adds a missing worktree.
    if Git(s.workspace).try_rev_parse(f"refs/autopack/{run_id}/base"):
        return IntegrationWorkspace.open(s.workspace, s.data_dir, run_id)
    return IntegrationWorkspace.create(s.workspace, s.data_dir, run_id, base_ref=base_ref)


class _Run:
    """The mutable state of one invocation of a run."""

    def __init__(
        self,
        engine: Engine,
        run: RunDetail,
        spec: RunSpec,
        notify: Notify,
        lease_check: LeaseCheck | None,
    ) -> None:
        self.engine, self.run, self.spec, self.notify = engine, run, spec, notify
        self.run_id = run.run_id
        self.state = run.state
        self.lease_check = lease_check or (lambda: None)
        self._baselines: dict[str, Baseline | None] = {}
        self._tiers = {t.tier_id: t.state for t in run.tiers}
        self._started = run.started_at
        self.results: dict[str, PhaseResult] = {}

    def to(self, state: RunState, reason: str, *, explicit: bool = False) -> None:
        if self.state == state:
            return
        self.lease_check()
        self.engine.store.transition_run(
            self.run_id, state, reason=reason, actor=self.engine.options.actor, explicit=explicit
        )
        self.state = state

    def tier_to(self, tier_id: str, state: TierState, reason: str) -> None:
        if self._tiers[tier_id] != state:
            self.lease_check()
            self.engine.store.transition_tier(
                self.run_id, tier_id, state, reason=reason, actor=self.engine.options.actor
            )
            self._tiers[tier_id] = state

    def stop(self) -> tuple[RunState, str] | None:
        """Whether the run must stop before its next attempt: cancel or a run-level cap."""
        self.lease_check()
        store = self.engine.store
        if store.cancel_requested(self.run_id):
            return RunState.CANCELLED, "cancelled by request"
        spec = self.spec
        if spec.max_duration_minutes is not None:
            if self._started is None:  # set once, when the run first started: read it once
                self._started = store.get_run(self.run_id).started_at
            started = self._started
            elapsed = (utcnow() - started).total_seconds() if started else 0.0
            if elapsed > spec.max_duration_minutes * 60:
                return RunState.DONE_FAILED_BUDGET_EXHAUSTED, (
                    f"wall time over {spec.max_duration_minutes} min"
                )
        if spec.max_major_issues is not None:
            majors = store.run_issue_counts(self.run_id)["major"]
            if majors >= spec.max_major_issues:
                return RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, (
                    f"major-issue cap reached ({majors} of {spec.max_major_issues}): "
                    f"see `autopack issues index {self.run_id}`"
                )
        if spec.max_ci_runs is None and spec.max_failures is None:
            return None
        stats = store.attempt_stats(self.run_id)
        if spec.max_ci_runs is not None and stats["ci_runs"] >= spec.max_ci_runs:
            return RunState.DONE_FAILED_BUDGET_EXHAUSTED, (
                f"CI run cap reached ({stats['ci_runs']} of {spec.max_ci_runs})"
            )
        if spec.max_failures is not None and stats["failures"] >= spec.max_failures:
            return RunState.DONE_FAILED_BUDGET_EXHAUSTED, (
                f"failed-attempt cap reached ({stats['failures']} of {spec.max_failures})"
            )
        return None

    def baseline(self, ws: IntegrationWorkspace, ci: CiSpec | None) -> Baseline | None:
        key = json.dumps(ci.model_dump(mode="json") if ci else None, sort_keys=True)
        if key not in self._baselines:
            if self.engine.settings.skip_ci or (ci is not None and ci.skip):
                self._baselines[key] = None
            else:
                runner = self.engine.runner(self.engine.artifacts_dir(self.run_id))
                self.notify("computing the baseline of pre-existing failures on the base commit")
                self._baselines[key] = compute_baseline(runner, ws.path, ci, commit=ws.base_commit)
        return self._baselines[key]

    def context(self, ws: IntegrationWorkspace, phase: PhaseSpec, stored: PhaseView):
        artifacts = self.engine.artifacts_dir(self.run_id) / "phases" / phase.phase_id
        artifacts.mkdir(parents=True, exist_ok=True)
        return AttemptContext(
            engine=self.engine,
            ws=ws,
            runner=self.engine.runner(artifacts),
            run_id=self.run_id,
            run_goal=self.spec.goal,
            phase=phase,
            strategy=PhaseStrategy.model_validate(stored.strategy),
            baseline=self.baseline(ws, phase.scope.ci),
            artifacts=artifacts,
            notify=lambda m, pid=phase.phase_id: self.notify(f"  [{pid}] {m}"),
            guard=self.stop,
        )

    def end(self, state: RunState, reason: str, phases: dict[str, PhaseResult]) -> RunOutcome:
        self.to(state, reason)
        self.engine.learning.run_finished(self.engine, self.run_id, state, reason, self.notify)
        return RunOutcome(self.run_id, self.state, reason, phases)


def execute_run(
    engine: Engine,
    run_id: str,
    *,
    base_ref: str = "HEAD",
    notify: Notify = print,
    approved: dict[str, str] | None = None,
    lease_check: LeaseCheck | None = None,
) -> RunOutcome:
    """Drive a stored run as far as it can go now (start, continue, or resume after a crash).

    Only the holder of the run's lease may call this (see :mod:`autopack.engine.dispatch`).
    """
    try:
        return _execute(engine, run_id, base_ref, notify, approved, lease_check)
    except RemoteMovedError as exc:  # the run stays as it is: whoever moved the branch owns it
        notify(f"stopped: {exc}")
        raise RemoteBranchMovedError(str(exc)) from exc


def _execute(
    engine: Engine,
    run_id: str,
    base_ref: str,
    notify: Notify,
    approved: dict[str, str] | None,
    lease_check: LeaseCheck | None,
) -> RunOutcome:
    store = engine.store
    detail = store.get_run(run_id)
    if RunState(detail.state).is_terminal():
        raise EngineError(f"run {run_id!r} has ended ({detail.state}); nothing to do")
    spec = RunSpec.model_validate(store.run_spec(run_id))
    ws = _workspace(engine, run_id, base_ref, spec)
    for repair in ws.repairs:
        notify(f"workspace repaired: {repair}")
    for action in recover_run(engine, ws, run_id, actor=engine.options.actor):
        notify(f"resume: {action}")
    detail = store.get_run(run_id)
    r = _Run(engine, detail, spec, notify, lease_check)
    if r.state != RunState.SNAPSHOT_CREATED:
        outcome = _walk_tiers(r, ws, detail, approved or {})
        if outcome is not None:
            return outcome
        r.to(RunState.SNAPSHOT_CREATED, f"integration branch {ws.branch} at {ws.git.head()[:12]}")
    r.lease_check()
    sha = append_history(store, ws, run_id)
    if sha:
        notify(f"build history entry committed ({sha[:12]})")
    return r.end(RunState.DONE_SUCCESS, "every phase committed", {})


def _walk_tiers(
    r: _Run, ws: IntegrationWorkspace, detail: RunDetail, approved: dict[str, str]
) -> RunOutcome | None:
    """Every tier in order; a :class:`RunOutcome` when the run stops before the end.

    Within a tier the phases go in index order, in batches (:func:`plan_batches`): a batch
    of one runs on the run's workspace; a larger one (``max_parallel`` > 1, scopes that do
    not overlap) runs in parallel lanes whose commits land in index order (see
    :mod:`autopack.engine.parallel`). With ``max_parallel`` 1 every batch is one phase.
    """
    approved = {**_decided(r, detail), **approved}
    waiting = [
        p.phase_id
        for p in detail.phases
        if p.state == PhaseState.PENDING_APPROVAL and p.phase_id not in approved
    ]
    if waiting:  # the gate holds until a person decides
        if r.state not in (RunState.GATE, RunState.PHASE_EXECUTION):
            r.to(RunState.PHASE_QUEUEING, "executor started")
            r.to(RunState.PHASE_EXECUTION, f"phase {waiting[0]}")
        r.to(RunState.GATE, f"phase {waiting[0]} waits for approval")
        return RunOutcome(r.run_id, r.state, f"phase {waiting[0]} waits for approval", {})
    r.to(RunState.PHASE_QUEUEING, "executor started")
    stored = {p.phase_id: p for p in detail.phases}
    for tier in r.spec.tiers:
        if TierState(r._tiers[tier.tier_id]).is_terminal():
            continue
        r.tier_to(tier.tier_id, TierState.RUNNING, "tier started")
        done = (PhaseState.COMPLETE, PhaseState.SKIPPED)
        todo = [p for p in tier.phases if stored[p.phase_id].state not in done]
        skipped = sum(stored[p.phase_id].state == PhaseState.SKIPPED for p in tier.phases)
        batches = plan_batches(
            todo, r.engine.options.max_parallel, solo=lambda p: _solo(stored[p.phase_id])
        )
        for batch in batches:
            if len(batch) == 1:
                phase = batch[0]
                answer = approved.get(phase.phase_id)
                outcome = _sequential(r, ws, tier.tier_id, phase, stored[phase.phase_id], answer)
            else:
                outcome = _parallel(r, ws, tier.tier_id, batch, stored)
            if outcome is not None:
                return outcome
        skipped += sum(r.results[p.phase_id].outcome is PhaseOutcome.SKIPPED for p in todo)
        dirty = r.engine.store.tier_cleanup_keys(r.run_id, tier.tier_id)  # minor issues aged
        final = TierState.NOT_CLEAN if skipped or dirty else TierState.COMPLETE
        why = f"{skipped} phase(s) skipped" if skipped else "all phases committed"
        if dirty:
            why += f"; {len(dirty)} issue(s) need cleanup: {', '.join(dirty[:5])}"
        r.tier_to(tier.tier_id, final, why)
    return None


def _decided(r: _Run, detail: RunDetail) -> dict[str, str]:
    """Saved answers of waiting phases a person already approved.

    A parallel batch can leave several phases waiting; approving one of them while another
    still waits holds the gate, and the approved answer is applied once the gate opens.
    """
    waiting = {p.phase_id for p in detail.phases if p.state == PhaseState.PENDING_APPROVAL}
    if not waiting:
        return {}
    latest = {a.phase_id: a for a in r.engine.store.approvals(status=None, run_id=r.run_id)}
    answers: dict[str, str] = {}
    for phase_id in sorted(waiting):
        decision = latest.get(phase_id)
        if decision is None or decision.status != "approved":
            continue
        answer = pending_answer(r.engine, r.run_id, phase_id, decision.id)
        if answer is not None:
            answers[phase_id] = answer
    return answers


def _solo(view: PhaseView) -> bool:
    """Runs alone: approvals stay sequential, and only a plainly queued phase gets a lane."""
    strategy = PhaseStrategy.model_validate(view.strategy)
    return view.state != PhaseState.QUEUED or strategy.approval_required or strategy.high_risk


def _sequential(
    r: _Run,
    ws: IntegrationWorkspace,
    tier_id: str,
    phase: PhaseSpec,
    view: PhaseView,
    answer: str | None,
) -> RunOutcome | None:
    """One phase on the run's workspace; a :class:`RunOutcome` when the run stops here."""
    current = view.state
    if current == PhaseState.FAILED:  # it failed in a parallel batch that then waited
        reason = f"phase {phase.phase_id} failed earlier (see its events)"
        r.tier_to(tier_id, TierState.BLOCKED, reason)
        return r.end(RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, reason, r.results)
    stop = r.stop()
    if stop:
        r.tier_to(tier_id, TierState.BLOCKED, stop[1])
        return r.end(*stop, r.results)
    r.to(RunState.PHASE_EXECUTION, f"phase {phase.phase_id}")
    r.notify(f"phase {phase.phase_id}: {phase.name}")
    fresh_snapshot(ws, phase.phase_id)
    result = run_phase(
        r.context(ws, phase, view),
        state=current,
        attempts_used=view.attempts_used,
        approved_answer=answer,
    )
    return _settle(r, tier_id, phase, result)


def _parallel(
    r: _Run,
    ws: IntegrationWorkspace,
    tier_id: str,
    batch: tuple[PhaseSpec, ...],
    stored: dict[str, PhaseView],
) -> RunOutcome | None:
    """A batch in lanes; then its results in index order, as the sequential loop would."""
    stop = r.stop()
    if stop:
        r.tier_to(tier_id, TierState.BLOCKED, stop[1])
        return r.end(*stop, r.results)
    ids = [p.phase_id for p in batch]
    r.to(RunState.PHASE_EXECUTION, f"phases {', '.join(ids)} in parallel")
    for phase in batch:
        r.notify(f"phase {phase.phase_id}: {phase.name}")
    r.notify(f"{len(batch)} phases in parallel lanes: {', '.join(ids)}")
    contexts = [r.context(ws, p, stored[p.phase_id]) for p in batch]
    starts = [(stored[i].state, stored[i].attempts_used) for i in ids]
    for phase, result in zip(batch, run_batch(ws, contexts, starts), strict=True):
        if result is None:  # no lane, or its commit did not land: run it here, now
            view = next(
                p for p in r.engine.store.get_run(r.run_id).phases if p.phase_id == phase.phase_id
            )
            outcome = _sequential(r, ws, tier_id, phase, view, None)
        else:
            outcome = _settle(r, tier_id, phase, result)
        if outcome is not None:
            return outcome
    return None


def _settle(r: _Run, tier_id: str, phase: PhaseSpec, result: PhaseResult) -> RunOutcome | None:
    """Record a phase's result; a :class:`RunOutcome` when the run stops on it."""
    r.results[phase.phase_id] = result
    if result.outcome is PhaseOutcome.WAITING_APPROVAL:
        r.to(RunState.GATE, f"phase {phase.phase_id}: {result.reason}")
        return RunOutcome(r.run_id, r.state, result.reason, r.results)
    if result.outcome is PhaseOutcome.STOPPED and result.run_state:
        r.tier_to(tier_id, TierState.BLOCKED, result.reason)
        return r.end(RunState(result.run_state), result.reason, r.results)
    if result.outcome in _TERMINAL_FOR:
        r.tier_to(tier_id, TierState.BLOCKED, result.reason)
        reason = f"phase {phase.phase_id}: {result.reason}"
        return r.end(_TERMINAL_FOR[result.outcome], reason, r.results)
    r.to(RunState.PHASE_QUEUEING, f"phase {phase.phase_id} {result.outcome.value}")
    return None
