"""Autopack's own retry loop (the SDKs' retries are switched off).

One loop for every provider so that the behaviour is the same everywhere and testable:
retry what :class:`~autopack.llm.errors.LlmError` marks ``retryable`` (429, 408, 409, 500,
502, 503, 504, 529, connection errors, timeouts), wait what the server asked for when it said
(``retry-after-ms``, ``Retry-After`` in seconds or as an HTTP date), otherwise back off
exponentially with jitter; stop after ``max_attempts`` tries or when the next wait would pass
the total ``deadline``. ``sleep``, ``clock`` and ``rng`` are injectable so tests run instantly.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from autopack.llm.errors import LlmError

__all__ = ["RetryPolicy", "Sleep", "call_with_retries", "parse_retry_after"]

logger = logging.getLogger("autopack.llm")

T = TypeVar("T")
Sleep = Callable[[float], None]


class RetryPolicy(BaseModel):
    """How often and how patiently to retry one model call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=4, ge=1, description="Tries in total, the first included.")
    base_delay: float = Field(default=1.0, ge=0, description="First backoff, in seconds.")
    multiplier: float = Field(default=2.0, ge=1, description="Growth of the backoff per retry.")
    max_delay: float = Field(default=30.0, ge=0, description="Cap of one backoff, in seconds.")
    jitter: float = Field(
        default=0.25, ge=0, le=1, description="Up to this fraction of the backoff is added."
    )
    deadline: float = Field(
        default=900.0,
        gt=0,
        description="Seconds from the first try after which no new try starts "
        "(a try already running is bounded by the read timeout).",
    )
    max_retry_after: float = Field(
        default=120.0,
        ge=0,
        description="A longer Retry-After is not waited for: the error is raised at once.",
    )

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """The wait before retry number ``retry`` (1 = the first retry), jitter included."""
        delay = min(self.max_delay, self.base_delay * self.multiplier ** (retry - 1))
        return delay + delay * self.jitter * rng()


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``retry-after-ms`` or ``Retry-After`` (seconds or date).

    Header names are matched case-insensitively; unparseable or negative values are ignored.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
        return max(0.0, seconds)
    return seconds if seconds >= 0 else None


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Sleep = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
    context: Mapping[str, object] | None = None,
) -> tuple[T, int]:
    """Run ``attempt`` until it succeeds or retrying is pointless; return (result, tries).

    Only :class:`LlmError` with ``retryable`` set is retried; anything else propagates at
    once. The final error carries ``attempts``. ``context`` (provider, model, role) goes into
    the WARNING line logged before each wait.
    """
    start = clock()
    tries = 0
    fields = " ".join(f"{k}={v}" for k, v in (context or {}).items())
    while True:
        tries += 1
        try:
            return attempt(), tries
        except LlmError as exc:
            exc.attempts = tries
            if not exc.retryable or tries >= policy.max_attempts:
                raise
            if exc.retry_after is not None:
                if exc.retry_after > policy.max_retry_after:
                    raise
                delay = exc.retry_after
            else:
                delay = policy.backoff(tries, rng)
            if clock() - start + delay > policy.deadline:
                raise
            logger.warning(
                "llm retry %s try=%d code=%s status=%s wait_s=%.3f",
                fields,
                tries,
                exc.code,
                exc.status,
                delay,
            )
            sleep(delay)
