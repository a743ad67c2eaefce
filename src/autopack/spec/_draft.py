"""The plan normaliser's values: a draft (read from markdown or from a model), warnings and
the result.

Both sources produce a :class:`DraftPlan`; the same pure code then grounds its paths in the
workspace, infers what is missing and scores it (:mod:`autopack.spec.normalize`), so a
model's answer is never trusted more than the user's own text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from autopack.spec.errors import SpecIssue
from autopack.spec.models import RunSpec

__all__ = [
    "DraftPhase",
    "DraftPlan",
    "NormalizationResult",
    "NormalizationWarning",
    "Structure",
]

Structure = Literal["headings", "tiers", "numbered", "checklist", "bullets", "prose", "model"]
"""How the phases were found; clearer structures earn more confidence."""


@dataclass
class DraftPhase:
    """One phase as written: a title, its text and whatever the plan stated explicitly."""

    title: str
    body: str = ""
    tier: str | None = None
    category: str | None = None
    complexity: str | None = None
    paths: list[str] = field(default_factory=list)
    """Paths listed explicitly as scope (``Files:``/``Scope:`` lines, a model's scope)."""
    deliverables: list[str] = field(default_factory=list)
    """Deliverables listed explicitly, as written (paths or free text)."""
    context: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    ci_command: list[str] | None = None


@dataclass
class DraftPlan:
    """A whole draft: title, goal, phases (each naming its tier) and how it was structured."""

    title: str | None
    goal: str
    phases: list[DraftPhase]
    structure: Structure
    ci_command: list[str] | None = None
    skipped: list[str] = field(default_factory=list)
    """Titles of checklist items already ticked (``- [x]``), left out of the spec."""


@dataclass(frozen=True)
class NormalizationWarning:
    """Something the normaliser guessed or could not find, naming the phase it concerns."""

    phase: str | None
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.phase}: {self.message}" if self.phase else self.message

    def to_dict(self) -> dict[str, str | None]:
        return {"phase": self.phase, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class NormalizationResult:
    """The spec (canonical nested document and, when valid, the :class:`RunSpec`), its
    confidence with components, and warnings naming the phase each concerns."""

    data: dict[str, Any]
    spec: RunSpec | None
    confidence: float
    components: dict[str, float]
    warnings: tuple[NormalizationWarning, ...] = ()
    issues: tuple[SpecIssue, ...] = ()
    refined: bool = False
    """Whether a model's refinement was used."""

    @property
    def valid(self) -> bool:
        return self.spec is not None

    def with_warnings(self, *extra: NormalizationWarning) -> NormalizationResult:
        return replace(self, warnings=(*self.warnings, *extra))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (the CLI's ``--json`` and the API answer)."""
        return {
            "valid": self.valid,
            "spec": self.data,
            "confidence": self.confidence,
            "components": dict(self.components),
            "refined": self.refined,
            "warnings": [w.to_dict() for w in self.warnings],
            "issues": [i.to_dict() for i in self.issues],
        }
