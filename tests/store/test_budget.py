"""The budget ledger on SQLite and PostgreSQL: reserve, settle, release, never overrun."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest

from autopack.policy.strategy import StrategyEngine
from autopack.store import BudgetExhaustedError, ReservationError, Store
from support.specs import make_spec


def _caps(store: Store, run_id: str, phase_id: str) -> dict[str, tuple[int, int, int]]:
    return {b.scope: (b.cap, b.used, b.reserved) for b in store.budgets(run_id, phase_id)}


def test_reserve_settle_release_account_for_every_token(store: Store, created_run: str) -> None:
    cap = _caps(store, created_run, "p0-0")["phase"][0]
    held = store.reserve_budget(created_run, "p0-0", tokens=1000, role="builder", model="m")
    assert _caps(store, created_run, "p0-0")["phase"] == (cap, 0, 1000)
    attempt = store.start_attempt(created_run, "p0-0")
    call = store.settle_budget(
        held.id,
        provider="scripted",
        tokens_in=600,
        tokens_out=150,
        cost_usd=Decimal("0.0042"),
        latency_ms=12,
        attempt_id=attempt.id,
    )
    assert (call.tokens_in, call.tokens_out, call.model, call.role) == (600, 150, "m", "builder")
    budgets = _caps(store, created_run, "p0-0")
    assert budgets["phase"] == (cap, 750, 0)
    assert budgets["tier"][1:] == (750, 0) and budgets["run"][1:] == (750, 0)
    assert store.attempts(created_run, "p0-0")[0].tokens_in == 600
    assert store.total_cost(created_run) == Decimal("0.0042")

    other = store.reserve_budget(created_run, "p0-0", tokens=500, role="auditor", model="m2")
    store.release_budget(other.id, reason="connection refused")
    assert _caps(store, created_run, "p0-0")["phase"] == (cap, 750, 0)
    with pytest.raises(ReservationError, match="already released"):
        store.settle_budget(other.id, provider="p", tokens_in=1, tokens_out=1)
    with pytest.raises(ReservationError, match="already settled"):
        store.release_budget(held.id, reason="x")


@pytest.mark.parametrize("scope", ["phase", "tier", "run"])
def test_a_call_that_would_exceed_any_cap_is_refused_and_holds_nothing(
    store: Store, strategy_engine: StrategyEngine, scope: str
) -> None:
    spec = make_spec(f"cap-{scope}", tiers=1, phases_per_tier=2)
    compiled = strategy_engine.compile_run(spec)
    phase_cap = compiled.phases["p0-0"].incident_token_cap
    if scope == "run":
        spec = spec.model_copy(update={"token_cap": 500})
        compiled = strategy_engine.compile_run(spec)
    store.create_run(spec, compiled)
    limit = {"phase": phase_cap, "tier": compiled.tier_token_budgets["t0"], "run": 500}[scope]
    if scope == "tier":  # fill the sibling phase so the tier, not the phase, is the limit
        other = compiled.phases["p0-1"].incident_token_cap
        filler = store.reserve_budget(spec.run_id, "p0-1", tokens=other, role="b", model="m")
        store.settle_budget(filler.id, provider="p", tokens_in=other, tokens_out=0)
        limit -= other
    ok = store.reserve_budget(spec.run_id, "p0-0", tokens=limit - 10, role="b", model="m")
    with pytest.raises(BudgetExhaustedError) as info:
        store.reserve_budget(spec.run_id, "p0-0", tokens=11, role="b", model="m")
    assert info.value.scope == scope and info.value.requested == 11
    assert "budget exhausted" in str(info.value)
    assert store.reserve_budget(spec.run_id, "p0-0", tokens=10, role="b", model="m")
    store.release_budget(ok.id, reason="test")


def test_stale_reservations_are_released_on_resume(store: Store, created_run: str) -> None:
    for _ in range(3):
        store.reserve_budget(created_run, "p0-0", tokens=100, role="builder", model="m")
    assert store.release_stale_reservations(created_run) == 3
    assert _caps(store, created_run, "p0-0")["phase"][2] == 0


def test_overrun_by_the_provider_is_recorded_truthfully(store: Store, created_run: str) -> None:
    held = store.reserve_budget(created_run, "p0-0", tokens=100, role="builder", model="m")
    store.settle_budget(held.id, provider="p", tokens_in=90, tokens_out=30)
    assert _caps(store, created_run, "p0-0")["phase"][1] == 120


def test_concurrent_callers_never_exceed_a_cap_by_a_single_token(
    store: Store, strategy_engine: StrategyEngine
) -> None:
    """Eight threads reserve, 'call' and settle until refused; caps hold exactly."""
    spec = make_spec("race", tiers=1, phases_per_tier=2).model_copy(update={"token_cap": 20_000})
    store.create_run(spec, strategy_engine.compile_run(spec))
    refused: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        phase = f"p0-{seed % 2}"
        barrier.wait()
        smallest = False  # after a refusal, try the smallest call once, then stop
        try:
            while True:
                want = 50 if smallest else rng.randint(50, 900)
                try:
                    held = store.reserve_budget(
                        "race", phase, tokens=want, role="builder", model="m"
                    )
                except BudgetExhaustedError as exc:
                    refused.append(exc.scope)
                    if smallest:
                        return
                    smallest = True
                    continue
                used_in = rng.randint(0, want)
                store.settle_budget(
                    held.id,
                    provider="scripted",
                    tokens_in=used_in,
                    tokens_out=rng.randint(0, want - used_in),
                )
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert refused, "the caps were never reached"
    for phase_id in ("p0-0", "p0-1"):
        for budget in store.budgets("race", phase_id):
            assert budget.reserved == 0
            assert budget.used <= budget.cap, budget
    total = sum(c.tokens_in + c.tokens_out for c in store.llm_calls("race"))
    assert total == store.get_run("race").tokens_used <= 20_000
