"""The store's issue-tracking methods (a mixin of :class:`autopack.store.Store`).

Each method is one transaction over :mod:`autopack.store.issues`; see there and
:mod:`autopack.issues` for the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from autopack.store import issue_reads as reads
from autopack.store import issues as writes
from autopack.store.issue_views import (
    BacklogIssueDetail,
    BacklogIssueView,
    IssueBacklogSummary,
    IssueInput,
    PhaseIssueView,
    RunIssueView,
)

__all__ = ["IssueFacade"]


class IssueFacade:
    """Phase issues, the run index and the project backlog."""

    transaction: Callable[[], AbstractContextManager[Session]]

    def record_issues(
        self, run_id: str, phase_id: str, issues: Sequence[IssueInput]
    ) -> list[PhaseIssueView]:
        """Record a phase's issues (repeats add occurrences); the phase rows written.

        Raises ``NotFoundError`` for an unknown run or phase, ``ValueError`` for a severity
        other than minor or major.
        """
        with self.transaction() as session:
            return writes.record_issues(session, run_id, phase_id, issues)

    def phase_issues(self, run_id: str, phase_id: str | None = None) -> list[PhaseIssueView]:
        """A run's phase issues (one phase's when ``phase_id`` is given)."""
        with self.transaction() as session:
            return reads.phase_issues(session, run_id, phase_id)

    def run_issue_index(self, run_id: str) -> list[RunIssueView]:
        """A run's issues de-duplicated by key (``NotFoundError`` for an unknown run)."""
        with self.transaction() as session:
            return reads.run_issue_index(session, run_id)

    def issue_backlog(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[BacklogIssueView]:
        """Backlog issues, most aged first; ``status`` None = open + needs_cleanup, "all"."""
        with self.transaction() as session:
            return reads.issue_backlog(session, status=status, limit=limit, offset=offset)

    def backlog_issue(self, issue_key: str) -> BacklogIssueDetail:
        """One backlog issue with every occurrence (``NotFoundError`` when unknown)."""
        with self.transaction() as session:
            return reads.backlog_issue(session, issue_key)

    def resolve_issues(self, run_id: str, keys: Sequence[str]) -> list[str]:
        """Resolve the unresolved issues among ``keys`` by ``run_id``; the keys resolved."""
        with self.transaction() as session:
            return writes.resolve_issues(session, run_id, keys)

    def issue_backlog_summary(self) -> IssueBacklogSummary:
        """Counts over the backlog."""
        with self.transaction() as session:
            return reads.issue_backlog_summary(session)

    def run_issue_counts(self, run_id: str) -> dict[str, int]:
        """``{"major": n, "minor": n}``: distinct keys the run recorded, by worst severity."""
        with self.transaction() as session:
            return reads.run_issue_counts(session, run_id)

    def tier_cleanup_keys(self, run_id: str, tier_id: str) -> list[str]:
        """Keys recorded in the run's tier whose backlog status is needs_cleanup."""
        with self.transaction() as session:
            return reads.tier_cleanup_keys(session, run_id, tier_id)

    def unresolved_issue_places(self) -> dict[str, tuple[str | None, frozenset[str]]]:
        """Unresolved issues: key → (file, phase ids that recorded it since opened)."""
        with self.transaction() as session:
            return reads.unresolved_places(session)

    def iter_backlog(
        self, *, status: str | None = None, page: int = 500
    ) -> Iterator[BacklogIssueView]:
        """Every backlog issue with ``status``, page by page."""
        offset = 0
        while True:
            chunk = self.issue_backlog(status=status, limit=page, offset=offset)
            yield from chunk
            if len(chunk) < page:
                return
            offset += page
