"""External builders and auditors: claim a waiting phase's build or review, submit it.

``builder`` keys (and operators, and the admin key) do external work; readers may see what
waits. A claim's token is shown once and goes with every submission.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from autopack.api.auth import Permission, Principal
from autopack.api.deps import ContextDep, Reader, requires
from autopack.api.schemas_external import (
    AuditorResult,
    BuilderNext,
    BuilderResult,
    ClaimOut,
    ClaimRequest,
    RenewRequest,
    Reviewed,
    ReviewNext,
    Submitted,
    WaitingOut,
)
from autopack.api.services import external as service
from autopack.api.services import external_review as review_service

router = APIRouter(prefix="/runs/{run_id}/phases", tags=["external work"])

Worker = Annotated[Principal, Depends(requires(Permission.EXTERNAL_WORK))]
RunId = Annotated[str, Path(min_length=1, max_length=128, description="The run id.")]
PhaseId = Annotated[str, Path(min_length=1, max_length=128, description="The phase id.")]
_CLAIM_ERRORS = {
    403: {"description": "The token opens no claim on this work (claim_invalid)"},
    409: {
        "description": "The claim expired or was used, the phase does not wait, the run "
        "ended or is being executed"
    },
}


@router.get("/next", response_model=WaitingOut, summary="Phases waiting for external work")
def next_waiting(run_id: RunId, ctx: ContextDep, _who: Reader) -> WaitingOut:
    """Which phases wait for an external builder or auditor, and who holds them (no tokens)."""
    return service.waiting(ctx, run_id)


@router.post(
    "/next",
    response_model=BuilderNext,
    summary="Claim the next phase waiting for an external builder",
    responses={409: {"description": "The run has ended"}},
)
def claim_next(
    run_id: RunId, ctx: ContextDep, who: Worker, body: ClaimRequest | None = None
) -> BuilderNext:
    """The phase, the Builder prompt Autopack would send (redacted), the previous attempt's
    feedback and a claim token valid for ``lease_seconds``; ``claimed: false`` with the
    reason when nothing can be claimed now (nothing waits, someone holds it, the run runs).
    An expired claim can be claimed again."""
    lease = body.lease_seconds if body else ClaimRequest().lease_seconds
    return service.claim_build(ctx, run_id, who=who.name, lease_seconds=lease)


@router.post(
    "/{phase_id}/builder_result",
    response_model=Submitted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit an external builder's answer (edit protocol or unified diff)",
    responses={
        422: {"description": "The answer cannot apply: the engine's message; nothing changed"},
        **_CLAIM_ERRORS,
    },
)
def builder_result(
    run_id: RunId, phase_id: PhaseId, body: BuilderResult, ctx: ContextDep, _who: Worker
) -> Submitted:
    """Checked at once (edit engine, governance, integrity); then applied, checked and
    reviewed on the server's workers as a model's answer would be."""
    return service.submit_build(ctx, run_id, phase_id, body)


@router.post(
    "/{phase_id}/auditor_request",
    response_model=ReviewNext,
    summary="Claim the external review of the change waiting in a phase",
    responses={409: {"description": "The run has ended"}},
)
def auditor_request(
    run_id: RunId,
    phase_id: PhaseId,
    ctx: ContextDep,
    who: Worker,
    body: ClaimRequest | None = None,
) -> ReviewNext:
    """The diff, the check results, the Auditor prompt and the verdict's JSON schema."""
    lease = body.lease_seconds if body else ClaimRequest().lease_seconds
    return review_service.claim_review(ctx, run_id, phase_id, who=who.name, lease_seconds=lease)


@router.post(
    "/{phase_id}/auditor_result",
    response_model=Reviewed,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit an external auditor's verdict",
    responses={422: {"description": "The verdict is malformed"}, **_CLAIM_ERRORS},
)
def auditor_result(
    run_id: RunId, phase_id: PhaseId, body: AuditorResult, ctx: ContextDep, _who: Worker
) -> Reviewed:
    """Approved: the change is committed once its checks pass again. Rejected (or any
    major/critical issue): the phase tries again with the issues as feedback."""
    return review_service.submit_review(ctx, run_id, phase_id, body)


@router.post(
    "/{phase_id}/renew_claim",
    response_model=ClaimOut,
    summary="Extend an external builder's or auditor's claim",
    responses=_CLAIM_ERRORS,
)
def renew_claim(
    run_id: RunId, phase_id: PhaseId, body: RenewRequest, ctx: ContextDep, _who: Worker
) -> ClaimOut:
    """The claim now expires ``lease_seconds`` from now."""
    return service.renew(ctx, run_id, phase_id, body)
