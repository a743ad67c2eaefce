"""Read models of the aggregates: totals, counts and rates, never an ORM object.

Money is :class:`~decimal.Decimal` (USD); durations are seconds; token counts are ints.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from autopack.store.views import RunSummary


class _Agg(BaseModel):
    model_config = ConfigDict(frozen=True)


class RunListItem(RunSummary):
    """A run as listed by ``GET /runs``: the summary plus the cost of its model calls."""

    cost_usd: Decimal = Decimal(0)


class ModelUsage(_Agg):
    """Model calls of one model (and role, where the aggregate keeps it apart)."""

    model: str
    role: str | None = None
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal


class LlmSeries(_Agg):
    """One (model, role, status) series of model calls, with latency bucket counts."""

    model: str
    role: str
    status: str
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    latency_count: int = Field(description="Calls that recorded a latency.")
    latency_sum_ms: int
    latency_buckets: tuple[int, ...] = Field(
        description="Cumulative: calls with latency_ms <= each bound, in the bounds' order."
    )


class MetricsSnapshot(_Agg):
    """What ``GET /metrics`` exposes from the database, read in a fixed number of queries."""

    runs_by_state: dict[str, int]
    phases_by_state: dict[str, int]
    attempts_by_outcome: dict[str, int] = Field(description="Finished attempts.")
    attempts_in_progress: int
    latency_bounds_ms: tuple[int, ...]
    llm: list[LlmSeries]


class RunsOverview(_Agg):
    """Every run at once: counts by state, success rate, mean duration, tokens, cost."""

    runs: int
    by_state: dict[str, int]
    finished: int = Field(description="Runs in a terminal state.")
    succeeded: int
    failed: int = Field(description="DONE_FAILED_* runs.")
    cancelled: int
    success_rate: float | None = Field(description="succeeded / finished; null before any end.")
    mean_duration_seconds: float | None = Field(
        description="Mean of finished_at - started_at over finished runs that started executing."
    )
    tokens_used: int
    token_cap: int
    cost_usd: Decimal
    llm_calls: int
    attempts: int
    failed_attempts: int


class TierMetrics(_Agg):
    """One tier: its phases by state, attempts, tokens and cost."""

    tier_id: str
    tier_index: int
    name: str
    state: str
    phases: int
    phases_by_state: dict[str, int]
    attempts: int
    failed_attempts: int
    tokens_used: int
    token_budget: int
    llm_calls: int
    cost_usd: Decimal


class RunTierMetrics(_Agg):
    """A run's tiers; ``unattributed_cost_usd`` is for calls that served no phase."""

    run_id: str
    state: str
    tokens_used: int
    token_cap: int
    cost_usd: Decimal
    unattributed_cost_usd: Decimal
    tiers: list[TierMetrics]


class RunBudget(_Agg):
    """One run's token budget and spend."""

    run_id: str
    state: str
    token_cap: int
    tokens_used: int
    used_pct: float
    cost_usd: Decimal
    hit_budget: bool = Field(
        description="Ended DONE_FAILED_BUDGET_EXHAUSTED, or used every token of its cap."
    )


class BudgetAnalysis(_Agg):
    """Budgets across runs: totals, a page of runs (most consumed first), models, overruns."""

    runs: int
    token_cap: int
    tokens_used: int
    cost_usd: Decimal
    runs_hit_budget: int
    items: list[RunBudget] = Field(description="Runs by share of their cap used, highest first.")
    limit: int
    offset: int
    hit_budget: list[RunBudget] = Field(description="Runs that hit their budget, newest first.")
    models: list[ModelUsage]


class RunTotals(_Agg):
    """One run's totals in structured form (the run summary report's numbers)."""

    run_id: str
    state: str
    goal: str
    failure_reason: str | None
    phase_count: int
    phases_complete: int
    phases_by_state: dict[str, int]
    attempts: int
    failed_attempts: int
    ci_runs: int
    tokens_used: int
    token_cap: int
    cost_usd: Decimal
    llm_calls: int
    models: list[ModelUsage] = Field(description="Per model and role.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float = Field(description="From start (or creation) to end (or now).")


class CurrentPhase(_Agg):
    """The phase a run is working on."""

    phase_id: str
    tier_id: str
    name: str
    state: str
    attempts_used: int
    tokens_used: int


class RunStatus(_Agg):
    """Compact live status of a run for a dashboard."""

    run_id: str
    state: str
    terminal: bool
    phases_complete: int
    phases_failed: int
    phase_count: int
    current_phase: CurrentPhase | None
    tokens_used: int
    token_cap: int
    cost_usd: Decimal
    llm_calls: int
    pending_approvals: int
    cancel_requested: bool
    failure_reason: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_seconds: float = Field(description="From start (or creation) to end (or now).")


class DailyUsage(_Agg):
    """One model's calls on one UTC day."""

    day: date
    model: str
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal


class Usage(_Agg):
    """Tokens and cost per model and per day over the last ``days`` UTC days."""

    days: int
    since: date
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    models: list[ModelUsage]
    daily: list[DailyUsage]
