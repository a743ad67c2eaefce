"""The transition tables as data: complete, consistent, and enforced by check_transition."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopack.policy.states import (
    EXPLICIT_TRANSITIONS,
    INITIAL_STATES,
    STATE_ENUMS,
    TRANSITIONS,
    IllegalTransitionError,
    Machine,
    PhaseState,
    RunState,
    TierState,
    allowed_targets,
    check_transition,
    is_allowed,
)


@pytest.mark.parametrize("machine", list(Machine))
def test_every_state_has_a_row_and_rows_name_only_known_states(machine: Machine) -> None:
    states = set(STATE_ENUMS[machine])
    assert set(TRANSITIONS[machine]) == states
    for targets in TRANSITIONS[machine].values():
        assert set(targets) <= states
    for source, targets in EXPLICIT_TRANSITIONS[machine].items():
        assert source in states and set(targets) <= states


@pytest.mark.parametrize("machine", list(Machine))
def test_terminal_states_have_no_ordinary_exit_and_every_state_is_reachable(
    machine: Machine,
) -> None:
    enum = STATE_ENUMS[machine]
    for state in enum:
        if state.is_terminal():  # type: ignore[attr-defined]
            assert TRANSITIONS[machine][state] == frozenset()
        else:
            assert TRANSITIONS[machine][state], f"{state} is a dead end but not terminal"
    seen, frontier = {INITIAL_STATES[machine]}, [INITIAL_STATES[machine]]
    while frontier:
        for nxt in allowed_targets(machine, frontier.pop()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(enum)


def test_domain_edges() -> None:
    assert is_allowed(Machine.RUN, RunState.SNAPSHOT_CREATED, RunState.DONE_SUCCESS)
    assert not is_allowed(Machine.RUN, RunState.PHASE_EXECUTION, RunState.DONE_SUCCESS)
    assert is_allowed(Machine.TIER, TierState.RUNNING, TierState.NOT_CLEAN)
    assert not is_allowed(Machine.PHASE, PhaseState.FAILED, PhaseState.QUEUED)
    assert is_allowed(Machine.PHASE, PhaseState.FAILED, PhaseState.QUEUED, explicit=True)
    assert not is_allowed(Machine.PHASE, PhaseState.COMPLETE, PhaseState.QUEUED, explicit=True)
    assert RunState.CANCELLED.is_terminal() and not RunState.CANCELLED.is_failure()
    assert RunState.DONE_FAILED_ENVIRONMENT.is_failure()


def test_check_transition_messages_name_the_way_out() -> None:
    with pytest.raises(IllegalTransitionError) as info:
        check_transition(Machine.PHASE, "p1", "COMPLETE", "EXECUTING")
    assert "nothing (terminal)" in str(info.value)
    assert info.value.code == "illegal_transition"


@given(
    machine=st.sampled_from(list(Machine)),
    data=st.data(),
)
def test_random_call_sequences_never_leave_the_table(machine: Machine, data: st.DataObject) -> None:
    """A simulated machine driven only through check_transition stays on the table's edges."""
    states = [s.value for s in STATE_ENUMS[machine]] + ["BOGUS"]
    state = str(INITIAL_STATES[machine])
    calls = data.draw(st.lists(st.tuples(st.sampled_from(states), st.booleans()), max_size=40))
    for target, explicit in calls:
        try:
            check_transition(machine, "k", state, target, explicit=explicit)
        except IllegalTransitionError:
            assert target == "BOGUS" or target not in allowed_targets(
                machine, state, explicit=explicit
            )
            continue
        assert target in TRANSITIONS[machine][state] or (
            explicit and target in EXPLICIT_TRANSITIONS[machine].get(state, frozenset())
        )
        state = target
