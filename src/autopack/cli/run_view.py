"""The compact view of a run, shared by ``autopack status``, the live view and ``runs show``.

:func:`read_snapshot` reads what the view shows from the store (a handful of queries);
:func:`render_snapshot` turns it into a rich renderable. Nothing here writes anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from autopack.policy.states import RunState
from autopack.store import Store
from autopack.store.models import utcnow
from autopack.store.views import ApprovalView, AttemptView, RunDetail

__all__ = [
    "EXIT_FAILED",
    "EXIT_SUCCESS",
    "EXIT_WAITING",
    "PhaseLine",
    "RunSnapshot",
    "attempts_table",
    "duration_text",
    "error_line",
    "exit_code_for",
    "money",
    "read_attempts",
    "read_snapshot",
    "render_snapshot",
    "state_markup",
    "tokens_text",
    "when_text",
]

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_WAITING = 3

_STATE_STYLE = {
    "COMPLETE": "green",
    "DONE_SUCCESS": "green",
    "FAILED": "red",
    "BLOCKED": "red",
    "CANCELLED": "yellow",
    "SKIPPED": "yellow",
    "NOT_CLEAN": "yellow",
    "GATE": "magenta",
    "PENDING_APPROVAL": "magenta",
    "QUEUED": "dim",
    "PENDING": "dim",
}


def state_markup(state: str) -> str:
    """A state as rich markup, coloured by what it means."""
    style = _STATE_STYLE.get(state) or ("red" if state.startswith("DONE_FAILED") else "cyan")
    return f"[{style}]{state}[/]"


def when_text(value: datetime | None) -> str:
    """A timestamp as ``YYYY-mm-dd HH:MM:SS`` (UTC), ``-`` when absent."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def tokens_text(used: int, cap: int) -> str:
    """``used / cap (pct%)``."""
    pct = f" ({used * 100 // cap}%)" if cap else ""
    return f"{used:,} / {cap:,}{pct}"


def money(amount: Decimal) -> str:
    """A cost in USD with four decimals."""
    return f"${amount.quantize(Decimal('0.0001'))}"


def duration_text(seconds: float | None) -> str:
    """``1.4s``, ``3m 05s``, ``2h 07m``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def exit_code_for(state: str) -> int | None:
    """The command-line exit code of a run in ``state``: ``None`` while it is still going.

    0 succeeded, 1 failed or cancelled, 3 waits for an approval.
    """
    run_state = RunState(state)
    if run_state is RunState.DONE_SUCCESS:
        return EXIT_SUCCESS
    if run_state is RunState.GATE:
        return EXIT_WAITING
    if run_state.is_terminal():
        return EXIT_FAILED
    return None


def error_line(attempt: AttemptView) -> str:
    """``error_class: first line of the message`` of a failed attempt ('' otherwise)."""
    message = (attempt.error_message or "").strip()
    first = message.splitlines()[0] if message else ""
    if attempt.error_class and first:
        return f"{attempt.error_class}: {first}"
    return attempt.error_class or first


@dataclass(frozen=True)
class PhaseLine:
    """One phase as the view shows it."""

    tier_id: str
    phase_id: str
    name: str
    state: str
    attempts: int
    max_attempts: int | None
    model: str | None
    tokens: int
    cost: Decimal


@dataclass(frozen=True)
class RunSnapshot:
    """Everything the compact view shows, read at one moment."""

    run: RunDetail
    reason: str
    elapsed: float | None
    cost: Decimal
    phases: tuple[PhaseLine, ...]
    pending: tuple[ApprovalView, ...]

    @property
    def exit_code(self) -> int | None:
        """See :func:`exit_code_for`."""
        return exit_code_for(self.run.state)


def _elapsed(run: RunDetail) -> float | None:
    start = run.started_at or run.created_at
    if start is None:
        return None
    return max(0.0, ((run.finished_at or utcnow()) - start).total_seconds())


def read_attempts(store: Store, run: RunDetail) -> dict[str, list[AttemptView]]:
    """Phase id → its attempts in order (phases never attempted are left out)."""
    return {
        p.phase_id: store.attempts(run.run_id, p.phase_id) for p in run.phases if p.attempts_used
    }


def read_snapshot(store: Store, run_id: str) -> RunSnapshot:
    """Read the run, its attempts, model call costs and pending approvals."""
    run = store.get_run(run_id)
    calls = store.llm_calls(run_id)
    phase_cost: dict[str, Decimal] = {}
    for call in calls:
        if call.phase_id:
            phase_cost[call.phase_id] = phase_cost.get(call.phase_id, Decimal(0)) + call.cost_usd
    attempts = read_attempts(store, run)
    lines = []
    for p in run.phases:
        tries = attempts.get(p.phase_id, [])
        model = next((a.builder_model for a in reversed(tries) if a.builder_model), None)
        limit = p.strategy.get("builder_attempts")
        lines.append(
            PhaseLine(
                tier_id=p.tier_id,
                phase_id=p.phase_id,
                name=p.name,
                state=p.state,
                attempts=p.attempts_used,
                max_attempts=int(limit) if isinstance(limit, int) else None,
                model=model,
                tokens=p.tokens_used,
                cost=phase_cost.get(p.phase_id, Decimal(0)),
            )
        )
    reason = run.failure_reason or ""
    if not reason:
        events = store.events(run_id, entity="run")
        reason = events[-1].reason if events else ""
    return RunSnapshot(
        run=run,
        reason=reason,
        elapsed=_elapsed(run),
        cost=sum((c.cost_usd for c in calls), Decimal(0)),
        phases=tuple(lines),
        pending=tuple(store.approvals(run_id=run_id)),
    )


def render_snapshot(snap: RunSnapshot) -> RenderableType:
    """Header lines (state, reason, elapsed, tokens, cost, tiers) and the phases table."""
    run = snap.run
    head = Text.from_markup(f"[bold]{run.run_id}[/]  {state_markup(run.state)}")
    head.append(
        f"  elapsed {duration_text(snap.elapsed)}  tokens "
        f"{tokens_text(run.tokens_used, run.token_cap)}  cost {money(snap.cost)}"
    )
    parts: list[RenderableType] = [head]
    if snap.reason:
        parts.append(
            Text.assemble(("reason: ", "red" if run.failure_reason else "dim"), snap.reason)
        )
    tiers = Text("tiers: ", style="dim")
    for i, t in enumerate(run.tiers):
        if i:
            tiers.append("  ")
        tiers.append(f"{t.tier_id} ")
        tiers.append_text(Text.from_markup(state_markup(t.state)))
    parts.append(tiers)
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for col in ("tier", "phase", "state", "tries", "model", "tokens", "cost"):
        justify = "right" if col in ("tries", "tokens", "cost") else "left"
        table.add_column(col, justify=justify)
    for p in snap.phases:
        tries = f"{p.attempts}/{p.max_attempts}" if p.max_attempts else str(p.attempts)
        table.add_row(
            p.tier_id,
            Text(p.phase_id),
            Text.from_markup(state_markup(p.state)),
            tries,
            Text(p.model or "-"),
            f"{p.tokens:,}",
            money(p.cost),
        )
    parts.append(table)
    for a in snap.pending:
        parts.append(
            Text.assemble(
                ("waiting for approval: ", "magenta"),
                f"{a.phase_id or '(run)'} since {when_text(a.requested_at)}",
            )
        )
    return Group(*parts)


def attempts_table(
    attempts: dict[str, list[AttemptView]],
    costs: dict[int, Decimal],
    phase_order: Iterable[str],
) -> Table:
    """One row per attempt: models, outcome, error, tokens, cost, duration."""
    table = Table(title="Attempts", title_justify="left")
    columns = ("phase", "#", "builder", "auditor", "outcome", "error", "in", "out", "cost", "time")
    for col in columns:
        table.add_column(col, justify="right" if col in ("#", "in", "out", "cost") else "left")
    for phase_id in phase_order:
        for a in attempts.get(phase_id, []):
            table.add_row(
                Text(phase_id),
                str(a.attempt_index),
                Text(a.builder_model or "-"),
                Text(a.auditor_model or "-"),
                Text(a.outcome or "running"),
                Text(error_line(a)[:120]),
                f"{a.tokens_in:,}",
                f"{a.tokens_out:,}",
                money(costs.get(a.id, Decimal(0))),
                duration_text(a.duration_ms / 1000 if a.duration_ms is not None else None),
            )
    return table
