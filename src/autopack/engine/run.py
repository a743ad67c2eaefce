"""The run: tiers in order, phases in index order, one terminal state with a reason.

:func:`execute_run` creates (or reopens) the run's integration worktree, computes the
baseline of already-failing checks on the base commit, and drives each phase through
:func:`autopack.engine.phase.run_phase`. It stops at an approval gate (the run waits in
``GATE``; :func:`approve` / :func:`reject` continue it), at a budget, at a failed phase, or
when a cancel was requested; otherwise it ends ``DONE_SUCCESS`` with every phase committed on
``autonomous/<run_id>``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autopack.checks import Baseline, compute_baseline
from autopack.engine.attempt import AttemptContext, Notify
from autopack.engine.phase import PENDING_ANSWER, PhaseOutcome, PhaseResult, run_phase
from autopack.engine.services import Engine
from autopack.policy.states import PhaseState, RunState, TierState
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import CiSpec, RunSpec
from autopack.store.models import utcnow
from autopack.store.views import RunDetail
from autopack.workspace import Git, IntegrationWorkspace

_TERMINAL_FOR = {
    PhaseOutcome.BUDGET_EXHAUSTED: RunState.DONE_FAILED_BUDGET_EXHAUSTED,
    PhaseOutcome.ENVIRONMENT: RunState.DONE_FAILED_ENVIRONMENT,
    PhaseOutcome.FAILED: RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW,
}


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
    def __init__(self, engine: Engine, run: RunDetail, spec: RunSpec, notify: Notify) -> None:
        self.engine, self.run, self.spec, self.notify = engine, run, spec, notify
        self.state = run.state
        self._baselines: dict[str, Baseline | None] = {}

    def to(self, state: RunState, reason: str, *, explicit: bool = False) -> None:
        if self.state == state:
            return
        self.engine.store.transition_run(
            self.run.run_id,
            state,
            reason=reason,
            actor=self.engine.options.actor,
            explicit=explicit,
        )
        self.state = state

    def tier_to(self, tier_id: str, state: TierState, reason: str) -> None:
        current = next(
            t.state
            for t in self.engine.store.get_run(self.run.run_id).tiers
            if t.tier_id == tier_id
        )
        if current != state:
            self.engine.store.transition_tier(
                self.run.run_id, tier_id, state, reason=reason, actor=self.engine.options.actor
            )

    def baseline(self, ws: IntegrationWorkspace, ci: CiSpec | None) -> Baseline | None:
        key = json.dumps(ci.model_dump(mode="json") if ci else None, sort_keys=True)
        if key not in self._baselines:
            if self.engine.settings.skip_ci or (ci is not None and ci.skip):
                self._baselines[key] = None
            else:
                runner = self.engine.runner(self.engine.artifacts_dir(self.run.run_id))
                self.notify("computing the baseline of pre-existing failures on the base commit")
                self._baselines[key] = compute_baseline(runner, ws.path, ci, commit=ws.base_commit)
        return self._baselines[key]


@contextmanager
def _base_checkout(ws: IntegrationWorkspace) -> Iterator[Path]:
    """A throw-away detached worktree at the run's base commit (removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix=f"autopack-baseline-{ws.run_id}-"))
    path.rmdir()
    ws.git.run("worktree", "add", "--detach", str(path), ws.base_commit)
    try:
        yield path
    finally:
        ws.git.run("worktree", "remove", "--force", str(path), check=False)
        ws.git.run("worktree", "prune", check=False)
        shutil.rmtree(path, ignore_errors=True)


def execute_run(
    engine: Engine,
    run_id: str,
    *,
    base_ref: str = "HEAD",
    notify: Notify = print,
    approved: dict[str, str] | None = None,
) -> RunOutcome:
    """Drive a stored run as far as it can go now."""
    store = engine.store
    detail = store.get_run(run_id)
    spec = RunSpec.model_validate(store.run_spec(run_id))
    r = _Run(engine, detail, spec, notify)
    if RunState(r.state).is_terminal():
        raise EngineError(f"run {run_id!r} has ended ({r.state}); nothing to do")
    ws = _workspace(engine, run_id, base_ref)
    for repair in getattr(ws, "repairs", []):
        notify(f"workspace repaired: {repair}")
    r.to(RunState.PHASE_QUEUEING, "executor started")
    compiled = {p.phase_id: p for p in detail.phases}
    outcome = RunOutcome(run_id, r.state, "")
    tier_states = {t.tier_id: t.state for t in detail.tiers}
    for tier in spec.tiers:
        if TierState(tier_states[tier.tier_id]) in (TierState.COMPLETE, TierState.NOT_CLEAN):
            continue
        r.tier_to(tier.tier_id, TierState.RUNNING, "tier started")
        skipped = 0
        for phase in tier.phases:
            stored = compiled[phase.phase_id]
            current = _phase_state(engine, run_id, phase.phase_id)
            if current in (PhaseState.COMPLETE, PhaseState.SKIPPED):
                skipped += current == PhaseState.SKIPPED
                continue
            stop = _over_limits(r)
            if stop:
                r.tier_to(tier.tier_id, TierState.BLOCKED, stop)
                r.to(RunState.DONE_FAILED_BUDGET_EXHAUSTED, stop)
                return RunOutcome(run_id, r.state, stop, outcome.phases)
            if store.cancel_requested(run_id):
                r.tier_to(tier.tier_id, TierState.BLOCKED, "cancelled")
                r.to(RunState.CANCELLED, "cancelled by request")
                return RunOutcome(run_id, r.state, "cancelled by request", outcome.phases)
            r.to(RunState.PHASE_EXECUTION, f"phase {phase.phase_id}")
            notify(f"phase {phase.phase_id}: {phase.name}")
            artifacts = engine.artifacts_dir(run_id) / "phases" / phase.phase_id
            artifacts.mkdir(parents=True, exist_ok=True)
            ctx = AttemptContext(
                engine=engine,
                ws=ws,
                runner=engine.runner(artifacts),
                run_id=run_id,
                run_goal=spec.goal,
                phase=phase,
                strategy=PhaseStrategy.model_validate(stored.strategy),
                baseline=r.baseline(ws, phase.scope.ci),
                artifacts=artifacts,
                notify=lambda m, pid=phase.phase_id: notify(f"  [{pid}] {m}"),
            )
            answer = (approved or {}).get(phase.phase_id)
            result = run_phase(
                ctx, state=current, attempts_used=stored.attempts_used, approved_answer=answer
            )
            outcome.phases[phase.phase_id] = result
            if result.outcome is PhaseOutcome.WAITING_APPROVAL:
                r.to(RunState.GATE, f"phase {phase.phase_id} waits for approval")
                return RunOutcome(run_id, r.state, result.reason, outcome.phases)
            if result.outcome in _TERMINAL_FOR:
                r.tier_to(tier.tier_id, TierState.BLOCKED, result.reason)
                reason = f"phase {phase.phase_id}: {result.reason}"
                r.to(_TERMINAL_FOR[result.outcome], reason)
                return RunOutcome(run_id, r.state, reason, outcome.phases)
            skipped += result.outcome is PhaseOutcome.SKIPPED
            r.to(RunState.PHASE_QUEUEING, f"phase {phase.phase_id} {result.outcome.value}")
        final = TierState.NOT_CLEAN if skipped else TierState.COMPLETE
        r.tier_to(
            tier.tier_id,
            final,
            f"{skipped} phase(s) skipped" if skipped else "all phases committed",
        )
    r.to(RunState.SNAPSHOT_CREATED, f"integration branch {ws.branch} at {ws.git.head()[:12]}")
    r.to(RunState.DONE_SUCCESS, "every phase committed")
    return RunOutcome(run_id, r.state, "every phase committed", outcome.phases)


def _phase_state(engine: Engine, run_id: str, phase_id: str) -> str:
    return next(p.state for p in engine.store.get_run(run_id).phases if p.phase_id == phase_id)


def _over_limits(r: _Run) -> str | None:
    """The run's wall-time cap, measured from its first phase (across resumes)."""
    minutes = r.spec.max_duration_minutes
    if minutes is None:
        return None
    started = r.engine.store.get_run(r.run.run_id).started_at
    elapsed = (utcnow() - started).total_seconds() if started else 0.0
    return f"wall time over {minutes} min" if elapsed > minutes * 60 else None


def _pending_phase(engine: Engine, run_id: str) -> str:
    pending = [
        p for p in engine.store.get_run(run_id).phases if p.state == PhaseState.PENDING_APPROVAL
    ]
    if not pending:
        raise EngineError(f"run {run_id!r} has no phase waiting for approval")
    return pending[0].phase_id


def approve(
    engine: Engine, run_id: str, phase_id: str | None = None, *, by: str, notify: Notify = print
) -> RunOutcome:
    """Approve the waiting phase's answer and continue the run from it."""
    phase_id = phase_id or _pending_phase(engine, run_id)
    store = engine.store
    pending = [a for a in store.approvals(run_id=run_id) if a.phase_id == phase_id]
    if not pending:
        raise EngineError(f"phase {phase_id!r} of run {run_id!r} waits for no approval")
    store.decide_approval(pending[-1].id, approve=True, decided_by=by)
    answer_file = engine.artifacts_dir(run_id) / "phases" / phase_id / PENDING_ANSWER
    answer = answer_file.read_text(encoding="utf-8")
    store.transition_run(
        run_id, RunState.PHASE_EXECUTION, reason=f"{phase_id} approved by {by}", actor=by
    )
    return execute_run(engine, run_id, notify=notify, approved={phase_id: answer})


def reject(
    engine: Engine, run_id: str, phase_id: str | None = None, *, by: str, reason: str
) -> RunOutcome:
    """Reject the waiting phase's answer: the phase fails and the run ends for review."""
    phase_id = phase_id or _pending_phase(engine, run_id)
    store = engine.store
    pending = [a for a in store.approvals(run_id=run_id) if a.phase_id == phase_id]
    if not pending:
        raise EngineError(f"phase {phase_id!r} of run {run_id!r} waits for no approval")
    store.decide_approval(pending[-1].id, approve=False, decided_by=by, note=reason)
    store.transition_phase(
        run_id, phase_id, PhaseState.FAILED, reason=f"rejected: {reason}", actor=by
    )
    tier = next(p.tier_id for p in store.get_run(run_id).phases if p.phase_id == phase_id)
    store.transition_tier(run_id, tier, TierState.BLOCKED, reason=f"{phase_id} rejected", actor=by)
    why = f"phase {phase_id} rejected by {by}: {reason}"
    store.transition_run(run_id, RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, reason=why, actor=by)
    return RunOutcome(run_id, RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, why)
