"""The strategy engine: task category × complexity × safety profile → :class:`PhaseStrategy`.

Defaults are data in the packaged ``config/strategy.yaml``; a project may override any key in
``.autopack/strategy.yaml`` (or the file named by ``AUTOPACK_STRATEGY_FILE``). The compiled
strategy is stored with every phase when a run is created and is what the executor obeys.

A plan may make a phase stricter (more attempts, approval required) but cannot relax what a
high-risk category demands: only the project's strategy file can do that.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autopack.config.loader import deep_merge, load_config
from autopack.spec.models import Complexity, PhaseSpec, RunSpec, SafetyProfile

CiProfile = Literal["normal", "strict"]
Severity = Literal["minor", "major"]


class StrategyConfigError(ValueError):
    """The strategy configuration (packaged or override) is malformed."""

    code = "strategy_config_invalid"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyFields(_Strict):
    """A partial set of strategy values; ``None`` means "inherit"."""

    builder_attempts: int | None = Field(default=None, ge=1, le=20)
    auditor_attempts: int | None = Field(default=None, ge=0, le=10)
    incident_token_cap: int | None = Field(default=None, gt=0)
    ci_profile: CiProfile | None = None
    auto_apply: bool | None = None
    approval_required: bool | None = None
    auditor_profile: str | None = None
    dual_audit: bool | None = None
    default_severity: Severity | None = None

    def values(self) -> dict[str, Any]:
        """The fields that are set."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CategoryConfig(_Strict):
    """Per-category adjustments, for all complexities and per complexity."""

    high_risk: bool = False
    all: StrategyFields = Field(default_factory=StrategyFields)
    low: StrategyFields = Field(default_factory=StrategyFields)
    medium: StrategyFields = Field(default_factory=StrategyFields)
    high: StrategyFields = Field(default_factory=StrategyFields)


class SafetyProfileConfig(_Strict):
    """How a safety profile tightens strategies, budgets and issue aging."""

    builder_attempts_delta: int = Field(default=0, ge=-10, le=10)
    token_cap_factor: float = Field(default=1.0, gt=0, le=10)
    strict_ci_from: Literal["none", "high_risk", "all"] = "high_risk"
    dual_audit_from: Literal["none", "high_risk", "high_complexity", "all"] = "high_risk"
    tier_budget_factor: float = Field(default=1.0, gt=0, le=10)
    minor_issue_cleanup_after_runs: int = Field(default=3, ge=1)
    minor_issue_cleanup_after_tiers: int = Field(default=2, ge=1)


class StrategyConfig(_Strict):
    """The whole strategy file."""

    version: Literal[1] = 1
    defaults: dict[Complexity, StrategyFields]
    high_risk_overrides: StrategyFields = Field(default_factory=StrategyFields)
    categories: dict[str, CategoryConfig] = Field(default_factory=dict)
    safety_profiles: dict[SafetyProfile, SafetyProfileConfig] = Field(default_factory=dict)


class PhaseStrategy(_Strict):
    """What the executor does for one phase. Stored with the phase when a run is created."""

    category: str
    complexity: Complexity
    known_category: bool
    high_risk: bool
    builder_attempts: int = Field(ge=1)
    auditor_attempts: int = Field(ge=0)
    incident_token_cap: int = Field(gt=0)
    ci_profile: CiProfile
    auto_apply: bool
    approval_required: bool
    auditor_profile: str
    dual_audit: bool
    default_severity: Severity
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for tables: attempts, token cap, CI, apply mode, audit."""
        apply = (
            "approval"
            if self.approval_required
            else ("auto-apply" if self.auto_apply else "review")
        )
        audit = f"{self.auditor_profile}{' x2' if self.dual_audit else ''}"
        risk = "HIGH-RISK " if self.high_risk else ""
        tries = "try" if self.builder_attempts == 1 else "tries"
        return (
            f"{risk}{self.builder_attempts} {tries}, cap {_short(self.incident_token_cap)}, "
            f"ci {self.ci_profile}, {apply}, audit {audit}"
        )


class RunStrategy(_Strict):
    """Compiled strategy for a whole run."""

    safety_profile: SafetyProfile
    phases: dict[str, PhaseStrategy]
    tier_token_budgets: dict[str, int]
    minor_issue_cleanup_after_runs: int
    minor_issue_cleanup_after_tiers: int


def _short(tokens: int) -> str:
    if tokens < 1000:
        return str(tokens)
    return f"{tokens / 1000:.1f}".removesuffix(".0") + "k"


def _merge_override(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge a project file over the packaged defaults, key by key.

    A project's ``categories.<c>.all`` value also beats the packaged per-complexity value of
    the same key, so ``all: {builder_attempts: 9}`` means 9 for every complexity.
    """
    base = deep_merge(base, {})
    for name, cat in (override.get("categories") or {}).items():
        packaged = (base.get("categories") or {}).get(name)
        if not isinstance(cat, dict) or not isinstance(packaged, dict):
            continue
        keys = set((cat.get("all") or {}).keys()) if isinstance(cat.get("all"), dict) else set()
        for level in ("low", "medium", "high"):
            if isinstance(packaged.get(level), dict):
                packaged[level] = {k: v for k, v in packaged[level].items() if k not in keys}
    return deep_merge(base, override)


class StrategyEngine:
    """Compiles phase strategies from a validated :class:`StrategyConfig`."""

    def __init__(self, config: StrategyConfig) -> None:
        missing = [c.value for c in Complexity if c not in config.defaults]
        if missing:
            raise StrategyConfigError(f"defaults: missing complexities {', '.join(missing)}")
        self.config = config

    @classmethod
    def load(cls, override_path: Path | None = None) -> StrategyEngine:
        """Packaged defaults, merged with a project override file when given."""
        config = load_config(
            StrategyConfig,
            "strategy.yaml",
            override_path,
            error=StrategyConfigError,
            merge=_merge_override,
        )
        return cls(config)

    def is_high_risk(self, category: str) -> bool:
        """Whether a category is configured as high risk."""
        cat = self.config.categories.get(category)
        return bool(cat and cat.high_risk)

    def _profile(self, safety_profile: SafetyProfile) -> SafetyProfileConfig:
        return self.config.safety_profiles.get(safety_profile, SafetyProfileConfig())

    def compile(self, phase: PhaseSpec, safety_profile: SafetyProfile) -> PhaseStrategy:
        """The strategy for one phase."""
        complexity = Complexity(phase.complexity)
        category = self.config.categories.get(phase.task_category)
        values = self.config.defaults[complexity].values()
        notes: list[str] = []
        high_risk = bool(category and category.high_risk)
        if category is None:
            notes.append(f"unknown category {phase.task_category!r}: defaults apply")
        else:
            if high_risk:
                values.update(self.config.high_risk_overrides.values())
            values.update(category.all.values())
            values.update(getattr(category, complexity.value).values())

        profile = self._profile(safety_profile)
        values["builder_attempts"] = max(
            1, values["builder_attempts"] + profile.builder_attempts_delta
        )
        values["incident_token_cap"] = max(
            1, math.floor(values["incident_token_cap"] * profile.token_cap_factor)
        )
        if profile.strict_ci_from == "all" or (profile.strict_ci_from == "high_risk" and high_risk):
            values["ci_profile"] = "strict"
        dual = profile.dual_audit_from
        if (
            dual == "all"
            or (dual == "high_risk" and high_risk)
            or (dual == "high_complexity" and (high_risk or complexity is Complexity.HIGH))
        ):
            values["dual_audit"] = True

        if phase.max_attempts is not None:
            values["builder_attempts"] = phase.max_attempts
        if phase.approval_required is True:
            values["approval_required"] = True
        elif phase.approval_required is False and values.get("approval_required"):
            notes.append("plan asked for no approval; the category requires it (kept)")
        if values.get("approval_required"):
            values["auto_apply"] = False

        return PhaseStrategy(
            category=phase.task_category,
            complexity=complexity,
            known_category=category is not None,
            high_risk=high_risk,
            notes=tuple(notes),
            **values,
        )

    def compile_run(self, spec: RunSpec) -> RunStrategy:
        """Strategies for every phase of a run, tier token budgets and issue-aging limits."""
        profile = self._profile(spec.safety_profile)
        phases: dict[str, PhaseStrategy] = {}
        budgets: dict[str, int] = {}
        for tier in spec.tiers:
            total = 0
            for phase in tier.phases:
                strategy = self.compile(phase, spec.safety_profile)
                if strategy.incident_token_cap > spec.token_cap:
                    strategy = strategy.model_copy(
                        update={
                            "incident_token_cap": spec.token_cap,
                            "notes": (*strategy.notes, "token cap clamped to the run's token_cap"),
                        }
                    )
                phases[phase.phase_id] = strategy
                total += strategy.incident_token_cap
            # Never below the largest single phase cap: one phase must fit in its tier.
            largest = max(phases[p.phase_id].incident_token_cap for p in tier.phases)
            scaled = max(largest, math.floor(total * profile.tier_budget_factor))
            budgets[tier.tier_id] = min(spec.token_cap, scaled)
        return RunStrategy(
            safety_profile=spec.safety_profile,
            phases=phases,
            tier_token_budgets=budgets,
            minor_issue_cleanup_after_runs=profile.minor_issue_cleanup_after_runs,
            minor_issue_cleanup_after_tiers=profile.minor_issue_cleanup_after_tiers,
        )
