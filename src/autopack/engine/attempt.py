"""One attempt at a phase: Builder → governed apply → checks → deliverables → Auditor.

:func:`run_attempt` never commits and never rolls back: it leaves the worktree as the
attempt made it and reports what happened; :mod:`autopack.engine.phase` decides (commit,
retry, escalate, ask the Doctor, wait for approval). Every model call is metered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from autopack.agents import (
    AuditRequest,
    ContextAssembler,
    ContextInputs,
    MalformedAnswerError,
    audit,
    build_messages,
    dual_audit,
)
from autopack.agents import Verdict as AuditVerdict
from autopack.checks import Baseline, CheckReport, CiRunner, check_deliverables
from autopack.engine.services import Engine
from autopack.llm import LlmError
from autopack.llm.ledger import MeteredModel
from autopack.policy.governance import GovernancePolicy, Operation, Verdict, combine
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import PhaseSpec
from autopack.workspace import ApplyOutcome, IntegrationWorkspace, governed_apply


class Step(StrEnum):
    """Where an attempt stopped."""

    DONE = "done"  # everything passed: ready to commit
    APPLY_FAILED = "patch_apply_error"
    POLICY = "policy_violation"
    NEEDS_APPROVAL = "needs_approval"
    TRUNCATED = "truncated_answer"
    PROVIDER = "provider_error"
    CHECKS = "ci_fail"
    DELIVERABLES = "deliverables_missing"
    AUDIT = "auditor_reject"
    AUDIT_MALFORMED = "auditor_malformed"
    AWAITING_REVIEW = "awaiting_review"  # checks passed; an external auditor decides


@dataclass
class AttemptReport:
    """What one attempt did; ``feedback`` is written for the Builder's next attempt."""

    step: Step
    answer: str = ""
    model: str | None = None
    feedback: str = ""
    codes: tuple[str, ...] = ()
    checks: CheckReport | None = None
    auditor_model: str | None = None
    notes: list[str] = field(default_factory=list)
    verdict: AuditVerdict | None = None
    """The Auditor's verdict, when the attempt got that far (its issues are recorded)."""

    @property
    def ok(self) -> bool:
        """Ready to commit."""
        return self.step is Step.DONE


Notify = Callable[[str], None]
Reviewer = Callable[[AuditRequest], tuple[str, AuditVerdict] | None]
"""Stands in for the Auditor model (external review): ``(auditor, verdict)``, or ``None``
while no verdict was given (the attempt stops at :attr:`Step.AWAITING_REVIEW`)."""


@dataclass
class AttemptContext:
    """What stays the same across a phase's attempts."""

    engine: Engine
    ws: IntegrationWorkspace
    runner: CiRunner
    run_id: str
    run_goal: str
    phase: PhaseSpec
    strategy: PhaseStrategy
    baseline: Baseline | None
    artifacts: Path
    notify: Notify = print
    guard: Callable[[], tuple[str, str] | None] = lambda: None
    """Before each retry: ``(run state, reason)`` when the run must stop (cancel, a cap)."""
    land: Callable[[str | None], str | None] | None = None
    """In a parallel lane (:mod:`autopack.engine.parallel`): puts the lane's phase commit on
    the integration branch and returns the commit made there, before the phase is COMPLETE."""


def _calls(
    ctx: AttemptContext,
    role: str,
    attempt: int,
    attempt_id: int | None,
    complexity: str | None = None,
) -> tuple[str, MeteredModel]:
    """The routed model for a reviewing role and its metered call."""
    engine = ctx.engine
    decision = engine.router.choose(
        role,
        category=ctx.phase.task_category,
        complexity=complexity or ctx.phase.complexity,
        attempt=1,
        failures=(),
    )
    call = engine.model_call(
        role,
        decision.model,
        run_id=ctx.run_id,
        phase_id=ctx.phase.phase_id,
        attempt=attempt,
        attempt_id=attempt_id,
    )
    return decision.model.name, call


def _scope_after_checks(ctx: AttemptContext, policy: GovernancePolicy) -> AttemptReport | None:
    """Governance over everything the attempt changed, checks' side effects included.

    The checks run code the model wrote; whatever it wrote in the worktree would otherwise
    reach the phase commit. Any change the policy denies fails the attempt (rolled back).
    """
    ws = ctx.ws
    # ws.run_id, not ctx.run_id: in a parallel lane the snapshot lives in the lane's namespace.
    changed = ws.git.changed_paths(f"refs/autopack/{ws.run_id}/{ctx.phase.phase_id}/before")
    ops: list[tuple[str, Operation]] = [
        (p, "write" if (ws.path / p).exists() else "delete") for p in changed
    ]
    contents = {
        p: (ws.path / p).read_bytes()
        for p, op in ops
        if op == "write" and (ws.path / p).is_file() and not (ws.path / p).is_symlink()
    }
    decision = combine(policy.check_paths(ops), policy.check_contents(contents))
    denied = decision.with_verdict(Verdict.DENY)
    if not denied:
        return None
    feedback = (
        "Your change was NOT committed: running the checks changed files this phase may not "
        "change (tests or scripts you wrote must not write outside the scope):\n"
        + decision.for_model()
    )
    return AttemptReport(Step.POLICY, feedback=feedback, codes=tuple(d.rule for d in denied))


def run_attempt(
    ctx: AttemptContext,
    *,
    attempt: int,
    attempt_id: int,
    builder_model: str,
    previous_errors: tuple[str, ...],
    hints: tuple[str, ...],
    answer: str | None = None,
    approved: bool = False,
    reviewer: Reviewer | None = None,
) -> AttemptReport:
    """One attempt; ``answer`` given (an approved earlier answer, an external builder's)
    skips the Builder call, and ``builder_model`` then only names who answered.
    ``reviewer`` given (external review) stands in for the Auditor model.

    Raises ``BudgetExhaustedError`` when a model call does not fit the budget.
    """
    engine, phase = ctx.engine, ctx.phase
    if answer is None:
        model = engine.router.model(builder_model)
        deny = (*engine.governance.deny, *phase.scope.protected_paths)
        assembler = ContextAssembler(ctx.ws.path, deny=deny, redactor=engine.redactor)
        inputs = ContextInputs(
            phase=phase,
            run_goal=ctx.run_goal,
            previous_errors=previous_errors,
            doctor_hints=hints,
            memory=engine.learning.notes(ctx, "builder", errors=previous_errors),
        )
        prompt = build_messages(assembler, inputs, redactor=engine.redactor)
        call = engine.model_call(
            "builder",
            model,
            run_id=ctx.run_id,
            phase_id=phase.phase_id,
            attempt=attempt,
            attempt_id=attempt_id,
        )
        try:
            completion = call(prompt.messages)
        except LlmError as exc:
            return AttemptReport(
                Step.PROVIDER, model=model.name, feedback=str(exc), codes=(exc.code,)
            )
        answer = completion.text
        (ctx.artifacts / f"attempt-{attempt}.answer.md").write_text(answer, encoding="utf-8")
        if completion.truncated:
            return AttemptReport(
                Step.TRUNCATED,
                answer,
                model.name,
                "Your answer was cut off at the output limit and was not applied. Send a "
                "shorter answer: change only what the task needs, with SEARCH/REPLACE blocks "
                "rather than whole files.",
            )

    policy = GovernancePolicy.for_phase(engine.governance, phase.scope, ctx.strategy)
    applied = governed_apply(
        ctx.ws.path, answer, policy, approved=approved, ignored=ctx.ws.git.ignored
    )
    name = builder_model
    if applied.outcome is ApplyOutcome.NEEDS_APPROVAL:
        return AttemptReport(Step.NEEDS_APPROVAL, answer, name, applied.for_model())
    if not applied.ok:
        step = Step.POLICY if applied.outcome is ApplyOutcome.REFUSED_POLICY else Step.APPLY_FAILED
        codes = tuple(d.rule for d in applied.governance.decisions if d.verdict == "deny")
        codes += tuple(i.rule for i in applied.integrity)
        if applied.edits is not None:
            codes += tuple(str(e.code) for e in applied.edits.errors)
        return AttemptReport(step, answer, name, applied.for_model(), codes)
    ctx.notify(f"applied {len(applied.changes)} file(s)")

    report = ctx.runner.run(
        ctx.ws.path,
        phase.scope.ci,
        profile=ctx.strategy.ci_profile,
        baseline=ctx.baseline,
        label=f"{phase.phase_id}-attempt-{attempt}",
    )
    ctx.notify(f"checks: {report.summary()}")
    if not report.ok:
        return AttemptReport(Step.CHECKS, answer, name, report.for_model(), checks=report)

    stray = _scope_after_checks(ctx, policy)
    if stray is not None:
        stray.answer, stray.model, stray.checks = answer, name, report
        return stray

    deliverables = check_deliverables(ctx.ws.path, list(phase.scope.deliverables))
    if not deliverables.ok:
        return AttemptReport(
            Step.DELIVERABLES, answer, name, deliverables.for_model(), checks=report
        )

    request = AuditRequest(
        phase=phase,
        diff=ctx.ws.phase_diff(phase.phase_id),
        checks=report,
        deliverables=deliverables,
        run_goal=ctx.run_goal,
        profile=ctx.strategy.auditor_profile,
        default_severity=ctx.strategy.default_severity,
        notes=engine.learning.notes(ctx, "auditor"),
    )
    if reviewer is not None:
        given = reviewer(request)
        if given is None:
            return AttemptReport(Step.AWAITING_REVIEW, answer, name, checks=report)
        auditor_name, verdict = given
    else:
        reviewed = _model_audit(ctx, request, attempt, attempt_id)
        if isinstance(reviewed, AttemptReport):
            reviewed.answer, reviewed.model, reviewed.checks = answer, name, report
            return reviewed
        auditor_name, verdict = reviewed
    summary = ctx.engine.redactor.redact(verdict.summary)  # model text: it may echo a secret
    ctx.notify(f"audit: {'approved' if verdict.approved else 'rejected'} {summary}")
    if not verdict.approved:
        return AttemptReport(
            Step.AUDIT,
            answer,
            name,
            verdict.for_model(),
            checks=report,
            auditor_model=auditor_name,
            verdict=verdict,
        )
    return AttemptReport(
        Step.DONE, answer, name, checks=report, auditor_model=auditor_name, verdict=verdict
    )


def _model_audit(
    ctx: AttemptContext, request: AuditRequest, attempt: int, attempt_id: int
) -> tuple[str, AuditVerdict] | AttemptReport:
    """The Auditor model's verdict (dual audit for high-risk phases), or the failed step."""
    auditor_name, auditor = _calls(ctx, "auditor", attempt, attempt_id)
    redactor = ctx.engine.redactor
    try:
        if ctx.strategy.dual_audit:
            _, second = _calls(ctx, "auditor", attempt, attempt_id, complexity="high")
            _, judge = _calls(ctx, "judge", attempt, attempt_id)
            return auditor_name, dual_audit(
                auditor, second, judge, request, redactor=redactor
            ).final
        return auditor_name, audit(auditor, request, redactor=redactor)
    except MalformedAnswerError as exc:
        feedback = f"the review could not be read: {exc}"
        return AttemptReport(Step.AUDIT_MALFORMED, feedback=feedback, auditor_model=auditor_name)
    except LlmError as exc:
        return AttemptReport(
            Step.PROVIDER, feedback=str(exc), codes=(exc.code,), auditor_model=auditor_name
        )
