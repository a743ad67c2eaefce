"""JSON extraction variants, retry-once, MalformedAnswerError and truncated answers."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from autopack.agents import JsonExtractionError, MalformedAnswerError, ask_structured, extract_json
from autopack.agents.structured import is_truncated
from autopack.llm.base import Completion, Message


class Answer(BaseModel):
    ok: bool
    count: int = 0


ASK = [Message(role="system", content="Answer in JSON."), Message(role="user", content="Go")]


@pytest.mark.parametrize(
    "text",
    [
        '{"ok": true, "count": 2}',
        '  \n{"ok": true, "count": 2}\n',
        'Here you go:\n```json\n{"ok": true, "count": 2}\n```\nThanks.',
        'Here:\n```\n{"ok": true, "count": 2}\n```',
        'My verdict is {"ok": true, "count": 2} as requested.',
        'Use {name} placeholders. Result: {"ok": true, "count": 2}',
        '```python\nx = {1: 2}\n```\n```json\n{"ok": true, "count": 2}\n```',
        '{"ok": true, "count": 2}\n{"ok": false}',
    ],
)
def test_extract_json_variants(text: str) -> None:
    assert extract_json(text) == {"ok": True, "count": 2}


def test_extract_json_keeps_nested_objects_whole() -> None:
    text = 'Sure. {"ok": true, "inner": {"a": [1, {"b": 2}]}} done'
    assert extract_json(text) == {"ok": True, "inner": {"a": [1, {"b": 2}]}}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("no json here at all", "no JSON object"),
        ("[1, 2, 3]", "list"),
        ('```json\n{"ok": true,, }\n```', "fenced block is not valid JSON"),
        # A broken outer object is reported, never replaced by an object nested inside it.
        ('{"ok": true, "issues": [{"severity": "minor"}', "invalid"),
    ],
)
def test_extract_json_errors_are_precise(text: str, needle: str) -> None:
    with pytest.raises(JsonExtractionError, match=needle):
        extract_json(text)


def test_valid_first_answer_makes_one_call(fake_model) -> None:
    model = fake_model('{"ok": true}')
    assert ask_structured(model, ASK, Answer) == Answer(ok=True)
    assert len(model.calls) == 1


def test_malformed_then_valid_sends_the_exact_parse_error_once(fake_model) -> None:
    model = fake_model('{"ok": true,}', '```json\n{"ok": false, "count": 3}\n```')
    assert ask_structured(model, ASK, Answer) == Answer(ok=False, count=3)
    assert len(model.calls) == 2
    follow_up = model.calls[1]
    assert [m.role for m in follow_up] == ["system", "user", "assistant", "user"]
    assert follow_up[2].content == '{"ok": true,}'
    assert "Expecting property name enclosed in double quotes" in follow_up[3].content
    assert "exactly one JSON object" in follow_up[3].content


def test_validation_error_names_the_field(fake_model) -> None:
    model = fake_model('{"ok": "maybe"}', '{"ok": true}')
    ask_structured(model, ASK, Answer)
    assert "- ok: Input should be a valid boolean" in model.calls[1][-1].content
    assert "'maybe'" in model.calls[1][-1].content


def test_still_malformed_raises_after_one_retry(fake_model) -> None:
    model = fake_model("I think it is fine.", "Still no JSON, sorry.")
    with pytest.raises(MalformedAnswerError) as info:
        ask_structured(model, ASK, Answer)
    assert len(model.calls) == 2
    err = info.value
    assert err.code == "malformed_answer"
    assert err.attempts == 2
    assert err.raw == "Still no JSON, sorry."
    assert "no JSON object" in err.parse_error
    assert not err.truncated


def test_raw_text_is_trimmed_in_the_error(fake_model) -> None:
    long = "x" * 50_000
    with pytest.raises(MalformedAnswerError) as info:
        ask_structured(fake_model(long), ASK, Answer, retries=0)
    assert len(info.value.raw) < 2_200
    assert "characters cut" in info.value.raw


def test_truncated_answer_counts_as_malformed_with_a_message(fake_model) -> None:
    # Even a complete-looking object is not trusted when the answer hit max_tokens.
    model = fake_model(('{"ok": true}', "max_tokens"), '{"ok": true, "count": 1}')
    assert ask_structured(model, ASK, Answer) == Answer(ok=True, count=1)
    follow_up = model.calls[1][-1].content
    assert "cut off at the output token limit" in follow_up
    assert "max_tokens" in follow_up
    assert "Keep it short" in follow_up


def test_truncated_twice_raises_with_truncated_flag(fake_model) -> None:
    model = fake_model(('{"ok": tr', "max_tokens"), ('{"ok": true, "co', "max_tokens"))
    with pytest.raises(MalformedAnswerError) as info:
        ask_structured(model, ASK, Answer)
    assert info.value.truncated
    assert "cut off" in info.value.parse_error


def test_is_truncated_reads_the_stop_reason() -> None:
    def completion(stop: str) -> Completion:
        return Completion(
            text="{}",
            input_tokens=0,
            output_tokens=0,
            stop_reason=stop,
            latency_ms=0,
            provider="fake",
            model="m",
        )

    assert is_truncated(completion("max_tokens"))
    assert not is_truncated(completion("end"))


def test_check_hook_refusal_is_sent_back(fake_model) -> None:
    model = fake_model('{"ok": true, "count": 99}', '{"ok": true, "count": 1}')

    def small(value: Answer) -> str | None:
        return "count must be below 10" if value.count >= 10 else None

    assert ask_structured(model, ASK, Answer, check=small).count == 1
    assert "count must be below 10" in model.calls[1][-1].content


def test_retries_zero_means_no_follow_up(fake_model) -> None:
    model = fake_model("nope")
    with pytest.raises(MalformedAnswerError):
        ask_structured(model, ASK, Answer, retries=0)
    assert len(model.calls) == 1
