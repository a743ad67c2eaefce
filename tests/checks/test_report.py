"""CheckReport rendering: one-line summaries and the text for the Builder."""

from __future__ import annotations

from autopack.checks import CheckReport, CheckStatus


def test_summary_lines():
    failed = CheckReport(
        status=CheckStatus.FAILED,
        passed=3,
        failed=2,
        failing=["a", "b"],
        new_failures=["a"],
        preexisting_failures=["b"],
        returncode=1,
        duration_s=1.25,
    )
    assert failed.summary() == (
        "FAILED [pytest, normal]: 3 passed, 2 failed, 0 errors, 0 skipped; "
        "1 new, 1 pre-existing; exit 1 in 1.2s"
    )
    timeout = CheckReport(status=CheckStatus.TIMEOUT, kind="custom", profile="strict")
    assert "timed out, process group killed" in timeout.summary()
    skipped = CheckReport(status=CheckStatus.SKIPPED, skip_reason="AUTOPACK_SKIP_CI is set")
    assert skipped.summary() == "SKIPPED [pytest, normal]: skipped: AUTOPACK_SKIP_CI is set"


def test_for_model_lists_new_failures_details_and_output():
    many = [f"t{i}" for i in range(40)]
    report = CheckReport(
        status=CheckStatus.FAILED,
        command=["python", "-m", "pytest", "a b"],
        failing=[*many, "old"],
        new_failures=many,
        preexisting_failures=["old"],
        failure_details={"t0": "AssertionError: boom"},
        output_tail="tail of output",
        warnings=["something odd"],
    )
    text = report.for_model()
    assert "Command: python -m pytest 'a b'" in text
    assert "- t29" in text and "- t30" not in text and "and 10 more" in text
    assert "not yours to fix" in text and "- old" in text
    assert "--- t0 ---\nAssertionError: boom" in text
    assert text.endswith("tail of output")
    assert "Warning: something odd" in text
    passed = CheckReport(status=CheckStatus.PASSED, output_tail="noise")
    assert "noise" not in passed.for_model()
    assert passed.ok and not report.ok


def test_for_model_leaves_out_output_when_details_cover_new_failures():
    report = CheckReport(
        status=CheckStatus.FAILED,
        failing=["new", "old"],
        new_failures=["new"],
        preexisting_failures=["old"],
        failure_details={"new": "AssertionError: new"},
        output_tail="traceback of old",
    )
    text = report.for_model()
    assert "AssertionError: new" in text
    assert "traceback of old" not in text
