"""A phase: attempts until it is committed, fails, is skipped, or waits for a person.

Each attempt starts from the phase's snapshot, and on failure is rolled back to it exactly,
so a failed attempt leaves no trace; the Builder's next attempt gets the reason (the edit
engine's refusal, the new test failures, the Auditor's issues), the hints of the
deterministic failure hardening and, from the second failure on, the Doctor's advice. The
model escalates along its chain as the router decides. High-risk writes stop the phase at
``PENDING_APPROVAL`` with the answer and its diff saved; approving resumes from that answer
without calling the Builder again. A role done outside Autopack (external builder or
auditor, :mod:`autopack.engine.external`) makes the phase wait in ``GATE`` or
``PENDING_REVIEW`` until the API brings the answer or the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autopack.agents import AgentError, DoctorAction, FailedAttempt, FailureHistory, diagnose
from autopack.agents.doctor import needs_strong_doctor
from autopack.engine.attempt import AttemptContext, AttemptReport, Step, run_attempt
from autopack.engine.external import AWAITING_REVIEW, ExternalRoles
from autopack.llm import LlmError
from autopack.policy import hardening
from autopack.policy.failure import Failure
from autopack.policy.governance import GovernancePolicy
from autopack.policy.routing import RoutingError
from autopack.policy.states import PhaseState
from autopack.store import BudgetExhaustedError
from autopack.workspace import governed_apply

PENDING_ANSWER = "pending-approval.answer.md"
PENDING_DIFF = "pending-approval.diff"
_EXTERNAL_WAITS = (PhaseState.GATE, PhaseState.PENDING_REVIEW)  # see engine.external
_NOT_COUNTED = frozenset({"success", "awaiting_approval", AWAITING_REVIEW, "interrupted"})


class PhaseOutcome(StrEnum):
    """How a phase ended (for now)."""

    COMPLETE = "complete"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING_APPROVAL = "waiting_approval"  # for a person's approval, or for external work
    BUDGET_EXHAUSTED = "budget_exhausted"
    ENVIRONMENT = "environment"
    STOPPED = "stopped"  # the run stopped between attempts (cancel, a run-level cap)


@dataclass(frozen=True)
class PhaseResult:
    """The outcome, the attempts it took, the commit (when complete) and why."""

    outcome: PhaseOutcome
    attempts: int
    reason: str
    commit: str | None = None
    run_state: str | None = None
    """For ``STOPPED``: the state the run ends in."""


class _Phase:
    """The mutable state of one phase execution."""

    def __init__(self, ctx: AttemptContext, state: str) -> None:
        self.ctx = ctx
        self.state = state
        self.failures: list[str] = []
        self.history: list[FailedAttempt] = []
        self.errors: tuple[str, ...] = ()
        self.hints: tuple[str, ...] = ()

    def to(self, state: PhaseState, reason: str, *, explicit: bool = False) -> None:
        if self.state == state:
            return
        ctx = self.ctx
        ctx.engine.store.transition_phase(
            ctx.run_id,
            ctx.phase.phase_id,
            state,
            reason=reason,
            actor=ctx.engine.options.actor,
            explicit=explicit,
        )
        self.state = state


def run_phase(
    ctx: AttemptContext, *, state: str, attempts_used: int, approved_answer: str | None = None
) -> PhaseResult:
    """Drive the phase from its current ``state`` until it ends or waits."""
    result = _drive(ctx, state=state, attempts_used=attempts_used, approved_answer=approved_answer)
    if result.outcome is not PhaseOutcome.WAITING_APPROVAL:
        ctx.engine.learning.phase_finished(ctx, result)
    return result


def _drive(
    ctx: AttemptContext, *, state: str, attempts_used: int, approved_answer: str | None = None
) -> PhaseResult:
    p = _Phase(ctx, state)
    store, phase, strategy = ctx.engine.store, ctx.phase, ctx.strategy
    limit = min(strategy.builder_attempts, ctx.engine.router.config.max_attempts_per_phase)
    if p.state in (PhaseState.QUEUED, PhaseState.PENDING_APPROVAL, *_EXTERNAL_WAITS):
        p.to(
            PhaseState.EXECUTING,
            "approved: applying the approved answer" if approved_answer else "attempt 1",
        )
    answer, approved = approved_answer, approved_answer is not None
    # Earlier invocations' failed attempts count (a resume or an approval continues the
    # phase; it does not get a fresh budget), and drive escalation like this one's.
    p.failures = [
        a.error_class
        for a in store.attempts(ctx.run_id, phase.phase_id)
        if a.error_class and a.outcome not in _NOT_COUNTED
    ]
    tries = len(p.failures)
    ext = ExternalRoles.of(ctx)
    while True:
        n = attempts_used + 1
        stop = ctx.guard() if answer is None and tries > 0 else None
        if stop is not None:
            p.to(PhaseState.FAILED, stop[1])
            return PhaseResult(PhaseOutcome.STOPPED, n - 1, stop[1], run_state=stop[0])
        if tries >= limit and answer is None:
            reason = (
                f"no attempt left ({tries} of {limit} used): {p.failures[-1] if p.failures else ''}"
            )
            p.to(PhaseState.FAILED, reason)
            return PhaseResult(PhaseOutcome.FAILED, n - 1, reason)
        turn = None
        if ext is not None:
            turn = ext.begin(
                attempt=n,
                left=limit - tries,
                answer=answer,
                approved=approved,
                errors=p.errors,
                hints=p.hints,
            )
        if turn is not None and turn.wait is not None:
            p.to(turn.wait, turn.reason)
            return PhaseResult(PhaseOutcome.WAITING_APPROVAL, n - 1, turn.reason)
        if turn is not None:
            answer, approved, builder, why = turn.answer, turn.approved, turn.label, "external"
        else:
            try:
                route = ctx.engine.router.choose(
                    "builder",
                    category=phase.task_category,
                    complexity=phase.complexity,
                    attempt=min(tries + 1, ctx.engine.router.config.max_attempts_per_phase),
                    failures=tuple(p.failures),
                )
            except RoutingError as exc:
                p.to(PhaseState.FAILED, str(exc))
                return PhaseResult(PhaseOutcome.FAILED, n - 1, str(exc))
            builder, why = route.model.name, route.reason
        record = store.start_attempt(ctx.run_id, phase.phase_id, builder_model=builder)
        ctx.ws.begin_attempt(phase.phase_id, n)
        ctx.notify(f"attempt {n} with {builder} ({why})")
        try:
            report = run_attempt(
                ctx,
                attempt=n,
                attempt_id=record.id,
                builder_model=builder or "",
                previous_errors=p.errors,
                hints=p.hints,
                answer=answer,
                approved=approved,
                reviewer=ext.reviewer() if ext is not None else None,
            )
        except BudgetExhaustedError as exc:
            ctx.ws.rollback_attempt(phase.phase_id)
            store.finish_attempt(
                record.id, outcome="budget_exhausted", error_class=exc.code, error_message=str(exc)
            )
            p.to(PhaseState.FAILED, str(exc))
            return PhaseResult(PhaseOutcome.BUDGET_EXHAUSTED, n, str(exc))
        was_approved = approved
        attempts_used, tries, answer, approved = n, tries + 1, None, False
        if report.ok:
            return _commit(p, report, n, record.id)
        if report.step is Step.NEEDS_APPROVAL:
            return _wait_for_approval(p, report, n, record.id)
        if report.step is Step.AWAITING_REVIEW and ext is not None:
            reason = ext.park(report, n, record.id, approved=was_approved)
            p.to(PhaseState.PENDING_REVIEW, reason)
            return PhaseResult(PhaseOutcome.WAITING_APPROVAL, n, reason)
        ctx.ws.rollback_attempt(phase.phase_id)
        store.finish_attempt(
            record.id,
            outcome=report.step.value,
            error_class=report.step.value,
            error_message=ctx.engine.redactor.redact(report.feedback)[:4000],
            builder_outcome="answered",
            ci_outcome=str(report.checks.status) if report.checks else None,
            auditor_model=report.auditor_model,
        )
        ctx.notify(f"attempt {n} failed: {report.step.value}")
        ctx.engine.learning.attempt_finished(ctx, n, report, hints=p.hints)
        if report.step is Step.PROVIDER and "missing_api_key" in report.codes:
            p.to(PhaseState.FAILED, report.feedback)
            return PhaseResult(PhaseOutcome.ENVIRONMENT, n, report.feedback)
        stop = _learn(p, report, n, limit - tries)
        if stop is not None:
            return stop
        p.to(PhaseState.EXECUTING, f"attempt {n + 1} after {report.step.value}")


def _learn(p: _Phase, report: AttemptReport, n: int, left: int) -> PhaseResult | None:
    """Record the failure, apply failure hardening, and ask the Doctor when it is due."""
    ctx = p.ctx
    p.failures.append(report.step.value)
    p.errors = (report.feedback,)
    text = report.feedback + ("\n" + report.checks.output_tail if report.checks else "")
    found = hardening.diagnose(
        Failure(text=text, error_class=report.step.value, codes=report.codes)
    )
    p.hints = tuple(dict.fromkeys(d.mitigation.hint for d in found))
    for d in found:
        ctx.notify(f"failure hardening: {d.code}")
    p.history.append(
        FailedAttempt(
            attempt=n,
            error_class=report.step.value,
            messages=(report.feedback[:2000],),
            check_summary=report.checks.summary() if report.checks else None,
            model=report.model,
        )
    )
    if len(p.history) < 2 or left <= 0:
        return None
    history = FailureHistory(
        attempts=tuple(p.history), high_risk=ctx.strategy.high_risk, attempts_left=left
    )
    role = "doctor_strong" if needs_strong_doctor(history) else "doctor_cheap"
    try:
        route = ctx.engine.router.choose(
            role,
            category=ctx.phase.task_category,
            complexity=ctx.phase.complexity,
            attempt=1,
            failures=(),
        )
        call = ctx.engine.model_call(
            "doctor",
            route.model,
            run_id=ctx.run_id,
            phase_id=ctx.phase.phase_id,
            attempt=n,
            attempt_id=None,
        )
        decision = diagnose(
            call,
            ctx.phase,
            history,
            redactor=ctx.engine.redactor,
            run_goal=ctx.run_goal,
            notes=ctx.engine.learning.notes(ctx, "doctor", errors=p.errors),
        )
    except (LlmError, AgentError) as exc:
        ctx.notify(f"doctor unavailable: {exc}")
        return None
    why = ctx.engine.redactor.redact(decision.rationale)  # model text: it may echo a secret
    ctx.notify(f"doctor ({route.model.name}): {decision.action.value}: {why}")
    ctx.engine.learning.doctor_decided(ctx, n, decision)
    if decision.hint:
        p.hints = (*p.hints, decision.hint)
    if decision.action is DoctorAction.SKIP_PHASE:
        p.to(PhaseState.SKIPPED, f"doctor: {why}")
        return PhaseResult(PhaseOutcome.SKIPPED, n, why)
    if decision.action in (DoctorAction.MARK_FATAL, DoctorAction.REPLAN, DoctorAction.ROLLBACK_RUN):
        reason = f"doctor: {decision.action.value}: {why}"
        p.to(PhaseState.FAILED, reason)
        return PhaseResult(PhaseOutcome.FAILED, n, reason)
    return None


def _commit(p: _Phase, report: AttemptReport, n: int, attempt_id: int) -> PhaseResult:
    ctx = p.ctx
    tokens = sum(
        a.tokens_in + a.tokens_out
        for a in ctx.engine.store.attempts(ctx.run_id, ctx.phase.phase_id)
        if a.id == attempt_id
    )
    message = f"{ctx.phase.name}\n\n{ctx.phase.description}".strip()
    sha = ctx.ws.commit_attempt(
        ctx.phase.phase_id, n, message=message, model=report.model, tokens=tokens
    )
    if ctx.land is not None:
        sha = ctx.land(sha)  # a lane's commit is on the integration branch before COMPLETE
    ctx.engine.learning.attempt_finished(ctx, n, report, hints=p.hints)
    ctx.engine.store.finish_attempt(
        attempt_id,
        outcome="success",
        builder_outcome="answered",
        apply_outcome="applied",
        ci_outcome=str(report.checks.status) if report.checks else None,
        auditor_outcome="approved",
        auditor_model=report.auditor_model,
    )
    p.to(
        PhaseState.COMPLETE, f"committed {sha[:12] if sha else '(no change)'} after {n} attempt(s)"
    )
    return PhaseResult(PhaseOutcome.COMPLETE, n, "committed", sha)


def _wait_for_approval(p: _Phase, report: AttemptReport, n: int, attempt_id: int) -> PhaseResult:
    """Save the answer and the diff it would make, ask a person, leave no trace in the tree."""
    ctx = p.ctx
    (ctx.artifacts / PENDING_ANSWER).write_text(report.answer, encoding="utf-8")
    policy = GovernancePolicy.for_phase(ctx.engine.governance, ctx.phase.scope, ctx.strategy)
    governed_apply(ctx.ws.path, report.answer, policy, approved=True)
    diff = ctx.ws.phase_diff(ctx.phase.phase_id)
    (ctx.artifacts / PENDING_DIFF).write_text(diff, encoding="utf-8")
    ctx.ws.rollback_attempt(ctx.phase.phase_id)
    ctx.engine.store.finish_attempt(
        attempt_id,
        outcome="awaiting_approval",
        builder_outcome="answered",
        apply_outcome="needs_approval",
    )
    if ctx.engine.options.auto_approve:
        ctx.notify("demo mode: approval granted automatically (a person would decide here)")
        approval = ctx.engine.store.request_approval(
            ctx.run_id,
            ctx.phase.phase_id,
            reason=report.feedback[:2000],
            answer=report.answer,
            diff=diff,
        )
        ctx.engine.store.decide_approval(
            approval.id,
            approve=True,
            decided_by="demo-auto-approve",
            note="auto-approved because the run was started in demo mode",
        )
        return _drive(ctx, state=p.state, attempts_used=n, approved_answer=report.answer)
    ctx.engine.store.request_approval(
        ctx.run_id,
        ctx.phase.phase_id,
        reason=report.feedback[:2000],
        answer=report.answer,
        diff=diff,
    )
    p.to(PhaseState.PENDING_APPROVAL, "high-risk change waits for a person's approval")
    return PhaseResult(PhaseOutcome.WAITING_APPROVAL, n, "waiting for approval")
