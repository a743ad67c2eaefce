"""The approvals inbox: what waits for a decision, with the diff and check output."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from autopack.api.context import ApiContext
from autopack.api.schemas import ArtifactOut
from autopack.api.services import approvals as service
from autopack.web.views.common import DiffLine, diff_lines

__all__ = ["InboxItem", "inbox"]

MAX_ITEMS = 50


@dataclass(frozen=True)
class InboxItem:
    """One pending approval."""

    id: int
    run_id: str
    phase_id: str | None
    reason: str
    requested_at: datetime
    run_state: str
    phase_state: str | None
    diff: list[DiffLine]
    diff_truncated: bool
    diff_path: str | None
    logs: list[ArtifactOut]

    @property
    def run_url(self) -> str:
        return f"/ui/runs/{self.run_id}"

    @property
    def phase_url(self) -> str | None:
        return f"/ui/runs/{self.run_id}/phases/{self.phase_id}" if self.phase_id else None

    @property
    def subject(self) -> str:
        return f"{self.phase_id} of {self.run_id}" if self.phase_id else f"run {self.run_id}"


def inbox(ctx: ApiContext) -> list[InboxItem]:
    """Pending approvals, oldest first (the API's own view of them)."""
    items = []
    for p in service.pending(ctx, run_id=None, limit=MAX_ITEMS):
        lines, cut = diff_lines(p.diff.content) if p.diff else ([], False)
        items.append(
            InboxItem(
                id=p.id,
                run_id=p.run_id,
                phase_id=p.phase_id,
                reason=p.reason,
                requested_at=p.requested_at,
                run_state=p.run_state,
                phase_state=p.phase_state,
                diff=lines,
                diff_truncated=cut or bool(p.diff and p.diff.truncated),
                diff_path=p.diff.path if p.diff else None,
                logs=list(p.check_logs),
            )
        )
    return items
