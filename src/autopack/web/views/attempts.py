"""Attempts of a phase and the failures they reported, as the run and phase pages show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from autopack.store.views import AttemptView
from autopack.web.format import error_line
from autopack.web.views.common import failure_source

__all__ = ["AttemptRow", "IssueRow", "attempt_rows", "issue_rows"]

MAX_ISSUE_DETAIL = 2000


@dataclass(frozen=True)
class AttemptRow:
    """One attempt at a phase."""

    index: int
    builder_model: str | None
    auditor_model: str | None
    tokens_in: int
    tokens_out: int
    cost: Decimal
    outcome: str
    error: str
    steps: str
    duration_ms: int | None
    started_at: datetime


def _steps(a: AttemptView) -> str:
    parts = [
        ("builder", a.builder_outcome),
        ("apply", a.apply_outcome),
        ("checks", a.ci_outcome),
        ("auditor", a.auditor_outcome),
    ]
    return ", ".join(f"{name} {value}" for name, value in parts if value)


def attempt_rows(attempts: list[AttemptView], costs: dict[int, Decimal]) -> list[AttemptRow]:
    """Rows of a phase's attempts (an unfinished attempt's outcome reads ``running``)."""
    return [
        AttemptRow(
            index=a.attempt_index,
            builder_model=a.builder_model,
            auditor_model=a.auditor_model,
            tokens_in=a.tokens_in,
            tokens_out=a.tokens_out,
            cost=costs.get(a.id, Decimal(0)),
            outcome=a.outcome or ("running" if a.finished_at is None else "-"),
            error=error_line(a),
            steps=_steps(a),
            duration_ms=a.duration_ms,
            started_at=a.started_at,
        )
        for a in attempts
    ]


@dataclass(frozen=True)
class IssueRow:
    """A failure an attempt reported (the auditor's rejections among them)."""

    phase_id: str
    attempt: int
    source: str
    error_class: str
    summary: str
    detail: str


def issue_rows(phase_id: str, attempts: list[AttemptView]) -> list[IssueRow]:
    """The failures of a phase's attempts, in order."""
    out = []
    for a in attempts:
        if not a.error_class and not a.error_message:
            continue
        message = (a.error_message or "").strip()
        out.append(
            IssueRow(
                phase_id=phase_id,
                attempt=a.attempt_index,
                source=failure_source(a.error_class),
                error_class=a.error_class or "-",
                summary=message.splitlines()[0] if message else "",
                detail=message[:MAX_ISSUE_DETAIL],
            )
        )
    return out
