"""Both SDK providers against the local wire-level server: the behaviours they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from autopack.llm import (
    AuthenticationError,
    LlmError,
    Provider,
    ProviderConfig,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    RetryPolicy,
    make_provider,
)
from autopack.settings import Settings
from support.wire_servers import (
    Reply,
    WireServer,
    anthropic_answer,
    malformed,
    openai_answer,
    rate_limited,
    server_error,
    slow,
)


@dataclass(frozen=True)
class Flavour:
    name: str
    path: str
    answer: Callable[..., Reply]
    truncated: Callable[[], Reply]


FLAVOURS = [
    Flavour(
        "anthropic",
        "/v1/messages",
        anthropic_answer,
        lambda: anthropic_answer("partial", stop_reason="max_tokens"),
    ),
    Flavour(
        "openai",
        "/v1/chat/completions",
        openai_answer,
        lambda: openai_answer("partial", finish_reason="length"),
    ),
]


@pytest.fixture(params=FLAVOURS, ids=lambda f: f.name)
def flavour(request: pytest.FixtureRequest) -> Flavour:
    return request.param


@pytest.fixture
def build(
    flavour: Flavour, keyed_settings: Settings, sleeps: Callable[[float], None]
) -> Callable[..., Provider]:
    def _build(**options: object) -> Provider:
        options.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.5, jitter=0.0))
        options.setdefault("read_timeout", 5.0)
        return make_provider(flavour.name, keyed_settings, sleep=sleeps, **options)

    return _build


def test_normal_answer(flavour, build, wire: WireServer, make_request, sleeps) -> None:
    wire.queue(flavour.answer("hello"))
    completion = build().complete(make_request())
    assert completion.text == "hello"
    assert completion.stop_reason == "end"
    assert not completion.truncated
    assert completion.input_tokens > 0 and completion.output_tokens > 0
    assert not completion.usage_estimated
    assert completion.provider == flavour.name
    assert completion.attempts == 1
    assert completion.latency_ms >= 0
    assert [r.path for r in wire.requests] == [flavour.path]
    assert wire.requests[0].body["max_tokens"] == 64
    assert sleeps.calls == []


def test_429_honours_retry_after_seconds(flavour, build, wire, make_request, sleeps) -> None:
    wire.queue(rate_limited(retry_after="2"), flavour.answer("after the wait"))
    completion = build().complete(make_request())
    assert completion.text == "after the wait"
    assert completion.attempts == 2
    assert sleeps.calls == [2.0]
    assert len(wire.requests) == 2


def test_429_honours_retry_after_ms(flavour, build, wire, make_request, sleeps) -> None:
    wire.queue(rate_limited(retry_after="7", retry_after_ms="250"), flavour.answer())
    build().complete(make_request())
    assert sleeps.calls == [0.25]


def test_429_http_date(flavour, build, wire, make_request, sleeps) -> None:
    wire.queue(rate_limited(retry_after="Wed, 21 Oct 2015 07:28:00 GMT"), flavour.answer())
    build().complete(make_request())
    assert sleeps.calls == [0.0]  # a date in the past: retry at once


def test_429_until_exhausted(flavour, build, wire, make_request, sleeps) -> None:
    wire.queue(*[rate_limited(retry_after="1")] * 3)
    with pytest.raises(RateLimitedError) as info:
        build().complete(make_request())
    assert info.value.attempts == 3
    assert info.value.status == 429
    assert info.value.retry_after == 1.0
    assert sleeps.calls == [1.0, 1.0]


def test_500_then_success_backs_off(flavour, build, wire, make_request, sleeps) -> None:
    wire.queue(server_error(500), flavour.answer("recovered"))
    completion = build().complete(make_request())
    assert completion.text == "recovered"
    assert completion.attempts == 2
    assert sleeps.calls == [0.5]


@pytest.mark.parametrize("status", [502, 503, 504, 529])
def test_transient_statuses_are_retried(flavour, build, wire, make_request, sleeps, status):
    wire.queue(server_error(status), server_error(status), flavour.answer("third time"))
    completion = build().complete(make_request())
    assert completion.attempts == 3
    assert sleeps.calls == [0.5, 1.0]


def test_timeouts_after_retries(flavour, build, wire, make_request, sleeps) -> None:
    wire.queue(*[slow(1.0, flavour.answer())] * 3)
    with pytest.raises(ProviderTimeoutError) as info:
        build(read_timeout=0.15).complete(make_request())
    assert info.value.attempts == 3
    assert info.value.code == "timeout"
    assert len(wire.requests) == 3
    assert len(sleeps.calls) == 2


def test_slow_but_within_timeout(flavour, build, wire, make_request) -> None:
    wire.queue(slow(0.1, flavour.answer("late")))
    assert build(read_timeout=2.0).complete(make_request()).text == "late"


def test_401_is_not_retried_and_scrubbed(flavour, build, wire, make_request, sleeps, keys):
    echo = f"invalid key {keys[0]} / {keys[1]}"  # a server that echoes what it got
    wire.queue(server_error(401, message=echo))
    with pytest.raises(AuthenticationError) as info:
        build().complete(make_request())
    assert info.value.status == 401
    assert info.value.attempts == 1
    assert len(wire.requests) == 1
    assert sleeps.calls == []
    for key in keys:
        assert key not in str(info.value)
        assert key not in repr(info.value.args)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_other_4xx_not_retried(flavour, build, wire, make_request, sleeps, status) -> None:
    wire.queue(server_error(status, message="nope"))
    with pytest.raises(ProviderError) as info:
        build().complete(make_request())
    assert not info.value.retryable
    assert info.value.status == status
    assert len(wire.requests) == 1


def test_truncation_detected(flavour, build, wire, make_request) -> None:
    wire.queue(flavour.truncated())
    completion = build().complete(make_request())
    assert completion.truncated
    assert completion.stop_reason == "max_tokens"
    assert completion.text == "partial"


@pytest.mark.parametrize(
    "reply",
    [malformed(), Reply(body="not json at all", headers={"content-type": "text/plain"})],
    ids=["broken-json", "text-plain"],
)
def test_malformed_body(flavour, build, wire, make_request, reply: Reply) -> None:
    wire.queue(reply)
    with pytest.raises(ProviderError) as info:
        build().complete(make_request())
    assert info.value.code == "malformed_response"
    assert len(wire.requests) == 1


def test_connection_refused_is_retried(flavour, keyed_settings, make_request, sleeps) -> None:
    with WireServer() as gone:
        url = gone.url
    field = "anthropic_base_url" if flavour.name == "anthropic" else "openai_base_url"
    base = url if flavour.name == "anthropic" else url + "/v1"
    settings = keyed_settings.model_copy(update={field: base})
    provider = make_provider(
        flavour.name, settings, sleep=sleeps, retry=RetryPolicy(max_attempts=2, jitter=0)
    )
    with pytest.raises(ProviderError) as info:
        provider.complete(make_request())
    assert info.value.code == "connection_error"
    assert info.value.attempts == 2
    assert sleeps.calls == [1.0]


def test_no_key_in_any_log_line(
    flavour, build, wire, make_request, llm_logs, assert_no_key_in_logs, keys
) -> None:
    wire.queue(
        rate_limited(retry_after="0"),
        flavour.answer("ok"),
        server_error(401, message=f"bad key {keys[0]} {keys[1]}"),
    )
    provider = build()
    provider.complete(make_request())
    with pytest.raises(LlmError):
        provider.complete(make_request())
    assert_no_key_in_logs(llm_logs)
    assert keys[0] not in repr(provider) and keys[1] not in repr(provider)
    messages = [r.getMessage() for r in llm_logs.records if r.name == "autopack.llm"]
    assert any("llm call" in m and "in=" in m for m in messages)
    assert any("llm retry" in m for m in messages)
    assert any("llm failed" in m for m in messages)
    # Message content never reaches the log at INFO (or at all).
    assert not any("Write hello.py" in m or "You are the Builder" in m for m in messages)


def test_provider_config_defaults_are_documented() -> None:
    for name, field in ProviderConfig.model_fields.items():
        assert field.description, name
    for name, field in RetryPolicy.model_fields.items():
        assert field.description, name
