"""The canonical run specification: what a user asks Autopack to do.

Every accepted input shape (nested tiers, flat ``run/tiers/phases``, phases-only plans) is
normalised by :mod:`autopack.spec.loader` into these models. They are immutable once built and
forbid unknown fields, so a typo in a plan is an error rather than a silently ignored key.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from autopack.spec._checks import cross_check
from autopack.spec._locate import format_path

SKIP_CROSS_CHECKS = "autopack.spec.skip_cross_checks"
"""Validation-context key: the loader reports cross-phase checks itself (see ``_checks``)."""

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)


class Complexity(StrEnum):
    """How hard a phase is; drives attempts, budgets and model choice."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


COMPLEXITY_ALIASES: dict[str, Complexity] = {
    "low": Complexity.LOW,
    "simple": Complexity.LOW,
    "trivial": Complexity.LOW,
    "easy": Complexity.LOW,
    "medium": Complexity.MEDIUM,
    "moderate": Complexity.MEDIUM,
    "normal": Complexity.MEDIUM,
    "high": Complexity.HIGH,
    "complex": Complexity.HIGH,
    "difficult": Complexity.HIGH,
    "hard": Complexity.HIGH,
}


EXTERNAL = "external"
"""The ``builder_mode`` / ``auditor_mode`` whose role is done outside Autopack (API)."""
AuditorMode = Literal["model", "external"]


class SafetyProfile(StrEnum):
    """Run-wide safety posture; ``safety_critical`` tightens thresholds and budgets."""

    NORMAL = "normal"
    SAFETY_CRITICAL = "safety_critical"


class DeliverableKind(StrEnum):
    """The keys accepted when ``deliverables`` is given as a dict."""

    CODE = "code"
    TESTS = "tests"
    DOCS = "docs"
    CONFIG = "config"
    SCRIPTS = "scripts"


def _complexity(value: Any) -> Any:
    if isinstance(value, str):
        alias = COMPLEXITY_ALIASES.get(value.strip().lower())
        if alias is not None:
            return alias
    return value


def normalize_rel_path(value: str) -> str:
    """Normalise a workspace-relative path; refuse absolute paths and ``..`` escapes.

    Backslashes are treated as separators so a Windows-style plan cannot smuggle ``..\\``.
    A trailing ``/`` is kept because it marks a directory scope.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("path must be a non-empty string")
    raw = value.strip().replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw) or raw.startswith("~"):
        raise ValueError(f"path {value!r} must be relative to the workspace, not absolute")
    if "\x00" in raw:
        raise ValueError(f"path {value!r} contains a NUL byte")
    parts = raw.split("/")
    if ".." in parts:
        raise ValueError(f"path {value!r} must not contain '..'")
    if any(part.startswith("-") for part in parts):
        # A leading dash would reach pytest and git as an option (pytest's --basetemp=DIR
        # deletes DIR), so no path segment may start with one.
        raise ValueError(f"path {value!r}: a path segment may not start with '-'")
    is_dir = raw.endswith("/")
    norm = posixpath.normpath(raw)
    if norm == ".":
        return "./" if is_dir else "."
    return norm + "/" if is_dir else norm


RelPath = Annotated[str, AfterValidator(normalize_rel_path)]
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
ComplexityField = Annotated[Complexity, BeforeValidator(_complexity)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class CiSpec(_Frozen):
    """How a phase is proven: pytest by default, or a custom command (argument list)."""

    type: Literal["pytest", "custom"] = "pytest"
    command: list[str] | None = Field(
        default=None, description="Argument list for a custom check; required for 'custom'."
    )
    paths: list[RelPath] = Field(default_factory=list, description="Test paths for pytest.")
    args: list[str] = Field(default_factory=list, description="Extra arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment.")
    workdir: RelPath | None = Field(default=None, description="Working directory.")
    timeout_seconds: int = Field(default=600, gt=0, le=24 * 3600)
    skip: bool = False
    reason: str | None = Field(default=None, description="Why checks are skipped.")

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        # A command given as one string is split like a shell would, but never run by one.
        if isinstance(value, str):
            try:
                return shlex.split(value)
            except ValueError as exc:  # e.g. an unbalanced quote
                raise ValueError(f"cannot split command {value!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CiSpec:
        if self.type == "custom" and not self.command and not self.skip:
            raise ValueError("a 'custom' ci needs a 'command'")
        if self.skip and not (self.reason and self.reason.strip()):
            raise ValueError("'skip: true' needs a 'reason'")
        return self


class ContextRef(_Frozen):
    """A file the Builder may read but not write, with why it matters."""

    path: RelPath = Field(description="Workspace-relative file or directory.")
    reason: str | None = Field(default=None, description="Why the Builder should read it.")


class Deliverable(_Frozen):
    """Something a phase must produce; ``kind`` is set when given as a dict."""

    target: str = Field(min_length=1, description="A path or a short description.")
    kind: DeliverableKind | None = Field(
        default=None, description="Set when deliverables were given as a dict keyed by kind."
    )


class Scope(_Frozen):
    """What a phase may touch and must produce."""

    paths: list[RelPath] = Field(
        default_factory=list,
        description="Writable roots, relative to the workspace (no absolute paths, no '..'). "
        "A trailing '/' marks a directory.",
    )
    read_only_context: list[ContextRef] = Field(
        default_factory=list,
        description="Files the Builder may read. Items may also be plain path strings.",
    )
    deliverables: list[Deliverable] = Field(
        default_factory=list,
        description="What the phase must produce. Also accepted: a list of strings, or a dict "
        "keyed by code|tests|docs|config|scripts whose values are a string or a list of strings.",
    )
    protected_paths: list[RelPath] = Field(
        default_factory=list, description="Paths that must not be written even inside 'paths'."
    )
    ci: CiSpec | None = Field(default=None, description="How the phase is checked.")

    @field_validator("read_only_context", mode="before")
    @classmethod
    def _context_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"path": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("deliverables", mode="before")
    @classmethod
    def _deliverables_shape(cls, value: Any) -> Any:
        if isinstance(value, dict):
            out: list[Any] = []
            for key, items in value.items():
                entries = [items] if isinstance(items, str) else items
                if not isinstance(entries, list):
                    raise ValueError(f"deliverables[{key!r}] must be a list of strings")
                out.extend({"target": t, "kind": key} for t in entries)
            return out
        if isinstance(value, list):
            return [{"target": v} if isinstance(v, str) else v for v in value]
        return value


class PhaseSpec(_Frozen):
    """One unit of work for the Builder."""

    phase_id: Identifier = Field(
        description="Unique across the run. Legacy key 'id' (phases-only plans) is accepted."
    )
    phase_index: int = Field(
        ge=0,
        description="Order inside the tier; unique per tier. Filled in from the position "
        "when omitted.",
    )
    name: str = Field(
        min_length=1,
        description="Short title. Legacy key 'task_name' is accepted; when omitted it is "
        "taken from the first line of 'goal', else the phase id.",
    )
    description: str = Field(
        default="",
        description="What to do. A legacy phase 'goal' is accepted and put first.",
    )
    task_category: str = Field(
        default="general",
        min_length=1,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Lower-case identifier, e.g. feature_scaffolding, tests, docs, "
        "debt_cleanup, schema_contract_change. Unknown categories get medium defaults.",
    )
    complexity: ComplexityField = Field(
        default=Complexity.MEDIUM,
        description="low|medium|high; aliases simple/trivial/easy (low), moderate/normal "
        "(medium), complex/difficult/hard (high).",
    )
    scope: Scope = Field(default_factory=Scope, description="What the phase may touch.")
    approval_required: bool | None = Field(
        default=None, description="Force (true) or waive (false) human approval; null: strategy."
    )
    escalation_policy: str | None = Field(
        default=None, description="Model routing policy, e.g. progressive, best_first."
    )
    max_attempts: int | None = Field(
        default=None, ge=1, le=20, description="Cap on Builder attempts; null: strategy."
    )
    builder_mode: str | None = Field(
        default=None,
        description="Who builds: 'external' (another agent or a person, through the API's "
        "external-builder endpoints) or Autopack's Builder model (anything else, or null); "
        "null inherits the run's builder_mode.",
    )
    auditor_mode: AuditorMode | None = Field(
        default=None,
        description="Who reviews: 'model' (Autopack's Auditor) or 'external' (through the "
        "API's auditor_request/auditor_result); null inherits the run's auditor_mode.",
    )


class TierSpec(_Frozen):
    """An ordered group of phases; tiers run one after another."""

    tier_id: Identifier = Field(
        description="Unique across the run; generated ('tier-0', ...) when omitted."
    )
    tier_index: int = Field(
        ge=0, description="Order of the tier; filled in from the position when omitted."
    )
    name: str = Field(
        min_length=1,
        description="Short title. Legacy key 'tier_name' is accepted; defaults to the tier id.",
    )
    description: str = ""
    phases: list[PhaseSpec] = Field(
        min_length=1,
        description="The tier's phases. In the flat shape, phases sit at the top level and "
        "name their tier with 'tier_id'.",
    )


class RunSpec(_Frozen):
    """A whole run: budgets, safety profile, workspace and tiers of phases.

    Accepted input shapes (JSON or YAML): nested (this schema, plus legacy keys), flat
    (``{"run": {...}, "tiers": [...], "phases": [{..., "tier_id"}]}``) and phases-only
    (``{"run_id", "goal"|"description", "phases": [...]}``, one implicit tier).
    """

    model_config = ConfigDict(
        hide_input_in_errors=True,  # a refused workspace URL may carry a token
        json_schema_extra={
            "$comment": "Also accepted by the loader: the flat shape {run, tiers, phases} with "
            "phases naming their tier by tier_id; the phases-only shape {run_id, "
            "goal|description, phases}; legacy keys task_name, tier_name, id, phase goal, "
            "run description."
        },
    )

    run_id: Identifier = Field(description="Letters, digits, '.', '_', '-'; at most 128.")
    goal: str = Field(
        default="", description="What the run achieves. Legacy key 'description' is accepted."
    )
    token_cap: int = Field(default=500_000, gt=0, description="Total token budget.")
    max_phases: int | None = Field(default=None, gt=0, description="Cap on the phase count.")
    max_duration_minutes: int | None = Field(default=None, gt=0, description="Wall-clock cap.")
    max_ci_runs: int | None = Field(
        default=None, gt=0, description="Cap on check (CI) runs across the whole run."
    )
    max_failures: int | None = Field(
        default=None,
        gt=0,
        description="Cap on failed attempts across the whole run (each phase also has its own).",
    )
    max_major_issues: int | None = Field(
        default=None,
        gt=0,
        description="Stop the run for a person's review once it has recorded this many "
        "distinct major issues (Auditor, checks, Doctor).",
    )
    safety_profile: SafetyProfile = SafetyProfile.NORMAL
    workspace: str = Field(
        default=".",
        description="The git repository to work on: a local path ('.': the worker's "
        "AUTOPACK_WORKSPACE), or a remote URL (https://, ssh://, user@host:path, file://) "
        "without credentials, which workers clone and push autonomous/<run_id> to.",
    )
    run_scope: str | None = Field(default=None, description="Free-text scope note (flat shape).")
    builder_mode: str | None = Field(
        default=None,
        description="Run-wide default of the phases' builder_mode ('external': every phase "
        "that sets none is built outside Autopack).",
    )
    auditor_mode: AuditorMode | None = Field(
        default=None, description="Run-wide default of the phases' auditor_mode."
    )
    tiers: list[TierSpec] = Field(min_length=1, description="Tiers, run in tier_index order.")

    @field_validator("workspace")
    @classmethod
    def _workspace(cls, value: str) -> str:
        """A remote URL must be usable and carry no credentials (the spec is stored)."""
        from autopack.workspace.location import check_remote_url, is_remote  # pure leaf

        return check_remote_url(value) if is_remote(value) else value

    @model_validator(mode="after")
    def _unique(self, info: ValidationInfo) -> RunSpec:
        # The loader runs these checks itself on the raw document (so they are reported
        # next to other errors, at their original locations) and switches this one off.
        if isinstance(info.context, dict) and info.context.get(SKIP_CROSS_CHECKS):
            return self
        issues = cross_check(self)
        if issues:
            raise ValueError(
                "; ".join(
                    f"{format_path(i.path)}: {i.render(format_path(i.other or ()))}" for i in issues
                )
            )
        return self

    @model_validator(mode="after")
    def _run_wide_modes(self) -> RunSpec:
        """Phases that set no builder/auditor mode take the run's (stored that way)."""
        if self.builder_mode is None and self.auditor_mode is None:
            return self

        def inherit(phase: PhaseSpec) -> PhaseSpec:
            update: dict[str, Any] = {}
            if phase.builder_mode is None and self.builder_mode is not None:
                update["builder_mode"] = self.builder_mode
            if phase.auditor_mode is None and self.auditor_mode is not None:
                update["auditor_mode"] = self.auditor_mode
            return phase.model_copy(update=update) if update else phase

        tiers = [
            t.model_copy(update={"phases": [inherit(p) for p in t.phases]}) for t in self.tiers
        ]
        return self.model_copy(update={"tiers": tiers})

    def phases(self) -> list[PhaseSpec]:
        """All phases in execution order (tier order, then phase order)."""
        return [p for t in self.tiers for p in t.phases]


def is_identifier(value: str) -> bool:
    """True when ``value`` is usable as a run, tier or phase id."""
    return bool(_ID_RE.match(value))
