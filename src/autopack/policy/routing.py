"""Model routing: role × category × complexity × failure history → a model.

Pure decisions over a :class:`~autopack.policy.models_config.ModelsConfig`:

- a role that does not escalate (doctors, judge by default) always gets its starting model;
- an escalating role (builder, auditor) follows its complexity's escalation chain under the
  category's policy: ``progressive`` starts at the role's model, ``cheap_first`` at the
  chain's weakest, ``best_first`` at its strongest; it climbs one step after every
  ``escalate_after`` failures whose type is in ``on_failures`` and stays at the strongest
  model once the chain ends;
- a per-run override (role → model name) pins that role's model for the whole run.

``level`` in a :class:`RouteDecision` is the number of steps climbed above the starting model,
so telemetry can count escalations. Errors are :class:`RoutingError` with a stable ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from autopack.policy.models_config import (
    ModelsConfig,
    ModelsConfigError,
    ModelSpec,
    Policy,
    Role,
    check_config,
)
from autopack.spec.models import Complexity

__all__ = ["RouteDecision", "Router", "RoutingError"]


class RoutingError(ValueError):
    """A routing request that cannot be served (unknown role or model, too many attempts)."""

    code = "routing_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class RouteDecision(BaseModel):
    """The model for one call, why, and how far it escalated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: ModelSpec
    reason: str
    level: int = 0
    """Steps climbed above the starting model (0 = the starting model)."""
    policy: Policy | None = None
    """The category's policy; ``None`` when it did not apply (fixed role, override)."""
    chain_end: bool = False
    """Whether the model is the strongest of its chain (escalating further is impossible)."""


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise RoutingError(
            f"unknown role {value!r} (known: {known})", code="unknown_role"
        ) from None


def _complexity(value: Complexity | str) -> Complexity:
    try:
        return Complexity(value)
    except ValueError:
        raise RoutingError(
            f"unknown complexity {value!r} (known: low, medium, high)", code="invalid_request"
        ) from None


class Router:
    """Chooses models from a consistent :class:`ModelsConfig` (checked on construction)."""

    def __init__(self, config: ModelsConfig) -> None:
        problems = check_config(config)
        if problems:
            raise ModelsConfigError("\n".join(problems))
        self.config = config

    @classmethod
    def load(cls, override_path: Path | None = None) -> Router:
        """A router over the packaged registry merged with a project override file."""
        return cls(ModelsConfig.load(override_path))

    def model(self, name: str) -> ModelSpec:
        """A model of the registry by name, or :class:`RoutingError` naming the known ones."""
        spec = self.config.models.get(name)
        if spec is None:
            known = ", ".join(sorted(self.config.models))
            raise RoutingError(f"unknown model {name!r} (known: {known})", code="unknown_model")
        return spec

    def validate_overrides(self, overrides: Mapping[str, str] | None) -> dict[Role, ModelSpec]:
        """Per-run overrides as role → model; unknown roles or models raise ``RoutingError``.

        Call it when a run is created so that a typo fails before the first model call.
        """
        out: dict[Role, ModelSpec] = {}
        for role_name, model_name in (overrides or {}).items():
            role = _role(role_name)
            try:
                out[role] = self.model(model_name)
            except RoutingError as exc:
                raise RoutingError(
                    f"override for {role.value}: {exc}", code="unknown_model"
                ) from None
        return out

    def qualifying_failures(self, failures: Sequence[str]) -> int:
        """How many of ``failures`` count towards escalation."""
        listed = set(self.config.escalation.on_failures)
        return sum(1 for f in failures if f in listed)

    def choose(
        self,
        role: Role | str,
        *,
        category: str,
        complexity: Complexity | str,
        attempt: int,
        failures: Sequence[str],
        overrides: Mapping[str, str] | None = None,
    ) -> RouteDecision:
        """The model for ``role`` on attempt ``attempt`` (1-based) of a phase.

        ``failures`` are the failure types of the phase's earlier attempts, oldest first.
        """
        role = _role(role)
        complexity = _complexity(complexity)
        limit = self.config.max_attempts_per_phase
        if attempt < 1:
            raise RoutingError(f"attempt must be 1 or more, got {attempt}", code="invalid_request")
        if attempt > limit:
            raise RoutingError(
                f"attempt {attempt} exceeds max_attempts_per_phase ({limit})",
                code="attempts_exhausted",
            )
        pinned = self.validate_overrides(overrides).get(role)
        if pinned is not None:
            return RouteDecision(
                model=pinned, reason=f"{role.value}: per-run override {pinned.name}"
            )
        role_config = self.config.roles[role]
        start_name = role_config.start(complexity)
        assert start_name is not None  # guaranteed by check_config
        if not role_config.escalates:
            return RouteDecision(
                model=self.model(start_name),
                reason=f"{role.value} for {complexity.value} complexity: {start_name} "
                f"(fixed: the role does not escalate)",
            )
        policy = self.config.policies.for_category(category)
        return self._escalate(role, complexity, policy, start_name, failures)

    def _escalate(
        self,
        role: Role,
        complexity: Complexity,
        policy: Policy,
        start_name: str,
        failures: Sequence[str],
    ) -> RouteDecision:
        chain = self.config.escalation.chains[complexity]
        last = len(chain) - 1
        start = {"best_first": last, "cheap_first": 0}.get(policy, chain.index(start_name))
        qualifying = self.qualifying_failures(failures)
        wanted = qualifying // self.config.escalation.escalate_after
        index = min(start + wanted, last)
        name = chain[index]
        head = f"{role.value}, {complexity.value}, {policy}"
        if wanted == 0:
            where = {
                "best_first": "starts at the strongest model of the chain",
                "cheap_first": "starts at the weakest model of the chain",
            }.get(policy, "starts at the role's model")
            reason = f"{head}: {name} ({where})"
        else:
            climbed = index - start
            failed = f"{qualifying} qualifying failure{'s' if qualifying != 1 else ''}"
            steps = f"escalated {climbed} step{'s' if climbed != 1 else ''} after "
            reason = f"{head}: {name} ({steps if climbed else ''}{failed})"
        if start + wanted > last:
            reason += f"; end of the escalation chain: staying at the strongest, {name}"
        return RouteDecision(
            model=self.model(name),
            reason=reason,
            level=index - start,
            policy=policy,
            chain_end=index == last,
        )
