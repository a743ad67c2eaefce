"""External work behind the routes: what waits, builders claim and submit (auditors: see
:mod:`.external_review`, which shares the helpers here).

The engine parks a phase whose builder (or auditor) is external and the run waits in
``GATE`` (see :mod:`autopack.engine.external`). Here a claim hands out the work with a
token and a lease; a submission is checked, stored on its claim, and the run continues on
the server's workers, which apply it as they would a model's answer.

A builder's answer is dry-run first (edit engine, governance, integrity) while the API holds
the run's lease: an answer that cannot apply gets 422 with the engine's message, nothing is
written, no attempt is recorded or counted, and the claim stays active, so its holder may
send a corrected answer until the lease ends (the refusal is counted on the claim). What
fails later — the checks, the deliverables, the review — is a recorded attempt like a
model's, and the phase waits for the next external attempt with that feedback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from autopack.agents import acceptance_criteria
from autopack.api.context import ApiContext
from autopack.api.errors import ApiError
from autopack.api.schemas_external import (
    BuilderNext,
    BuilderResult,
    BuilderWork,
    ClaimOut,
    Feedback,
    PhaseBrief,
    PromptMessage,
    RenewRequest,
    Submitted,
    WaitingOut,
    WaitingWork,
)
from autopack.engine.external import AUDITOR, BUILDER
from autopack.engine.external_work import FORMATS, Material, builder_brief, check_answer, material
from autopack.policy.states import PhaseState, RunState
from autopack.store import LeaseHeldError
from autopack.store.claims import ClaimError, ClaimHeldError, ClaimView
from autopack.store.models import utcnow
from autopack.store.views import RunDetail

WAITS = {PhaseState.GATE: BUILDER, PhaseState.PENDING_REVIEW: AUDITOR}
_MOMENT = 60.0  # seconds: the lease the API holds while it reads or checks the worktree


def claim_out(view: ClaimView, token: str | None = None) -> ClaimOut:
    """A claim as the API shows it (its token only when just claimed)."""
    return ClaimOut(
        claim_id=view.id,
        run_id=view.run_id,
        phase_id=view.phase_id,
        role=view.role,
        claimed_by=view.claimed_by,
        status=view.status,
        expires_at=view.expires_at,
        token=token,
    )


def claim_error(exc: ClaimError) -> ApiError:
    """403 for a token that opens no such claim, 409 for an expired or used one."""
    status = 403 if exc.code == "claim_invalid" else 409
    return ApiError(status, exc.code, str(exc))


def open_run(ctx: ApiContext, run_id: str) -> RunDetail:
    """The run (404), refused (409) once it has ended."""
    run = ctx.store.get_run(run_id)
    if RunState(run.state).is_terminal():
        raise ApiError(
            409,
            "run_ended",
            f"run {run_id!r} has ended ({run.state})",
            details={"state": run.state},
        )
    return run


def busy(ctx: ApiContext, run_id: str) -> bool:
    """A worker has the run: queued or running here, or holding its lease anywhere."""
    return ctx.workers.busy(run_id) or ctx.store.lease(run_id).live()


@contextmanager
def holding_lease(ctx: ApiContext, run_id: str) -> Iterator[None]:
    """The run's lease for one step (:class:`LeaseHeldError` while a worker has it)."""
    if ctx.workers.busy(run_id):
        until = ctx.store.lease(run_id).expires_at or utcnow()
        raise LeaseHeldError(run_id, "this server's workers", until)
    owner = f"api:{uuid.uuid4().hex[:12]}"
    ctx.store.acquire_lease(run_id, owner, _MOMENT)
    try:
        yield
    finally:
        ctx.store.release_lease(run_id, owner)


def waiting_phase(ctx: ApiContext, run_id: str, phase_id: str, state: PhaseState) -> Material:
    """The phase, which must wait in ``state`` while no worker has the run (else 409)."""
    open_run(ctx, run_id)
    m = material(ctx.engine, run_id, phase_id)
    if m.view.state != state:
        raise ApiError(
            409,
            "not_waiting",
            f"phase {phase_id!r} is {m.view.state}: it does not wait for an external "
            f"{WAITS[state]}",
            details={"state": m.view.state},
        )
    if busy(ctx, run_id):
        raise ApiError(409, "run_busy", f"run {run_id!r} is being executed; try again later")
    return m


def phase_brief(m: Material) -> PhaseBrief:
    """The phase as the plan states it, with what proves it."""
    p = m.phase
    return PhaseBrief(
        phase_id=p.phase_id,
        name=p.name,
        description=p.description,
        task_category=p.task_category,
        complexity=p.complexity.value,
        scope=p.scope.model_dump(mode="json"),
        acceptance=acceptance_criteria(p),
    )


def continue_run(ctx: ApiContext, run_id: str, what: str) -> bool:
    """Queue a worker to continue the run; ``False`` when none could be queued (resume it)."""
    execute, notify = ctx.dispatcher.execute, ctx.notify_for(run_id)
    try:
        ctx.workers.submit(run_id, what, lambda: execute(run_id, notify=notify))
    except ApiError:
        return False
    return True


# what waits -------------------------------------------------------------------------------
def waiting(ctx: ApiContext, run_id: str) -> WaitingOut:
    """Phases of the run waiting for external work, with their live claims (no tokens)."""
    run = ctx.store.get_run(run_id)
    items = []
    ended = RunState(run.state).is_terminal()
    for phase in [] if ended else run.phases:
        role = WAITS.get(PhaseState(phase.state))
        if role is not None:
            live = ctx.store.claims.live(run_id, phase.phase_id, role)
            claim = claim_out(live) if live is not None else None
            items.append(
                WaitingWork(phase_id=phase.phase_id, role=role, state=phase.state, claim=claim)
            )
    return WaitingOut(
        run_id=run_id, run_state=run.state, executing=busy(ctx, run_id), waiting=items
    )


# builders ---------------------------------------------------------------------------------
def claim_build(ctx: ApiContext, run_id: str, *, who: str, lease_seconds: int) -> BuilderNext:
    """Claim the first phase waiting for an external builder that nobody holds."""
    run = open_run(ctx, run_id)
    if busy(ctx, run_id):
        return BuilderNext(claimed=False, reason="the run is being executed; try again later")
    reasons = []
    for phase in (p for p in run.phases if p.state == PhaseState.GATE):
        held = ctx.store.claims.live(run_id, phase.phase_id, BUILDER)
        if held is not None:
            reasons.append(str(ClaimHeldError(held)))
            continue
        m = material(ctx.engine, run_id, phase.phase_id)
        try:
            with holding_lease(ctx, run_id):
                brief = builder_brief(ctx.engine, m)
                view, token = ctx.store.claims.claim(
                    run_id, phase.phase_id, BUILDER, owner=who, ttl=lease_seconds
                )
        except LeaseHeldError:
            return BuilderNext(claimed=False, reason="the run is being executed; try again later")
        except ClaimHeldError as exc:
            reasons.append(str(exc))
            continue
        work = BuilderWork(
            claim=claim_out(view, token),
            attempt=brief.attempt,
            attempts_left=brief.attempts_left,
            phase=phase_brief(m),
            prompt=[PromptMessage(role=x.role, content=x.content) for x in brief.prompt.messages],
            estimated_tokens=brief.prompt.estimated_tokens,
            feedback=Feedback(
                previous_errors=list(brief.errors),
                hints=list(brief.hints),
                last_attempt=brief.last_attempt,
            ),
            formats=list(FORMATS),
            submit=f"/runs/{run_id}/phases/{phase.phase_id}/builder_result",
        )
        return BuilderNext(claimed=True, reason=f"claimed {phase.phase_id}", work=work)
    reason = "; ".join(reasons) or "no phase waits for an external builder"
    return BuilderNext(claimed=False, reason=reason)


def submit_build(ctx: ApiContext, run_id: str, phase_id: str, body: BuilderResult) -> Submitted:
    """Check the answer (422 with the engine's message when it cannot apply), store it on
    its claim and continue the run with it."""
    m = waiting_phase(ctx, run_id, phase_id, PhaseState.GATE)
    try:
        claim = ctx.store.claims.verify(run_id, phase_id, BUILDER, body.token)
        ctx.workers.check_capacity()
        with holding_lease(ctx, run_id):
            result = check_answer(ctx.engine, m, body.answer)
            if not result.ok:
                message = result.for_model()
                ctx.store.claims.refuse(claim.id, message)
                raise ApiError(
                    422,
                    "answer_refused",
                    message,
                    details={"outcome": result.outcome.value, "result": result.to_dict()},
                )
            view = ctx.store.claims.submit(run_id, phase_id, BUILDER, body.token, body.answer)
    except ClaimError as exc:
        raise claim_error(exc) from None
    continues = continue_run(ctx, run_id, f"external build of {phase_id}")
    return Submitted(
        claim_id=view.id,
        run_id=run_id,
        phase_id=phase_id,
        status=view.status,
        continues=continues,
        progress=f"/runs/{run_id}/progress",
    )


def renew(ctx: ApiContext, run_id: str, phase_id: str, body: RenewRequest) -> ClaimOut:
    """Extend an active claim (builder or auditor) from now."""
    ctx.store.get_run(run_id)
    for role in (BUILDER, AUDITOR):
        try:
            view = ctx.store.claims.renew(run_id, phase_id, role, body.token, body.lease_seconds)
        except ClaimError as exc:
            if exc.code != "claim_invalid" or role == AUDITOR:
                raise claim_error(exc) from None
            continue
        return claim_out(view)
    raise AssertionError("unreachable")  # pragma: no cover
