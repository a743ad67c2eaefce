"""The Auditor: a diff, check results and deliverables in; a :class:`Verdict` out.

The model answers ``{approved, issues: [{severity, category, description, file, line}],
summary}``. **The severity rule wins over the model's flag**: a verdict with any ``major`` or
``critical`` issue rejects even when the model said ``approved: true`` (``overridden`` is then
set). The rule only makes a verdict stricter: ``approved: false`` with no blocking issue still
rejects. An issue without a severity gets the phase's default severity (``major`` for
high-risk categories).

Profiles (``PhaseStrategy.auditor_profile``: light, standard, thorough, strict) change the
instructions only; an unknown profile is treated as ``standard``.

Dual audit (high-risk phases, ``PhaseStrategy.dual_audit``): two independent auditors review
the same material. When their final verdicts agree (both approve or both reject) the judge is
NOT called and the consensus merges their issues; when they disagree the judge sees both
verdicts and decides, and the severity rule applies to the judge's verdict too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autopack.agents.errors import trim_middle
from autopack.agents.prompts import render_template
from autopack.agents.redaction import Redactor
from autopack.agents.structured import ModelCall, ask_structured
from autopack.checks.deliverables import DeliverablesReport
from autopack.checks.report import CheckReport
from autopack.llm.base import Message, estimate_tokens
from autopack.spec.models import PhaseSpec

__all__ = [
    "AUDITOR_PROFILES",
    "AuditAnswer",
    "AuditIssue",
    "AuditRequest",
    "DualAuditResult",
    "Verdict",
    "audit",
    "build_auditor_messages",
    "build_judge_messages",
    "dual_audit",
]

Severity = Literal["minor", "major", "critical"]
BLOCKING: frozenset[str] = frozenset({"major", "critical"})

AUDITOR_PROFILES: dict[str, str] = {
    "light": "A quick review: does the change do what the phase asks, without breaking "
    "anything obvious? Do not report style.",
    "standard": "Check correctness, that the task and deliverables are done, that tests "
    "cover the changed behaviour, and that nothing outside the phase's purpose changed. "
    "Report style only as minor.",
    "thorough": "Review in depth: correctness including edge cases and error handling, "
    "test quality (do the tests really prove the change?), documentation of changed "
    "behaviour, and consistency with the surrounding code.",
    "strict": "This is a high-risk change. In addition to a thorough review, look for "
    "security problems, broken contracts (APIs, schemas, registries, file formats), "
    "backward incompatibility, data loss, unsafe migrations and concurrency hazards. Changed "
    "behaviour without a test proving it is a major issue; so is any doubt about correctness "
    "you cannot resolve from the diff.",
}

_SEVERITY_ALIASES = {
    "info": "minor",
    "low": "minor",
    "nit": "minor",
    "trivial": "minor",
    "warning": "minor",
    "medium": "major",
    "high": "major",
    "error": "major",
    "blocker": "critical",
    "severe": "critical",
}


def _severity(value: object) -> object:
    if isinstance(value, str):
        key = value.strip().lower()
        return _SEVERITY_ALIASES.get(key, key)
    return value


class AuditIssue(BaseModel):
    """One problem the Auditor found."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    severity: Severity
    category: str = "general"
    description: str = Field(min_length=1)
    file: str | None = None
    line: int | None = Field(default=None, ge=0)

    @field_validator("severity", mode="before")
    @classmethod
    def _sev(cls, value: object) -> object:
        return _severity(value)

    @field_validator("line", mode="before")
    @classmethod
    def _line(cls, value: object) -> object:
        if isinstance(value, str):
            return int(value) if value.strip().isdigit() else None
        return value

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: object) -> object:
        return "general" if value is None or value == "" else value

    def render(self) -> str:
        """One line: severity, category, place, description."""
        where = f" {self.file}{f':{self.line}' if self.line else ''}" if self.file else ""
        return f"[{self.severity}] {self.category}{where}: {self.description}"


class _IssueAnswer(AuditIssue):
    severity: Severity | None = None  # type: ignore[assignment]


class AuditAnswer(BaseModel):
    """The JSON object the Auditor (or the judge) answers with."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    approved: bool
    issues: list[_IssueAnswer] = Field(default_factory=list)
    summary: str = ""

    @field_validator("issues", mode="before")
    @classmethod
    def _no_issues(cls, value: object) -> object:
        return [] if value is None else value


class Verdict(BaseModel):
    """The decision on one change; ``approved`` already has the severity rule applied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved: bool
    issues: tuple[AuditIssue, ...] = ()
    summary: str = ""
    model_approved: bool = Field(description="The flag the model sent.")
    overridden: bool = Field(
        default=False, description="The model approved but a major/critical issue rejects."
    )
    source: Literal["auditor", "judge", "consensus"] = "auditor"

    @property
    def blocking(self) -> list[AuditIssue]:
        """The major and critical issues."""
        return [i for i in self.issues if i.severity in BLOCKING]

    @classmethod
    def from_answer(
        cls,
        answer: AuditAnswer,
        *,
        default_severity: Severity = "minor",
        source: Literal["auditor", "judge", "consensus"] = "auditor",
    ) -> Verdict:
        """Apply the default severity and the severity rule to a model's answer."""
        issues = tuple(
            AuditIssue(**{**i.model_dump(), "severity": i.severity or default_severity})
            for i in answer.issues
        )
        blocked = any(i.severity in BLOCKING for i in issues)
        return cls(
            approved=answer.approved and not blocked,
            issues=issues,
            summary=answer.summary.strip(),
            model_approved=answer.approved,
            overridden=answer.approved and blocked,
            source=source,
        )

    def for_model(self) -> str:
        """The rejection written for the Builder's next attempt ('' when approved)."""
        if self.approved:
            return ""
        lines = ["The Auditor rejected the change."]
        if self.summary:
            lines.append(self.summary)
        lines.extend(f"- {issue.render()}" for issue in self.issues)
        return "\n".join(lines)


@dataclass(frozen=True)
class AuditRequest:
    """What an Auditor reviews."""

    phase: PhaseSpec
    diff: str
    checks: CheckReport | None = None
    deliverables: DeliverablesReport | None = None
    run_goal: str = ""
    profile: str = "standard"
    default_severity: Literal["minor", "major"] = "minor"
    max_diff_tokens: int = 24_000
    notes: tuple[str, ...] = ()
    """The project's intention and rules (from the learning loop); empty: no section."""


def _diff_block(diff: str, max_tokens: int) -> tuple[str, str]:
    note = ""
    if estimate_tokens(diff) > max_tokens:
        diff = trim_middle(diff, max_tokens * 3)
        note = f"the diff is long and was cut in the middle to about {max_tokens} tokens"
    ticks = "```"
    while ticks in diff:
        ticks += "`"
    return f"{ticks}diff\n{diff.rstrip() or '(empty diff: nothing changed)'}\n{ticks}", note


def _task(request: AuditRequest, verdicts: list[tuple[str, str]] | None) -> str:
    block, note = _diff_block(request.diff, request.max_diff_tokens)
    phase = request.phase
    return render_template(
        "auditor_task",
        run_goal=request.run_goal.strip(),
        phase=phase,
        deliverables=[d.target for d in phase.scope.deliverables],
        deliverables_report=request.deliverables,
        scope_paths=list(phase.scope.paths),
        checks=request.checks,
        diff_block=block,
        diff_note=note,
        verdicts=verdicts,
        notes=list(request.notes),
    )


def build_auditor_messages(request: AuditRequest, *, redactor: Redactor) -> list[Message]:
    """System (profile instructions, severities, answer shape) and task messages, redacted."""
    profile = request.profile if request.profile in AUDITOR_PROFILES else "standard"
    system = render_template(
        "auditor_system",
        profile=profile,
        instructions=AUDITOR_PROFILES[profile],
        default_severity=request.default_severity,
    )
    return redactor.messages(
        [Message(role="system", content=system), Message(role="user", content=_task(request, None))]
    )


def _verdict_text(verdict: Verdict) -> str:
    return verdict.model_dump_json(include={"approved", "issues", "summary"}, indent=1)


def build_judge_messages(
    request: AuditRequest, first: Verdict, second: Verdict, *, redactor: Redactor
) -> list[Message]:
    """The judge's messages: the same material as the auditors, plus both verdicts."""
    verdicts = [("Auditor A", _verdict_text(first)), ("Auditor B", _verdict_text(second))]
    return redactor.messages(
        [
            Message(role="system", content=render_template("judge")),
            Message(role="user", content=_task(request, verdicts)),
        ]
    )


def audit(call: ModelCall, request: AuditRequest, *, redactor: Redactor) -> Verdict:
    """One Auditor's verdict; raises ``MalformedAnswerError`` after one failed follow-up."""
    messages = build_auditor_messages(request, redactor=redactor)
    answer = ask_structured(call, messages, AuditAnswer, redactor=redactor)
    return Verdict.from_answer(answer, default_severity=request.default_severity)


@dataclass(frozen=True)
class DualAuditResult:
    """Both auditors' verdicts, the judge's (when called) and the final verdict."""

    final: Verdict
    first: Verdict
    second: Verdict
    judge: Verdict | None = None

    @property
    def judged(self) -> bool:
        """Whether the judge was called (the auditors disagreed)."""
        return self.judge is not None


def _consensus(first: Verdict, second: Verdict) -> Verdict:
    issues: list[AuditIssue] = []
    for issue in (*first.issues, *second.issues):
        if issue not in issues:
            issues.append(issue)
    word = "approved" if first.approved else "rejected"
    summaries = " | ".join(s for s in (first.summary, second.summary) if s)
    return Verdict(
        approved=first.approved,
        issues=tuple(issues),
        summary=f"Both auditors {word}. {summaries}".strip(),
        model_approved=first.model_approved and second.model_approved,
        overridden=first.overridden or second.overridden,
        source="consensus",
    )


def dual_audit(
    call_a: ModelCall,
    call_b: ModelCall,
    call_judge: ModelCall,
    request: AuditRequest,
    *,
    redactor: Redactor,
) -> DualAuditResult:
    """Two auditors; the judge only when they disagree (see the module docstring)."""
    first = audit(call_a, request, redactor=redactor)
    second = audit(call_b, request, redactor=redactor)
    if first.approved == second.approved:
        return DualAuditResult(final=_consensus(first, second), first=first, second=second)
    messages = build_judge_messages(request, first, second, redactor=redactor)
    answer = ask_structured(call_judge, messages, AuditAnswer, redactor=redactor)
    judged = Verdict.from_answer(answer, default_severity="major", source="judge")
    return DualAuditResult(final=judged, first=first, second=second, judge=judged)
