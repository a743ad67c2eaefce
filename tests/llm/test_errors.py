"""The exception tree and the scrubbing of secrets."""

from __future__ import annotations

import pytest

import autopack.llm as llm
from autopack.llm.errors import error_for_status, scrub


def test_tree() -> None:
    for cls in (
        llm.ProviderError,
        llm.RateLimitedError,
        llm.ProviderTimeoutError,
        llm.AuthenticationError,
        llm.ScriptError,
    ):
        assert issubclass(cls, llm.LlmError)
    assert llm.RateLimitedError.retryable and llm.ProviderTimeoutError.retryable
    assert not llm.AuthenticationError.retryable and not llm.ScriptError.retryable


@pytest.mark.parametrize(
    ("status", "cls", "code", "retryable"),
    [
        (401, llm.AuthenticationError, "authentication_failed", False),
        (403, llm.AuthenticationError, "permission_denied", False),
        (429, llm.RateLimitedError, "rate_limited", True),
        (408, llm.ProviderError, "request_timeout", True),
        (409, llm.ProviderError, "conflict", True),
        (500, llm.ProviderError, "server_error", True),
        (529, llm.ProviderError, "overloaded", True),
        (501, llm.ProviderError, "server_error", False),
        (400, llm.ProviderError, "bad_request", False),
        (413, llm.ProviderError, "request_too_large", False),
    ],
)
def test_error_for_status(status, cls, code, retryable) -> None:
    error = error_for_status(status, "detail", provider="p", model="m")
    assert type(error) is cls
    assert (error.code, error.retryable, error.status) == (code, retryable, status)
    assert str(error).startswith(f"[{code}] p/m: HTTP {status}")


def test_scrub_removes_known_and_key_shaped_secrets() -> None:
    text = "key=hunter2-long-secret auth: Bearer abcdefghijklmnop sk-ant-api03-XYZXYZXYZXYZ"
    out = scrub(text, ["hunter2-long-secret", None, ""])
    assert "hunter2" not in out and "abcdefghijklmnop" not in out and "XYZXYZ" not in out
    assert out.count("[redacted]") == 3


def test_scrub_caps_length() -> None:
    assert len(scrub("x" * 5000)) <= 501
