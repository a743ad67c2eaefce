"""Routing: policies × complexities, escalation, chain end, overrides, attempt limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.policy.models_config import ModelsConfig, ModelsConfigError, Role
from autopack.policy.routing import Router, RoutingError
from autopack.spec.models import Complexity

# A registry written for the tests, so that expectations do not follow the shipped prices.
CONFIG = """
models:
  small: {provider: scripted, api_model: s, context_window: 1000, max_output_tokens: 100,
          input_usd_per_mtok: 1, output_usd_per_mtok: 2}
  medium: {provider: scripted, api_model: m, context_window: 1000, max_output_tokens: 100,
           input_usd_per_mtok: 2, output_usd_per_mtok: 4}
  large: {provider: scripted, api_model: l, context_window: 1000, max_output_tokens: 100,
          input_usd_per_mtok: 4, output_usd_per_mtok: 8}
roles:
  builder: {escalates: true, low: small, medium: medium, high: medium}
  auditor: {escalates: true, low: small, medium: medium, high: large}
  doctor_cheap: {low: small, medium: small, high: small}
  doctor_strong: {low: large, medium: large, high: large}
  judge: {low: medium, medium: medium, high: large}
escalation:
  chains:
    low: [small, medium, large]
    medium: [medium, large]
    high: [medium, large]
  escalate_after: 2
  on_failures: [auditor_reject, ci_fail, patch_apply_error]
max_attempts_per_phase: 5
policies:
  default: progressive
  categories:
    refactor: best_first
    docs: cheap_first
"""


def _config(tmp_path: Path, text: str = CONFIG) -> ModelsConfig:
    path = tmp_path / "models.yaml"
    # Replace the packaged registry wholesale: remove every packaged model first.
    removed = "\n".join(f"  {name}: ~" for name in ModelsConfig.load().models)
    path.write_text(text.replace("models:\n", f"models:\n{removed}\n", 1), encoding="utf-8")
    return ModelsConfig.load(path)


@pytest.fixture
def router(tmp_path: Path) -> Router:
    return Router(_config(tmp_path))


def _choose(router: Router, category: str, complexity: str, failures: list[str], **kw):
    return router.choose(
        "builder",
        category=category,
        complexity=complexity,
        attempt=len(failures) + 1,
        failures=failures,
        **kw,
    )


# policy -> complexity -> the starting model (no failures yet)
STARTS = {
    "progressive": {"low": "small", "medium": "medium", "high": "medium"},
    "cheap_first": {"low": "small", "medium": "medium", "high": "medium"},
    "best_first": {"low": "large", "medium": "large", "high": "large"},
}
CATEGORY = {"progressive": "feature", "cheap_first": "docs", "best_first": "refactor"}


@pytest.mark.parametrize("policy", sorted(STARTS))
@pytest.mark.parametrize("complexity", ["low", "medium", "high"])
def test_each_policy_on_each_complexity(router: Router, policy: str, complexity: str) -> None:
    decision = _choose(router, CATEGORY[policy], complexity, [])
    assert decision.model.name == STARTS[policy][complexity]
    assert decision.policy == policy
    assert decision.level == 0
    assert policy in decision.reason
    assert decision.chain_end == (decision.model.name == "large")


def test_cheap_first_starts_below_the_roles_model(router: Router) -> None:
    # The auditor's high-complexity model is `large`; cheap_first starts at the chain's bottom.
    progressive = router.choose(
        "auditor", category="feature", complexity="high", attempt=1, failures=[]
    )
    cheap = router.choose("auditor", category="docs", complexity="high", attempt=1, failures=[])
    assert (progressive.model.name, cheap.model.name) == ("large", "medium")
    assert "weakest" in cheap.reason


def test_escalates_after_n_qualifying_failures(router: Router) -> None:
    assert _choose(router, "feature", "low", ["ci_fail"]).model.name == "small"
    second = _choose(router, "feature", "low", ["ci_fail", "auditor_reject"])
    assert (second.model.name, second.level) == ("medium", 1)
    assert "escalated 1 step after 2 qualifying failures" in second.reason
    third = _choose(router, "feature", "low", ["ci_fail", "auditor_reject", "patch_apply_error"])
    assert third.model.name == "medium"
    fourth = _choose(router, "feature", "low", ["ci_fail"] * 4)
    assert (fourth.model.name, fourth.level, fourth.chain_end) == ("large", 2, True)


def test_non_qualifying_failures_never_escalate(router: Router) -> None:
    decision = _choose(router, "feature", "low", ["budget", "budget", "timeout", "budget"])
    assert (decision.model.name, decision.level) == ("small", 0)
    mixed = _choose(router, "feature", "low", ["budget", "ci_fail", "budget", "ci_fail"])
    assert mixed.model.name == "medium"
    assert router.qualifying_failures(["budget", "ci_fail", "doctor"]) == 1


def test_chain_end_stays_at_the_strongest(tmp_path: Path) -> None:
    router = Router(
        _config(tmp_path, CONFIG.replace("max_attempts_per_phase: 5", "max_attempts_per_phase: 9"))
    )
    decision = _choose(router, "feature", "medium", ["ci_fail"] * 8)
    assert decision.model.name == "large"
    assert (decision.level, decision.chain_end) == (1, True)
    assert "end of the escalation chain" in decision.reason
    assert "staying at the strongest, large" in decision.reason
    best = _choose(router, "refactor", "low", ["ci_fail", "ci_fail"])
    assert (best.model.name, best.level, best.chain_end) == ("large", 0, True)
    assert "end of the escalation chain" in best.reason


def test_fixed_roles_ignore_policy_and_failures(router: Router) -> None:
    for category in ("feature", "docs", "refactor"):
        decision = router.choose(
            Role.DOCTOR_CHEAP,
            category=category,
            complexity=Complexity.HIGH,
            attempt=5,
            failures=["ci_fail"] * 4,
        )
        assert (decision.model.name, decision.level, decision.policy) == ("small", 0, None)
        assert "does not escalate" in decision.reason
    judge = router.choose("judge", category="x", complexity="high", attempt=1, failures=[])
    assert judge.model.name == "large"


def test_unknown_category_uses_the_default_policy(router: Router) -> None:
    assert _choose(router, "never-heard-of-it", "low", []).policy == "progressive"


def test_override_pins_the_model(router: Router) -> None:
    decision = _choose(router, "feature", "low", ["ci_fail"] * 4, overrides={"builder": "medium"})
    assert (decision.model.name, decision.level) == ("medium", 0)
    assert "override" in decision.reason
    # An override for another role leaves this one alone.
    other = _choose(router, "feature", "low", [], overrides={"auditor": "large"})
    assert other.model.name == "small"


def test_unknown_override_is_a_clear_error(router: Router) -> None:
    with pytest.raises(RoutingError) as info:
        _choose(router, "feature", "low", [], overrides={"builder": "gpt-9"})
    assert info.value.code == "unknown_model"
    assert "override for builder: unknown model 'gpt-9' (known: large, medium, small)" in str(
        info.value
    )
    with pytest.raises(RoutingError) as role_info:
        router.validate_overrides({"architect": "large"})
    assert role_info.value.code == "unknown_role"
    assert router.validate_overrides({"judge": "small"})[Role.JUDGE].name == "small"


def test_attempt_limits(router: Router) -> None:
    assert _choose(router, "feature", "low", ["ci_fail"] * 4).model.name == "large"
    with pytest.raises(RoutingError) as info:
        router.choose("builder", category="f", complexity="low", attempt=6, failures=[])
    assert info.value.code == "attempts_exhausted"
    with pytest.raises(RoutingError):
        router.choose("builder", category="f", complexity="low", attempt=0, failures=[])


def test_bad_requests(router: Router) -> None:
    with pytest.raises(RoutingError, match="unknown role 'planner'"):
        router.choose("planner", category="f", complexity="low", attempt=1, failures=[])
    with pytest.raises(RoutingError, match="unknown complexity 'extreme'"):
        router.choose("builder", category="f", complexity="extreme", attempt=1, failures=[])
    with pytest.raises(RoutingError, match="unknown model 'nope'"):
        router.model("nope")


def test_router_refuses_an_inconsistent_config(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("roles:\n  judge: {high: ghost}\n", encoding="utf-8")
    with pytest.raises(ModelsConfigError, match=r"roles\.judge\.high: unknown model 'ghost'"):
        Router.load(path)


def test_shipped_router_routes_every_role() -> None:
    router = Router.load()
    for role in Role:
        for complexity in Complexity:
            decision = router.choose(
                role, category="tests", complexity=complexity, attempt=1, failures=[]
            )
            assert decision.model.priced
