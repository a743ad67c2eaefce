"""The provider interface: messages in; text, token usage, stop reason and latency out.

Everything here is provider-neutral and free of I/O. :class:`ProviderConfig` holds the knobs
every SDK-backed provider shares (timeouts, retry policy); :func:`estimate_tokens` is the
conservative token estimate the budget ledger reserves before a call.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from autopack.llm.errors import LlmError
from autopack.llm.retry import RetryPolicy, Sleep, call_with_retries

__all__ = [
    "MESSAGE_OVERHEAD_TOKENS",
    "Completion",
    "CompletionRequest",
    "Message",
    "Provider",
    "ProviderConfig",
    "SdkProvider",
    "StopReason",
    "estimate_input_tokens",
    "estimate_tokens",
    "log_completion",
    "run_completion",
]

logger = logging.getLogger("autopack.llm")

StopReason = Literal["end", "max_tokens", "stop_sequence", "other"]

MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens added per message for role markers and separators (chat templates use 3–4)."""

BYTES_PER_TOKEN = 3
"""Divisor of the estimate. Real tokenizers average ~3.5–4.5 UTF-8 bytes per token on English
prose and source code, so dividing by 3 over-estimates ordinary text by 15–50 %."""


def estimate_tokens(text: str) -> int:
    """A conservative estimate of the tokens in ``text``: ``ceil(utf8_bytes / 3)``.

    It is an upper bound for prose and code in the languages Autopack works with; it is *not*
    a proof for adversarial input (random bytes or long runs of rare symbols can tokenize at
    close to one token per byte). The ledger reconciles with the provider's reported usage
    after every call, so the estimate only has to be good enough for the reservation.
    """
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_input_tokens(messages: Sequence[Message]) -> int:
    """Estimated prompt tokens: each message's text plus :data:`MESSAGE_OVERHEAD_TOKENS`."""
    return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS for m in messages)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    """One chat message. ``system`` messages are hoisted where a provider wants them."""

    role: Literal["system", "user", "assistant"]
    content: str


class CompletionRequest(_Frozen):
    """What to ask a model. Only ``model``, ``messages``, ``max_tokens``, ``temperature`` and
    ``stop`` reach the provider; the rest is metadata for routing, logs and the scripted model.
    """

    model: str = Field(description="The provider's model id, e.g. 'claude-sonnet-4-5'.")
    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(gt=0, description="Hard cap on output tokens.")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stop: list[str] | None = None
    role: str = Field(default="builder", description="builder, auditor, doctor, judge, …")
    run_id: str | None = None
    phase_id: str | None = None
    attempt: int | None = Field(default=None, ge=1)

    def estimated_input_tokens(self) -> int:
        """:func:`estimate_input_tokens` of this request's messages."""
        return estimate_input_tokens(self.messages)


class Completion(_Frozen):
    """A model's answer and what it cost."""

    text: str
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    stop_reason: StopReason
    raw_stop_reason: str | None = Field(
        default=None, description="The provider's own stop/finish reason, unmapped."
    )
    latency_ms: int = Field(ge=0, description="Wall time of the whole call, retries included.")
    provider: str
    model: str = Field(description="The model id the provider reported (or was asked for).")
    attempts: int = Field(default=1, ge=1, description="HTTP tries, 1 when nothing was retried.")
    usage_estimated: bool = Field(
        default=False,
        description="True when the provider reported no usage and the counts are estimates "
        "(estimate_input_tokens / estimate_tokens).",
    )

    @property
    def truncated(self) -> bool:
        """The answer stopped because it hit ``max_tokens``: it is probably incomplete."""
        return self.stop_reason == "max_tokens"

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


@runtime_checkable
class Provider(Protocol):
    """A model provider. ``complete`` raises only :class:`~autopack.llm.errors.LlmError`."""

    name: str

    def complete(self, request: CompletionRequest) -> Completion:
        """Ask the model; retries (when the provider does any) are already spent on return."""
        ...


class ProviderConfig(BaseModel):
    """Options shared by the SDK-backed providers (``make_provider(..., **options)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    read_timeout: float = Field(
        default=600.0,
        gt=0,
        description="Seconds to wait for the answer (long answers from large models are slow).",
    )
    retry: RetryPolicy = Field(
        default_factory=RetryPolicy, description="Retries of 429/5xx/timeouts/connection errors."
    )


def log_completion(completion: Completion, request: CompletionRequest) -> None:
    """One INFO line per call: who, which model, tokens, latency — never content or keys."""
    logger.info(
        "llm call provider=%s model=%s role=%s run=%s phase=%s attempt=%s "
        "in=%d out=%d%s latency_ms=%d stop=%s tries=%d",
        completion.provider,
        completion.model,
        request.role,
        request.run_id,
        request.phase_id,
        request.attempt,
        completion.input_tokens,
        completion.output_tokens,
        " (estimated)" if completion.usage_estimated else "",
        completion.latency_ms,
        completion.stop_reason,
        completion.attempts,
    )


def run_completion(
    request: CompletionRequest,
    attempt: Callable[[], Completion],
    *,
    provider: str,
    policy: RetryPolicy,
    sleep: Sleep = time.sleep,
) -> Completion:
    """The common shape of a provider call: retries, wall-clock latency, tries, one log line.

    ``attempt`` performs one HTTP try and returns a :class:`Completion` whose ``latency_ms``
    and ``attempts`` are filled in here.
    """
    start = time.monotonic()
    context = {"provider": provider, "model": request.model, "role": request.role}
    try:
        completion, tries = call_with_retries(attempt, policy, sleep=sleep, context=context)
    except LlmError as exc:
        logger.warning(
            "llm failed provider=%s model=%s role=%s phase=%s code=%s status=%s tries=%d",
            provider,
            request.model,
            request.role,
            request.phase_id,
            exc.code,
            exc.status,
            exc.attempts,
        )
        raise
    latency_ms = int((time.monotonic() - start) * 1000)
    completion = completion.model_copy(update={"latency_ms": latency_ms, "attempts": tries})
    log_completion(completion, request)
    return completion


class SdkProvider:
    """Shared by the SDK-backed providers: the retry loop around one ``_once`` HTTP call."""

    name: str
    config: ProviderConfig
    _sleep: Sleep
    _client: Any

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={str(self._client.base_url)!r})"

    def complete(self, request: CompletionRequest) -> Completion:
        """Ask the model; retries per :attr:`config`; raises only ``LlmError``."""
        return run_completion(
            request,
            lambda: self._once(request),
            provider=self.name,
            policy=self.config.retry,
            sleep=self._sleep,
        )

    def _once(self, request: CompletionRequest) -> Completion:
        raise NotImplementedError

    def _completion(
        self,
        request: CompletionRequest,
        *,
        text: str,
        input_tokens: int | None,
        output_tokens: int | None,
        raw_stop: str | None,
        stop_reasons: Mapping[str, StopReason],
        model: str | None,
    ) -> Completion:
        """A :class:`Completion`; usage the server did not report is estimated (and flagged)."""
        estimated = input_tokens is None or output_tokens is None
        if estimated:
            input_tokens = request.estimated_input_tokens()
            output_tokens = min(request.max_tokens, estimate_tokens(text))
        return Completion(
            text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            usage_estimated=estimated,
            stop_reason=stop_reasons.get(raw_stop or "", "other"),
            raw_stop_reason=raw_stop,
            latency_ms=0,
            provider=self.name,
            model=model or request.model,
        )
