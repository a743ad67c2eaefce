"""The one function through which every run, tier and phase state changes.

:func:`apply_transition` locks the row, checks the change against
:mod:`autopack.policy.states`, writes the new state and an :class:`Event` in the caller's
transaction. An illegal change raises before anything is written, so the caller's
transaction rolls back with nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from autopack.policy.states import INITIAL_STATES, Machine, RunState, check_transition
from autopack.store.errors import NotFoundError
from autopack.store.models import _STATE_WRITE_ALLOWED, Event, Phase, Run, Tier, utcnow

_MODELS: dict[Machine, type[Run] | type[Tier] | type[Phase]] = {
    Machine.RUN: Run,
    Machine.TIER: Tier,
    Machine.PHASE: Phase,
}


@contextmanager
def _state_write() -> Iterator[None]:
    token = _STATE_WRITE_ALLOWED.set(True)
    try:
        yield
    finally:
        _STATE_WRITE_ALLOWED.reset(token)


def _load(session: Session, machine: Machine, run_id: str, key: str) -> Run | Tier | Phase:
    if machine is Machine.RUN:
        stmt = select(Run).where(Run.id == run_id)
    elif machine is Machine.TIER:
        stmt = select(Tier).where(Tier.run_id == run_id, Tier.tier_id == key)
    else:
        stmt = select(Phase).where(Phase.run_id == run_id, Phase.phase_id == key)
    row = session.scalars(stmt.with_for_update()).one_or_none()
    if row is None:
        raise NotFoundError(machine.value, key, run_id)
    return row


def record_creation(
    session: Session, machine: Machine, run_id: str, key: str, *, actor: str, reason: str
) -> Event:
    """The event for a row created in its initial state (``from_state`` is NULL)."""
    event = Event(
        run_id=run_id,
        entity=machine.value,
        entity_key=key,
        from_state=None,
        to_state=str(INITIAL_STATES[machine]),
        reason=reason,
        actor=actor,
    )
    session.add(event)
    return event


def apply_transition(
    session: Session,
    machine: Machine,
    run_id: str,
    key: str,
    to_state: str,
    *,
    reason: str,
    actor: str,
    explicit: bool = False,
) -> Event:
    """Change one state, checked against the table, with its event, in ``session``'s transaction.

    ``key`` is the run id, tier id or phase id. ``explicit`` marks a retry/resume asked for by
    a person, which alone may take edges such as ``FAILED → QUEUED``.
    """
    row = _load(session, machine, run_id, key)
    from_state = row.state
    check_transition(machine, key, from_state, str(to_state), explicit=explicit)
    now = utcnow()
    with _state_write():
        row.state = str(to_state)
    row.updated_at = now
    if isinstance(row, Run):
        _run_side_effects(row, RunState(to_state), reason, now)
    event = Event(
        run_id=run_id,
        entity=machine.value,
        entity_key=key,
        from_state=from_state,
        to_state=str(to_state),
        reason=reason,
        actor=actor,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def _run_side_effects(run: Run, to_state: RunState, reason: str, now: object) -> None:
    if to_state is RunState.PHASE_EXECUTION and run.started_at is None:
        run.started_at = now  # type: ignore[assignment]
    if to_state.is_terminal():
        run.finished_at = now  # type: ignore[assignment]
        run.failure_reason = reason if to_state is not RunState.DONE_SUCCESS else None
    elif run.finished_at is not None:  # resumed
        run.finished_at = None
        run.failure_reason = None
