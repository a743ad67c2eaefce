"""The runs list: a page of runs, newest first, filtered by state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from autopack.api.context import ApiContext
from autopack.policy.states import RunState

__all__ = ["RunRow", "RunsPage", "runs_page"]


@dataclass(frozen=True)
class RunRow:
    """One run as listed."""

    run_id: str
    goal: str
    state: str
    phases_complete: int
    phase_count: int
    tokens_used: int
    token_cap: int
    cost: Decimal
    created_at: datetime
    finished_at: datetime | None

    @property
    def url(self) -> str:
        return f"/ui/runs/{self.run_id}"


@dataclass(frozen=True)
class RunsPage:
    """A page of the runs list with its filter and neighbours."""

    rows: list[RunRow]
    state: str | None
    states: list[str]
    page: int
    prev_url: str | None
    next_url: str | None


def _url(state: str | None, page: int) -> str:
    query = {k: v for k, v in (("state", state), ("page", str(page))) if v and v != "1"}
    return "/ui" + (f"?{urlencode(query)}" if query else "")


def runs_page(ctx: ApiContext, *, state: str | None, page: int, size: int) -> RunsPage:
    """Runs ``(page-1)*size`` to ``page*size`` with their costs (the store's list, one query;
    one extra row tells whether more follow)."""
    offset = (page - 1) * size
    found = ctx.store.list_runs(state=state, limit=size + 1, offset=offset)
    rows = [
        RunRow(
            run_id=r.run_id,
            goal=r.goal,
            state=r.state,
            phases_complete=r.phases_complete,
            phase_count=r.phase_count,
            tokens_used=r.tokens_used,
            token_cap=r.token_cap,
            cost=r.cost_usd,
            created_at=r.created_at,
            finished_at=r.finished_at,
        )
        for r in found[:size]
    ]
    return RunsPage(
        rows=rows,
        state=state,
        states=[s.value for s in RunState],
        page=page,
        prev_url=_url(state, page - 1) if page > 1 else None,
        next_url=_url(state, page + 1) if len(found) > size else None,
    )
