"""Everything a run needs, built once from settings and handed down: the engine's wiring.

:class:`Engine` owns the store, the strategy engine, the model router, governance and checks
configuration, one provider per provider name, and the redactor. Nothing here decides
anything; :mod:`autopack.engine.phase` and :mod:`autopack.engine.run` do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from autopack.agents import Redactor
from autopack.checks import ChecksConfig, CiRunner
from autopack.checks.config import checks_override_path
from autopack.engine.learning import Learning
from autopack.llm import Provider, make_provider
from autopack.llm.ledger import MeteredModel
from autopack.policy.governance import GovernanceConfig
from autopack.policy.models_config import ModelSpec
from autopack.policy.routing import Router
from autopack.policy.strategy import StrategyEngine
from autopack.settings import Settings, read_secret_variable
from autopack.store import Store


@dataclass(frozen=True)
class EngineOptions:
    """How one invocation runs (CLI flags)."""

    scripted: Path | None = None
    """Answers file: every role is served by the scripted model (tests, demo, dry runs)."""
    auto_approve: bool = False
    """Demo mode: approvals are granted automatically, and every report says so."""
    max_output_tokens: int = 8192
    """Upper bound of one Builder answer (further capped by the model's own limit)."""
    python: str | None = None
    """Interpreter for the checks (default: the project's .venv, else Autopack's)."""
    actor: str = "engine"
    max_parallel: int = 1
    """Phases of one tier whose scopes do not overlap may run this many at a time."""


@dataclass
class Engine:
    """The services of one engine process."""

    settings: Settings
    store: Store
    options: EngineOptions = field(default_factory=EngineOptions)
    strategy: StrategyEngine = field(init=False)
    router: Router = field(init=False)
    governance: GovernanceConfig = field(init=False)
    checks: ChecksConfig = field(init=False)
    redactor: Redactor = field(init=False)
    learning: Learning = field(init=False)
    """The learning loop's learners (:mod:`autopack.engine.learners`)."""
    _providers: dict[str, Provider] = field(init=False, default_factory=dict)
    _provider_keys: dict[str, SecretStr] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        s = self.settings
        self.strategy = StrategyEngine.load(s.resolved_strategy_file())
        self.router = Router.load(s.resolved_models_file())
        self.governance = GovernanceConfig.load(s.resolved_governance_file())
        self.checks = ChecksConfig.load(checks_override_path(s.data_dir))
        # Keys of configured providers (``api_key_env``), read once; redacted like the rest.
        self._provider_keys = {
            name: key
            for name, spec in self.router.config.providers.items()
            if spec.api_key_env and (key := read_secret_variable(spec.api_key_env)) is not None
        }
        self.redactor = Redactor.from_sources(
            s,
            s.workspace,
            deny=self.governance.deny,
            extra=[k.get_secret_value() for k in self._provider_keys.values()],
        )
        from autopack.engine.learners import build_learning  # learners import this module

        self.learning = build_learning(self)

    def runner(self, artifacts: Path) -> CiRunner:
        """A CI runner writing its logs under ``artifacts``."""
        return CiRunner(
            artifacts_dir=artifacts,
            config=self.checks,
            skip_all=self.settings.skip_ci,
            python=self.options.python,
            redact=self.redactor.redact,
        )

    def artifacts_dir(self, run_id: str) -> Path:
        """``<data_dir>/runs/<run_id>``: logs, answers, reports (never in the worktree)."""
        path = self.settings.data_dir / "runs" / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def provider_for(self, model: ModelSpec) -> Provider:
        """One provider per provider name (the scripted one when ``--scripted`` is given)."""
        name = "scripted" if self.options.scripted is not None else model.provider
        if name not in self._providers:
            if name == "scripted":
                if self.options.scripted is None:
                    raise ValueError(f"model {model.name!r} is scripted: pass --scripted ANSWERS")
                provider = make_provider(
                    "scripted",
                    self.settings,
                    script=self.options.scripted,
                    base_dir=self.options.scripted.parent,
                )
            else:
                provider_spec = self.router.config.providers.get(name)
                api = getattr(provider_spec, "api", None) or name
                options = {}
                base_url = getattr(provider_spec, "base_url", None)
                if base_url:
                    options["base_url"] = base_url
                settings = self.settings
                if api != name:
                    options["provider_name"] = name
                    # OPENAI_API_KEY belongs to OpenAI: never send it to another endpoint;
                    # such a provider gets its own key from its ``api_key_env``, if any.
                    key = self._provider_keys.get(name)
                    field = "openai_api_key" if api == "openai" else "anthropic_api_key"
                    settings = settings.model_copy(
                        update={"openai_api_key": None, "anthropic_api_key": None, field: key}
                    )
                provider = make_provider(api, settings, **options)
            self._providers[name] = provider
        return self._providers[name]

    def model_call(
        self,
        role: str,
        model: ModelSpec,
        *,
        run_id: str,
        phase_id: str,
        attempt: int,
        attempt_id: int | None,
    ) -> MeteredModel:
        """A metered ``ModelCall`` for one role of one attempt."""
        return MeteredModel(
            store=self.store,
            provider=self.provider_for(model),
            model=model.api_model,
            role=role,
            run_id=run_id,
            phase_id=phase_id,
            attempt=attempt,
            attempt_id=attempt_id,
            max_tokens=min(self.options.max_output_tokens, model.max_output_tokens),
            price=model.cost,
        )
