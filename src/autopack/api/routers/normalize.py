"""``/runs/normalize``: turn a free-text or markdown plan into a run specification."""

from __future__ import annotations

from fastapi import APIRouter

from autopack.api.deps import ContextDep, Operator
from autopack.api.schemas_normalize import NormalizeIn, NormalizeOut
from autopack.api.services import normalize as service

router = APIRouter(prefix="/runs", tags=["runs"])


@router.post(
    "/normalize",
    response_model=NormalizeOut,
    summary="Normalise a markdown plan into a run spec, with confidence and warnings",
)
def normalize(body: NormalizeIn, ctx: ContextDep, _who: Operator) -> NormalizeOut:
    """Nothing is stored; 422 for an empty plan. Review the spec, then ``POST /runs/start``."""
    return service.normalize_plan(ctx, body)
