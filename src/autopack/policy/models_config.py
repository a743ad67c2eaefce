"""The model registry as data: :class:`ModelsConfig`, loaded from ``config/models.yaml``.

The packaged file is the default; a project's ``.autopack/models.yaml`` (or the file named by
``AUTOPACK_MODELS_FILE``) is merged over it key by key, and a model or provider set to
``null`` there is removed. Loading validates the shape (errors name the file and the key);
:func:`check_config` then finds what the shape cannot express: references to unknown models
or providers, missing prices, empty escalation chains, roles without a model for a
complexity. ``autopack models check`` prints exactly that list.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from autopack.config.loader import deep_merge, load_config
from autopack.spec.models import Complexity

__all__ = [
    "BUILTIN_PROVIDERS",
    "EscalationConfig",
    "ModelSpec",
    "ModelsConfig",
    "ModelsConfigError",
    "PoliciesConfig",
    "Policy",
    "ProviderConfig",
    "ProviderQuota",
    "Role",
    "RoleConfig",
    "check_config",
]

Policy = Literal["best_first", "progressive", "cheap_first"]
WireApi = Literal["anthropic", "openai", "scripted"]

BUILTIN_PROVIDERS: frozenset[str] = frozenset({"anthropic", "openai", "scripted"})
"""Providers every configuration knows; others must be listed under ``providers:``."""

_MILLION = Decimal(1_000_000)


class ModelsConfigError(ValueError):
    """The models configuration (packaged or override) is malformed or inconsistent."""

    code = "models_config_invalid"


class Role(StrEnum):
    """Who calls a model."""

    BUILDER = "builder"
    AUDITOR = "auditor"
    DOCTOR_CHEAP = "doctor_cheap"
    DOCTOR_STRONG = "doctor_strong"
    JUDGE = "judge"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """One model of the registry: who serves it, its limits and its price."""

    name: str = Field(min_length=1, description="Autopack's name for the model.")
    provider: str = Field(min_length=1, description="Built-in provider or a `providers:` key.")
    api_model: str = Field(min_length=1, description="The provider's model id.")
    context_window: int = Field(gt=0, description="Input + output tokens accepted.")
    max_output_tokens: int = Field(gt=0, description="Largest `max_tokens` of one call.")
    input_usd_per_mtok: Decimal | None = Field(
        default=None, ge=0, description="USD per million input tokens (required by `check`)."
    )
    output_usd_per_mtok: Decimal | None = Field(
        default=None, ge=0, description="USD per million output tokens (required by `check`)."
    )

    @property
    def priced(self) -> bool:
        """Whether both prices are known."""
        return self.input_usd_per_mtok is not None and self.output_usd_per_mtok is not None

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        """Exact USD cost of a call (no rounding: the ledger sums exact values)."""
        if input_tokens < 0 or output_tokens < 0:
            raise ValueError("token counts cannot be negative")
        if self.input_usd_per_mtok is None or self.output_usd_per_mtok is None:
            raise ModelsConfigError(f"model {self.name!r} has no price")
        return (
            Decimal(input_tokens) * self.input_usd_per_mtok
            + Decimal(output_tokens) * self.output_usd_per_mtok
        ) / _MILLION


class ProviderQuota(_Strict):
    """Optional per-provider limits, applied on top of a run's budgets."""

    requests_per_minute: int | None = Field(default=None, gt=0)
    tokens_per_minute: int | None = Field(default=None, gt=0)
    max_usd_per_run: Decimal | None = Field(default=None, ge=0)


class ProviderConfig(_Strict):
    """A provider: which wire protocol it speaks, where, and its quota."""

    api: WireApi | None = Field(
        default=None, description="Wire protocol; default: the provider's name when built in."
    )
    base_url: str | None = None
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding this provider's key (its `_FILE` twin "
        "naming a file wins), e.g. OPENROUTER_API_KEY; `OPENAI_API_KEY` is only ever sent "
        "to OpenAI itself.",
    )
    quota: ProviderQuota | None = None


class RoleConfig(_Strict):
    """The starting model of a role per complexity, and whether the role escalates."""

    escalates: bool = False
    low: str | None = None
    medium: str | None = None
    high: str | None = None

    def start(self, complexity: Complexity) -> str | None:
        """The configured starting model for ``complexity``."""
        value: str | None = getattr(self, complexity.value)
        return value


_DEFAULT_ESCALATING_FAILURES = ("auditor_reject", "ci_fail", "patch_apply_error")


class EscalationConfig(_Strict):
    """Escalation chains per complexity and when to climb them."""

    chains: dict[Complexity, list[str]] = Field(default_factory=dict)
    escalate_after: int = Field(default=2, ge=1, le=20)
    on_failures: list[str] = Field(default_factory=lambda: list(_DEFAULT_ESCALATING_FAILURES))


class PoliciesConfig(_Strict):
    """The routing policy per task category."""

    default: Policy = "progressive"
    categories: dict[str, Policy] = Field(default_factory=dict)

    def for_category(self, category: str) -> Policy:
        """The category's policy, or the default."""
        return self.categories.get(category, self.default)


class ModelsConfig(_Strict):
    """The whole models file."""

    version: Literal[1] = 1
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    roles: dict[Role, RoleConfig] = Field(default_factory=dict)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    max_attempts_per_phase: int = Field(default=5, ge=1, le=50)
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig)

    @model_validator(mode="before")
    @classmethod
    def _name_models(cls, data: Any) -> Any:
        """A model's ``name`` is its key in ``models:`` (it may be omitted in the file)."""
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            models = {}
            for key, entry in data["models"].items():
                if isinstance(entry, dict):
                    entry = {"name": key, **entry}
                models[key] = entry
            data = {**data, "models": models}
        return data

    @model_validator(mode="after")
    def _names_match_keys(self) -> ModelsConfig:
        for key, spec in self.models.items():
            if spec.name != key:
                raise ValueError(f"models.{key}: name {spec.name!r} differs from its key")
        return self

    @classmethod
    def load(cls, override_path: Path | None = None) -> ModelsConfig:
        """Packaged defaults, merged with a project override file when given."""
        return load_config(
            cls, "models.yaml", override_path, error=ModelsConfigError, merge=_merge_override
        )

    def known_providers(self) -> list[str]:
        """Built-in providers and those listed under ``providers:``, sorted."""
        return sorted(BUILTIN_PROVIDERS | set(self.providers))

    def provider_api(self, provider: str) -> str | None:
        """The wire protocol ``provider`` speaks, or ``None`` when it cannot be told."""
        configured = self.providers.get(provider)
        if configured is not None and configured.api is not None:
            return configured.api
        return provider if provider in BUILTIN_PROVIDERS else None


def _merge_override(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Key-by-key merge; a model or provider set to ``null`` in the override is removed."""
    merged = deep_merge(base, override)
    for section in ("models", "providers"):
        extra, out = override.get(section), merged.get(section)
        if isinstance(extra, dict) and isinstance(out, dict):
            merged[section] = {
                k: v for k, v in out.items() if not (v is None and k in extra and extra[k] is None)
            }
    return merged


def check_config(config: ModelsConfig) -> list[str]:
    """Every inconsistency of a validated configuration, one message each (empty: fine).

    Each message starts with the key it concerns, e.g. ``roles.builder.high: unknown model
    'x'``, so that a person can find it in the YAML.
    """
    problems: list[str] = []
    known = config.known_providers()
    for name in config.providers:
        if config.provider_api(name) is None:
            problems.append(
                f"providers.{name}: set `api` to anthropic, openai or scripted "
                f"(the wire protocol it speaks)"
            )
    for name, spec in config.models.items():
        if spec.provider not in known:
            problems.append(
                f"models.{name}.provider: unknown provider {spec.provider!r} "
                f"(known: {', '.join(known)})"
            )
        missing = [
            key
            for key in ("input_usd_per_mtok", "output_usd_per_mtok")
            if getattr(spec, key) is None
        ]
        if missing:
            problems.append(f"models.{name}: no price ({', '.join(missing)})")
        if spec.max_output_tokens > spec.context_window:
            problems.append(
                f"models.{name}.max_output_tokens: {spec.max_output_tokens} exceeds the "
                f"context window {spec.context_window}"
            )
    problems.extend(_check_roles_and_chains(config))
    return problems


def _unknown(config: ModelsConfig, where: str, name: str) -> str | None:
    if name in config.models:
        return None
    return f"{where}: unknown model {name!r}"


def _check_roles_and_chains(config: ModelsConfig) -> list[str]:
    problems: list[str] = []
    chains = config.escalation.chains
    for complexity in Complexity:
        where = f"escalation.chains.{complexity.value}"
        chain = chains.get(complexity)
        if not chain:
            problems.append(f"{where}: missing or empty")
            continue
        for index, name in enumerate(chain):
            message = _unknown(config, f"{where}[{index}]", name)
            if message:
                problems.append(message)
        if len(set(chain)) != len(chain):
            problems.append(f"{where}: lists a model more than once")
    for role in Role:
        role_config = config.roles.get(role)
        if role_config is None:
            problems.append(f"roles.{role.value}: missing")
            continue
        for complexity in Complexity:
            where = f"roles.{role.value}.{complexity.value}"
            name = role_config.start(complexity)
            if name is None:
                problems.append(f"{where}: no model")
                continue
            message = _unknown(config, where, name)
            if message:
                problems.append(message)
            elif (
                role_config.escalates and chains.get(complexity) and name not in chains[complexity]
            ):
                problems.append(
                    f"{where}: {name!r} escalates but is not in "
                    f"escalation.chains.{complexity.value}"
                )
    return problems
