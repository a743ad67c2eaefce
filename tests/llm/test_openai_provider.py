"""What the OpenAI(-compatible) provider sends on the wire and how it reads the answer."""

from __future__ import annotations

import pytest

from autopack.llm import AuthenticationError, estimate_input_tokens, estimate_tokens, make_provider
from autopack.llm.openai_provider import OpenAIProvider, is_loopback
from support.wire_servers import WireServer, openai_answer


def test_request_shape(keyed_settings, wire: WireServer, make_request, keys) -> None:
    make_provider("openai", keyed_settings).complete(
        make_request(temperature=0.0, stop=["###"], max_tokens=77)
    )
    sent = wire.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {keys[1]}"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You are the Builder."},
        {"role": "user", "content": "Write hello.py"},
    ]
    assert sent.body["max_tokens"] == 77
    assert "max_completion_tokens" not in sent.body
    assert sent.body["temperature"] == 0.0
    assert sent.body["stop"] == ["###"]
    for private in ("role", "run_id", "phase_id", "attempt"):
        assert private not in sent.body
    assert sent.headers["x-stainless-retry-count"] == "0"


def test_max_completion_tokens_option(keyed_settings, wire, make_request) -> None:
    provider = make_provider("openai", keyed_settings, token_param="max_completion_tokens")
    provider.complete(make_request(max_tokens=55))
    body = wire.requests[0].body
    assert body["max_completion_tokens"] == 55
    assert "max_tokens" not in body


def test_reads_usage(keyed_settings, wire, make_request) -> None:
    wire.queue(openai_answer("x", prompt_tokens=200, completion_tokens=9, model="gpt-x"))
    completion = make_provider("openai", keyed_settings).complete(make_request())
    assert (completion.input_tokens, completion.output_tokens) == (200, 9)
    assert completion.model == "gpt-x"
    assert not completion.usage_estimated


def test_missing_usage_is_estimated(keyed_settings, wire, make_request) -> None:
    text = "def hello():\n    return 'hi'\n"
    wire.queue(openai_answer(text, usage=False))
    request = make_request()
    completion = make_provider("openai", keyed_settings).complete(request)
    assert completion.usage_estimated
    assert completion.input_tokens == estimate_input_tokens(request.messages)
    assert completion.output_tokens == estimate_tokens(text)


def test_estimated_output_never_exceeds_max_tokens(keyed_settings, wire, make_request) -> None:
    wire.queue(openai_answer("word " * 500, usage=False, finish_reason="length"))
    completion = make_provider("openai", keyed_settings).complete(make_request(max_tokens=10))
    assert completion.output_tokens == 10
    assert completion.truncated


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [("stop", "end"), ("length", "max_tokens"), ("content_filter", "other")],
)
def test_finish_reasons(keyed_settings, wire, make_request, raw, mapped) -> None:
    wire.queue(openai_answer(finish_reason=raw))
    assert make_provider("openai", keyed_settings).complete(make_request()).stop_reason == mapped


def test_missing_key_names_the_variables(settings) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_provider("openai", settings)
    assert "OPENAI_API_KEY" in str(info.value) and "OPENAI_API_KEY_FILE" in str(info.value)


def test_local_server_needs_no_key(settings, wire, make_request) -> None:
    local = settings.model_copy(update={"openai_base_url": wire.openai_url})
    provider = make_provider("openai", local, provider_name="ollama")
    completion = provider.complete(make_request())
    assert completion.provider == "ollama"
    assert wire.requests[0].headers["authorization"].startswith("Bearer not-needed")
    with pytest.raises(AuthenticationError):
        make_provider("openai", local, require_api_key=True)


def test_base_url_option_overrides_settings(keyed_settings, wire, make_request) -> None:
    elsewhere = keyed_settings.model_copy(update={"openai_base_url": "http://192.0.2.1:9/v1"})
    provider = make_provider("openai", elsewhere, base_url=wire.openai_url)
    assert isinstance(provider, OpenAIProvider)
    provider.complete(make_request())
    assert len(wire.requests) == 1


@pytest.mark.parametrize(
    ("url", "loop"),
    [
        ("http://localhost:11434/v1", True),
        ("http://127.0.0.1:8000/v1", True),
        ("http://[::1]:8080/v1", True),
        ("https://openrouter.ai/api/v1", False),
        (None, False),
    ],
)
def test_is_loopback(url, loop) -> None:
    assert is_loopback(url) is loop
