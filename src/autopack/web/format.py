"""Small formatters shared by the view models and the templates (as Jinja filters)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from autopack.store.views import AttemptView

__all__ = ["duration", "error_line", "money", "state_kind", "tokens", "when"]

_KINDS = {
    "COMPLETE": "ok",
    "DONE_SUCCESS": "ok",
    "approved": "ok",
    "success": "ok",
    "FAILED": "bad",
    "BLOCKED": "bad",
    "rejected": "bad",
    "CANCELLED": "warn",
    "SKIPPED": "warn",
    "NOT_CLEAN": "warn",
    "GATE": "wait",
    "PENDING_APPROVAL": "wait",
    "awaiting_approval": "wait",
    "pending": "wait",
    "QUEUED": "idle",
    "PENDING": "idle",
    "RUN_CREATED": "idle",
    "PLAN_BOOTSTRAP": "idle",
}


def state_kind(state: str | None) -> str:
    """What a state means, for styling: ok, bad, warn, wait, idle or active.

    The state's own name is always shown as text next to the colour.
    """
    if not state:
        return "idle"
    if state in _KINDS:
        return _KINDS[state]
    if state.startswith("DONE_FAILED"):
        return "bad"
    return "active"


def money(amount: Decimal | float | int | None) -> str:
    """A cost in USD with four decimals."""
    value = Decimal(str(amount or 0))
    return f"${value.quantize(Decimal('0.0001'))}"


def tokens(count: int | None) -> str:
    """A token count with thousands separators."""
    return f"{int(count or 0):,}"


def when(value: datetime | None) -> str:
    """``YYYY-mm-dd HH:MM:SS UTC``; ``-`` when absent."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def duration(ms: int | float | None) -> str:
    """``850 ms``, ``1.4 s``, ``3 min 05 s``; ``-`` when unknown."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s"


def error_line(attempt: AttemptView) -> str:
    """``error_class: first line of the message`` of a failed attempt ('' otherwise)."""
    message = (attempt.error_message or "").strip()
    first = message.splitlines()[0] if message else ""
    if attempt.error_class and first:
        return f"{attempt.error_class}: {first}"
    return attempt.error_class or first
