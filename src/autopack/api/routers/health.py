"""``/health`` (open: the process answers), ``/ready`` and ``/openapi.json`` (readers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from autopack import __version__
from autopack.api.deps import ContextDep, Reader
from autopack.api.errors import ApiError
from autopack.api.schemas import Health, Readiness
from autopack.store.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The process answers (no key needed)")
def health() -> Health:
    """Liveness: answers as long as the process serves requests. Says nothing else."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The database answers and its schema is at the newest migration",
    responses={503: {"description": "Not ready: database unreachable or schema behind"}},
)
def ready(ctx: ContextDep, _who: Reader) -> Readiness:
    """Readiness: a query succeeds and the schema revision is this version's head."""
    head = head_revision()
    try:
        with ctx.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(ctx.store.engine)
    except SQLAlchemyError as exc:
        raise ApiError(
            503, "database_unavailable", "the database does not answer", log_detail=repr(exc)
        ) from None
    if revision != head:
        raise ApiError(
            503,
            "schema_behind",
            f"the database schema is at {revision or 'nothing'}, this version needs {head}: "
            "run `autopack db upgrade`",
            details={"revision": revision, "head": head},
        )
    return Readiness(
        status="ready", database="ok", revision=revision, head=head, version=__version__
    )


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _who: Reader) -> JSONResponse:
    """The OpenAPI document (a key is needed, like every endpoint but ``/health``)."""
    return JSONResponse(request.app.openapi())
