"""Continuing a run from its approval gate: approve (apply the saved answer) or reject."""

from __future__ import annotations

from autopack.engine.attempt import Notify
from autopack.engine.pending import pending_answer
from autopack.engine.run import EngineError, LeaseCheck, RunOutcome, execute_run
from autopack.engine.services import Engine
from autopack.policy.states import PhaseState, RunState, TierState


def _pending_phase(engine: Engine, run_id: str) -> str:
    pending = [
        p for p in engine.store.get_run(run_id).phases if p.state == PhaseState.PENDING_APPROVAL
    ]
    if not pending:
        raise EngineError(f"run {run_id!r} has no phase waiting for approval")
    return pending[0].phase_id


def _pending_approval(engine: Engine, run_id: str, phase_id: str) -> int:
    waiting = [
        a
        for a in engine.store.approvals(run_id=run_id)
        if a.phase_id == phase_id and a.status == "pending"
    ]
    if not waiting:
        raise EngineError(f"phase {phase_id!r} of run {run_id!r} waits for no approval")
    return waiting[-1].id


def approve(
    engine: Engine,
    run_id: str,
    phase_id: str | None = None,
    *,
    by: str,
    notify: Notify = print,
    lease_check: LeaseCheck | None = None,
    reason: str | None = None,
) -> RunOutcome:
    """Approve the waiting phase's answer and continue the run from it (``reason`` is kept
    with the decision)."""
    phase_id = phase_id or _pending_phase(engine, run_id)
    approval_id = _pending_approval(engine, run_id, phase_id)
    answer = pending_answer(engine, run_id, phase_id, approval_id)
    if answer is None:
        raise EngineError(f"the answer waiting for approval {approval_id} is missing")
    engine.store.decide_approval(approval_id, approve=True, decided_by=by, note=reason or None)
    notify(f"phase {phase_id} approved by {by}")
    return execute_run(
        engine, run_id, notify=notify, approved={phase_id: answer}, lease_check=lease_check
    )


def reject(
    engine: Engine, run_id: str, phase_id: str | None = None, *, by: str, reason: str
) -> RunOutcome:
    """Reject the waiting phase's answer: the phase fails and the run ends for review."""
    phase_id = phase_id or _pending_phase(engine, run_id)
    store = engine.store
    store.decide_approval(
        _pending_approval(engine, run_id, phase_id), approve=False, decided_by=by, note=reason
    )
    store.transition_phase(
        run_id, phase_id, PhaseState.FAILED, reason=f"rejected: {reason}", actor=by
    )
    tier = next(p.tier_id for p in store.get_run(run_id).phases if p.phase_id == phase_id)
    store.transition_tier(run_id, tier, TierState.BLOCKED, reason=f"{phase_id} rejected", actor=by)
    why = f"phase {phase_id} rejected by {by}: {reason}"
    store.transition_run(run_id, RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, reason=why, actor=by)
    engine.learning.run_finished(
        engine, run_id, RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, why, lambda _m: None
    )
    return RunOutcome(run_id, RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW, why)
