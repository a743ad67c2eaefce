"""External builders and auditors: another agent, or a person, does a role of a phase.

A phase whose ``builder_mode`` is ``external`` (on the phase, or run-wide: see
:class:`~autopack.spec.models.RunSpec`) gets its answers through the API instead of from
the Builder model; one whose ``auditor_mode`` is ``external`` gets its review through the
API instead of from the Auditor model. Everything else is as for a model: the answer is
applied under governance, the checks run, the attempt is recorded (``builder_model``
``external:<key name>``), failures are rolled back and retried within the phase's budget.

The engine never waits in a thread. Where it would call the model it *parks* the phase and
returns; the run then waits in ``GATE`` and its worker lets the lease go::

    builder  phase EXECUTING → GATE            "waits for an external builder"
    auditor  phase EXECUTING → PENDING_REVIEW  "waits for an external review"

(the engine used neither state before). Claims and submissions live in the database
(:mod:`autopack.store.claims`); a submission makes the API execute the run again, like a
resume, and when the run loop reaches the phase, :meth:`ExternalRoles.begin` hands the
submitted answer (or the verdict with the parked answer) to the attempt. What the outside
party needs is saved in the phase's artifacts: the feedback of the previous attempt
(:data:`FEEDBACK`) and, for a review, the answer, its diff, the check results and the
Auditor prompt Autopack would have sent (:data:`REVIEW`). A parked review's worktree is
rolled back (the attempt is closed as ``awaiting_review``, which does not count against
the phase); the verdict's attempt applies the same answer again from the same snapshot and
runs the checks again before it commits, as an approved answer does.

Crash recovery needs nothing special: a waiting phase is re-queued by
:func:`autopack.engine.resume.recover_run` like any phase not at rest, and waits again
when the run reaches it; live claims stay valid and expired ones can be claimed anew. A
submission consumed by an attempt that a crash interrupted is lost with that attempt
(closed as ``interrupted``, not counted): the phase waits for a new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autopack.agents import AuditRequest, Verdict, build_auditor_messages
from autopack.engine.attempt import AttemptContext, AttemptReport, Reviewer
from autopack.policy.states import PhaseState
from autopack.spec.models import EXTERNAL

BUILDER, AUDITOR = "builder", "auditor"
FEEDBACK = "external-builder.json"
"""What the next external attempt should know: its number, attempts left, errors, hints."""
REVIEW = "external-review.json"
"""A parked review: the answer, its (redacted) diff, checks, deliverables, Auditor prompt."""
REVIEW_ANSWER = "external-review.answer.md"
LABEL_PREFIX = "external:"
AWAITING_REVIEW = "awaiting_review"


def is_external(mode: str | None) -> bool:
    """Whether a ``builder_mode`` / ``auditor_mode`` hands the role to the outside."""
    return (mode or "").strip().lower() == EXTERNAL


def label(who: str) -> str:
    """How external work is named in attempts and commits: ``external:<key name>``."""
    return (LABEL_PREFIX + who)[:128]


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` so that a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The saved object, or ``None`` when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Turn:
    """How an attempt starts when a role is external."""

    answer: str | None = None
    """The answer to apply (a submission, a parked one, an approved one)."""
    label: str | None = None
    """Who answered (the attempt's ``builder_model``)."""
    approved: bool = False
    """A person approved the answer (governance's ``needs_approval`` then applies)."""
    wait: PhaseState | None = None
    """Nothing to start from: the phase waits in this state."""
    reason: str = ""


class ExternalRoles:
    """The external roles of one phase while :func:`autopack.engine.phase.run_phase` runs."""

    def __init__(self, ctx: AttemptContext) -> None:
        self.ctx = ctx
        self.builder = is_external(ctx.phase.builder_mode)
        self.auditor = is_external(ctx.phase.auditor_mode)
        self._request: AuditRequest | None = None
        self._verdict: tuple[str, Verdict] | None = None

    @classmethod
    def of(cls, ctx: AttemptContext) -> ExternalRoles | None:
        """The phase's external roles, or ``None`` when the models do everything."""
        roles = cls(ctx)
        return roles if roles.builder or roles.auditor else None

    @property
    def _key(self) -> tuple[str, str]:
        return self.ctx.run_id, self.ctx.phase.phase_id

    def begin(
        self,
        *,
        attempt: int,
        left: int,
        answer: str | None,
        approved: bool,
        errors: tuple[str, ...],
        hints: tuple[str, ...],
    ) -> Turn | None:
        """Where attempt ``attempt`` starts from; ``None``: as if no role were external."""
        self._verdict = None
        if answer is not None:  # an approved answer: it came from whoever builds
            return Turn(answer, self._approved_label(), approved) if self.builder else None
        if self.auditor:
            parked = self._parked(attempt)
            if parked is not None:
                return parked
        if not self.builder:
            return None
        taken = self.ctx.engine.store.claims.take(*self._key, BUILDER, attempt=attempt)
        if taken is None:
            feedback = {"attempt": attempt, "attempts_left": left, "errors": list(errors)}
            write_json(self.ctx.artifacts / FEEDBACK, {**feedback, "hints": list(hints)})
            return Turn(wait=PhaseState.GATE, reason="waits for an external builder")
        claim, submission = taken
        self.ctx.notify(f"answer of external builder {claim.claimed_by} (claim {claim.id})")
        return Turn(submission, label(claim.claimed_by))

    def reviewer(self) -> Reviewer | None:
        """The stand-in for the Auditor model (``None`` when the model reviews)."""
        if not self.auditor:
            return None

        def review(request: AuditRequest) -> tuple[str, Verdict] | None:
            self._request = request
            return self._verdict

        return review

    def park(self, report: AttemptReport, attempt: int, attempt_id: int, *, approved: bool) -> str:
        """Save what the reviewer needs, roll the attempt back and close it; the reason."""
        ctx, request = self.ctx, self._request
        assert request is not None, "parked before the reviewer saw the change"
        redactor = ctx.engine.redactor
        messages = build_auditor_messages(request, redactor=redactor)
        (ctx.artifacts / REVIEW_ANSWER).write_text(report.answer, encoding="utf-8")
        checks = report.checks.model_dump(mode="json") if report.checks else None
        delivered = request.deliverables
        write_json(
            ctx.artifacts / REVIEW,
            {
                "attempt": attempt,
                "label": report.model,
                "approved": approved,
                "diff": redactor.redact(request.diff),
                "checks": checks,
                "deliverables": delivered.model_dump(mode="json") if delivered else None,
                "messages": [m.model_dump() for m in messages],
                "profile": request.profile,
                "default_severity": request.default_severity,
            },
        )
        ctx.ws.rollback_attempt(ctx.phase.phase_id)
        ctx.engine.store.finish_attempt(
            attempt_id,
            outcome=AWAITING_REVIEW,
            builder_outcome="answered",
            apply_outcome="applied",
            ci_outcome=str(report.checks.status) if report.checks else None,
        )
        ctx.notify("checks passed; the change waits for an external review")
        return "waits for an external review"

    def _parked(self, attempt: int) -> Turn | None:
        """The parked review: its answer once a verdict came, else a wait; ``None``: none."""
        folder = self.ctx.artifacts
        meta = read_json(folder / REVIEW)
        answer_file = folder / REVIEW_ANSWER
        if meta is None or not answer_file.is_file():
            return None
        taken = self.ctx.engine.store.claims.take(*self._key, AUDITOR, attempt=attempt)
        if taken is None:
            return Turn(wait=PhaseState.PENDING_REVIEW, reason="waits for an external review")
        claim, submission = taken
        answer = answer_file.read_text(encoding="utf-8")
        for name in (REVIEW, REVIEW_ANSWER):  # consumed: the next attempt starts afresh
            (folder / name).unlink(missing_ok=True)
        self._verdict = (label(claim.claimed_by), Verdict.model_validate_json(submission))
        word = "approved" if self._verdict[1].approved else "rejected"
        self.ctx.notify(f"external review by {claim.claimed_by}: {word}; applying the answer")
        return Turn(answer, str(meta.get("label") or label("unknown")), bool(meta.get("approved")))

    def _approved_label(self) -> str:
        attempts = self.ctx.engine.store.attempts(*self._key)
        waited = [a for a in attempts if a.outcome == "awaiting_approval" and a.builder_model]
        return waited[-1].builder_model if waited else label("approved")  # type: ignore[return-value]
