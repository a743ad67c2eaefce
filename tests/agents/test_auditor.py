"""The Auditor: verdict parsing, the severity rule, profiles, dual audit with a judge."""

from __future__ import annotations

import json

import pytest

from autopack.agents import (
    AuditRequest,
    MalformedAnswerError,
    Verdict,
    audit,
    build_auditor_messages,
    dual_audit,
)
from autopack.checks.deliverables import DeliverableCheck, DeliverablesReport, DeliverableStatus
from autopack.checks.report import CheckReport, CheckStatus

DIFF = """--- a/src/app/greet.py
+++ b/src/app/greet.py
@@ -1,2 +1,2 @@
-def greet():
-    return "hello world"
+def greet(name="world"):
+    return f"hello {name}"
"""


def answer(approved: bool, *issues: dict, summary: str = "ok") -> str:
    return json.dumps({"approved": approved, "issues": list(issues), "summary": summary})


MAJOR = {
    "severity": "major",
    "category": "tests",
    "description": "no test for name",
    "file": "src/app/greet.py",
    "line": 1,
}
MINOR = {
    "severity": "minor",
    "category": "style",
    "description": "docstring",
    "file": None,
    "line": None,
}


@pytest.fixture
def request_(phase) -> AuditRequest:
    checks = CheckReport(status=CheckStatus.PASSED, passed=3, command=["pytest", "-q"])
    deliverables = DeliverablesReport(
        items=[
            DeliverableCheck(
                target="src/app/greet.py", path="src/app/greet.py", status=DeliverableStatus.PRESENT
            )
        ],
        for_auditor=["explain the name argument in the README"],
    )
    return AuditRequest(
        phase=phase,
        diff=DIFF,
        checks=checks,
        deliverables=deliverables,
        run_goal="Personal greetings",
    )


def test_auditor_messages_carry_diff_checks_and_deliverables(request_, no_redaction) -> None:
    system, task = build_auditor_messages(request_, redactor=no_redaction)
    assert "Review profile: standard" in system.content
    assert '"approved"' in system.content and "critical" in system.content
    assert DIFF.strip() in task.content
    assert "Checks: PASSED [pytest, normal]: 3 passed" in task.content
    assert "deliverables: 1/1 present" in task.content
    assert "- explain the name argument in the README" in task.content
    assert "Personal greetings" in task.content


@pytest.mark.parametrize("profile", ["light", "standard", "thorough", "strict"])
def test_profiles_change_the_instructions(request_, no_redaction, profile) -> None:
    from dataclasses import replace

    system = build_auditor_messages(replace(request_, profile=profile), redactor=no_redaction)[0]
    others = {"light", "standard", "thorough", "strict"} - {profile}
    assert f"Review profile: {profile}" in system.content
    assert not any(f"Review profile: {o}" in system.content for o in others)


def test_unknown_profile_falls_back_to_standard(request_, no_redaction) -> None:
    from dataclasses import replace

    system = build_auditor_messages(replace(request_, profile="weird"), redactor=no_redaction)[0]
    assert "Review profile: standard" in system.content


def test_approval_is_kept(fake_model, request_, no_redaction) -> None:
    verdict = audit(fake_model(answer(True, MINOR)), request_, redactor=no_redaction)
    assert verdict.approved and not verdict.overridden
    assert [i.severity for i in verdict.issues] == ["minor"]


def test_rule_overrides_approved_true_with_a_major_issue(fake_model, request_, no_redaction):
    verdict = audit(fake_model(answer(True, MAJOR, MINOR)), request_, redactor=no_redaction)
    assert not verdict.approved
    assert verdict.model_approved and verdict.overridden
    assert [i.description for i in verdict.blocking] == ["no test for name"]
    assert "[major] tests src/app/greet.py:1: no test for name" in verdict.for_model()


def test_model_rejection_without_blocking_issue_stands(fake_model, request_, no_redaction):
    verdict = audit(fake_model(answer(False, MINOR)), request_, redactor=no_redaction)
    assert not verdict.approved and not verdict.overridden


def test_severity_aliases_and_default(fake_model, request_, no_redaction) -> None:
    from dataclasses import replace

    issues = [
        {"severity": "HIGH", "description": "bug"},
        {"description": "no severity given", "line": "12"},
    ]
    text = json.dumps({"approved": True, "issues": issues})
    verdict = audit(
        fake_model(text), replace(request_, default_severity="major"), redactor=no_redaction
    )
    assert [(i.severity, i.line) for i in verdict.issues] == [("major", None), ("major", 12)]
    assert not verdict.approved


def test_bad_severity_is_retried_then_fails(fake_model, request_, no_redaction) -> None:
    bad = answer(True, {"severity": "catastrophic", "description": "x"})
    model = fake_model(bad, bad)
    with pytest.raises(MalformedAnswerError):
        audit(model, request_, redactor=no_redaction)
    assert "issues.0.severity" in model.calls[1][-1].content


def test_dual_audit_agreeing_skips_the_judge(fake_model, request_, no_redaction) -> None:
    judge = fake_model()
    result = dual_audit(
        fake_model(answer(True, MINOR, summary="fine")),
        fake_model(answer(True, MINOR, summary="good")),
        judge,
        request_,
        redactor=no_redaction,
    )
    assert not result.judged and judge.calls == []
    assert result.final.approved and result.final.source == "consensus"
    assert len(result.final.issues) == 1  # the same issue is merged
    assert "fine" in result.final.summary and "good" in result.final.summary


def test_dual_audit_both_rejecting_skips_the_judge(fake_model, request_, no_redaction) -> None:
    # One auditor's flag said approved but its major issue rejects: they agree on rejection.
    result = dual_audit(
        fake_model(answer(True, MAJOR)),
        fake_model(answer(False, MINOR)),
        fake_model(),
        request_,
        redactor=no_redaction,
    )
    assert not result.judged and not result.final.approved
    assert result.final.overridden


def test_dual_audit_disagreeing_asks_the_judge(fake_model, request_, no_redaction) -> None:
    judge = fake_model(answer(True, MINOR, summary="A was right: the test exists"))
    result = dual_audit(
        fake_model(answer(True)),
        fake_model(answer(False, MAJOR)),
        judge,
        request_,
        redactor=no_redaction,
    )
    assert result.judged and result.final is result.judge
    assert result.final.approved and result.final.source == "judge"
    [system, task] = judge.calls[0]
    assert "You are the Judge" in system.content
    assert "### Auditor A" in task.content and "### Auditor B" in task.content
    assert "no test for name" in task.content and DIFF.strip() in task.content


def test_judge_verdict_is_subject_to_the_rule(fake_model, request_, no_redaction) -> None:
    result = dual_audit(
        fake_model(answer(True)),
        fake_model(answer(False, MAJOR)),
        fake_model(answer(True, MAJOR)),
        request_,
        redactor=no_redaction,
    )
    assert not result.final.approved and result.final.overridden


def test_long_diffs_are_cut(request_, no_redaction) -> None:
    from dataclasses import replace

    long = replace(request_, diff="+x\n" * 50_000, max_diff_tokens=1_000)
    task = build_auditor_messages(long, redactor=no_redaction)[1].content
    assert "cut in the middle" in task and len(task) < 6_000


def test_verdict_is_immutable() -> None:
    verdict = Verdict(approved=True, model_approved=True)
    with pytest.raises(ValueError):
        verdict.approved = False  # type: ignore[misc]
