"""The plan refiner: a model rewrites a low-confidence draft; pure code grounds it again.

When :func:`autopack.spec.normalize.normalize_plan` is not confident enough, the model gets
the plan as written, the draft spec, the draft's warnings and the workspace's file list
(at most :data:`MAX_FILES_SHOWN` paths), all redacted, and answers one JSON object
(:class:`RefinedPlan`, read by :func:`~autopack.agents.structured.ask_structured` with one
corrective follow-up). That answer is *not* the spec: it becomes a draft that goes through
the same grounding, inference and validation as the user's text
(:func:`~autopack.spec.normalize.normalize_draft`), so a path the model made up is reported
as a warning and never silently becomes scope, and an unknown category is re-inferred.
"""

from __future__ import annotations

import json

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from autopack.agents.errors import trim_middle
from autopack.agents.prompts import render_template
from autopack.agents.redaction import Redactor
from autopack.agents.structured import ModelCall, ask_structured
from autopack.llm.base import Message
from autopack.spec.normalize import (
    KNOWN_CATEGORIES,
    DraftPhase,
    DraftPlan,
    NormalizationResult,
    NormalizationWarning,
    WorkspaceFacts,
    normalize_draft,
    parse_markdown,
)

__all__ = [
    "MAX_FILES_SHOWN",
    "RefinedPhase",
    "RefinedPlan",
    "build_refiner_messages",
    "keep_better",
    "refine_plan",
]

MAX_FILES_SHOWN = 300
_PLAN_LIMIT = 12_000
_DRAFT_LIMIT = 12_000


def _strings(value: object) -> object:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


class RefinedPhase(BaseModel):
    """One phase of the model's answer (unknown keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    tier: str | None = Field(default=None, max_length=200)
    task_category: str | None = Field(default=None, max_length=64)
    complexity: str | None = Field(default=None, max_length=32)
    scope_paths: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("scope_paths", "paths", "scope")
    )
    deliverables: list[str] = Field(default_factory=list)
    read_only_context: list[str] = Field(default_factory=list)

    @field_validator("scope_paths", "deliverables", "read_only_context", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _strings(value)


class RefinedPlan(BaseModel):
    """The model's answer: a goal and at least one phase."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    goal: str = Field(default="", max_length=20_000)
    phases: list[RefinedPhase] = Field(min_length=1, max_length=100)

    def to_draft(self, fallback_goal: str, ci_command: list[str] | None) -> DraftPlan:
        """The answer as a draft (structure ``model``) for the pure normaliser."""
        phases = [
            DraftPhase(
                title=p.name.strip(),
                body=p.description.strip(),
                tier=(p.tier or "").strip() or None,
                category=p.task_category,
                complexity=p.complexity,
                paths=list(p.scope_paths),
                deliverables=list(p.deliverables),
                context=list(p.read_only_context),
            )
            for p in self.phases
        ]
        goal = self.goal.strip() or fallback_goal
        return DraftPlan(
            title=None, goal=goal, phases=phases, structure="model", ci_command=ci_command
        )


def build_refiner_messages(
    plan_text: str,
    draft: NormalizationResult,
    facts: WorkspaceFacts,
    *,
    redactor: Redactor,
    max_files: int = MAX_FILES_SHOWN,
) -> list[Message]:
    """System (rules, answer shape) and task (plan, draft, warnings, files), redacted."""
    files = list(facts.files[:max_files])
    system = render_template("plan_refiner_system", categories=list(KNOWN_CATEGORIES))
    task = render_template(
        "plan_refiner_task",
        plan_text=trim_middle(plan_text.strip(), _PLAN_LIMIT),
        confidence=f"{draft.confidence:.2f}",
        draft_json=trim_middle(json.dumps(draft.data, indent=1), _DRAFT_LIMIT),
        warnings=[str(w) for w in draft.warnings],
        files=files,
        shown=len(files),
        total=len(facts.files),
    )
    return redactor.messages(
        [Message(role="system", content=system), Message(role="user", content=task)]
    )


def refine_plan(
    call: ModelCall,
    plan_text: str,
    draft: NormalizationResult,
    facts: WorkspaceFacts,
    *,
    redactor: Redactor,
    model_name: str = "",
    max_files: int = MAX_FILES_SHOWN,
) -> NormalizationResult:
    """Ask the model once (plus one follow-up if its JSON is unusable) and re-ground the
    answer; the result keeps the draft's run id and is marked ``refined``.

    Raises :class:`~autopack.agents.errors.MalformedAnswerError` for an unusable answer and
    lets provider errors through: the caller decides to keep the draft.
    """
    messages = build_refiner_messages(
        plan_text, draft, facts, redactor=redactor, max_files=max_files
    )
    answer = ask_structured(call, messages, RefinedPlan, redactor=redactor)
    original = parse_markdown(plan_text)
    refined = normalize_draft(
        answer.to_draft(original.goal, original.ci_command),
        facts,
        run_id=str(draft.data.get("run_id") or "plan"),
    )
    by = f" by {model_name}" if model_name else ""
    note = NormalizationWarning(
        None,
        "refined",
        f"refined{by}: confidence {draft.confidence:.2f} → {refined.confidence:.2f}",
    )
    return NormalizationResult(
        data=refined.data,
        spec=refined.spec,
        confidence=refined.confidence,
        components=refined.components,
        warnings=(note, *refined.warnings),
        issues=refined.issues,
        refined=True,
    )


def keep_better(draft: NormalizationResult, refined: NormalizationResult) -> NormalizationResult:
    """The refined result when it is valid and at least as confident, else the draft (with
    a warning saying why the model's version was not used)."""
    if refined.valid and refined.confidence >= draft.confidence:
        return refined
    why = (
        "it does not validate"
        if not refined.valid
        else f"its confidence {refined.confidence:.2f} is below the draft's"
    )
    return draft.with_warnings(
        NormalizationWarning(
            None, "refinement_discarded", f"the model's refinement was not used: {why}"
        )
    )
