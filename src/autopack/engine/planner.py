"""Normalising a plan with the engine's models: the draft, and a refinement when unsure.

:func:`normalize_with_refinement` is what ``autopack plan normalize`` and ``POST
/runs/normalize`` call. It runs the pure normaliser; below ``min_confidence`` it connects to
the planner model (only then) and asks it to refine (:mod:`autopack.agents.plan_refiner`).
Whatever goes wrong on the model's side (no key, no script, a provider error, an unusable
answer) leaves the draft in place with a ``refinement_failed`` warning: normalising never
fails because of a model.

Which model: the registry has no planner role (adding one would make every project's
``models.yaml`` override and ``autopack models check`` require it), so the refinement uses
the **builder's model for low complexity** (the cheap one, e.g. ``claude-haiku-4-5``).
Requests carry ``role="planner"``, which the scripted model's answers can key on. The calls
are not metered against a run budget (no run exists yet); they are bounded instead: at most
two calls (one corrective follow-up), each capped at the engine's output-token limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autopack.agents.errors import AgentError
from autopack.agents.plan_refiner import keep_better, refine_plan
from autopack.agents.redaction import Redactor
from autopack.agents.structured import ModelCall
from autopack.engine.services import Engine
from autopack.llm.base import Completion, CompletionRequest, Message, Provider
from autopack.llm.errors import LlmError
from autopack.policy.models_config import ModelSpec, Role
from autopack.policy.routing import Router, RoutingError
from autopack.spec.models import Complexity
from autopack.spec.normalize import (
    DEFAULT_MIN_CONFIDENCE,
    NormalizationResult,
    NormalizationWarning,
    WorkspaceFacts,
    normalize_plan,
)

__all__ = [
    "PLANNER_ROLE",
    "PlannerModel",
    "connect_planner",
    "normalize_with_refinement",
    "planner_from_engine",
]

PLANNER_ROLE = "planner"
"""The role requests of the refinement carry (logs, the scripted model's ``role:`` key)."""


@dataclass(frozen=True)
class PlannerModel:
    """A ready model call for the refinement, its name, and the redactor for its prompts."""

    call: ModelCall
    name: str
    redactor: Redactor


def connect_planner(
    router: Router,
    provider_for: Callable[[ModelSpec], Provider],
    redactor: Redactor,
    *,
    max_output_tokens: int,
) -> PlannerModel:
    """The builder's low-complexity model as a planner call (see the module docstring).

    Raises ``LlmError`` (e.g. a missing API key), ``RoutingError`` or ``ValueError`` (a
    scripted model without a script) when the model cannot be reached.
    """
    decision = router.choose(
        Role.BUILDER, category="planning", complexity=Complexity.LOW, attempt=1, failures=()
    )
    model = decision.model
    provider = provider_for(model)
    max_tokens = min(max_output_tokens, model.max_output_tokens)

    def call(messages: list[Message]) -> Completion:
        request = CompletionRequest(
            model=model.api_model, messages=messages, max_tokens=max_tokens, role=PLANNER_ROLE
        )
        return provider.complete(request)

    return PlannerModel(call=call, name=model.name, redactor=redactor)


def planner_from_engine(engine: Engine) -> Callable[[], PlannerModel]:
    """A connector over the engine's router, providers and redactor (used lazily)."""

    def connect() -> PlannerModel:
        return connect_planner(
            engine.router,
            engine.provider_for,
            engine.redactor,
            max_output_tokens=engine.options.max_output_tokens,
        )

    return connect


def normalize_with_refinement(
    text: str,
    facts: WorkspaceFacts,
    *,
    connect: Callable[[], PlannerModel] | None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    run_id: str | None = None,
    source_name: str | None = None,
) -> NormalizationResult:
    """The draft, refined by the planner model when its confidence is below the threshold.

    ``connect=None`` means no model is configured: a low-confidence draft is returned with a
    ``refinement_skipped`` warning.
    """
    draft = normalize_plan(text, facts, run_id=run_id, source_name=source_name)
    if draft.confidence >= min_confidence or not draft.data.get("tiers"):
        return draft
    below = f"confidence {draft.confidence:.2f} is below {min_confidence:.2f}"
    if connect is None:
        return draft.with_warnings(
            NormalizationWarning(
                None, "refinement_skipped", f"{below}, but no model is configured to refine it"
            )
        )
    try:
        model = connect()
        refined = refine_plan(
            model.call, text, draft, facts, redactor=model.redactor, model_name=model.name
        )
    except (LlmError, AgentError, RoutingError, ValueError) as exc:
        code = getattr(exc, "code", type(exc).__name__)
        message = f"{below}; the model could not refine it ({code}: {exc}); the draft is kept"
        return draft.with_warnings(NormalizationWarning(None, "refinement_failed", message))
    return keep_better(draft, refined)
