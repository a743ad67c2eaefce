"""Metered model calls: reserve the budget, call the provider, settle or release.

Every model call the engine makes goes through :func:`metered_complete`. Before the call it
reserves ``estimated input tokens + max_tokens`` against the phase, tier and run caps (the
store refuses with :class:`~autopack.store.BudgetExhaustedError` and nothing is sent); after
the call it records the provider's real usage and cost and frees the rest; when the call
fails it releases the reservation. A cap therefore stops a run cleanly instead of being
discovered on the invoice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from autopack.llm.base import Completion, CompletionRequest, Message, Provider
from autopack.store import Store

Price = Callable[[int, int], Decimal]
ModelCall = Callable[[list[Message]], Completion]


def metered_complete(
    store: Store,
    provider: Provider,
    request: CompletionRequest,
    *,
    price: Price | None = None,
    attempt_id: int | None = None,
) -> Completion:
    """Call ``provider`` within the run's budget; raises ``BudgetExhaustedError`` before sending."""
    if request.run_id is None:
        raise ValueError("a metered call needs request.run_id")
    tokens = request.estimated_input_tokens() + request.max_tokens
    held = store.reserve_budget(
        request.run_id, request.phase_id, tokens=tokens, role=request.role, model=request.model
    )
    try:
        completion = provider.complete(request)
    except BaseException as exc:
        code = getattr(exc, "code", type(exc).__name__)
        store.release_budget(held.id, reason=f"call failed: {code}")
        raise
    status = "truncated" if completion.truncated else "ok"
    try:
        cost = price(completion.input_tokens, completion.output_tokens) if price else Decimal(0)
    except ValueError:  # an unpriced model: record the usage, flag the missing price
        cost, status = Decimal(0), "unpriced"
    try:
        store.settle_budget(
            held.id,
            provider=completion.provider,
            tokens_in=completion.input_tokens,
            tokens_out=completion.output_tokens,
            cost_usd=cost,
            latency_ms=completion.latency_ms,
            attempt_id=attempt_id,
            status=status,
        )
    except BaseException:
        # Never leave tokens held by a call that is over: the next reservation must see them
        # free (the usage could not be recorded; the failure propagates).
        store.release_budget(held.id, reason="settling failed")
        raise
    return completion


@dataclass(frozen=True)
class MeteredModel:
    """A provider and model bound to one run/phase/attempt: a ``ModelCall`` for the agents."""

    store: Store
    provider: Provider
    model: str
    role: str
    run_id: str
    phase_id: str | None = None
    attempt: int | None = None
    attempt_id: int | None = None
    max_tokens: int = 4096
    temperature: float | None = None
    price: Price | None = None

    def __call__(self, messages: list[Message]) -> Completion:
        """Ask the bound model; metered like every call."""
        request = CompletionRequest(
            model=self.model,
            messages=messages,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            role=self.role,
            run_id=self.run_id,
            phase_id=self.phase_id,
            attempt=self.attempt,
        )
        return metered_complete(
            self.store, self.provider, request, price=self.price, attempt_id=self.attempt_id
        )
