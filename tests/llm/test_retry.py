"""The retry loop and Retry-After parsing, without any network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from autopack.llm import LlmError, ProviderError, RateLimitedError, RetryPolicy, parse_retry_after
from autopack.llm.retry import call_with_retries


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(*errors: Exception, result: str = "ok"):
    queue = list(errors)

    def attempt() -> str:
        if queue:
            raise queue.pop(0)
        return result

    return attempt


def transient() -> ProviderError:
    return ProviderError("boom", status=500, retryable=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, expected) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(headers, now=now) == expected


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1, multiplier=2, max_delay=5, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_jitter_adds_at_most_its_fraction() -> None:
    policy = RetryPolicy(base_delay=2, jitter=0.25)
    assert policy.backoff(1, rng=lambda: 0.0) == 2.0
    assert policy.backoff(1, rng=lambda: 0.999) == pytest.approx(2.5, abs=0.01)


def test_success_after_transient_failures() -> None:
    clock = Clock()
    result, tries = call_with_retries(
        failing(transient(), transient()),
        RetryPolicy(max_attempts=3, jitter=0),
        sleep=clock.sleep,
        clock=clock,
    )
    assert (result, tries) == ("ok", 3)
    assert clock.sleeps == [1.0, 2.0]


def test_non_retryable_raises_at_once() -> None:
    clock = Clock()
    error = ProviderError("bad request", status=400)
    with pytest.raises(ProviderError) as info:
        call_with_retries(failing(error), RetryPolicy(), sleep=clock.sleep, clock=clock)
    assert info.value.attempts == 1 and clock.sleeps == []


def test_other_exceptions_propagate_untouched() -> None:
    with pytest.raises(KeyError):
        call_with_retries(failing(KeyError("x")), RetryPolicy(), sleep=lambda s: None)


def test_retry_after_longer_than_allowed_is_not_waited() -> None:
    clock = Clock()
    with pytest.raises(RateLimitedError):
        call_with_retries(
            failing(RateLimitedError("wait", retry_after=3600)),
            RetryPolicy(max_retry_after=60),
            sleep=clock.sleep,
            clock=clock,
        )
    assert clock.sleeps == []


def test_deadline_stops_retrying() -> None:
    clock = Clock()
    errors = [transient() for _ in range(10)]
    policy = RetryPolicy(max_attempts=10, base_delay=4, multiplier=1, jitter=0, deadline=10)
    with pytest.raises(LlmError) as info:
        call_with_retries(failing(*errors), policy, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [4.0, 4.0]  # a third wait would end at 12 s > 10 s
    assert info.value.attempts == 3
