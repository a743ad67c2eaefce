"""``/runs/parallel``: start a batch of plans at once; follow it until its report is written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from autopack.api.deps import ContextDep, Operator, Reader
from autopack.api.schemas_parallel import (
    BATCH_ID_PATTERN,
    ParallelAccepted,
    ParallelStart,
    ParallelStatus,
)
from autopack.api.services import parallel as service

router = APIRouter(prefix="/runs/parallel", tags=["runs"])

BatchId = Annotated[str, Path(pattern=BATCH_ID_PATTERN, description="The batch id.")]


@router.post(
    "",
    response_model=ParallelAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run several plans at once, then land the successes through the merge queue",
    responses={409: {"description": "A run of that id exists already"}},
)
def start(body: ParallelStart, ctx: ContextDep, who: Operator) -> ParallelAccepted:
    """Returns at once; follow the batch with ``GET /runs/parallel/{batch_id}``."""
    return service.start_batch(ctx, body, actor=who.name)


@router.get(
    "/{batch_id}",
    response_model=ParallelStatus,
    summary="A batch: its runs' states, and its consolidated report once it is done",
)
def show(batch_id: BatchId, ctx: ContextDep, _who: Reader) -> ParallelStatus:
    """404 for an unknown batch."""
    return service.batch_status(ctx, batch_id)
