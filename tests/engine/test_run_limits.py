"""Run-level caps and stops checked before every attempt, gates that do not move on their
own, and resuming through the CLI under the run's lease."""

from __future__ import annotations

import copy

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.engine import InProcessDispatcher, execute_run
from autopack.policy.states import PhaseState, RunState, TierState
from support.engine_script import PLAN


def _phase(engine, phase_id: str):
    return next(p for p in engine.store.get_run("calc-run").phases if p.phase_id == phase_id)


def _plan(**caps: int) -> dict:
    plan = copy.deepcopy(PLAN)
    plan.update(caps)
    return plan


def test_failed_attempt_cap_stops_before_the_next_attempt(make_engine) -> None:
    engine = make_engine(plan=_plan(max_failures=1), auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_FAILED_BUDGET_EXHAUSTED
    assert "failed-attempt cap reached (1 of 1)" in outcome.reason
    assert [a.outcome for a in engine.store.attempts("calc-run", "mul-default")] == [
        "patch_apply_error"
    ]
    assert _phase(engine, "mul-default").state == PhaseState.FAILED
    assert engine.store.get_run("calc-run").tiers[0].state == TierState.BLOCKED


def test_ci_run_cap_counts_only_attempts_whose_checks_ran(make_engine) -> None:
    engine = make_engine(plan=_plan(max_ci_runs=1), auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_FAILED_BUDGET_EXHAUSTED
    assert "CI run cap reached (1 of 1)" in outcome.reason
    tries = engine.store.attempts("calc-run", "mul-default")
    assert [a.outcome for a in tries] == ["patch_apply_error", "ci_fail"]
    assert [a.ci_outcome for a in tries] == [None, "failed"]
    assert engine.store.attempt_stats("calc-run") == {"attempts": 2, "failures": 2, "ci_runs": 1}


def test_cancel_during_a_phase_stops_before_its_next_attempt(make_engine) -> None:
    engine = make_engine(auto_approve=True)

    def notify(message: str) -> None:
        if "attempt 1 failed" in message:
            engine.store.request_cancel("calc-run")

    outcome = execute_run(engine, "calc-run", notify=notify)
    assert outcome.state == RunState.CANCELLED
    assert len(engine.store.attempts("calc-run", "mul-default")) == 1
    assert _phase(engine, "mul-default").state == PhaseState.FAILED
    ws_status = engine.settings.data_dir / "worktrees" / "calc-run"
    assert not any(p.name == "calc.py.orig" for p in ws_status.iterdir())


def test_a_waiting_gate_is_not_passed_by_running_again(make_engine) -> None:
    engine = make_engine()
    first = execute_run(engine, "calc-run", notify=lambda m: None)
    assert first.waiting
    before = len(engine.store.attempts("calc-run", "div"))
    again = InProcessDispatcher(engine).execute("calc-run", notify=lambda m: None)
    assert again.waiting and again.state == RunState.GATE
    assert len(engine.store.attempts("calc-run", "div")) == before  # no Builder call
    assert _phase(engine, "div").state == PhaseState.PENDING_APPROVAL


def test_resume_is_refused_while_another_worker_holds_the_lease(
    make_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(auto_approve=True)
    engine.store.acquire_lease("calc-run", "other-host:123:abc", 300)
    monkeypatch.setenv("COLUMNS", "200")
    workspace = str(engine.settings.workspace)
    result = CliRunner().invoke(build_app(), ["resume", "calc-run", "--workspace", workspace])
    assert result.exit_code == 1
    assert "being executed by other-host:123:abc" in result.stderr
    assert engine.store.get_run("calc-run").state == RunState.RUN_CREATED
    engine.store.release_lease("calc-run", "other-host:123:abc")
    script = engine.options.scripted
    done = CliRunner().invoke(
        build_app(),
        ["resume", "calc-run", "--workspace", workspace, "--scripted", str(script)],
    )
    assert done.exit_code == 3, done.stdout  # the high-risk phase waits (no auto-approve)
    assert not engine.store.lease("calc-run").live()  # released when the worker stopped


def test_wall_time_cap_counts_from_the_first_start_across_invocations(make_engine) -> None:
    from datetime import timedelta

    from autopack.engine import approve
    from autopack.store.models import Run, utcnow

    engine = make_engine(plan=_plan(max_duration_minutes=1))
    assert execute_run(engine, "calc-run", notify=lambda m: None).waiting
    with engine.store.transaction() as session:  # the run started two minutes ago
        session.get(Run, "calc-run").started_at = utcnow() - timedelta(minutes=2)
    outcome = approve(engine, "calc-run", by="alice", notify=lambda m: None)
    assert outcome.state == RunState.DONE_FAILED_BUDGET_EXHAUSTED
    assert outcome.reason == "wall time over 1 min"
    assert _phase(engine, "div").state == PhaseState.PENDING_APPROVAL
