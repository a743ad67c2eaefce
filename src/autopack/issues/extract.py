"""What to record from an attempt: the Auditor's verdict, the checks' report, the Doctor.

- **Auditor** (and judge, consensus, external reviewer): every issue of the verdict, approved
  or not; ``critical`` is recorded as ``major``. Keyed by file and category when the issue
  names a file, else by its category and wording (:func:`autopack.issues.keys.issue_key`).
- **Checks**: a test the change broke (``new_failures``) is ``major``; a test that also fails
  on the base commit (``preexisting_failures``) is ``minor`` — project debt that ages. A
  failed, errored or timed-out check run without any failing test id is one ``major`` issue
  keyed by its status and command.
- **Doctor**: ``skip_phase`` is a ``minor`` issue (work left undone); ``mark_fatal``,
  ``replan`` and ``rollback_run`` are ``major``; the other actions are ordinary recovery
  and record nothing. Keyed by phase and action.

Only duck-typed attribute reads here (no imports of the agents or checks at run time), so
the store can import this package without pulling the agents in.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from autopack.issues.keys import doctor_key, issue_key, key_for_test, normalize_path, slug
from autopack.store.issue_views import IssueInput

if TYPE_CHECKING:
    from autopack.agents import DoctorDecision, Verdict
    from autopack.checks import CheckReport

__all__ = ["from_checks", "from_doctor", "from_verdict", "test_file"]

_TITLE_LIMIT = 300
_EVIDENCE_LIMIT = 2000
_MAJOR_DOCTOR = frozenset({"mark_fatal", "replan", "rollback_run"})
_MINOR_DOCTOR = frozenset({"skip_phase"})


def _title(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    first = lines[0] if lines else "(no description)"
    return first[:_TITLE_LIMIT]


def test_file(test_id: str) -> str | None:
    """The file of a pytest node id (``tests/test_a.py::test_x`` → ``tests/test_a.py``)."""
    path = test_id.split("::", 1)[0]
    return normalize_path(path) if path.endswith(".py") else None


def from_verdict(verdict: Verdict) -> list[IssueInput]:
    """The verdict's issues (see the module docstring)."""
    out: list[IssueInput] = []
    for issue in verdict.issues:
        file = normalize_path(issue.file) if issue.file else None
        title = _title(issue.description)
        evidence = issue.render()
        if verdict.summary:
            evidence += f"\nverdict ({'approved' if verdict.approved else 'rejected'}): "
            evidence += verdict.summary
        out.append(
            IssueInput(
                issue_key=issue_key("auditor", issue.category, file, title),
                severity="minor" if issue.severity == "minor" else "major",
                source=verdict.source,
                category=issue.category[:64],
                title=title,
                evidence=evidence[:_EVIDENCE_LIMIT],
                file=file or None,
            )
        )
    return out


def from_checks(report: CheckReport) -> list[IssueInput]:
    """Failing tests of a check run, and a failed run without test ids."""
    out: list[IssueInput] = []
    groups = (
        ("major", "test_failure", report.new_failures),
        ("minor", "preexisting_failure", report.preexisting_failures),
    )
    for severity, category, ids in groups:
        for test_id in ids:
            detail = report.failure_details.get(test_id) or report.summary()
            out.append(
                IssueInput(
                    issue_key=key_for_test(test_id),
                    severity=severity,  # type: ignore[arg-type]
                    source="checks",
                    category=category,
                    title=test_id[:_TITLE_LIMIT],
                    evidence=detail[:_EVIDENCE_LIMIT],
                    file=test_file(test_id),
                )
            )
    if not out and not report.ok:
        status = str(report.status.value if hasattr(report.status, "value") else report.status)
        command = shlex.join(report.command) if report.command else report.kind
        out.append(
            IssueInput(
                issue_key=f"checks:{status}:{slug(command, 120)}",
                severity="major",
                source="checks",
                category=f"checks_{status}",
                title=f"checks {status}: {command}"[:_TITLE_LIMIT],
                evidence=(report.summary() + "\n" + report.output_tail)[:_EVIDENCE_LIMIT],
            )
        )
    return out


def from_doctor(decision: DoctorDecision, phase_id: str) -> list[IssueInput]:
    """The Doctor's finding about a phase, when its action says the plan did not hold."""
    action = str(getattr(decision.action, "value", decision.action))
    if action not in _MAJOR_DOCTOR | _MINOR_DOCTOR:
        return []
    evidence = decision.rationale + (f"\nhint: {decision.hint}" if decision.hint else "")
    return [
        IssueInput(
            issue_key=doctor_key(phase_id, action),
            severity="major" if action in _MAJOR_DOCTOR else "minor",
            source="doctor",
            category=f"doctor_{action}",
            title=f"Doctor: {action} for phase {phase_id}: {_title(decision.rationale)}"[
                :_TITLE_LIMIT
            ],
            evidence=evidence[:_EVIDENCE_LIMIT],
        )
    ]
