"""Attempts, model calls and approvals: the records the executor and API write.

Like :mod:`autopack.store.runs`, these work inside the caller's transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autopack.store.errors import ApprovalStateError, NotFoundError
from autopack.store.models import Approval, Attempt, LlmCall, Phase, Run, utcnow
from autopack.store.views import ApprovalView, AttemptView, LlmCallView

ATTEMPT_RESULT_FIELDS = frozenset(
    {
        "auditor_model",
        "builder_outcome",
        "apply_outcome",
        "ci_outcome",
        "auditor_outcome",
        "outcome",
        "error_class",
        "error_message",
    }
)


def _phase(session: Session, run_id: str, phase_id: str) -> Phase:
    phase = session.scalars(
        select(Phase).where(Phase.run_id == run_id, Phase.phase_id == phase_id).with_for_update()
    ).one_or_none()
    if phase is None:
        raise NotFoundError("phase", phase_id, run_id)
    return phase


def start_attempt(
    session: Session, run_id: str, phase_id: str, *, builder_model: str | None = None
) -> AttemptView:
    """Open the next attempt of a phase and count it against the phase."""
    phase = _phase(session, run_id, phase_id)
    last = session.scalar(
        select(func.max(Attempt.attempt_index)).where(Attempt.phase_pk == phase.id)
    )
    attempt = Attempt(
        run_id=run_id,
        phase_pk=phase.id,
        attempt_index=(last or 0) + 1,
        builder_model=builder_model,
        tokens_in=0,
        tokens_out=0,
    )
    session.add(attempt)
    phase.attempts_used = attempt.attempt_index
    session.flush()
    return AttemptView.model_validate(attempt)


def finish_attempt(session: Session, attempt_id: int, **results: Any) -> AttemptView:
    """Record what each role concluded.

    Tokens are not given here: every model call's usage reaches the attempt, phase, tier and
    run through :func:`record_llm_call` (the ledger's settle), so nothing is counted twice.
    """
    unknown = set(results) - ATTEMPT_RESULT_FIELDS
    if unknown:
        raise ValueError(f"unknown attempt fields: {', '.join(sorted(unknown))}")
    attempt = session.get(Attempt, attempt_id, with_for_update=True)
    if attempt is None:
        raise NotFoundError("attempt", str(attempt_id))
    for key, value in results.items():
        setattr(attempt, key, value)
    now = utcnow()
    attempt.finished_at = now
    attempt.duration_ms = int((now - attempt.started_at).total_seconds() * 1000)
    session.flush()
    return AttemptView.model_validate(attempt)


def list_attempts(session: Session, run_id: str, phase_id: str) -> list[AttemptView]:
    """A phase's attempts in order."""
    phase = _phase(session, run_id, phase_id)
    return [AttemptView.model_validate(a) for a in phase.attempts]


def record_llm_call(
    session: Session,
    *,
    provider: str,
    model: str,
    role: str,
    tokens_in: int,
    tokens_out: int,
    cost_usd: Decimal | float = 0,
    latency_ms: int | None = None,
    run_id: str | None = None,
    phase_id: str | None = None,
    attempt_id: int | None = None,
    status: str = "ok",
    error_class: str | None = None,
) -> LlmCallView:
    """Append one model call and add its tokens to its attempt, phase, tier and run."""
    run = session.get(Run, run_id) if run_id is not None else None
    if run_id is not None and run is None:
        raise NotFoundError("run", run_id)
    phase = _phase(session, run_id, phase_id) if run_id and phase_id else None
    attempt = session.get(Attempt, attempt_id) if attempt_id is not None else None
    if attempt_id is not None and attempt is None:
        raise NotFoundError("attempt", str(attempt_id))
    tokens = int(tokens_in) + int(tokens_out)
    if run is not None:
        run.tokens_used += tokens
    if phase is not None:
        phase.tokens_used += tokens
        phase.tier.tokens_used += tokens
    if attempt is not None:
        attempt.tokens_in += int(tokens_in)
        attempt.tokens_out += int(tokens_out)
    call = LlmCall(
        run_id=run_id,
        phase_id=phase_id,
        attempt_pk=attempt_id,
        provider=provider,
        model=model,
        role=role,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=Decimal(str(cost_usd)),
        latency_ms=latency_ms,
        status=status,
        error_class=error_class,
    )
    session.add(call)
    session.flush()
    return LlmCallView.model_validate(call)


def list_llm_calls(session: Session, run_id: str) -> list[LlmCallView]:
    """A run's model calls in order."""
    stmt = select(LlmCall).where(LlmCall.run_id == run_id).order_by(LlmCall.id)
    return [LlmCallView.model_validate(c) for c in session.scalars(stmt)]


def request_approval(
    session: Session,
    run_id: str,
    phase_id: str | None,
    *,
    reason: str,
    answer: str | None = None,
    diff: str | None = None,
) -> ApprovalView:
    """Open a pending approval for a run (and phase), with the answer it would apply."""
    if session.get(Run, run_id) is None:
        raise NotFoundError("run", run_id)
    if phase_id is not None:
        _phase(session, run_id, phase_id)
    approval = Approval(
        run_id=run_id, phase_id=phase_id, status="pending", reason=reason, answer=answer, diff=diff
    )
    session.add(approval)
    session.flush()
    return ApprovalView.model_validate(approval)


def approval_material(session: Session, approval_id: int) -> tuple[str | None, str | None]:
    """The answer waiting for an approval and its diff (``None`` when not stored)."""
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFoundError("approval", str(approval_id))
    return approval.answer, approval.diff


def decide_approval(
    session: Session, approval_id: int, *, approve: bool, decided_by: str, note: str | None = None
) -> ApprovalView:
    """Approve or reject a pending approval, once."""
    approval = session.get(Approval, approval_id, with_for_update=True)
    if approval is None:
        raise NotFoundError("approval", str(approval_id))
    if approval.status != "pending":
        raise ApprovalStateError(f"approval {approval_id} was already {approval.status}")
    approval.status = "approved" if approve else "rejected"
    approval.decided_at = utcnow()
    approval.decided_by = decided_by
    approval.decision_note = note
    session.flush()
    return ApprovalView.model_validate(approval)


def list_approvals(
    session: Session, *, status: str | None = "pending", run_id: str | None = None
) -> list[ApprovalView]:
    """Approvals, oldest first, filtered by status and run."""
    stmt = select(Approval).order_by(Approval.requested_at, Approval.id)
    if status is not None:
        stmt = stmt.where(Approval.status == status)
    if run_id is not None:
        stmt = stmt.where(Approval.run_id == run_id)
    return [ApprovalView.model_validate(a) for a in session.scalars(stmt)]


_NOT_FAILURES = ("success", "awaiting_approval", "interrupted")
_NO_CHECKS = ("skipped",)


def attempt_stats(session: Session, run_id: str) -> dict[str, int]:
    """Run-wide attempt counts in one aggregate query: attempts, failures, CI runs."""
    row = session.execute(
        select(
            func.count(Attempt.id),
            func.count(Attempt.id).filter(
                Attempt.outcome.is_not(None), Attempt.outcome.not_in(_NOT_FAILURES)
            ),
            func.count(Attempt.id).filter(
                Attempt.ci_outcome.is_not(None), Attempt.ci_outcome.not_in(_NO_CHECKS)
            ),
        ).where(Attempt.run_id == run_id)
    ).one()
    return {"attempts": int(row[0]), "failures": int(row[1]), "ci_runs": int(row[2])}
