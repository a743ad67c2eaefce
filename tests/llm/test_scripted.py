"""The scripted provider: matching, sequences, simulated failures, files, determinism."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml

from autopack.llm import (
    Provider,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    RetryPolicy,
    ScriptedProvider,
    ScriptError,
    estimate_input_tokens,
    estimate_tokens,
    make_provider,
)

KEYED = {
    "answers": [
        {"role": "builder", "text": "builder, any phase"},
        {"role": "builder", "phase": "P1", "text": "builder P1"},
        {"role": "builder", "phase": "P1", "attempt": 2, "text": "builder P1 attempt 2"},
        {"phase": "P9", "text": "anyone on P9"},
        {"text": "fallback"},
    ]
}


def ask(provider: ScriptedProvider, make_request, **fields) -> str:
    return provider.complete(make_request(**fields)).text


def test_is_a_provider() -> None:
    assert isinstance(ScriptedProvider({"sequence": [{"text": "x"}]}), Provider)


def test_most_specific_match_wins(make_request) -> None:
    p = ScriptedProvider(KEYED)
    assert ask(p, make_request, phase_id="P1", attempt=2) == "builder P1 attempt 2"
    assert ask(p, make_request, phase_id="P1", attempt=1) == "builder P1"
    assert ask(p, make_request, phase_id="P2", attempt=1) == "builder, any phase"
    assert ask(p, make_request, role="auditor", phase_id="P9") == "anyone on P9"
    assert ask(p, make_request, role="auditor", phase_id="P2") == "fallback"


def test_ties_go_to_the_first_entry(make_request) -> None:
    p = ScriptedProvider(
        {"answers": [{"role": "builder", "text": "a"}, {"phase": "P1", "text": "b"}]}
    )
    assert ask(p, make_request) == "a"


def test_sequences_per_role_then_any_role(make_request) -> None:
    p = ScriptedProvider(
        {
            "sequence": {
                "builder": [{"text": "b1"}, {"text": "b2", "repeat": 2}],
                "*": [{"text": "any1"}],
            }
        }
    )
    assert [ask(p, make_request) for _ in range(4)] == ["b1", "b2", "b2", "any1"]
    with pytest.raises(ScriptError):
        ask(p, make_request)


def test_sequence_exhaustion_reports_the_request(make_request) -> None:
    p = ScriptedProvider({"sequence": {"doctor": [{"text": "only once"}]}})
    assert ask(p, make_request, role="doctor") == "only once"
    with pytest.raises(ScriptError) as info:
        ask(p, make_request, role="doctor", phase_id="P7", attempt=3)
    message = str(info.value)
    assert "role='doctor'" in message and "phase='P7'" in message and "attempt=3" in message


def test_keyed_beats_sequence_which_beats_blank(make_request) -> None:
    p = ScriptedProvider(
        {
            "answers": [{"text": "blank"}, {"role": "auditor", "text": "auditor"}],
            "sequence": [{"text": "s1"}],
        }
    )
    assert ask(p, make_request, role="auditor") == "auditor"
    assert ask(p, make_request) == "s1"
    assert ask(p, make_request) == "blank"


def test_keyed_repeat_limits_uses(make_request) -> None:
    p = ScriptedProvider(
        {"answers": [{"role": "builder", "phase": "P1", "text": "first", "repeat": 1}],
         "sequence": {"builder": [{"text": "then this"}]}}
    )  # fmt: skip
    assert ask(p, make_request) == "first"
    assert ask(p, make_request) == "then this"


def test_bare_list_is_a_sequence_for_everyone(make_request) -> None:
    p = ScriptedProvider([{"text": "one"}, {"text": "two"}])
    assert [ask(p, make_request, role=r) for r in ("builder", "auditor")] == ["one", "two"]
    assert p.unused() == []


def test_default_usage_is_the_estimate(make_request) -> None:
    p = ScriptedProvider([{"text": "x" * 30}, {"text": "y" * 3000}])
    request = make_request(max_tokens=64)
    first = p.complete(request)
    assert first.input_tokens == estimate_input_tokens(request.messages)
    assert first.output_tokens == estimate_tokens("x" * 30) == 10
    assert first.usage_estimated and first.provider == "scripted" and first.model == "test-model"
    assert p.complete(request).output_tokens == 64  # never more than max_tokens


def test_explicit_usage_and_stop_reason(make_request) -> None:
    p = ScriptedProvider(
        [{"text": "cut", "usage": {"input_tokens": 500, "output_tokens": 64},
          "stop_reason": "max_tokens"}]
    )  # fmt: skip
    completion = p.complete(make_request())
    assert (completion.input_tokens, completion.output_tokens) == (500, 64)
    assert completion.truncated and not completion.usage_estimated


@pytest.mark.parametrize(
    ("error", "cls", "code"),
    [
        ("rate_limited", RateLimitedError, "rate_limited"),
        ("timeout", ProviderTimeoutError, "timeout"),
        ("server_error", ProviderError, "server_error"),
        ("overloaded", ProviderError, "overloaded"),
        ("malformed", ProviderError, "malformed_response"),
    ],
)
def test_simulated_errors(make_request, error, cls, code) -> None:
    p = ScriptedProvider([{"error": error}, {"text": "ok"}])
    with pytest.raises(cls) as info:
        p.complete(make_request())
    assert info.value.code == code
    assert ask(p, make_request) == "ok"


def test_simulated_errors_go_through_the_retry_loop(make_request, sleeps) -> None:
    p = ScriptedProvider(
        [{"error": "rate_limited", "retry_after": 3}, {"error": "server_error"}, {"text": "ok"}],
        retry=RetryPolicy(max_attempts=3, base_delay=0.5, jitter=0),
        sleep=sleeps,
    )
    completion = p.complete(make_request())
    assert completion.text == "ok" and completion.attempts == 3
    assert sleeps.calls == [3.0, 1.0]


def test_yaml_file_with_text_file(tmp_path: Path, make_request) -> None:
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "p1.diff").write_text("--- a/x\n+++ b/x\n")
    script = tmp_path / "script.yaml"
    script.write_text(
        yaml.safe_dump(
            {"answers": [{"role": "builder", "phase": "P1", "text_file": "answers/p1.diff"}]}
        )
    )
    p = ScriptedProvider(script)
    assert ask(p, make_request) == "--- a/x\n+++ b/x\n"


def test_json_file_and_numeric_phase(tmp_path: Path, make_request) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"answers": [{"phase": 3, "attempt": 1, "text": "three"}]}))
    assert ask(ScriptedProvider(script), make_request, phase_id="3") == "three"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({"answers": [{"role": "builder"}]}, "answers.0"),
        ({"answers": [{"text": "a", "text_file": "b"}]}, "exactly one"),
        ({"answers": [{"text": "a", "colour": "red"}]}, "colour"),
        ({"sequence": [{"error": "meteor"}]}, "sequence.*.0.error"),
        ([{"text": "a", "repeat": 0}], "repeat"),
    ],
)
def test_malformed_scripts(content, fragment) -> None:
    with pytest.raises(ScriptError) as info:
        ScriptedProvider(content)
    assert fragment in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read"):
        ScriptedProvider(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("answers: [\n")
    with pytest.raises(ScriptError, match="not valid"):
        ScriptedProvider(bad)
    dangling = tmp_path / "dangling.yaml"
    dangling.write_text("sequence:\n  - text_file: nowhere.txt\n")
    with pytest.raises(ScriptError, match=r"nowhere\.txt"):
        ScriptedProvider(dangling)


def test_deterministic(make_request) -> None:
    requests = [make_request(phase_id=p, attempt=a) for p in ("P1", "P2") for a in (1, 2, 1)]
    runs = [[ScriptedProvider(KEYED).complete(r).text for r in requests] for _ in range(2)]
    assert runs[0] == runs[1]


def test_thread_safe_sequence(make_request) -> None:
    p = ScriptedProvider([{"text": str(i)} for i in range(200)])
    got: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            text = p.complete(make_request()).text
            with lock:
                got.append(text)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=int) == [str(i) for i in range(200)]
    assert len(p.calls) == 200


def test_made_by_the_factory(settings, make_request) -> None:
    p = make_provider("scripted", settings, script={"sequence": [{"text": "hi"}]})
    assert p.complete(make_request()).text == "hi"
    with pytest.raises(ScriptError, match="script="):
        make_provider("scripted", settings)


def test_the_documented_example_loads_and_answers(tmp_path: Path, make_request, sleeps) -> None:
    doc = Path(__file__).parents[2] / "docs" / "scripted-model.md"
    example = doc.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "p1-attempt1.txt").write_text("first try")
    (tmp_path / "answers" / "p1-attempt2.txt").write_text("second try")
    (tmp_path / "script.yaml").write_text(example)
    p = ScriptedProvider(
        tmp_path / "script.yaml", retry=RetryPolicy(max_attempts=2, jitter=0), sleep=sleeps
    )
    assert ask(p, make_request, phase_id="P1", attempt=1) == "first try"
    second = p.complete(make_request(phase_id="P1", attempt=2))
    assert (second.text, second.input_tokens) == ("second try", 1800)
    assert p.complete(make_request(phase_id="P2")).truncated
    assert '"approved": true' in ask(p, make_request, role="auditor")
    doctor = p.complete(make_request(role="doctor"))
    assert "retry_with_fix" in doctor.text and doctor.attempts == 2 and sleeps.calls == [2.0]
    assert "mark_fatal" in ask(p, make_request, role="doctor")
