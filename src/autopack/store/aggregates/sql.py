"""SQL pieces shared by the aggregates: sums that are never NULL, durations and days per
dialect, the definition of a failed attempt and of a run that hit its budget."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, or_
from sqlalchemy.orm import Session

from autopack.policy.states import RunState
from autopack.store.models import Attempt, LlmCall, Run
from autopack.store.records import _NOT_FAILURES  # one definition of a failed attempt

BUDGET_EXHAUSTED = RunState.DONE_FAILED_BUDGET_EXHAUSTED.value
TERMINAL_RUN_STATES = tuple(s.value for s in RunState if s.is_terminal())


def dec(value: Any) -> Decimal:
    """A database sum as Decimal (SQLite answers floats, PostgreSQL Decimals, NULL for none)."""
    return Decimal(str(value)) if value is not None else Decimal(0)


def total(column: Any) -> ColumnElement[Any]:
    """``SUM(column)``, 0 over no rows."""
    return func.coalesce(func.sum(column), 0)


def failed_attempt() -> ColumnElement[bool]:
    """An attempt that ended in a failure (as ``attempt_stats`` counts them)."""
    return and_(Attempt.outcome.is_not(None), Attempt.outcome.not_in(_NOT_FAILURES))


def hit_budget() -> ColumnElement[bool]:
    """A run that ended for lack of budget or used its whole cap."""
    return or_(Run.state == BUDGET_EXHAUSTED, Run.tokens_used >= Run.token_cap)


def used_fraction() -> ColumnElement[Any]:
    """tokens_used / token_cap as a float (0 for a zero cap)."""
    return case(
        (Run.token_cap > 0, cast(Run.tokens_used, Float) / cast(Run.token_cap, Float)),
        else_=0.0,
    )


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    """``end - start`` in seconds, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def utc_day(session: Session) -> ColumnElement[Any]:
    """The UTC calendar day of ``llm_calls.created_at``."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(LlmCall.created_at)  # stored as UTC text
    return func.date(func.timezone("UTC", LlmCall.created_at))


def as_date(value: Any) -> date:
    """A day as returned by :func:`utc_day` (text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def elapsed(start: datetime, end: datetime | None, now: datetime | None = None) -> float:
    """Seconds from ``start`` to ``end`` (or now)."""
    stop = end or now or datetime.now(UTC)
    return max(0.0, (stop - start).total_seconds())
