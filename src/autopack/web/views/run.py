"""The run page: tiers, phases with their attempts, issues found, approvals, recent events.

Built from the API's progress service (tiers, phases, attempts, budgets, cost, whether a
worker has the run) plus the run's record, costs per phase and attempt, approvals and
events. :class:`RunPage` is also what the live fragment renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from autopack.api.context import ApiContext
from autopack.api.schemas import PhaseProgress
from autopack.api.services.runs import run_progress
from autopack.store.costs import attempt_costs
from autopack.web import queries
from autopack.web.views.attempts import AttemptRow, IssueRow, attempt_rows, issue_rows

__all__ = [
    "ApprovalRow",
    "EventRow",
    "PhaseRow",
    "RunPage",
    "TierBlock",
    "live_signature",
    "run_page",
]

MAX_EVENTS = 40


@dataclass(frozen=True)
class PhaseRow:
    """A phase: state, attempts, model, tokens and cost."""

    run_id: str
    phase_id: str
    name: str
    category: str
    complexity: str
    state: str
    attempts_used: int
    max_attempts: int
    model: str | None
    tokens: int
    token_cap: int
    cost: Decimal
    approval_required: bool
    attempts: list[AttemptRow]

    @property
    def url(self) -> str:
        return f"/ui/runs/{self.run_id}/phases/{self.phase_id}"


def phase_row(
    run_id: str, p: PhaseProgress, phase_cost: Decimal, costs: dict[int, Decimal]
) -> PhaseRow:
    """The row of one phase of the progress report."""
    model = next((a.builder_model for a in reversed(p.attempts) if a.builder_model), None)
    return PhaseRow(
        run_id=run_id,
        phase_id=p.phase_id,
        name=p.name,
        category=p.task_category,
        complexity=p.complexity,
        state=p.state,
        attempts_used=p.attempts_used,
        max_attempts=p.max_attempts,
        model=model,
        tokens=p.budget.used,
        token_cap=p.budget.cap,
        cost=phase_cost,
        approval_required=p.approval_required,
        attempts=attempt_rows(p.attempts, costs),
    )


@dataclass(frozen=True)
class TierBlock:
    """A tier with its phases."""

    tier_id: str
    name: str
    state: str
    tokens: int
    token_budget: int
    phases: list[PhaseRow]


@dataclass(frozen=True)
class ApprovalRow:
    """An approval asked for in this run and its decision."""

    id: int
    phase_id: str | None
    status: str
    reason: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class EventRow:
    """A recorded state change."""

    at: datetime
    entity: str
    key: str
    from_state: str | None
    to_state: str
    reason: str
    actor: str


@dataclass(frozen=True)
class RunPage:
    """Everything the run page (and its live fragment) shows."""

    run_id: str
    goal: str
    state: str
    failure_reason: str | None
    phases_complete: int
    phase_count: int
    tokens_used: int
    tokens_reserved: int
    token_cap: int
    cost: Decimal
    attempts: int
    failures: int
    executing: bool
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    tiers: list[TierBlock]
    issues: list[IssueRow]
    approvals: list[ApprovalRow]
    events: list[EventRow]
    event_count: int
    signature: str
    live: bool

    @property
    def pending_approvals(self) -> list[ApprovalRow]:
        return [a for a in self.approvals if a.status == "pending"]


def live_signature(ctx: ApiContext, run_id: str) -> queries.RunSignature | None:
    """The run's signature in the store, plus whether this server's workers hold a job for it
    (a job ends a moment after it releases the run's lease: the page must see that too)."""
    found = queries.run_signature(ctx.store, run_id)
    if found is None or not ctx.workers.busy(run_id):
        return found
    return queries.RunSignature(found.state, found.token + ".busy")


def run_page(ctx: ApiContext, run_id: str) -> RunPage:
    """Read the run (``NotFoundError`` for an unknown one)."""
    store = ctx.store
    signature = live_signature(ctx, run_id)  # read first: a later change is not missed
    progress = run_progress(ctx, run_id)
    detail = store.get_run(run_id)
    costs = attempt_costs(store, run_id)
    per_phase = queries.phase_costs(store, run_id)
    tiers, issues = [], []
    for t in progress.tiers:
        phases = [
            phase_row(run_id, p, per_phase.get(p.phase_id, Decimal(0)), costs) for p in t.phases
        ]
        tiers.append(TierBlock(t.tier_id, t.name, t.state, t.budget.used, t.budget.cap, phases))
        for p in t.phases:
            issues.extend(issue_rows(p.phase_id, p.attempts))
    events = store.events(run_id)
    approvals = [
        ApprovalRow(
            a.id,
            a.phase_id,
            a.status,
            a.reason,
            a.requested_at,
            a.decided_by,
            a.decided_at,
            a.decision_note,
        )
        for a in store.approvals(status=None, run_id=run_id)
    ]
    return RunPage(
        run_id=run_id,
        goal=detail.goal,
        state=progress.state,
        failure_reason=progress.failure_reason,
        phases_complete=progress.phases_complete,
        phase_count=progress.phase_count,
        tokens_used=progress.budget.used,
        tokens_reserved=progress.budget.reserved,
        token_cap=progress.budget.cap,
        cost=progress.cost_usd,
        attempts=progress.attempts.get("attempts", 0),
        failures=progress.attempts.get("failures", 0),
        executing=progress.executing,
        cancel_requested=progress.cancel_requested,
        created_at=detail.created_at,
        started_at=detail.started_at,
        finished_at=detail.finished_at,
        tiers=tiers,
        issues=issues,
        approvals=approvals,
        events=[
            EventRow(
                e.created_at, e.entity, e.entity_key, e.from_state, e.to_state, e.reason, e.actor
            )
            for e in reversed(events[-MAX_EVENTS:])
        ],
        event_count=len(events),
        signature=signature.token if signature else "",
        live=not (signature.terminal if signature else True),
    )
