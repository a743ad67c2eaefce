"""What the Anthropic provider sends on the wire and how it reads the answer."""

from __future__ import annotations

import pytest

from autopack.llm import AuthenticationError, Message, make_provider
from autopack.llm.anthropic_provider import AnthropicProvider
from support.wire_servers import WireServer, anthropic_answer


def test_request_shape(keyed_settings, wire: WireServer, make_request, keys) -> None:
    provider = make_provider("anthropic", keyed_settings)
    request = make_request(
        messages=[
            Message(role="system", content="rule one"),
            Message(role="system", content="rule two"),
            Message(role="user", content="question"),
            Message(role="assistant", content="draft"),
            Message(role="user", content="go on"),
        ],
        temperature=0.2,
        stop=["<END>"],
        max_tokens=123,
    )
    provider.complete(request)
    sent = wire.requests[0]
    assert sent.path == "/v1/messages"
    auth = sent.headers.get("x-api-key") or sent.headers.get("authorization", "")
    assert keys[0] in auth  # the key is sent to the server, and only there
    assert sent.body["system"] == "rule one\n\nrule two"
    assert sent.body["messages"] == [
        {"role": "user", "content": "question"},
        {"role": "assistant", "content": "draft"},
        {"role": "user", "content": "go on"},
    ]
    assert sent.body["max_tokens"] == 123
    assert sent.body["model"] == "test-model"
    assert sent.body["temperature"] == 0.2
    assert sent.body["stop_sequences"] == ["<END>"]
    for private in ("role", "run_id", "phase_id", "attempt"):
        assert private not in sent.body
    assert sent.headers["x-stainless-retry-count"] == "0"  # SDK retries are off


def test_no_system_no_temperature(keyed_settings, wire, make_request) -> None:
    make_provider("anthropic", keyed_settings).complete(
        make_request(messages=[Message(role="user", content="hi")])
    )
    body = wire.requests[0].body
    assert "system" not in body and "temperature" not in body and "stop_sequences" not in body


def test_reads_answer(keyed_settings, wire, make_request) -> None:
    wire.queue(anthropic_answer("done", input_tokens=120, output_tokens=30, model="claude-x"))
    completion = make_provider("anthropic", keyed_settings).complete(make_request())
    assert (completion.input_tokens, completion.output_tokens) == (120, 30)
    assert completion.model == "claude-x"
    assert completion.raw_stop_reason == "end_turn"


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [
        ("end_turn", "end"),
        ("max_tokens", "max_tokens"),
        ("model_context_window_exceeded", "max_tokens"),
        ("stop_sequence", "stop_sequence"),
        ("refusal", "other"),
    ],
)
def test_stop_reasons(keyed_settings, wire, make_request, raw, mapped) -> None:
    wire.queue(anthropic_answer(stop_reason=raw))
    completion = make_provider("anthropic", keyed_settings).complete(make_request())
    assert completion.stop_reason == mapped
    assert completion.raw_stop_reason == raw


def test_missing_key_names_the_variables(settings) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_provider("anthropic", settings)
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert "ANTHROPIC_API_KEY_FILE" in str(info.value)
    assert info.value.code == "missing_api_key"


def test_key_from_file(tmp_path, monkeypatch, wire) -> None:
    from autopack.settings import load_settings

    key_file = tmp_path / "key"
    key_file.write_text("sk-ant-from-file-0123456789\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY_FILE", str(key_file))
    settings = load_settings(workspace=tmp_path, anthropic_base_url=wire.url)
    provider = make_provider("anthropic", settings)
    assert isinstance(provider, AnthropicProvider)
    assert "sk-ant-from-file" not in repr(provider)
