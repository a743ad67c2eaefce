"""Read models and the input of issue tracking (see :mod:`autopack.issues` for the rules).

Frozen dataclasses, never ORM objects: the CLI, the API and the dashboard read these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "BacklogIssueDetail",
    "BacklogIssueView",
    "IssueBacklogSummary",
    "IssueInput",
    "IssueSeverity",
    "IssueStatus",
    "PhaseIssueView",
    "RunIssueView",
]

IssueSeverity = Literal["minor", "major"]
IssueStatus = Literal["open", "needs_cleanup", "resolved"]


@dataclass(frozen=True)
class IssueInput:
    """One issue to record; ``issue_key`` None → :func:`autopack.issues.keys.issue_key`."""

    issue_key: str | None
    severity: IssueSeverity
    source: str
    category: str
    title: str
    evidence: str = ""
    file: str | None = None


@dataclass(frozen=True)
class PhaseIssueView:
    """An issue as one phase of one run recorded it (level 1)."""

    run_id: str
    tier_id: str
    phase_id: str
    issue_key: str
    severity: str
    source: str
    category: str
    title: str
    evidence: str
    file: str | None
    occurrences: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class RunIssueView:
    """An issue of one run, de-duplicated by key over its phases (level 2)."""

    issue_key: str
    severity: str
    sources: list[str]
    category: str
    title: str
    file: str | None
    phases: list[str]
    tiers: list[str]
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    backlog_status: str


@dataclass(frozen=True)
class BacklogIssueView:
    """An issue of the project backlog across runs (level 3).

    ``age_in_runs`` / ``age_in_tiers``: distinct runs / distinct (run, tier) pairs that
    recorded it since it was (re)opened. ``occurrences``: every recorded occurrence, all time.
    """

    issue_key: str
    severity: str
    source: str
    category: str
    title: str
    file: str | None
    status: IssueStatus
    age_in_runs: int
    age_in_tiers: int
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by_run: str | None
    last_run_id: str
    cleanup_after_runs: int = 0
    cleanup_after_tiers: int = 0
    reopened: int = 0


@dataclass(frozen=True)
class BacklogIssueDetail:
    """A backlog issue and every occurrence of it (oldest first)."""

    issue: BacklogIssueView
    occurrences: list[PhaseIssueView]


@dataclass(frozen=True)
class IssueBacklogSummary:
    """Counts over the backlog.

    ``total``, ``by_status``, ``by_severity``, ``by_source`` and ``by_category`` count every
    issue, resolved ones included; ``open_by_severity`` counts the unresolved ones;
    ``oldest_open_age_in_runs`` is the largest ``age_in_runs`` of an unresolved issue;
    ``occurrences`` sums every recorded occurrence.
    """

    total: int
    by_status: dict[str, int]
    by_severity: dict[str, int]
    by_source: dict[str, int]
    by_category: dict[str, int]
    needs_cleanup: int
    oldest_open_age_in_runs: int
    occurrences: int
    open_by_severity: dict[str, int] = field(default_factory=dict)
