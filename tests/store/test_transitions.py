"""Every state change goes through the table and leaves an event — on both backends."""

from __future__ import annotations

import itertools
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autopack.policy.states import (
    INITIAL_STATES,
    IllegalTransitionError,
    Machine,
    PhaseState,
    RunState,
    TierState,
    is_allowed,
)
from autopack.policy.strategy import StrategyEngine
from autopack.store import DirectStateWriteError, NotFoundError, Store
from autopack.store.models import Phase, Run
from support.specs import make_spec

HAPPY_RUN_PATH = [
    RunState.PHASE_QUEUEING,
    RunState.PHASE_EXECUTION,
    RunState.CI_RUNNING,
    RunState.GATE,
    RunState.PHASE_QUEUEING,
    RunState.SNAPSHOT_CREATED,
    RunState.DONE_SUCCESS,
]


def test_happy_path_records_each_change_with_reason_and_actor(
    store: Store, created_run: str
) -> None:
    for i, state in enumerate(HAPPY_RUN_PATH):
        store.transition_run(created_run, state, reason=f"step {i}", actor="engine")
    run_events = store.events(created_run, entity="run")
    chain = [(e.from_state, e.to_state) for e in run_events]
    expected_states = ["PLAN_BOOTSTRAP", "RUN_CREATED", *HAPPY_RUN_PATH]
    assert chain == [(None, "PLAN_BOOTSTRAP"), *list(itertools.pairwise(expected_states))]
    assert run_events[-1].reason == f"step {len(HAPPY_RUN_PATH) - 1}"
    assert run_events[-1].actor == "engine"
    run = store.get_run(created_run)
    assert run.state == RunState.DONE_SUCCESS
    assert run.started_at is not None and run.finished_at is not None


def test_illegal_transition_raises_and_changes_nothing(store: Store, created_run: str) -> None:
    before = store.events(created_run)
    with pytest.raises(IllegalTransitionError) as info:
        store.transition_run(created_run, RunState.DONE_SUCCESS, reason="skip ahead", actor="t")
    assert info.value.from_state == "RUN_CREATED"
    assert "allowed from RUN_CREATED" in str(info.value)
    assert store.get_run(created_run).state == RunState.RUN_CREATED
    assert store.events(created_run) == before


def test_unknown_state_is_refused(store: Store, created_run: str) -> None:
    with pytest.raises(IllegalTransitionError, match="unknown state"):
        store.transition_phase(created_run, "p0-0", "DANCING", reason="x", actor="t")


def test_failed_phase_requeues_only_explicitly(store: Store, created_run: str) -> None:
    store.transition_phase(created_run, "p0-0", PhaseState.EXECUTING, reason="go", actor="t")
    store.transition_phase(created_run, "p0-0", PhaseState.FAILED, reason="ci red", actor="t")
    with pytest.raises(IllegalTransitionError, match="explicit retry/resume"):
        store.transition_phase(created_run, "p0-0", PhaseState.QUEUED, reason="again", actor="t")
    event = store.transition_phase(
        created_run, "p0-0", PhaseState.QUEUED, reason="user retry", actor="user", explicit=True
    )
    assert (event.from_state, event.to_state, event.actor) == ("FAILED", "QUEUED", "user")


def test_terminal_run_resumes_only_explicitly_and_clears_failure(
    store: Store, created_run: str
) -> None:
    store.transition_run(created_run, RunState.PHASE_QUEUEING, reason="go", actor="t")
    store.transition_run(
        created_run, RunState.DONE_FAILED_BUDGET_EXHAUSTED, reason="token cap hit", actor="t"
    )
    assert store.get_run(created_run).failure_reason == "token cap hit"
    with pytest.raises(IllegalTransitionError):
        store.transition_run(created_run, RunState.PHASE_QUEUEING, reason="again", actor="t")
    store.transition_run(
        created_run, RunState.PHASE_QUEUEING, reason="cap raised", actor="user", explicit=True
    )
    run = store.get_run(created_run)
    assert run.failure_reason is None and run.finished_at is None


def test_tier_transitions_and_unknown_tier(store: Store, created_run: str) -> None:
    store.transition_tier(created_run, "t0", TierState.RUNNING, reason="start", actor="t")
    store.transition_tier(created_run, "t0", TierState.NOT_CLEAN, reason="minor issues", actor="t")
    with pytest.raises(NotFoundError, match="no tier 'tx'"):
        store.transition_tier(created_run, "tx", TierState.RUNNING, reason="x", actor="t")


def test_direct_state_assignment_is_refused(store: Store, created_run: str) -> None:
    with pytest.raises(DirectStateWriteError), store.transaction() as session:
        phase = session.query(Phase).filter_by(run_id=created_run, phase_id="p0-0").one()
        phase.state = PhaseState.COMPLETE
    with pytest.raises(DirectStateWriteError), store.transaction() as session:
        session.get(Run, created_run).state = RunState.DONE_SUCCESS  # type: ignore[union-attr]
    assert store.get_run(created_run).phases[0].state == PhaseState.QUEUED


def test_concurrent_claims_of_one_phase_let_exactly_one_win(store: Store, created_run: str) -> None:
    """Row locking (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) serialises claims."""
    results: list[str] = []
    barrier = threading.Barrier(4)

    def claim(worker: int) -> None:
        barrier.wait()
        try:
            store.transition_phase(
                created_run, "p0-1", PhaseState.EXECUTING, reason="claim", actor=f"w{worker}"
            )
            results.append("won")
        except IllegalTransitionError:
            results.append("lost")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["lost", "lost", "lost", "won"]
    claims = [e for e in store.events(created_run, key="p0-1") if e.to_state == "EXECUTING"]
    assert len(claims) == 1


PHASE_TARGETS = st.lists(
    st.tuples(st.sampled_from(list(PhaseState)), st.booleans()), min_size=1, max_size=25
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=PHASE_TARGETS)
def test_no_call_sequence_reaches_a_forbidden_state(
    store: Store, strategy_engine: StrategyEngine, steps: list[tuple[PhaseState, bool]]
) -> None:
    """Random calls: each succeeds exactly when the table allows it; events form a legal chain."""
    spec = make_spec(f"h-{uuid.uuid4().hex[:10]}", tiers=1, phases_per_tier=1)
    store.create_run(spec, strategy_engine.compile_run(spec))
    created_run, phase_id = spec.run_id, "p0-0"
    state: str = PhaseState.QUEUED
    for target, explicit in steps:
        legal = is_allowed(Machine.PHASE, state, target, explicit=explicit)
        try:
            store.transition_phase(
                created_run, phase_id, target, reason="prop", actor="h", explicit=explicit
            )
            assert legal, f"{state} -> {target} was accepted but the table forbids it"
            state = target
        except IllegalTransitionError:
            assert not legal, f"{state} -> {target} was refused but the table allows it"
    stored = store.get_run(created_run).phases[0]
    assert stored.state == state
    events = store.events(created_run, entity="phase", key=phase_id)
    assert events[0].from_state is None and events[0].to_state == INITIAL_STATES[Machine.PHASE]
    for prev, nxt in itertools.pairwise(events):
        assert nxt.from_state == prev.to_state
        assert is_allowed(Machine.PHASE, prev.to_state, nxt.to_state, explicit=True)
