"""The model registry: the shipped file, project overrides, prices and `check_config`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from autopack.policy.models_config import (
    ModelsConfig,
    ModelsConfigError,
    ModelSpec,
    Role,
    check_config,
)
from autopack.spec.models import Complexity


def _override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_consistent() -> None:
    config = ModelsConfig.load()
    assert check_config(config) == []
    assert set(config.roles) == set(Role)
    assert config.max_attempts_per_phase == 5
    assert config.escalation.escalate_after == 2
    assert config.escalation.on_failures == ["auditor_reject", "ci_fail", "patch_apply_error"]
    providers = {m.provider for m in config.models.values()}
    assert {"anthropic", "openai", "scripted", "ollama"} <= providers
    local = next(m for m in config.models.values() if m.provider == "ollama")
    assert local.cost(10_000, 10_000) == 0
    assert config.models["scripted"].provider == "scripted"
    assert config.provider_api("ollama") == "openai"
    for complexity in Complexity:
        assert config.escalation.chains[complexity]


def test_cost_is_exact_decimal() -> None:
    spec = ModelSpec(
        name="m",
        provider="openai",
        api_model="m",
        context_window=1000,
        max_output_tokens=100,
        input_usd_per_mtok=Decimal("0.40"),
        output_usd_per_mtok=Decimal("1.60"),
    )
    cost = spec.cost(1_234, 567)
    assert isinstance(cost, Decimal)
    assert cost == Decimal("0.0004936") + Decimal("0.0009072")
    assert spec.cost(1_000_000, 1_000_000) == Decimal("2.00")
    assert spec.cost(0, 0) == 0
    with pytest.raises(ValueError, match="negative"):
        spec.cost(-1, 0)


def test_cost_from_yaml_floats_is_exact() -> None:
    sonnet = ModelsConfig.load().models["claude-sonnet-4-5"]
    # 3 and 15 USD per million tokens: no binary-float residue.
    assert sonnet.cost(1_234, 567) == Decimal("0.012207")
    mini = ModelsConfig.load().models["gpt-4.1-mini"]
    assert mini.cost(3, 3) == Decimal("0.0000060")


def test_unpriced_model_cannot_cost() -> None:
    spec = ModelSpec(
        name="m", provider="openai", api_model="m", context_window=10, max_output_tokens=5
    )
    with pytest.raises(ModelsConfigError, match="no price"):
        spec.cost(1, 1)


def test_override_merges_and_removes(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        """
models:
  gpt-4.1: ~
  mine:
    provider: openai
    api_model: my-model
    context_window: 8000
    max_output_tokens: 1000
    input_usd_per_mtok: "0.10"
    output_usd_per_mtok: "0.20"
roles:
  builder: {low: mine}
  auditor: {low: claude-sonnet-4-5}
escalation:
  chains:
    low: [mine, claude-sonnet-4-5]
""",
    )
    config = ModelsConfig.load(path)
    assert "gpt-4.1" not in config.models
    assert config.models["mine"].name == "mine"
    assert config.roles[Role.BUILDER].low == "mine"
    assert config.roles[Role.BUILDER].high == "claude-sonnet-4-5"  # merged, not replaced
    assert config.escalation.chains[Complexity.LOW] == ["mine", "claude-sonnet-4-5"]
    assert check_config(config) == []


def test_broken_config_reports_every_kind_of_problem(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        """
providers:
  mystery: {}
models:
  free-lunch:
    provider: openai
    api_model: x
    context_window: 1000
    max_output_tokens: 100
  elsewhere:
    provider: nowhere
    api_model: y
    context_window: 1000
    max_output_tokens: 2000
    input_usd_per_mtok: 1
    output_usd_per_mtok: 1
roles:
  auditor: {high: ghost-model}
  judge: {low: ~}
escalation:
  chains:
    medium: []
    high: [claude-sonnet-4-5, phantom]
""",
    )
    problems = check_config(ModelsConfig.load(path))
    text = "\n".join(problems)
    assert "models.free-lunch: no price (input_usd_per_mtok, output_usd_per_mtok)" in problems
    assert "models.elsewhere.provider: unknown provider 'nowhere'" in text
    assert "models.elsewhere.max_output_tokens: 2000 exceeds the context window 1000" in text
    assert "providers.mystery: set `api`" in text
    assert "roles.auditor.high: unknown model 'ghost-model'" in problems
    assert "roles.judge.low: no model" in problems
    assert "escalation.chains.medium: missing or empty" in problems
    assert "escalation.chains.high[1]: unknown model 'phantom'" in problems
    # The builder starts at claude-sonnet-4-5 for medium, but the medium chain is empty: one
    # problem (the chain), not a cascade.
    assert not any(p.startswith("roles.builder.medium") for p in problems)


def test_escalating_role_must_start_inside_its_chain(tmp_path: Path) -> None:
    path = _override(tmp_path, "roles:\n  builder: {low: gpt-5}\n")
    problems = check_config(ModelsConfig.load(path))
    assert problems == ["roles.builder.low: 'gpt-5' escalates but is not in escalation.chains.low"]


def test_missing_role_is_reported() -> None:
    data = ModelsConfig.load().model_dump()
    del data["roles"][Role.JUDGE]
    problems = check_config(ModelsConfig.model_validate(data))
    assert problems == ["roles.judge: missing"]


def test_malformed_yaml_is_located(tmp_path: Path) -> None:
    path = _override(tmp_path, "models:\n  a: [1, 2\n  b: 3\n")
    with pytest.raises(ModelsConfigError) as info:
        ModelsConfig.load(path)
    message = str(info.value)
    assert str(path) in message and "not valid YAML" in message and "line" in message


def test_wrong_shape_names_file_and_key(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        "policies:\n  categories:\n    docs: fastest\nmodels:\n  gpt-5:\n    context_window: -1\n",
    )
    with pytest.raises(ModelsConfigError) as info:
        ModelsConfig.load(path)
    message = str(info.value)
    assert f"{path}: policies.categories.docs:" in message
    assert f"{path}: models.gpt-5.context_window:" in message


def test_unreadable_override(tmp_path: Path) -> None:
    with pytest.raises(ModelsConfigError, match="cannot read"):
        ModelsConfig.load(tmp_path / "absent.yaml")
