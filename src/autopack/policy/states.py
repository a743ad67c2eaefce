"""Run, tier and phase states and the one transition table per machine.

The tables are data: ``TRANSITIONS[machine][from_state]`` is the set of states reachable in
ordinary operation; ``EXPLICIT_TRANSITIONS`` holds the edges that only an explicit retry or
resume by a person (or an API call on their behalf) may take, such as ``FAILED → QUEUED``.
:func:`check_transition` is the single gate every state change passes; the store calls it
inside the transaction that writes the change and its event.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Machine(StrEnum):
    """The three state machines."""

    RUN = "run"
    TIER = "tier"
    PHASE = "phase"


class RunState(StrEnum):
    """Lifecycle of a run."""

    PLAN_BOOTSTRAP = "PLAN_BOOTSTRAP"
    RUN_CREATED = "RUN_CREATED"
    PHASE_QUEUEING = "PHASE_QUEUEING"
    PHASE_EXECUTION = "PHASE_EXECUTION"
    GATE = "GATE"
    CI_RUNNING = "CI_RUNNING"
    SNAPSHOT_CREATED = "SNAPSHOT_CREATED"
    DONE_SUCCESS = "DONE_SUCCESS"
    DONE_FAILED_BUDGET_EXHAUSTED = "DONE_FAILED_BUDGET_EXHAUSTED"
    DONE_FAILED_POLICY_VIOLATION = "DONE_FAILED_POLICY_VIOLATION"
    DONE_FAILED_REQUIRES_HUMAN_REVIEW = "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    DONE_FAILED_ENVIRONMENT = "DONE_FAILED_ENVIRONMENT"
    CANCELLED = "CANCELLED"

    def is_terminal(self) -> bool:
        """True once the run has ended (it may still be resumed explicitly)."""
        return self in _RUN_TERMINAL

    def is_failure(self) -> bool:
        """True for the ``DONE_FAILED_*`` states."""
        return self.value.startswith("DONE_FAILED_")


class TierState(StrEnum):
    """Lifecycle of a tier."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    BLOCKED = "BLOCKED"
    NOT_CLEAN = "NOT_CLEAN"

    def is_terminal(self) -> bool:
        """True once the tier has finished, cleanly or not."""
        return self in {TierState.COMPLETE, TierState.BLOCKED, TierState.NOT_CLEAN}


class PhaseState(StrEnum):
    """Lifecycle of a phase."""

    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    PENDING_REVIEW = "PENDING_REVIEW"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    GATE = "GATE"
    CI_RUNNING = "CI_RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"

    def is_terminal(self) -> bool:
        """True once the phase has finished (FAILED may be re-queued explicitly)."""
        return self in {PhaseState.COMPLETE, PhaseState.FAILED, PhaseState.SKIPPED}


_RUN_TERMINAL = frozenset(
    {
        RunState.DONE_SUCCESS,
        RunState.DONE_FAILED_BUDGET_EXHAUSTED,
        RunState.DONE_FAILED_POLICY_VIOLATION,
        RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW,
        RunState.DONE_FAILED_ENVIRONMENT,
        RunState.CANCELLED,
    }
)
_RUN_FAILURES = frozenset(s for s in RunState if s.is_failure()) | {RunState.CANCELLED}

R, T, P = RunState, TierState, PhaseState

RUN_TRANSITIONS: Mapping[RunState, frozenset[RunState]] = {
    R.PLAN_BOOTSTRAP: frozenset({R.RUN_CREATED}) | _RUN_FAILURES,
    R.RUN_CREATED: frozenset({R.PHASE_QUEUEING}) | _RUN_FAILURES,
    R.PHASE_QUEUEING: frozenset({R.PHASE_EXECUTION, R.SNAPSHOT_CREATED}) | _RUN_FAILURES,
    R.PHASE_EXECUTION: frozenset({R.GATE, R.CI_RUNNING, R.PHASE_QUEUEING}) | _RUN_FAILURES,
    R.GATE: frozenset({R.PHASE_EXECUTION, R.CI_RUNNING, R.PHASE_QUEUEING}) | _RUN_FAILURES,
    R.CI_RUNNING: frozenset({R.PHASE_EXECUTION, R.GATE, R.PHASE_QUEUEING}) | _RUN_FAILURES,
    R.SNAPSHOT_CREATED: frozenset({R.DONE_SUCCESS}) | _RUN_FAILURES,
    **{s: frozenset() for s in _RUN_TERMINAL},
}

TIER_TRANSITIONS: Mapping[TierState, frozenset[TierState]] = {
    T.PENDING: frozenset({T.RUNNING, T.BLOCKED}),
    T.RUNNING: frozenset({T.COMPLETE, T.BLOCKED, T.NOT_CLEAN}),
    T.COMPLETE: frozenset(),
    T.BLOCKED: frozenset(),
    T.NOT_CLEAN: frozenset(),
}

_PHASE_ENDS = frozenset({P.COMPLETE, P.FAILED, P.SKIPPED})
PHASE_TRANSITIONS: Mapping[PhaseState, frozenset[PhaseState]] = {
    P.QUEUED: frozenset({P.EXECUTING, P.SKIPPED, P.FAILED}),
    P.EXECUTING: frozenset({P.PENDING_REVIEW, P.PENDING_APPROVAL, P.GATE, P.CI_RUNNING})
    | _PHASE_ENDS,
    P.PENDING_REVIEW: frozenset({P.EXECUTING, P.PENDING_APPROVAL, P.GATE, P.CI_RUNNING})
    | _PHASE_ENDS,
    P.PENDING_APPROVAL: frozenset({P.EXECUTING, P.GATE, P.CI_RUNNING}) | _PHASE_ENDS,
    P.GATE: frozenset({P.EXECUTING, P.PENDING_REVIEW, P.PENDING_APPROVAL, P.CI_RUNNING})
    | _PHASE_ENDS,
    P.CI_RUNNING: frozenset({P.EXECUTING, P.PENDING_REVIEW, P.PENDING_APPROVAL, P.GATE})
    | _PHASE_ENDS,
    P.COMPLETE: frozenset(),
    P.FAILED: frozenset(),
    P.SKIPPED: frozenset(),
}

# Edges only an explicit retry/resume may take (never the engine on its own).
EXPLICIT_TRANSITIONS: Mapping[Machine, Mapping[str, frozenset[str]]] = {
    Machine.RUN: {
        R.DONE_FAILED_BUDGET_EXHAUSTED: frozenset({R.PHASE_QUEUEING}),
        R.DONE_FAILED_REQUIRES_HUMAN_REVIEW: frozenset({R.PHASE_QUEUEING}),
        R.DONE_FAILED_ENVIRONMENT: frozenset({R.PHASE_QUEUEING}),
    },
    Machine.TIER: {
        T.BLOCKED: frozenset({T.PENDING, T.RUNNING}),
        T.NOT_CLEAN: frozenset({T.RUNNING}),
    },
    Machine.PHASE: {
        P.FAILED: frozenset({P.QUEUED}),
        # A phase left mid-flight by a crashed worker is re-queued on resume.
        P.EXECUTING: frozenset({P.QUEUED}),
        P.GATE: frozenset({P.QUEUED}),
        P.CI_RUNNING: frozenset({P.QUEUED}),
        P.PENDING_REVIEW: frozenset({P.QUEUED}),
    },
}

TRANSITIONS: Mapping[Machine, Mapping[str, frozenset[str]]] = {
    Machine.RUN: RUN_TRANSITIONS,
    Machine.TIER: TIER_TRANSITIONS,
    Machine.PHASE: PHASE_TRANSITIONS,
}

STATE_ENUMS: Mapping[Machine, type[StrEnum]] = {
    Machine.RUN: RunState,
    Machine.TIER: TierState,
    Machine.PHASE: PhaseState,
}

INITIAL_STATES: Mapping[Machine, str] = {
    Machine.RUN: RunState.PLAN_BOOTSTRAP,
    Machine.TIER: TierState.PENDING,
    Machine.PHASE: PhaseState.QUEUED,
}


class IllegalTransitionError(Exception):
    """A state change the table forbids. Nothing was changed."""

    code = "illegal_transition"

    def __init__(self, machine: Machine, key: str, from_state: str, to_state: str, hint: str):
        self.machine = machine
        self.key = key
        self.from_state = from_state
        self.to_state = to_state
        super().__init__(
            f"{machine.value} {key!r}: {from_state} -> {to_state} is not allowed; {hint}"
        )


def allowed_targets(machine: Machine, from_state: str, *, explicit: bool = False) -> set[str]:
    """States reachable from ``from_state`` (including explicit-only edges when asked)."""
    out = set(TRANSITIONS[machine].get(from_state, frozenset()))
    if explicit:
        out |= EXPLICIT_TRANSITIONS[machine].get(from_state, frozenset())
    return out


def is_allowed(machine: Machine, from_state: str, to_state: str, *, explicit: bool = False) -> bool:
    """Whether the table allows ``from_state → to_state``."""
    return to_state in allowed_targets(machine, from_state, explicit=explicit)


def check_transition(
    machine: Machine, key: str, from_state: str, to_state: str, *, explicit: bool = False
) -> None:
    """Raise :class:`IllegalTransitionError` unless the table allows the change."""
    states = STATE_ENUMS[machine]
    if to_state not in states.__members__.values():
        known = ", ".join(s.value for s in states)
        raise IllegalTransitionError(
            machine, key, from_state, to_state, f"unknown state (known: {known})"
        )
    if is_allowed(machine, from_state, to_state, explicit=explicit):
        return
    if not explicit and to_state in EXPLICIT_TRANSITIONS[machine].get(from_state, frozenset()):
        hint = "only an explicit retry/resume may take this edge"
    else:
        targets = sorted(allowed_targets(machine, from_state, explicit=explicit))
        hint = f"allowed from {from_state}: {', '.join(targets) or 'nothing (terminal)'}"
    raise IllegalTransitionError(machine, key, from_state, to_state, hint)
