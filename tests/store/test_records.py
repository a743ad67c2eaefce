"""Attempts, model calls and approvals, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autopack.store import ApprovalStateError, NotFoundError, Store


def test_attempts_are_numbered_and_calls_roll_tokens_up(store: Store, created_run: str) -> None:
    first = store.start_attempt(created_run, "p0-0", builder_model="small")
    store.record_llm_call(
        run_id=created_run,
        phase_id="p0-0",
        attempt_id=first.id,
        provider="scripted",
        model="small",
        role="builder",
        tokens_in=1000,
        tokens_out=200,
    )
    store.finish_attempt(first.id, outcome="ci_fail", ci_outcome="failed", error_class="ci_fail")
    second = store.start_attempt(created_run, "p0-0", builder_model="large")
    store.record_llm_call(
        run_id=created_run,
        phase_id="p0-0",
        attempt_id=second.id,
        provider="scripted",
        model="large",
        role="builder",
        tokens_in=300,
        tokens_out=50,
    )
    done = store.finish_attempt(
        second.id, outcome="success", auditor_model="judge", auditor_outcome="approved"
    )
    assert (first.attempt_index, second.attempt_index) == (1, 2)
    assert done.finished_at is not None and done.duration_ms is not None
    attempts = store.attempts(created_run, "p0-0")
    assert [(a.builder_model, a.outcome, a.tokens_in, a.tokens_out) for a in attempts] == [
        ("small", "ci_fail", 1000, 200),
        ("large", "success", 300, 50),
    ]
    run = store.get_run(created_run)
    assert run.tokens_used == 1550
    assert run.phases[0].tokens_used == 1550 and run.phases[0].attempts_used == 2
    assert run.tiers[0].tokens_used == 1550 and run.tiers[1].tokens_used == 0


def test_finish_attempt_rejects_unknown_fields(store: Store, created_run: str) -> None:
    attempt = store.start_attempt(created_run, "p0-0")
    with pytest.raises(ValueError, match="unknown attempt fields: colour, tokens_in"):
        store.finish_attempt(attempt.id, colour="blue", tokens_in=5)


def test_llm_calls_are_ledgered_with_cost(store: Store, created_run: str) -> None:
    store.record_llm_call(
        run_id=created_run,
        phase_id="p0-0",
        provider="anthropic",
        model="m-large",
        role="builder",
        tokens_in=1200,
        tokens_out=300,
        cost_usd=Decimal("0.012345"),
        latency_ms=850,
    )
    store.record_llm_call(
        run_id=created_run,
        provider="openai",
        model="m-small",
        role="auditor",
        tokens_in=10,
        tokens_out=5,
        cost_usd=0.5,
        status="error",
        error_class="timeout",
    )
    calls = store.llm_calls(created_run)
    assert [(c.model, c.role, c.status) for c in calls] == [
        ("m-large", "builder", "ok"),
        ("m-small", "auditor", "error"),
    ]
    assert store.total_cost(created_run) == Decimal("0.512345")
    with pytest.raises(NotFoundError):
        store.record_llm_call(
            run_id="ghost", provider="p", model="m", role="builder", tokens_in=1, tokens_out=1
        )


def test_approvals_are_decided_once(store: Store, created_run: str) -> None:
    pending = store.request_approval(created_run, "p1-1", reason="schema change")
    assert [a.id for a in store.approvals()] == [pending.id]
    decided = store.decide_approval(pending.id, approve=True, decided_by="alice", note="ok")
    assert (decided.status, decided.decided_by) == ("approved", "alice")
    assert store.approvals() == []
    assert [a.status for a in store.approvals(status=None, run_id=created_run)] == ["approved"]
    with pytest.raises(ApprovalStateError, match="already approved"):
        store.decide_approval(pending.id, approve=False, decided_by="bob")
    with pytest.raises(NotFoundError, match="no phase 'zz'"):
        store.request_approval(created_run, "zz", reason="x")
