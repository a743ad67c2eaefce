"""Request and response bodies of the API (pydantic v2), one class per shape.

Read models reuse the store's views (:mod:`autopack.store.views`), which already hold no
ORM state; the classes here add what the API shows on top of them. Request bodies forbid
unknown fields, so a typo is a 422 naming it rather than a silently ignored value.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from autopack.policy.states import PhaseState
from autopack.store.aggregates import RunListItem
from autopack.store.views import ApprovalView, AttemptView, RunDetail


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# runs -----------------------------------------------------------------------------------
class RunAccepted(_Response):
    """A run handed to the server's workers (``POST /runs/start``, ``/resume``)."""

    run_id: str
    state: str
    queued: bool = Field(description="A worker will execute (or continue) the run.")
    progress: str = Field(description="Where to follow it.")


class RunPage(_Response):
    """A page of runs, newest first."""

    items: list[RunListItem]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class LeaseOut(_Response):
    """Which worker executes the run, if any."""

    owner: str | None
    expires_at: datetime | None
    heartbeat_at: datetime | None
    live: bool


class RunOut(RunDetail):
    """A run with its tiers and phases, cancel flag and lease."""

    cancel_requested: bool
    lease: LeaseOut


class BudgetOut(_Response):
    """Tokens of one scope: cap, used, reserved for calls in flight, and left."""

    scope: str
    key: str
    cap: int
    used: int
    reserved: int
    left: int


class PhaseProgress(_Response):
    """One phase: state, attempts (each with models, tokens, outcomes) and its budget."""

    phase_id: str
    name: str
    state: str
    task_category: str
    complexity: str
    attempts_used: int
    max_attempts: int
    approval_required: bool
    budget: BudgetOut
    attempts: list[AttemptView]


class TierProgress(_Response):
    """One tier with its phases."""

    tier_id: str
    name: str
    state: str
    budget: BudgetOut
    phases: list[PhaseProgress]


class RunProgress(_Response):
    """Where a run stands: tiers, phases, attempts, budgets used and left."""

    run_id: str
    state: str
    phases_complete: int
    phase_count: int
    executing: bool = Field(description="A worker has the run (queued here, or holds its lease).")
    cancel_requested: bool
    failure_reason: str | None
    budget: BudgetOut
    attempts: dict[str, int] = Field(description="Run-wide: attempts, failures, ci_runs.")
    cost_usd: Decimal
    tiers: list[TierProgress]


class StatusUpdate(_Request):
    """``update_status``: the target state, through the transition table."""

    state: PhaseState
    reason: str = Field(default="", max_length=2000)
    explicit: bool = Field(
        default=False,
        description="A person's explicit retry/resume: allows edges such as FAILED → QUEUED.",
    )


class StatusChanged(_Response):
    """The recorded transition."""

    run_id: str
    phase_id: str
    from_state: str | None
    to_state: str
    event_id: int


class CancelOut(_Response):
    """After a cancel request."""

    run_id: str
    state: str
    cancel_requested: bool
    stopping: bool = Field(description="A worker executes the run; it stops at a safe point.")


# approvals ------------------------------------------------------------------------------
class ApprovalRequest(_Request):
    """Ask a person to decide about a run (or one of its phases)."""

    run_id: str = Field(min_length=1, max_length=128)
    phase_id: str | None = Field(default=None, min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=4000)


class Decision(_Request):
    """Approve, optionally with a reason."""

    reason: str = Field(default="", max_length=4000)


class Rejection(_Request):
    """Reject, with the reason (recorded with the decision)."""

    reason: str = Field(min_length=1, max_length=4000)


class ArtifactOut(_Response):
    """A file the engine wrote for a phase (path relative to the data directory)."""

    name: str
    path: str
    size: int
    content: str
    truncated: bool


class PendingApproval(ApprovalView):
    """A pending approval with what the person needs to decide."""

    run_state: str
    phase_state: str | None
    diff: ArtifactOut | None
    check_logs: list[ArtifactOut]


class DecisionOut(_Response):
    """What a decision did."""

    approval_id: int
    run_id: str
    phase_id: str | None
    decision: str
    decided_by: str
    run_state: str
    continues: bool = Field(description="The run continues on a worker (an approved phase).")


# integration ----------------------------------------------------------------------------
class CommitOut(_Response):
    """A commit of the integration branch with its Autopack trailers."""

    sha: str
    subject: str
    phase_id: str | None
    attempt: int | None
    model: str | None
    tokens: int | None


class PhaseCommitOut(_Response):
    """A phase and its commit (none until it is committed)."""

    phase_id: str
    state: str
    commit: str | None


class IntegrationStatus(_Response):
    """The run's integration branch: base, head, commits, ahead/behind a base ref."""

    run_id: str
    branch: str
    exists: bool
    base_commit: str | None
    head: str | None
    base_ref: str
    base_ref_commit: str | None
    ahead: int | None = Field(description="Commits on the branch that the base ref lacks.")
    behind: int | None = Field(description="Commits on the base ref that the branch lacks.")
    phases: list[PhaseCommitOut]
    commits: list[CommitOut]


# health ---------------------------------------------------------------------------------
class Health(_Response):
    """The process answers."""

    status: str


class Readiness(_Response):
    """The database answers and its schema is current."""

    status: str
    database: str
    revision: str | None
    head: str
    version: str
