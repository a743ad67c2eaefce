"""``/runs``: start, list, show, progress, update a phase's status, cancel, resume."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status

from autopack.api.deps import ContextDep, Operator, Reader
from autopack.api.schemas import (
    CancelOut,
    RunAccepted,
    RunOut,
    RunPage,
    RunProgress,
    StatusChanged,
    StatusUpdate,
)
from autopack.api.services import runs as service
from autopack.policy.states import RunState

router = APIRouter(prefix="/runs", tags=["runs"])

RunId = Annotated[str, Path(min_length=1, max_length=128, description="The run id.")]
PhaseId = Annotated[str, Path(min_length=1, max_length=128, description="The phase id.")]
BaseRef = Annotated[
    str,
    Query(
        alias="base",
        min_length=1,
        max_length=200,
        pattern=r"^[^-\s][^\s]*$",
        description="Ref of the workspace repository the integration branch starts from.",
    ),
]
PLAN_DOC = (
    "The plan, in any accepted shape: nested tiers→phases, flat {run, tiers, phases} with "
    "tier_id, or phases-only. Invalid plans get 422 with every issue located "
    "(e.g. tiers[0].phases[2].complexity) and nothing is stored."
)


@router.post(
    "/start",
    response_model=RunAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Validate a plan, store the run and start it on the server's workers",
)
def start(
    ctx: ContextDep,
    who: Operator,
    plan: Annotated[dict[str, Any], Body(description=PLAN_DOC)],
    base: BaseRef = "HEAD",
) -> RunAccepted:
    """Returns at once; follow the run with ``GET /runs/{run_id}/progress``."""
    return service.start_run(ctx, plan, base_ref=base, actor=who.name)


@router.get("", response_model=RunPage, summary="Runs, newest first")
def list_runs(
    ctx: ContextDep,
    _who: Reader,
    state: Annotated[RunState | None, Query(description="Only runs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> RunPage:
    """A page of runs with their phase counts."""
    return service.page_runs(ctx, state=state.value if state else None, limit=limit, offset=offset)


@router.get("/{run_id}", response_model=RunOut, summary="A run with its tiers and phases")
def show(run_id: RunId, ctx: ContextDep, _who: Reader) -> RunOut:
    """404 for an unknown run."""
    return service.show_run(ctx, run_id)


@router.get(
    "/{run_id}/progress",
    response_model=RunProgress,
    summary="Tiers, phases, attempts, budgets used and left",
)
def progress(run_id: RunId, ctx: ContextDep, _who: Reader) -> RunProgress:
    """Poll this to follow a run."""
    return service.run_progress(ctx, run_id)


@router.post(
    "/{run_id}/phases/{phase_id}/update_status",
    response_model=StatusChanged,
    summary="Move a phase to another state, through the transition table",
    responses={
        409: {
            "description": "Illegal transition (details list the allowed targets), "
            "or the run is executing"
        }
    },
)
def update_status(
    run_id: RunId, phase_id: PhaseId, update: StatusUpdate, ctx: ContextDep, who: Operator
) -> StatusChanged:
    """Refused while a worker executes the run."""
    return service.update_phase_status(ctx, run_id, phase_id, update, actor=who.name)


@router.post("/{run_id}/cancel", response_model=CancelOut, summary="Stop a run")
def cancel(run_id: RunId, ctx: ContextDep, who: Operator) -> CancelOut:
    """An idle run ends now; an executing one before its next attempt (``stopping``)."""
    return service.cancel_run(ctx, run_id, actor=who.name)


@router.post(
    "/{run_id}/resume",
    response_model=RunAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Continue a run on the server's workers",
    responses={409: {"description": "The run has ended, or another worker holds its lease"}},
)
def resume(run_id: RunId, ctx: ContextDep, _who: Operator) -> RunAccepted:
    """After a crash or a stop: the worker repairs the workspace and goes on."""
    return service.resume_run(ctx, run_id)
