"""The pure rules of issue tracking: keys, aging, extraction, resolution, and the files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from autopack.agents import DoctorDecision, Verdict
from autopack.agents.auditor import AuditIssue
from autopack.checks import CheckReport, CheckStatus
from autopack.issues.aging import PROFILE_THRESHOLDS, Thresholds, status_for, worse
from autopack.issues.extract import from_checks, from_doctor, from_verdict
from autopack.issues.keys import MAX_KEY_LENGTH, issue_key, kind_of, normalize_path, slug
from autopack.issues.mirror import phase_file_name, write_backlog, write_index, write_phase_file
from autopack.issues.resolution import Completion, RunEvidence, covers
from autopack.store import IssueBacklogSummary, PhaseIssueView, RunIssueView

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_keys_name_the_place_not_the_wording() -> None:
    assert issue_key("checks", "test_failure", "tests/t.py", "tests/t.py::test_a") == (
        "test:tests/t.py::test_a"
    )
    assert (
        issue_key("auditor", "Style", "./src//a.py", "Missing docstring") == "file:src/a.py#style"
    )
    assert issue_key("judge", "style", "src/a.py", "another wording") == "file:src/a.py#style"
    # Without a place, the wording is the key, with numbers and ids blurred.
    assert issue_key("auditor", "general", None, "Retry 3 times, see abc1234f") == (
        "auditor:general:retry-n-times-see-n"
    )
    assert issue_key("auditor", "general", None, "Retry 5 times, see deadbee0") == (
        "auditor:general:retry-n-times-see-n"
    )
    assert len(issue_key("auditor", "c", "x/" * 400, "t")) == MAX_KEY_LENGTH
    assert slug("!!!") == "untitled" and normalize_path("a\\b/./c/") == "a/b/c"
    assert [kind_of(k) for k in ("test:x", "file:a#b", "doctor:p:skip", "auditor:a:b")] == [
        "test",
        "file",
        "doctor",
        "other",
    ]


def test_aging_thresholds_and_majors() -> None:
    normal, critical = PROFILE_THRESHOLDS["normal"], PROFILE_THRESHOLDS["safety_critical"]
    assert (normal, critical) == (Thresholds(3, 2), Thresholds(2, 1))
    assert status_for("minor", 2, 1, normal) == "open"
    assert status_for("minor", 3, 1, normal) == "needs_cleanup"
    assert status_for("minor", 1, 2, normal) == "needs_cleanup"
    assert status_for("minor", 1, 1, critical) == "needs_cleanup"
    assert status_for("major", 9, 9, critical) == "open"
    assert worse("minor", "major") == worse("major", "minor") == "major"


def _verdict(approved: bool, *issues: AuditIssue) -> Verdict:
    return Verdict(approved=approved, issues=issues, summary="s", model_approved=approved)


def test_verdict_issues_are_recorded_approved_or_not() -> None:
    nit = AuditIssue(severity="minor", category="style", description="nit\nmore", file="a.py")
    crit = AuditIssue(severity="critical", category="security", description="leaks a key")
    items = from_verdict(_verdict(True, nit)) + from_verdict(_verdict(False, crit))
    assert [(i.issue_key, i.severity, i.title) for i in items] == [
        ("file:a.py#style", "minor", "nit"),
        ("auditor:security:leaks-a-key", "major", "leaks a key"),
    ]
    assert "verdict (approved): s" in items[0].evidence


def test_check_failures_new_major_preexisting_minor_and_runs_without_ids() -> None:
    report = CheckReport(
        status=CheckStatus.FAILED,
        failing=["tests/t.py::test_new", "tests/t.py::test_old"],
        new_failures=["tests/t.py::test_new"],
        preexisting_failures=["tests/t.py::test_old"],
        failure_details={"tests/t.py::test_new": "assert 1 == 2"},
    )
    items = from_checks(report)
    assert [(i.issue_key, i.severity, i.file) for i in items] == [
        ("test:tests/t.py::test_new", "major", "tests/t.py"),
        ("test:tests/t.py::test_old", "minor", "tests/t.py"),
    ]
    assert items[0].evidence == "assert 1 == 2"
    crash = CheckReport(status=CheckStatus.TIMEOUT, command=["pytest", "-q"])
    (item,) = from_checks(crash)
    assert (item.issue_key, item.severity) == ("checks:timeout:pytest-q", "major")
    assert from_checks(CheckReport(status=CheckStatus.PASSED)) == []
    assert from_checks(CheckReport(status=CheckStatus.SKIPPED, skip_reason="x")) == []


def test_doctor_findings() -> None:
    skip = DoctorDecision(action="skip_phase", rationale="cannot be done")
    fatal = DoctorDecision(action="mark_fatal", rationale="broken env", hint="")
    retry = DoctorDecision(action="retry_with_fix", rationale="try again", hint="do x")
    assert [(i.issue_key, i.severity) for i in from_doctor(skip, "p1")] == [
        ("doctor:p1:skip-phase", "minor")
    ]
    assert from_doctor(fatal, "p1")[0].severity == "major"
    assert from_doctor(retry, "p1") == []


def test_resolution_needs_later_evidence() -> None:
    ev = RunEvidence()
    t1 = ev.next_tick()
    ev.saw_issues(["test:t::a", "file:src/m.py#style", "auditor:general:x"], t1)
    t2 = ev.next_tick()
    ev.saw_passing(["t::a"], t2)
    ev.saw_completion(Completion(t1, "p1", ("src/",)))  # the recording attempt itself
    places = {
        "test:t::a": ("t", frozenset({"p1"})),
        "file:src/m.py#style": ("src/m.py", frozenset({"p1"})),
        "auditor:general:x": (None, frozenset({"p1"})),
        "file:docs/x.md#typo": ("docs/x.md", frozenset({"p0"})),  # an earlier run's
        "test:t::never": ("t", frozenset({"p0"})),
    }
    assert ev.resolvable(places) == ["test:t::a"]
    ev.saw_completion(Completion(ev.next_tick(), "p1", ("src",)))
    assert ev.resolvable(places) == ["auditor:general:x", "file:src/m.py#style", "test:t::a"]
    ev.saw_completion(Completion(ev.next_tick(), "p9", ("docs/x.md",)))
    assert "file:docs/x.md#typo" in ev.resolvable(places)
    assert covers(["src/"], "src/a/b.py") and not covers(["src"], "srcx/a.py")
    assert not covers([], "a.py") and covers(["a.py"], "./a.py")


def test_files_are_readable_json_and_markdown(tmp_path: Path) -> None:
    row = PhaseIssueView(
        "r", "t", "p", "k|1", "minor", "auditor", "c", "a | b", "e", None, 2, NOW, NOW
    )
    path = write_phase_file(tmp_path, "r", "p", [row])
    data = json.loads(path.read_text())
    assert path.name == "p.json" and data["issues"][0]["first_seen"] == NOW.isoformat()
    entry = RunIssueView(
        "k|1", "minor", ["auditor"], "c", "a | b", None, ["p"], ["t"], 2, NOW, NOW, "open"
    )
    write_index(tmp_path, "r", [entry])
    md = (tmp_path / "issues" / "index.md").read_text()
    assert "`k\\|1`" in md and "a \\| b" in md and "1 issue(s): 0 major, 1 minor." in md
    summary = IssueBacklogSummary(0, {}, {}, {}, {}, 0, 0, 0)
    text = write_backlog(tmp_path, "r", [], summary).read_text()
    assert "Nothing is unresolved." in text and "None." in text
    assert phase_file_name("index") == "phase-index.json" and phase_file_name("a/b") == "a_b.json"
