"""Request and response bodies of the issue-tracking endpoints (three levels).

    phase    PhaseIssueOut       one issue as recorded in one phase, with its occurrences
    run      RunIssueOut         a run's index: one row per ``issue_key``, across its phases
    project  BacklogIssueOut     the backlog: aging (runs, tiers), status, resolution

The store hands out frozen dataclasses (:mod:`autopack.store`); the models here read them
by attribute (``from_attributes``), so the API documents every field without copying the
store's rules. Request bodies forbid unknown fields, like the rest of the API, and refuse
NUL and other control characters where a person would never type one (keys, names).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Severity = Literal["minor", "major"]
BacklogStatus = Literal["open", "needs_cleanup", "resolved"]
StatusFilter = Literal["open", "needs_cleanup", "resolved", "all"]

KEY_PATTERN = r"^[^\x00-\x1f\x7f]+$"
"""A key or name: any printable text (``/`` and ``:`` included), no control character."""
TEXT_PATTERN = r"^[^\x00]*$"
"""Free text (evidence): newlines and tabs allowed, NUL not (PostgreSQL refuses it)."""
MAX_KEY = 255
MAX_SOURCE = 32
MAX_CATEGORY = 64
MAX_EVIDENCE = 100_000
KEPT_EVIDENCE = 4000

IssueKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_KEY,
        pattern=KEY_PATTERN,
        description="Stable identity of the issue across phases, runs and the backlog "
        "(e.g. `lint:unused-import:src/app.py`); may contain `/` and `:`.",
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class IssueRecord(_Request):
    """``record_issue``: one problem found in a phase (by a person, an agent, a tool)."""

    issue_key: IssueKey | None = Field(
        default=None,
        description="Omit it and Autopack derives one: `test:<test id>` for a failing test "
        "(source `ci` or `checks`), `file:<path>#<category>` with a file, else "
        "`<source>:<category>:<title slug>`.",
    )
    severity: Severity = Field(description="`minor` issues age into `needs_cleanup`.")
    category: str = Field(
        min_length=1,
        max_length=MAX_CATEGORY,
        pattern=KEY_PATTERN,
        description="What kind of problem: `lint`, `tests`, `security`…",
    )
    title: str = Field(
        min_length=1,
        max_length=2000,
        pattern=TEXT_PATTERN,
        validation_alias=AliasChoices("title", "description"),
        description="What is wrong, in a line (also accepted as `description`).",
    )
    evidence: str = Field(
        default="",
        max_length=MAX_EVIDENCE,
        pattern=TEXT_PATTERN,
        description="What shows it: output, a traceback, a quote of the code (the first "
        f"{KEPT_EVIDENCE:,} characters are kept).",
    )
    file: str | None = Field(
        default=None, min_length=1, max_length=1000, pattern=KEY_PATTERN, description="Where."
    )
    source: str = Field(
        default="api",
        min_length=1,
        max_length=MAX_SOURCE,
        pattern=KEY_PATTERN,
        description="Who found it: `api` unless told (`auditor`, `ci`, a tool's name).",
    )


class PhaseIssueOut(_View):
    """An issue as recorded in one phase of one run (level 1)."""

    run_id: str
    tier_id: str
    phase_id: str
    issue_key: str
    severity: str
    source: str
    category: str
    title: str
    evidence: str
    file: str | None
    occurrences: int = Field(description="Times it was recorded in this phase.")
    first_seen: datetime
    last_seen: datetime


class RunIssueOut(_View):
    """One ``issue_key`` of a run, de-duplicated across its phases (level 2)."""

    issue_key: str
    severity: str = Field(description="The most severe recorded.")
    sources: list[str]
    category: str
    title: str
    file: str | None
    phases: list[str]
    tiers: list[str]
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    backlog_status: str = Field(description="Its status in the project backlog.")


class RunIssueIndex(BaseModel):
    """``GET /runs/{run_id}/issues/index``."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    items: list[RunIssueOut]


class BacklogIssueOut(_View):
    """An issue of the project backlog with its aging (level 3)."""

    issue_key: str
    severity: str
    source: str
    category: str
    title: str
    file: str | None
    status: BacklogStatus = Field(
        description="`needs_cleanup`: a minor issue seen in too many runs or tiers "
        "(the thresholds depend on the safety profile)."
    )
    age_in_runs: int = Field(description="Distinct runs it was seen in since it opened.")
    age_in_tiers: int = Field(description="Distinct tiers it was seen in since it opened.")
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by_run: str | None
    last_run_id: str
    cleanup_after_runs: int = Field(
        default=0, description="A minor issue needs cleanup at this age in runs…"
    )
    cleanup_after_tiers: int = Field(default=0, description="…or at this age in tiers.")
    reopened: int = Field(default=0, description="Times it occurred again after it resolved.")


class BacklogPage(BaseModel):
    """``GET /project/issues/backlog``: a page of the backlog."""

    model_config = ConfigDict(frozen=True)

    items: list[BacklogIssueOut]
    status: StatusFilter | None = Field(description="The filter; null: open and needs_cleanup.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class BacklogIssueDetailOut(_View):
    """``GET /project/issues/{issue_key}``: the backlog entry and every phase it was seen in."""

    issue: BacklogIssueOut
    occurrences: list[PhaseIssueOut]


class IssueBacklogSummaryOut(_View):
    """``GET /reports/issue_backlog_summary``: the backlog in numbers."""

    total: int
    by_status: dict[str, int]
    by_severity: dict[str, int]
    by_source: dict[str, int]
    by_category: dict[str, int]
    needs_cleanup: int
    oldest_open_age_in_runs: int
    occurrences: int
    open_by_severity: dict[str, int] = Field(
        default_factory=dict, description="Unresolved issues by severity."
    )
