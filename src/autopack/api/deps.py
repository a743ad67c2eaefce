"""Dependencies of the routes, as ``Annotated`` aliases (``ContextDep``, ``Reader``…).

A route states what it needs in its signature::

    @router.post("/runs/{run_id}/cancel")
    def cancel(run_id: str, ctx: ContextDep, who: Operator) -> ...

``Reader``, ``Operator``, ``Approver`` and ``Requester`` authenticate the caller (401/429)
and check the permission (403) before the route runs; the principal they return names
who did it in events and approvals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from autopack.api.auth import Permission, Principal
from autopack.api.context import ApiContext
from autopack.store import Store

_bearer = HTTPBearer(auto_error=False, description="An Autopack API key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An Autopack API key.")


def get_context(request: Request) -> ApiContext:
    """The app's :class:`ApiContext` (set by the lifespan)."""
    return request.app.state.context


ContextDep = Annotated[ApiContext, Depends(get_context)]


def get_store(ctx: ContextDep) -> Store:
    """The store."""
    return ctx.store


StoreDep = Annotated[Store, Depends(get_store)]


def requires(*needed: Permission) -> Callable[..., Principal]:
    """A dependency: the authenticated caller, holding one of ``needed``."""

    def dependency(
        request: Request,
        ctx: ContextDep,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        credential = bearer.credentials if bearer is not None else api_key
        principal = ctx.auth.authenticate(request, credential)
        ctx.auth.authorize(principal, *needed)
        return principal

    return dependency


Reader = Annotated[Principal, Depends(requires(Permission.READ))]
Operator = Annotated[Principal, Depends(requires(Permission.RUN_CONTROL))]
Approver = Annotated[Principal, Depends(requires(Permission.APPROVE))]
Requester = Annotated[Principal, Depends(requires(Permission.RUN_CONTROL, Permission.APPROVE))]
