"""The issue backlog page.

Three-level issue tracking (phase issue files, a run index, a project backlog with aging)
is not recorded by this version yet. What is recorded, and shown here, are the failures
each attempt reported (the auditor's rejections, failed checks, refused edits...), grouped
across runs. Nothing is made up: an empty database shows an empty table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from autopack.api.context import ApiContext
from autopack.web import queries
from autopack.web.views.common import failure_source

__all__ = ["IssueGroup", "IssuesPage", "issues_page"]


@dataclass(frozen=True)
class IssueGroup:
    """Failures of one kind with one message."""

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
    """The failure groups, auditor issues first."""

    auditor: list[IssueGroup]
    other: list[IssueGroup]


def issues_page(ctx: ApiContext) -> IssuesPage:
    """Group the attempts' failures (one aggregate query)."""
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
    return IssuesPage(
        auditor=[g for g in groups if g.source == "auditor"],
        other=[g for g in groups if g.source != "auditor"],
    )
