"""Metered calls: budget reserved before the provider is called, settled or released after."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from autopack.llm import Message, make_provider
from autopack.llm.base import CompletionRequest
from autopack.llm.errors import LlmError
from autopack.llm.ledger import MeteredModel, metered_complete
from autopack.llm.scripted import ScriptedProvider
from autopack.policy.routing import Router
from autopack.policy.strategy import StrategyEngine
from autopack.settings import Settings
from autopack.store import BudgetExhaustedError, Store
from autopack.store.db import create_db_engine
from autopack.store.migrate import ensure_schema
from support.specs import make_spec
from support.wire_servers import WireServer, anthropic_answer, server_error


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    ensure_schema(engine)
    s = Store(engine)
    spec = make_spec("r", tiers=1, phases_per_tier=1).model_copy(update={"token_cap": 5_000})
    s.create_run(spec, StrategyEngine.load().compile_run(spec))
    yield s
    s.close()


def _request(max_tokens: int = 200) -> CompletionRequest:
    return CompletionRequest(
        model="claude-haiku-4-5",
        messages=[Message(role="user", content="Write hello.py")],
        max_tokens=max_tokens,
        role="builder",
        run_id="r",
        phase_id="p0-0",
        attempt=1,
    )


def test_a_call_is_settled_with_real_usage_and_cost(store: Store) -> None:
    provider = ScriptedProvider(
        {
            "answers": [
                {
                    "role": "builder",
                    "text": "ok",
                    "usage": {"input_tokens": 40, "output_tokens": 12},
                }
            ]
        }
    )
    spec = Router.load().config.models["claude-haiku-4-5"]
    attempt = store.start_attempt("r", "p0-0")
    completion = metered_complete(
        store, provider, _request(), price=spec.cost, attempt_id=attempt.id
    )
    assert completion.text == "ok"
    [call] = store.llm_calls("r")
    assert (call.tokens_in, call.tokens_out, call.role, call.model) == (
        40,
        12,
        "builder",
        "claude-haiku-4-5",
    )
    assert call.cost_usd == spec.cost(40, 12) > Decimal(0)
    budgets = {b.scope: b for b in store.budgets("r", "p0-0")}
    assert budgets["run"].used == 52 and budgets["run"].reserved == 0
    assert store.attempts("r", "p0-0")[0].tokens_out == 12


def test_refused_call_never_reaches_the_provider(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real Anthropic SDK against a local wire server: over budget, nothing is sent."""
    with WireServer() as wire:
        wire.queue(anthropic_answer("should not be asked"))
        settings = Settings(
            workspace=tmp_path, anthropic_api_key="sk-ant-ledger-test", anthropic_base_url=wire.url
        )
        provider = make_provider("anthropic", settings)
        with pytest.raises(BudgetExhaustedError) as info:
            metered_complete(store, provider, _request(max_tokens=6_000))
        assert info.value.scope in {"run", "tier", "phase"}
        assert wire.requests == []
    assert store.llm_calls("r") == []
    assert all(b.reserved == 0 and b.used == 0 for b in store.budgets("r", "p0-0"))


def test_failed_call_releases_its_reservation(store: Store, tmp_path: Path) -> None:
    with WireServer() as wire:
        wire.queue(server_error(400, "bad request"))
        settings = Settings(
            workspace=tmp_path, anthropic_api_key="sk-ant-ledger-test", anthropic_base_url=wire.url
        )
        with pytest.raises(LlmError):
            metered_complete(store, make_provider("anthropic", settings), _request())
        assert len(wire.requests) == 1
    assert all(b.reserved == 0 and b.used == 0 for b in store.budgets("r", "p0-0"))


def test_metered_model_is_a_model_call_that_stops_at_the_cap(store: Store) -> None:
    provider = ScriptedProvider(
        {
            "answers": [
                {"text": "x", "usage": {"input_tokens": 3, "output_tokens": 900}, "repeat": 100}
            ]
        }
    )
    call = MeteredModel(store, provider, "scripted", "builder", "r", "p0-0", max_tokens=900)
    made = 0
    with pytest.raises(BudgetExhaustedError):
        for _ in range(100):
            call([Message(role="user", content="go")])
            made += 1
    run = store.get_run("r")
    assert made >= 1
    assert run.tokens_used == made * 903 <= run.token_cap
    assert run.token_cap - run.tokens_used < 905  # stopped only when the next call could not fit
