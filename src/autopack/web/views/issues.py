"""The issues pages: the project backlog, one issue with its occurrences, a run's index.

Three-level issue tracking is the store's (:mod:`autopack.store`): phase issues, a run index
de-duplicated by ``issue_key``, a project backlog with aging and ``needs_cleanup``. These
view models add what a page needs on top of its read models (links, the badge of a status,
the evidence cut to a readable size) and keep the second thing the issues page shows: the
failures each attempt reported (the auditor's rejections, failed checks, refused edits...),
grouped across runs. Every read is a fixed number of queries, whatever the data size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from autopack.api.context import ApiContext
from autopack.store import (
    BacklogIssueView,
    IssueBacklogSummary,
    NotFoundError,
    PhaseIssueView,
    RunIssueView,
)
from autopack.web import queries
from autopack.web.views.common import failure_source

__all__ = [
    "STATUS_FILTERS",
    "BacklogRow",
    "IssueDetailPage",
    "IssueGroup",
    "IssuesPage",
    "OccurrenceRow",
    "RunIssueRow",
    "issue_detail_page",
    "issue_url",
    "issues_page",
    "run_issue_rows",
]

STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("", "open and needs cleanup"),
    ("open", "open"),
    ("needs_cleanup", "needs cleanup"),
    ("resolved", "resolved"),
    ("all", "every status"),
)
"""The backlog filter's values and labels ("": the store's default, what is not resolved)."""

MAX_EVIDENCE_CHARS = 20_000
MAX_KEY = 255
_KEY = re.compile(r"[^\x00-\x1f\x7f]+")
_STATUS_KINDS = {"open": "wait", "needs_cleanup": "warn", "resolved": "ok"}


def issue_url(issue_key: str) -> str:
    """The issue's page; every character of the key escaped (``/`` too, so that a browser
    never folds ``a/../b``), the route takes the rest of the path."""
    return "/ui/issues/" + quote(issue_key, safe="")


def status_kind(status: str) -> str:
    """How a backlog status is styled (its name is always shown as text too)."""
    return _STATUS_KINDS.get(status, "idle")


def severity_kind(severity: str) -> str:
    """A major issue stands out; a minor one does not."""
    return "bad" if severity == "major" else "idle"


@dataclass(frozen=True)
class BacklogRow:
    """A backlog issue as listed (and as the detail page's header shows it)."""

    issue: BacklogIssueView

    @property
    def url(self) -> str:
        return issue_url(self.issue.issue_key)

    @property
    def status_kind(self) -> str:
        return status_kind(self.issue.status)

    @property
    def severity_kind(self) -> str:
        return severity_kind(self.issue.severity)

    @property
    def last_run_url(self) -> str:
        return f"/ui/runs/{quote(self.issue.last_run_id, safe='')}"


@dataclass(frozen=True)
class IssueGroup:
    """Attempt failures of one kind with one message."""

    source: str
    error_class: str
    summary: str
    occurrences: int
    runs: int
    last_seen: datetime
    sample_run: str

    @property
    def run_url(self) -> str:
        return f"/ui/runs/{self.sample_run}"


@dataclass(frozen=True)
class IssuesPage:
    """The backlog (a page of it, filtered), its numbers, and the attempt failure groups."""

    backlog: list[BacklogRow]
    summary: IssueBacklogSummary
    status: str
    statuses: tuple[tuple[str, str], ...]
    page: int
    prev_url: str | None
    next_url: str | None
    auditor: list[IssueGroup]
    other: list[IssueGroup]


def _page_url(status: str, page: int) -> str:
    query = {k: v for k, v in (("status", status), ("page", str(page))) if v and v != "1"}
    return "/ui/issues" + (f"?{urlencode(query)}" if query else "")


def _failure_groups(ctx: ApiContext) -> list[IssueGroup]:
    groups = []
    for g in queries.failure_groups(ctx.store):
        message = g.message.strip()
        groups.append(
            IssueGroup(
                source=failure_source(g.error_class),
                error_class=g.error_class,
                summary=message.splitlines()[0][:300] if message else "",
                occurrences=g.occurrences,
                runs=g.runs,
                last_seen=g.last_seen,
                sample_run=g.sample_run,
            )
        )
    return groups


def issues_page(ctx: ApiContext, *, status: str, page: int, size: int) -> IssuesPage:
    """Backlog issues ``(page-1)*size`` to ``page*size`` with ``status`` ("": not resolved;
    one extra row tells whether more follow), the backlog summary, the failure groups."""
    found = ctx.store.issue_backlog(status=status or None, limit=size + 1, offset=(page - 1) * size)
    groups = _failure_groups(ctx)
    return IssuesPage(
        backlog=[BacklogRow(i) for i in found[:size]],
        summary=ctx.store.issue_backlog_summary(),
        status=status,
        statuses=STATUS_FILTERS,
        page=page,
        prev_url=_page_url(status, page - 1) if page > 1 else None,
        next_url=_page_url(status, page + 1) if len(found) > size else None,
        auditor=[g for g in groups if g.source == "auditor"],
        other=[g for g in groups if g.source != "auditor"],
    )


@dataclass(frozen=True)
class OccurrenceRow:
    """An issue as recorded in one phase of one run, with its evidence (cut if huge)."""

    issue: PhaseIssueView
    evidence: str
    evidence_cut: bool

    @property
    def run_url(self) -> str:
        return f"/ui/runs/{quote(self.issue.run_id, safe='')}"

    @property
    def phase_url(self) -> str:
        return f"{self.run_url}/phases/{quote(self.issue.phase_id, safe='')}"

    @property
    def severity_kind(self) -> str:
        return severity_kind(self.issue.severity)


@dataclass(frozen=True)
class IssueDetailPage:
    """One backlog issue and every phase it was recorded in."""

    row: BacklogRow
    occurrences: list[OccurrenceRow]


def issue_detail_page(ctx: ApiContext, issue_key: str) -> IssueDetailPage:
    """Read the issue (``NotFoundError`` for an unknown key, or one no issue can have)."""
    if len(issue_key) > MAX_KEY or not _KEY.fullmatch(issue_key):
        raise NotFoundError("issue", issue_key[:MAX_KEY])
    detail = ctx.store.backlog_issue(issue_key)
    occurrences = [
        OccurrenceRow(
            issue=o,
            evidence=o.evidence[:MAX_EVIDENCE_CHARS],
            evidence_cut=len(o.evidence) > MAX_EVIDENCE_CHARS,
        )
        for o in detail.occurrences
    ]
    return IssueDetailPage(row=BacklogRow(detail.issue), occurrences=occurrences)


@dataclass(frozen=True)
class RunIssueRow:
    """One issue key of a run's index."""

    issue: RunIssueView

    @property
    def url(self) -> str:
        return issue_url(self.issue.issue_key)

    @property
    def status_kind(self) -> str:
        return status_kind(self.issue.backlog_status)

    @property
    def severity_kind(self) -> str:
        return severity_kind(self.issue.severity)


def run_issue_rows(ctx: ApiContext, run_id: str) -> list[RunIssueRow]:
    """The run's issue index (``NotFoundError`` for an unknown run)."""
    return [RunIssueRow(i) for i in ctx.store.run_issue_index(run_id)]
