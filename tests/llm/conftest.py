"""Fixtures for the provider tests: a wire-level server, a recording sleep, keyed settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autopack.llm import CompletionRequest, Message, RetryPolicy
from autopack.settings import Settings, load_settings
from support.wire_servers import WireServer

ANTHROPIC_KEY = "sk-ant-test-CANARY-a1b2c3d4e5f6"
OPENAI_KEY = "sk-test-CANARY-f6e5d4c3b2a1"
KEYS = (ANTHROPIC_KEY, OPENAI_KEY)


class RecordingSleep:
    """An injected ``sleep`` that returns at once and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def wire() -> Iterator[WireServer]:
    with WireServer() as server:
        yield server


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def keyed_settings(tmp_path: Path, wire: WireServer) -> Settings:
    return load_settings(
        workspace=tmp_path,
        anthropic_api_key=ANTHROPIC_KEY,
        openai_api_key=OPENAI_KEY,
        anthropic_base_url=wire.url,
        openai_base_url=wire.openai_url,
    )


@pytest.fixture
def llm_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Three tries, 0.5 s then 1 s of (injected) backoff."""
    return RetryPolicy(max_attempts=3, base_delay=0.5, jitter=0.0, deadline=60)


@pytest.fixture
def keys() -> tuple[str, str]:
    """The canary keys (Anthropic, OpenAI) that must never appear in a log or message."""
    return KEYS


@pytest.fixture
def make_request() -> Callable[..., CompletionRequest]:
    """``make_request(**overrides)`` → a builder request with a system and a user message."""
    return _request


@pytest.fixture
def assert_no_key_in_logs() -> Callable[[pytest.LogCaptureFixture], None]:
    """``assert_no_key_in_logs(caplog)``: no canary key (nor its tail) in any record."""
    return _assert_no_key_in_logs


def _request(**overrides: object) -> CompletionRequest:
    fields: dict[str, object] = {
        "model": "test-model",
        "messages": [
            Message(role="system", content="You are the Builder."),
            Message(role="user", content="Write hello.py"),
        ],
        "max_tokens": 64,
        "role": "builder",
        "run_id": "r1",
        "phase_id": "P1",
        "attempt": 1,
    }
    fields.update(overrides)
    return CompletionRequest.model_validate(fields)


def _assert_no_key_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "expected log records"
    for record in caplog.records:
        line = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for key in KEYS:
            assert key not in line, line
            assert key[-12:] not in line, line
