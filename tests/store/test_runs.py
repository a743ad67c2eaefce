"""Creating runs from specs and reading them back, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from autopack.policy.states import PhaseState, RunState, TierState
from autopack.policy.strategy import StrategyEngine
from autopack.store import NotFoundError, RunExistsError, Store
from support.specs import make_spec


def test_create_run_stores_tiers_phases_and_compiled_strategy(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    spec = make_spec("r-create")
    compiled = strategy_engine.compile_run(spec)
    run = store.create_run(spec, compiled, shape="nested")

    assert run.state == RunState.RUN_CREATED
    assert run.spec_shape == "nested"
    assert [t.tier_id for t in run.tiers] == ["t0", "t1"]
    assert all(t.state == TierState.PENDING for t in run.tiers)
    assert [p.phase_id for p in run.phases] == ["p0-0", "p0-1", "p1-0", "p1-1"]
    assert all(p.state == PhaseState.QUEUED for p in run.phases)
    for phase in run.phases:
        assert phase.strategy == compiled.phases[phase.phase_id].model_dump(mode="json")
    high_risk = next(p for p in run.phases if p.task_category == "schema_contract_change")
    assert high_risk.strategy["approval_required"] is True
    assert high_risk.strategy["ci_profile"] == "strict"
    assert run.tiers[1].token_budget == compiled.tier_token_budgets["t1"]
    assert run.phases[0].scope["paths"] == ["src/"]


def test_creation_leaves_an_event_for_every_row_and_the_first_transition(
    store: Store, created_run: str
) -> None:
    events = store.events(created_run)
    created = [(e.entity, e.entity_key, e.to_state) for e in events if e.from_state is None]
    assert ("run", created_run, "PLAN_BOOTSTRAP") in created
    assert {k for e, k, _ in created if e == "tier"} == {"t0", "t1"}
    assert {k for e, k, _ in created if e == "phase"} == {"p0-0", "p0-1", "p1-0", "p1-1"}
    last = events[-1]
    assert (last.entity, last.from_state, last.to_state) == ("run", "PLAN_BOOTSTRAP", "RUN_CREATED")


def test_duplicate_run_id_is_refused_and_changes_nothing(
    store: Store, strategy_engine: StrategyEngine, created_run: str
) -> None:
    before = store.events(created_run)
    spec = make_spec(created_run, tiers=1, phases_per_tier=1)
    with pytest.raises(RunExistsError, match=created_run):
        store.create_run(spec, strategy_engine.compile_run(spec))
    assert store.events(created_run) == before
    assert len(store.get_run(created_run).phases) == 4


def test_list_runs_counts_phases_and_filters_by_state(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    for rid in ("r-a", "r-b"):
        spec = make_spec(rid, tiers=1, phases_per_tier=3)
        store.create_run(spec, strategy_engine.compile_run(spec))
    store.transition_run("r-b", RunState.PHASE_QUEUEING, reason="start", actor="test")
    store.transition_phase("r-b", "p0-0", PhaseState.EXECUTING, reason="go", actor="test")
    store.transition_phase("r-b", "p0-0", PhaseState.COMPLETE, reason="done", actor="test")

    runs = {r.run_id: r for r in store.list_runs()}
    assert set(runs) == {"r-a", "r-b"}
    assert (runs["r-b"].phase_count, runs["r-b"].phases_complete) == (3, 1)
    assert (runs["r-a"].phase_count, runs["r-a"].phases_complete) == (3, 0)
    assert [r.run_id for r in store.list_runs(state="PHASE_QUEUEING")] == ["r-b"]
    assert len(store.list_runs(limit=1)) == 1


def test_unknown_run_is_a_not_found_error(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no run 'nope'"):
        store.get_run("nope")


def test_times_are_timezone_aware_utc(store: Store, created_run: str) -> None:
    run = store.get_run(created_run)
    assert run.created_at.tzinfo is not None
    assert run.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert all(e.created_at.tzinfo is not None for e in store.events(created_run))
