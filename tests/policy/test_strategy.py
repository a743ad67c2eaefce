"""Strategy engine: category x complexity x safety profile, overrides and plan requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.policy.strategy import StrategyConfigError, StrategyEngine
from autopack.spec.models import PhaseSpec, RunSpec, SafetyProfile
from support.specs import make_spec

HIGH_RISK = [
    "cross_cutting_refactor",
    "index_registry_change",
    "schema_contract_change",
    "bulk_multi_file_operation",
    "security_auth_change",
    "external_code_intake",
]


def phase(category: str, complexity: str = "medium", **kw: object) -> PhaseSpec:
    return PhaseSpec(
        phase_id="p", phase_index=0, name="p", task_category=category, complexity=complexity, **kw
    )


@pytest.fixture(scope="module")
def engine() -> StrategyEngine:
    return StrategyEngine.load()


@pytest.mark.parametrize("category", HIGH_RISK)
def test_high_risk_categories_need_approval_strict_ci_and_dual_audit(
    engine: StrategyEngine, category: str
) -> None:
    s = engine.compile(phase(category), SafetyProfile.NORMAL)
    assert s.high_risk and s.known_category
    assert (s.ci_profile, s.auto_apply, s.approval_required, s.dual_audit) == (
        "strict",
        False,
        True,
        True,
    )
    assert s.default_severity == "major"
    assert "HIGH-RISK" in s.summary()


@pytest.mark.parametrize("category", ["feature_scaffolding", "docs", "tests", "debt_cleanup"])
def test_normal_categories_auto_apply(engine: StrategyEngine, category: str) -> None:
    s = engine.compile(phase(category), SafetyProfile.NORMAL)
    assert (s.high_risk, s.auto_apply, s.approval_required, s.ci_profile) == (
        False,
        True,
        False,
        "normal",
    )


def test_complexity_scales_attempts_and_caps(engine: StrategyEngine) -> None:
    low, med, high = (
        engine.compile(phase("feature_scaffolding", c), SafetyProfile.NORMAL)
        for c in ("low", "medium", "high")
    )
    assert low.builder_attempts < med.builder_attempts < high.builder_attempts
    assert low.incident_token_cap < med.incident_token_cap < high.incident_token_cap


def test_unknown_category_gets_defaults_and_a_note(engine: StrategyEngine) -> None:
    s = engine.compile(phase("quantum_refactor", "medium"), SafetyProfile.NORMAL)
    assert not s.known_category and not s.high_risk
    assert s.builder_attempts == engine.config.defaults["medium"].builder_attempts  # type: ignore[index]
    assert "unknown category" in s.notes[0]


def test_safety_critical_tightens(engine: StrategyEngine) -> None:
    normal = engine.compile(phase("docs", "high"), SafetyProfile.NORMAL)
    critical = engine.compile(phase("docs", "high"), SafetyProfile.SAFETY_CRITICAL)
    assert critical.builder_attempts == normal.builder_attempts - 1
    assert critical.incident_token_cap < normal.incident_token_cap
    assert (critical.ci_profile, critical.dual_audit) == ("strict", True)


def test_plan_can_tighten_but_not_relax_a_high_risk_phase(engine: StrategyEngine) -> None:
    tightened = engine.compile(phase("docs", approval_required=True, max_attempts=7), "normal")  # type: ignore[arg-type]
    assert tightened.approval_required and not tightened.auto_apply
    assert tightened.builder_attempts == 7
    relaxed = engine.compile(phase("security_auth_change", approval_required=False), "normal")  # type: ignore[arg-type]
    assert relaxed.approval_required and not relaxed.auto_apply
    assert any("requires it" in n for n in relaxed.notes)


def test_compile_run_budgets_tiers_and_clamps_to_the_run_cap(engine: StrategyEngine) -> None:
    spec = make_spec(tiers=2, phases_per_tier=2)
    compiled = engine.compile_run(spec)
    assert set(compiled.phases) == {p.phase_id for p in spec.phases()}
    for tier in spec.tiers:
        caps = sum(compiled.phases[p.phase_id].incident_token_cap for p in tier.phases)
        assert compiled.tier_token_budgets[tier.tier_id] == min(caps, spec.token_cap)
    assert compiled.minor_issue_cleanup_after_runs == 3

    tiny = RunSpec.model_validate({**spec.model_dump(), "token_cap": 1000})
    clamped = engine.compile_run(tiny)
    assert all(s.incident_token_cap <= 1000 for s in clamped.phases.values())
    assert all(b <= 1000 for b in clamped.tier_token_budgets.values())


def test_project_override_file_is_merged(tmp_path: Path) -> None:
    override = tmp_path / "strategy.yaml"
    override.write_text(
        "categories:\n  docs:\n    all:\n      auto_apply: false\n      builder_attempts: 9\n"
        "  data_migration:\n    high_risk: true\n"
    )
    engine = StrategyEngine.load(override)
    docs = engine.compile(phase("docs", "low"), SafetyProfile.NORMAL)
    assert (docs.auto_apply, docs.builder_attempts) == (False, 9)
    assert docs.auditor_profile == "light"  # untouched keys keep the packaged value
    assert engine.compile(phase("data_migration"), SafetyProfile.NORMAL).approval_required


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("defaults:\n  low:\n    builder_attempts: 0\n", "defaults.low.builder_attempts"),
        ("categories:\n  docs:\n    all:\n      auto_aply: true\n", "auto_aply"),
        ("safety_profiles:\n  normal:\n    strict_ci_from: sometimes\n", "strict_ci_from"),
        ("- a list\n", "top level must be a mapping"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_override_names_the_location(tmp_path: Path, text: str, message: str) -> None:
    override = tmp_path / "strategy.yaml"
    override.write_text(text)
    with pytest.raises(StrategyConfigError, match=message.replace("[", r"\[")) as info:
        StrategyEngine.load(override)
    assert str(override) in str(info.value)


def test_missing_override_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StrategyConfigError, match="cannot read"):
        StrategyEngine.load(tmp_path / "absent.yaml")
