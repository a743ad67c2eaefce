"""``POST /runs/normalize``: a markdown plan → a run spec for the server's workspace.

The workspace's files and markers are gathered per request; the refinement (below the
threshold) uses the engine's model setup. Nothing is stored: the caller reviews the spec and
starts it with ``POST /runs/start``.
"""

from __future__ import annotations

from autopack.api.context import ApiContext
from autopack.api.schemas_normalize import NormalizeIn, NormalizeOut
from autopack.engine.planner import normalize_with_refinement, planner_from_engine
from autopack.workspace.facts import gather_facts


def normalize_plan(ctx: ApiContext, body: NormalizeIn) -> NormalizeOut:
    """Normalise ``body.plan``; a model that cannot be reached leaves the draft + a warning."""
    facts = gather_facts(ctx.settings.workspace)
    result = normalize_with_refinement(
        body.plan,
        facts,
        connect=planner_from_engine(ctx.engine),
        min_confidence=body.min_confidence,
        run_id=body.run_id,
    )
    return NormalizeOut.model_validate(result.to_dict())
