"""Issue tracking behind the routes: record an issue, a run's index, the backlog, its summary.

Each function takes the :class:`~autopack.api.context.ApiContext` and plain values, calls the
store's issue methods (which own the rules: de-duplication by ``issue_key``, aging,
``needs_cleanup``) and returns a schema; an unknown run, phase or issue raises the store's
``NotFoundError`` (404 at the boundary).
"""

from __future__ import annotations

from autopack.api.context import ApiContext
from autopack.api.schemas_issues import (
    BacklogIssueDetailOut,
    BacklogIssueOut,
    BacklogPage,
    IssueBacklogSummaryOut,
    IssueRecord,
    PhaseIssueOut,
    RunIssueIndex,
    RunIssueOut,
    StatusFilter,
)
from autopack.store import IssueInput


def record_issue(ctx: ApiContext, run_id: str, phase_id: str, body: IssueRecord) -> PhaseIssueOut:
    """Record one issue in a phase; the stored phase issue with its occurrence count.

    Title and evidence are stored redacted: an agent may paste output holding a secret.
    """
    redact = ctx.engine.redactor.redact
    issue = IssueInput(
        issue_key=body.issue_key,
        severity=body.severity,
        source=body.source,
        category=body.category,
        title=redact(body.title),
        evidence=redact(body.evidence),
        file=body.file,
    )
    [stored] = ctx.store.record_issues(run_id, phase_id, [issue])
    return PhaseIssueOut.model_validate(stored)


def run_index(ctx: ApiContext, run_id: str) -> RunIssueIndex:
    """The run's issues, one per ``issue_key`` (404 for an unknown run)."""
    items = [RunIssueOut.model_validate(i) for i in ctx.store.run_issue_index(run_id)]
    return RunIssueIndex(run_id=run_id, items=items)


def backlog_page(
    ctx: ApiContext, *, status: StatusFilter | None, limit: int, offset: int
) -> BacklogPage:
    """``limit`` backlog issues from ``offset`` (one more is read to know if a page follows)."""
    found = ctx.store.issue_backlog(status=status, limit=limit + 1, offset=offset)
    return BacklogPage(
        items=[BacklogIssueOut.model_validate(i) for i in found[:limit]],
        status=status,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(found) > limit else None,
    )


def backlog_issue(ctx: ApiContext, issue_key: str) -> BacklogIssueDetailOut:
    """One backlog issue and its occurrences in every phase (404 for an unknown key)."""
    return BacklogIssueDetailOut.model_validate(ctx.store.backlog_issue(issue_key))


def backlog_summary(ctx: ApiContext) -> IssueBacklogSummaryOut:
    """Counts by status, severity, source and category; the oldest open issue's age."""
    return IssueBacklogSummaryOut.model_validate(ctx.store.issue_backlog_summary())
