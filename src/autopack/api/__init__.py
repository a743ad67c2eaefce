"""The Supervisor API: runs, approvals and integration branches over REST (FastAPI).

:func:`create_app` builds the app from settings (``autopack serve`` runs it with uvicorn).
Layout: :mod:`.app` (factory), :mod:`.context` (what routes work with, opened by the
lifespan), :mod:`.deps` (dependencies: context, authenticated caller by permission),
:mod:`.auth` (keys, roles, anonymous read, failure limits), :mod:`.errors` (one error
shape; domain exceptions mapped here), :mod:`.middleware` (security headers, body cap, last
resort), :mod:`.workers` (run workers), :mod:`.schemas` (bodies), :mod:`.routers` (one per
resource, thin) and :mod:`.services` (what routers call).
"""

from autopack.api.app import create_app

__all__ = ["create_app"]
