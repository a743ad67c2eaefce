"""Request and response bodies of ``POST /runs/normalize`` (the plan normaliser)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autopack.spec.models import ID_PATTERN
from autopack.spec.normalize import DEFAULT_MIN_CONFIDENCE

__all__ = ["NormalizeIn", "NormalizeOut", "NormalizeWarning", "PlanIssue"]

MAX_PLAN_CHARS = 200_000


class NormalizeIn(BaseModel):
    """A free-text or markdown plan for the server's workspace."""

    model_config = ConfigDict(extra="forbid")

    plan: str = Field(
        min_length=1,
        max_length=MAX_PLAN_CHARS,
        description="The plan: markdown (headings, numbered lists, checklists) or free text.",
    )
    run_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The run id (default: from the title)."
    )
    min_confidence: float = Field(
        default=DEFAULT_MIN_CONFIDENCE,
        ge=0.0,
        le=1.0,
        description="Below this confidence the server's planner model refines the draft.",
    )

    @field_validator("plan")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the plan is empty")
        return value


class NormalizeWarning(BaseModel):
    """Something guessed or missing; ``phase`` is null for the plan as a whole."""

    phase: str | None
    code: str
    message: str


class PlanIssue(BaseModel):
    """Why the normalised spec does not validate (located like the loader's issues)."""

    loc: str
    message: str
    code: str


class NormalizeOut(BaseModel):
    """The spec in the canonical nested shape (``POST /runs/start`` accepts it as is)."""

    model_config = ConfigDict(frozen=True)

    valid: bool
    spec: dict[str, Any]
    confidence: float = Field(ge=0.0, le=1.0)
    components: dict[str, float] = Field(
        description="grounding, structure, categories, deliverables, ci (each 0..1)."
    )
    refined: bool = Field(description="Whether the planner model's refinement was used.")
    warnings: list[NormalizeWarning]
    issues: list[PlanIssue]
