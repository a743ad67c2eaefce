"""``/runs/{run_id}/integration_status``: the run's branch, read from git without changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from autopack.api.deps import ContextDep, Reader
from autopack.api.schemas import IntegrationStatus
from autopack.api.services.integration import integration_status

router = APIRouter(tags=["runs"])


@router.get(
    "/runs/{run_id}/integration_status",
    response_model=IntegrationStatus,
    summary="Branch, base, commits per phase, ahead/behind a ref of the repository",
)
def status(
    run_id: Annotated[str, Path(min_length=1, max_length=128)],
    ctx: ContextDep,
    _who: Reader,
    base: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^-\s][^\s]*$")] = "HEAD",
) -> IntegrationStatus:
    """Before the run started, ``exists`` is false and only the phases are listed."""
    return integration_status(ctx, run_id, base_ref=base)
