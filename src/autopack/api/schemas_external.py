"""Request and response bodies of the external builder and auditor endpoints.

A claim hands out a token once (``clm_…``); every submission carries it. Bodies forbid
unknown fields, like the rest of the API. The auditor's verdict has the shape the Auditor
model answers with (:class:`autopack.agents.AuditAnswer`): ``approved``, ``issues``
(``severity``, ``category``, ``description``, ``file``, ``line``) and ``summary``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from autopack.store.views import AttemptView

MAX_ANSWER_CHARS = 2_000_000
Token = Annotated[
    str, Field(min_length=8, max_length=200, description="The claim's token (shown once).")
]
LeaseSeconds = Annotated[
    int, Field(ge=1, le=86_400, description="How long the claim holds (seconds, 1 to 86400).")
]
DEFAULT_LEASE = 900


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class ClaimRequest(_Request):
    """Claim work, for how long."""

    lease_seconds: LeaseSeconds = DEFAULT_LEASE


class RenewRequest(_Request):
    """Extend a claim from now."""

    token: Token
    lease_seconds: LeaseSeconds = DEFAULT_LEASE


class ClaimOut(_Response):
    """A claim: who holds what until when (the token only in the claim's own answer)."""

    claim_id: int
    run_id: str
    phase_id: str
    role: str
    claimed_by: str
    status: str
    expires_at: datetime
    token: str | None = Field(default=None, description="Shown once, when claimed.")


class PromptMessage(_Response):
    """One message of the prompt Autopack would have sent to its model (redacted)."""

    role: str
    content: str


class PhaseBrief(_Response):
    """The phase as the plan states it."""

    phase_id: str
    name: str
    description: str
    task_category: str
    complexity: str
    scope: dict[str, Any]
    acceptance: list[str] = Field(description="What proves the phase.")


class Feedback(_Response):
    """What went wrong before: the previous attempt's errors and the engine's hints."""

    previous_errors: list[str]
    hints: list[str]
    last_attempt: AttemptView | None


class BuilderWork(_Response):
    """A claimed build: the phase, the Builder prompt, the feedback, where to submit."""

    claim: ClaimOut
    attempt: int = Field(description="The attempt a submission becomes.")
    attempts_left: int
    phase: PhaseBrief
    prompt: list[PromptMessage]
    estimated_tokens: int
    feedback: Feedback
    formats: list[str] = Field(description="Answer formats the edit engine reads.")
    submit: str


class BuilderNext(_Response):
    """The answer to a claim: the work, or why there is none for you now."""

    claimed: bool
    reason: str
    work: BuilderWork | None = None


class BuilderResult(_Request):
    """An answer in the edit protocol: SEARCH/REPLACE blocks, whole files or a unified diff."""

    token: Token
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)


class Submitted(_Response):
    """A submission the engine took: it continues the run on the server's workers."""

    claim_id: int
    run_id: str
    phase_id: str
    status: str
    continues: bool = Field(description="A worker continues the run with it.")
    progress: str


class ReviewWork(_Response):
    """A claimed review: the change, the check results, the Auditor prompt, the schema."""

    claim: ClaimOut
    attempt: int
    phase: PhaseBrief
    builder: str = Field(description="Who wrote the change.")
    diff: str
    checks: dict[str, Any] | None
    deliverables: dict[str, Any] | None
    prompt: list[PromptMessage]
    default_severity: str
    answer_schema: dict[str, Any] = Field(description="JSON schema of auditor_result's verdict.")
    submit: str


class ReviewNext(_Response):
    """The answer to an auditor_request."""

    claimed: bool
    reason: str
    work: ReviewWork | None = None


class IssueIn(_Request):
    """One problem found (severity: minor, major or critical, or an alias such as high)."""

    severity: str | None = Field(default=None, max_length=32)
    category: str = Field(default="general", max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    file: str | None = Field(default=None, max_length=1000)
    line: int | None = Field(default=None, ge=0, le=10**9)


class AuditorResult(_Request):
    """A verdict: approved, the issues, a summary (major/critical issues always reject)."""

    token: Token
    approved: bool
    issues: list[IssueIn] = Field(default_factory=list, max_length=500)
    summary: str = Field(default="", max_length=20_000)


class VerdictOut(_Response):
    """The verdict as the engine applies it (after the severity rule)."""

    approved: bool
    model_approved: bool
    overridden: bool
    summary: str
    issues: list[dict[str, Any]]


class Reviewed(Submitted):
    """A verdict the engine took."""

    verdict: VerdictOut


class WaitingWork(_Response):
    """A phase that waits for external work."""

    phase_id: str
    role: str
    state: str
    claim: ClaimOut | None = Field(description="The live claim, if any (without its token).")


class WaitingOut(_Response):
    """What waits for external work in a run."""

    run_id: str
    run_state: str
    executing: bool
    waiting: list[WaitingWork]
