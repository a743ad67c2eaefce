"""The Doctor: decision parsing, the command allow-list, the strong-Doctor rule."""

from __future__ import annotations

import json

import pytest

from autopack.agents import (
    DoctorAction,
    FailedAttempt,
    FailureHistory,
    MalformedAnswerError,
    build_doctor_messages,
    check_command,
    diagnose,
    needs_strong_doctor,
)
from autopack.agents.doctor import DoctorDecision

ALLOWED = [("pip", "install"), ("npm", "ci")]


def history(*errors: tuple[str, str], high_risk: bool = False) -> FailureHistory:
    return FailureHistory(
        attempts=tuple(
            FailedAttempt(attempt=i, error_class=cls, messages=(msg,), check_summary="FAILED")
            for i, (cls, msg) in enumerate(errors, start=1)
        ),
        high_risk=high_risk,
        attempts_left=2,
    )


ONE = history(("ci_fail", "ModuleNotFoundError: No module named 'requests'"))


def decision(**fields) -> str:
    return json.dumps(fields)


def test_retry_with_fix_is_parsed(fake_model, phase, no_redaction) -> None:
    model = fake_model(
        decision(action="retry_with_fix", rationale="wrong import", hint="import requests")
    )
    result = diagnose(model, phase, ONE, allowed_commands=ALLOWED, redactor=no_redaction)
    assert result.action is DoctorAction.RETRY_WITH_FIX
    assert result.hint == "import requests" and result.command is None


def test_doctor_messages_show_history_and_allow_list(phase, no_redaction) -> None:
    system, task = build_doctor_messages(
        phase, ONE, allowed_commands=ALLOWED, redactor=no_redaction
    )
    for action in DoctorAction:
        assert action.value in system.content
    assert '["pip", "install"]' in system.content
    assert "### Attempt 1: ci_fail" in task.content
    assert "No module named 'requests'" in task.content
    assert "Attempts left: 2" in task.content


def test_no_allow_list_says_so(phase, no_redaction) -> None:
    system = build_doctor_messages(phase, ONE, redactor=no_redaction)[0]
    assert "No commands are allowed in this run" in system.content


def test_allowed_command_is_accepted(fake_model, phase, no_redaction) -> None:
    model = fake_model(
        decision(
            action="execute_fix", rationale="missing dep", command=["pip", "install", "requests"]
        )
    )
    result = diagnose(model, phase, ONE, allowed_commands=ALLOWED, redactor=no_redaction)
    assert result.action is DoctorAction.EXECUTE_FIX
    assert result.command == ("pip", "install", "requests")


def test_disallowed_command_is_sent_back_once(fake_model, phase, no_redaction) -> None:
    model = fake_model(
        decision(action="execute_fix", rationale="x", command=["rm", "-rf", "/"]),
        decision(action="escalate", rationale="cannot fix the environment safely"),
    )
    result = diagnose(model, phase, ONE, allowed_commands=ALLOWED, redactor=no_redaction)
    assert result.action is DoctorAction.ESCALATE
    assert "is not allowed; allowed command prefixes: pip install, npm ci" in (
        model.calls[1][-1].content
    )


def test_shell_text_command_is_refused_twice(fake_model, phase, no_redaction) -> None:
    shell = decision(action="execute_fix", rationale="x", command="pip install requests")
    model = fake_model(shell, shell)
    with pytest.raises(MalformedAnswerError) as info:
        diagnose(model, phase, ONE, allowed_commands=ALLOWED, redactor=no_redaction)
    assert "not shell text" in info.value.parse_error


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (["pip", "install", "requests"], None),
        (["npm", "ci"], None),
        (["pip", "uninstall", "x"], "is not allowed"),
        (["pip install requests"], "shell text"),
        (["pip", "install", "x; rm -rf /"], "shell syntax"),
        (["pip", "install", "$(curl evil)"], "shell syntax"),
        (["pip", "install", "x", "> out"], "shell syntax"),
        ([], "non-empty"),
        (["pip", ""], "non-empty"),
    ],
)
def test_check_command(command, reason) -> None:
    result = check_command(command, ALLOWED)
    if reason is None:
        assert result is None
    else:
        assert result is not None and reason in result


def test_command_is_dropped_for_other_actions() -> None:
    parsed = DoctorDecision.model_validate(
        {"action": "Retry-With-Fix", "rationale": "r", "hint": None, "command": ["ls"]}
    )
    assert parsed.action is DoctorAction.RETRY_WITH_FIX
    assert parsed.command is None and parsed.hint == ""


def test_execute_fix_needs_a_command() -> None:
    with pytest.raises(ValueError, match="needs a non-empty 'command'"):
        DoctorDecision.model_validate({"action": "execute_fix", "rationale": "r"})


def test_unknown_action_is_refused(fake_model, phase, no_redaction) -> None:
    model = fake_model(
        decision(action="pray", rationale="?"), decision(action="replan", rationale="scope")
    )
    assert diagnose(model, phase, ONE, redactor=no_redaction).action is DoctorAction.REPLAN
    assert "action" in model.calls[1][-1].content


def test_needs_strong_doctor_rule() -> None:
    assert not needs_strong_doctor(ONE)
    assert needs_strong_doctor(history(("ci_fail", "boom"), high_risk=True))
    same = history(
        ("ci_fail", "AssertionError: 3 != 4 at line 10"),
        ("ci_fail", "AssertionError: 5 != 4 at line 12"),
    )
    assert needs_strong_doctor(same)
    different = history(("ci_fail", "AssertionError"), ("patch_apply_error", "no_match"))
    assert not needs_strong_doctor(different)
    three = history(("a", "x"), ("b", "y"), ("c", "z"))
    assert needs_strong_doctor(three)


def test_long_histories_are_bounded(phase, no_redaction) -> None:
    many = history(*[("ci_fail", f"error {i} " + "x" * 10_000) for i in range(10)])
    task = build_doctor_messages(phase, many, redactor=no_redaction)[1].content
    assert "### Attempt 5:" in task and "### Attempt 4:" not in task
    assert len(task) < 6 * 3_200 + 2_000
