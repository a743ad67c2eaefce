"""External auditors behind the routes: claim the review of a parked change, give a verdict.

The engine parks a phase whose auditor is external once its checks pass (the change saved,
the worktree rolled back; see :mod:`autopack.engine.external`). A claimed review hands out
the diff, the check results and the Auditor prompt Autopack would have sent; the verdict
(the Auditor model's JSON shape, severity rule applied) is stored on its claim and the run
continues on the server's workers, which apply the change again, run its checks and commit
it (approved) or send the phase back to its builder with the issues (rejected).
"""

from __future__ import annotations

from pydantic import ValidationError

from autopack.agents import AuditAnswer
from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas_external import (
    AuditorResult,
    PromptMessage,
    Reviewed,
    ReviewNext,
    ReviewWork,
    VerdictOut,
)
from autopack.api.services.external import (
    busy,
    claim_error,
    claim_out,
    continue_run,
    holding_lease,
    open_run,
    phase_brief,
    waiting_phase,
)
from autopack.engine.external import AUDITOR
from autopack.engine.external_work import material, parked_review, verdict_of
from autopack.policy.states import PhaseState
from autopack.store.claims import ClaimError, ClaimHeldError


def claim_review(
    ctx: ApiContext, run_id: str, phase_id: str, *, who: str, lease_seconds: int
) -> ReviewNext:
    """Claim the review of the change that waits in ``phase_id``."""
    open_run(ctx, run_id)
    m = material(ctx.engine, run_id, phase_id)
    if m.view.state != PhaseState.PENDING_REVIEW:
        reason = f"phase {phase_id!r} is {m.view.state}: no change waits for an external review"
        return ReviewNext(claimed=False, reason=reason)
    if busy(ctx, run_id):
        return ReviewNext(claimed=False, reason="the run is being executed; try again later")
    parked = parked_review(ctx.engine, m)
    if parked is None:
        return ReviewNext(claimed=False, reason=f"no saved change of {phase_id!r} to review")
    try:
        view, token = ctx.store.claims.claim(
            run_id, phase_id, AUDITOR, owner=who, ttl=lease_seconds
        )
    except ClaimHeldError as exc:
        return ReviewNext(claimed=False, reason=str(exc))
    work = ReviewWork(
        claim=claim_out(view, token),
        attempt=int(parked.get("attempt", 0)),
        phase=phase_brief(m),
        builder=str(parked.get("label", "")),
        diff=str(parked.get("diff", "")),
        checks=parked.get("checks"),
        deliverables=parked.get("deliverables"),
        prompt=[PromptMessage(**x) for x in parked.get("messages", [])],
        default_severity=str(parked.get("default_severity", m.strategy.default_severity)),
        answer_schema=AuditAnswer.model_json_schema(),
        submit=f"/runs/{run_id}/phases/{phase_id}/auditor_result",
    )
    return ReviewNext(claimed=True, reason=f"claimed the review of {phase_id}", work=work)


def submit_review(ctx: ApiContext, run_id: str, phase_id: str, body: AuditorResult) -> Reviewed:
    """Store the verdict on its claim and continue the run: approved, the change is
    committed (after its checks pass again); rejected, the phase retries with the issues."""
    m = waiting_phase(ctx, run_id, phase_id, PhaseState.PENDING_REVIEW)
    try:
        answer = AuditAnswer.model_validate(body.model_dump(exclude={"token"}))
    except ValidationError as exc:
        issues = [
            {"loc": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise ApiError(
            422,
            "invalid_verdict",
            f"invalid verdict: {issues[0]['message']}",
            details={"issues": issues},
        ) from None
    parked = parked_review(ctx.engine, m) or {}
    verdict = verdict_of(answer, str(parked.get("default_severity", m.strategy.default_severity)))
    try:
        ctx.store.claims.verify(run_id, phase_id, AUDITOR, body.token)
        ctx.workers.check_capacity()
        with holding_lease(ctx, run_id):
            view = ctx.store.claims.submit(
                run_id, phase_id, AUDITOR, body.token, verdict.model_dump_json()
            )
    except ClaimError as exc:
        raise claim_error(exc) from None
    continues = continue_run(ctx, run_id, f"external review of {phase_id}")
    return Reviewed(
        claim_id=view.id,
        run_id=run_id,
        phase_id=phase_id,
        status=view.status,
        continues=continues,
        progress=f"/runs/{run_id}/progress",
        verdict=VerdictOut(
            approved=verdict.approved,
            model_approved=verdict.model_approved,
            overridden=verdict.overridden,
            summary=verdict.summary,
            issues=[i.model_dump() for i in verdict.issues],
        ),
    )
