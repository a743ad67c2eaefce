"""``/approval``: ask for a decision, list what waits, approve or reject with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from autopack.api.deps import Approver, ContextDep, Reader, Requester
from autopack.api.schemas import (
    ApprovalRequest,
    Decision,
    DecisionOut,
    PendingApproval,
    Rejection,
)
from autopack.api.services import approvals as service
from autopack.store.views import ApprovalView

router = APIRouter(prefix="/approval", tags=["approvals"])

ApprovalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The approval id.")]


@router.post(
    "/request",
    response_model=ApprovalView,
    status_code=status.HTTP_201_CREATED,
    summary="Ask a person to decide about a run or one of its phases",
)
def request(body: ApprovalRequest, ctx: ContextDep, who: Requester) -> ApprovalView:
    """Operators and approvers may ask."""
    return service.request_approval(ctx, body, actor=who.name)


@router.get(
    "/pending",
    response_model=list[PendingApproval],
    summary="Pending approvals with the pending diff and the phase's check logs",
)
def pending(
    ctx: ContextDep,
    _who: Reader,
    run_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[PendingApproval]:
    """Oldest first."""
    return service.pending(ctx, run_id=run_id, limit=limit)


@router.post(
    "/{approval_id}/approve",
    response_model=DecisionOut,
    summary="Approve: a waiting phase is applied and the run continues by itself",
)
def approve(
    approval_id: ApprovalId, ctx: ContextDep, who: Approver, body: Decision | None = None
) -> DecisionOut:
    """409 when already decided or while the run executes."""
    reason = body.reason if body else ""
    return service.approve(ctx, approval_id, reason=reason, by=who.name)


@router.post(
    "/{approval_id}/reject",
    response_model=DecisionOut,
    summary="Reject with a reason: the phase fails and the run ends for review",
)
def reject(approval_id: ApprovalId, body: Rejection, ctx: ContextDep, who: Approver) -> DecisionOut:
    """The reason is recorded with the decision."""
    return service.reject(ctx, approval_id, reason=body.reason, by=who.name)
