"""Issue tracking: record an issue in a phase, a run's index, the project backlog, its summary.

Recording is external work (``operator`` and ``builder`` keys, and the admin key): agents
and people report what they found. Everything else is a read. An issue key may hold ``/``
and ``:`` (``lint:unused-import:src/app.py``), so the detail route takes the rest of the
path; ``/project/issues/backlog`` is the list, declared first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from autopack.api.auth import Permission, Principal
from autopack.api.deps import ContextDep, Reader, requires
from autopack.api.schemas_issues import (
    KEY_PATTERN,
    MAX_KEY,
    BacklogIssueDetailOut,
    BacklogPage,
    IssueBacklogSummaryOut,
    IssueRecord,
    PhaseIssueOut,
    RunIssueIndex,
    StatusFilter,
)
from autopack.api.services import issues as service

router = APIRouter(tags=["issues"])

Recorder = Annotated[Principal, Depends(requires(Permission.EXTERNAL_WORK, Permission.RUN_CONTROL))]
RunId = Annotated[str, Path(min_length=1, max_length=128, description="The run id.")]
PhaseId = Annotated[str, Path(min_length=1, max_length=128, description="The phase id.")]
IssueKeyPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_KEY,
        pattern=KEY_PATTERN,
        description="The issue key (may contain `/` and `:`).",
    ),
]


@router.post(
    "/runs/{run_id}/phases/{phase_id}/record_issue",
    response_model=PhaseIssueOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record an issue found in a phase",
    responses={404: {"description": "No such run, or no such phase in it"}},
)
def record_issue(
    run_id: RunId, phase_id: PhaseId, body: IssueRecord, ctx: ContextDep, _who: Recorder
) -> PhaseIssueOut:
    """Recording the same ``issue_key`` again in the phase counts one more occurrence; the
    run index and the project backlog (with its aging) follow."""
    return service.record_issue(ctx, run_id, phase_id, body)


@router.get(
    "/runs/{run_id}/issues/index",
    response_model=RunIssueIndex,
    summary="A run's issues, one per issue key across its phases",
    responses={404: {"description": "No such run"}},
)
def run_index(run_id: RunId, ctx: ContextDep, _who: Reader) -> RunIssueIndex:
    """Each with the phases and tiers it was seen in and its backlog status."""
    return service.run_index(ctx, run_id)


@router.get(
    "/project/issues/backlog",
    response_model=BacklogPage,
    summary="The project's issue backlog, with aging",
)
def backlog(
    ctx: ContextDep,
    _who: Reader,
    status: Annotated[
        StatusFilter | None,
        Query(description="open, needs_cleanup, resolved or all; default: open and needs_cleanup."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Issues per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> BacklogPage:
    """A page of the backlog; ``next_offset`` is null on the last page."""
    return service.backlog_page(ctx, status=status, limit=limit, offset=offset)


@router.get(
    "/project/issues/{issue_key:path}",
    response_model=BacklogIssueDetailOut,
    summary="A backlog issue and every phase it was seen in",
    responses={404: {"description": "No issue with this key"}},
)
def backlog_issue(issue_key: IssueKeyPath, ctx: ContextDep, _who: Reader) -> BacklogIssueDetailOut:
    """The key may contain ``/``: the rest of the path is the key."""
    return service.backlog_issue(ctx, issue_key)


@router.get(
    "/reports/issue_backlog_summary",
    response_model=IssueBacklogSummaryOut,
    summary="The backlog in numbers: by status, severity, source and category",
)
def backlog_summary(ctx: ContextDep, _who: Reader) -> IssueBacklogSummaryOut:
    """Computed with aggregate SQL: a fixed number of queries however large the backlog."""
    return service.backlog_summary(ctx)
