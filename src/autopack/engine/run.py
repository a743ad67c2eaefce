"""The run: tiers in order, phases in index order, one terminal state with a reason.

:func:`execute_run` creates (or reopens and repairs) the run's integration worktree, brings
the store in line with it after an interruption (:mod:`autopack.engine.resume`), computes
the baseline of already-failing checks on the base commit, and drives each phase through
:func:`autopack.engine.phase.run_phase`. It stops at an approval gate (the run waits in
``GATE``; :func:`autopack.engine.approval.approve` / ``reject`` continue it), at a run-level
cap (tokens, wall time, phases, CI runs, failed attempts), at a failed phase, or when a
cancel was requested — checked before every attempt; otherwise it appends the run's entry
to ``docs/BUILD_HISTORY.md`` and ends ``DONE_SUCCESS`` with every phase committed on
``autonomous/<run_id>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from autopack.checks import Baseline, compute_baseline
from autopack.engine.attempt import AttemptContext, Notify
from autopack.engine.history import append_history
from autopack.engine.phase import PhaseOutcome, PhaseResult, run_phase
from autopack.engine.resume import recover_run
from autopack.engine.services import Engine
from autopack.policy.states import PhaseState, RunState, TierState
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import CiSpec, PhaseSpec, RunSpec
from autopack.store.models import utcnow
from autopack.store.views import PhaseView, RunDetail
from autopack.workspace import Git, IntegrationWorkspace

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


def _workspace(engine: Engine, run_id: str, base_ref: str) -> IntegrationWorkspace:
    s = engine.settings
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
            started = store.get_run(self.run_id).started_at
            elapsed = (utcnow() - started).total_seconds() if started else 0.0
            if elapsed > spec.max_duration_minutes * 60:
                return RunState.DONE_FAILED_BUDGET_EXHAUSTED, (
                    f"wall time over {spec.max_duration_minutes} min"
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
    store = engine.store
    detail = store.get_run(run_id)
    if RunState(detail.state).is_terminal():
        raise EngineError(f"run {run_id!r} has ended ({detail.state}); nothing to do")
    spec = RunSpec.model_validate(store.run_spec(run_id))
    ws = _workspace(engine, run_id, base_ref)
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
    """Every tier in order; a :class:`RunOutcome` when the run stops before the end."""
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
    results: dict[str, PhaseResult] = {}
    for tier in r.spec.tiers:
        if TierState(r._tiers[tier.tier_id]).is_terminal():
            continue
        r.tier_to(tier.tier_id, TierState.RUNNING, "tier started")
        skipped = 0
        for phase in tier.phases:
            current = stored[phase.phase_id].state
            if current in (PhaseState.COMPLETE, PhaseState.SKIPPED):
                skipped += current == PhaseState.SKIPPED
                continue
            answer = approved.get(phase.phase_id)
            stop = r.stop()
            if stop:
                r.tier_to(tier.tier_id, TierState.BLOCKED, stop[1])
                return r.end(*stop, results)
            r.to(RunState.PHASE_EXECUTION, f"phase {phase.phase_id}")
            r.notify(f"phase {phase.phase_id}: {phase.name}")
            result = run_phase(
                r.context(ws, phase, stored[phase.phase_id]),
                state=current,
                attempts_used=stored[phase.phase_id].attempts_used,
                approved_answer=answer,
            )
            results[phase.phase_id] = result
            if result.outcome is PhaseOutcome.WAITING_APPROVAL:
                r.to(RunState.GATE, f"phase {phase.phase_id} waits for approval")
                return RunOutcome(r.run_id, r.state, result.reason, results)
            if result.outcome is PhaseOutcome.STOPPED and result.run_state:
                r.tier_to(tier.tier_id, TierState.BLOCKED, result.reason)
                return r.end(RunState(result.run_state), result.reason, results)
            if result.outcome in _TERMINAL_FOR:
                r.tier_to(tier.tier_id, TierState.BLOCKED, result.reason)
                reason = f"phase {phase.phase_id}: {result.reason}"
                return r.end(_TERMINAL_FOR[result.outcome], reason, results)
            skipped += result.outcome is PhaseOutcome.SKIPPED
            r.to(RunState.PHASE_QUEUEING, f"phase {phase.phase_id} {result.outcome.value}")
        final = TierState.NOT_CLEAN if skipped else TierState.COMPLETE
        why = f"{skipped} phase(s) skipped" if skipped else "all phases committed"
        r.tier_to(tier.tier_id, final, why)
    return None
