"""Read models handed to the CLI and API, so no caller holds a live ORM object."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class EventView(_View):
    """One recorded state change."""

    id: int
    run_id: str
    entity: str
    entity_key: str
    from_state: str | None
    to_state: str
    reason: str
    actor: str
    created_at: datetime


class PhaseView(_View):
    """A phase with its compiled strategy."""

    phase_id: str
    phase_index: int
    tier_id: str
    name: str
    description: str
    task_category: str
    complexity: str
    state: str
    scope: dict[str, Any]
    strategy: dict[str, Any]
    attempts_used: int
    tokens_used: int


class TierView(_View):
    """A tier and its budget."""

    tier_id: str
    tier_index: int
    name: str
    state: str
    token_budget: int
    tokens_used: int


class RunSummary(_View):
    """A run as listed."""

    run_id: str
    goal: str
    state: str
    safety_profile: str
    token_cap: int
    tokens_used: int
    phase_count: int
    phases_complete: int
    created_at: datetime
    finished_at: datetime | None


class RunDetail(RunSummary):
    """A run with its tiers and phases."""

    workspace: str
    max_phases: int | None
    max_duration_minutes: int | None
    spec_shape: str | None
    started_at: datetime | None
    failure_reason: str | None
    tiers: list[TierView]
    phases: list[PhaseView]


class AttemptView(_View):
    """One attempt at a phase."""

    id: int
    attempt_index: int
    builder_model: str | None
    auditor_model: str | None
    builder_outcome: str | None
    apply_outcome: str | None
    ci_outcome: str | None
    auditor_outcome: str | None
    outcome: str | None
    error_class: str | None
    error_message: str | None
    tokens_in: int
    tokens_out: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None


class LlmCallView(_View):
    """One model call."""

    id: int
    run_id: str | None
    phase_id: str | None
    provider: str
    model: str
    role: str
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    latency_ms: int | None
    status: str


class ApprovalView(_View):
    """An approval request and its decision."""

    id: int
    run_id: str
    phase_id: str | None
    status: str
    reason: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
