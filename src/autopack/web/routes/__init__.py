"""The dashboard's routes under ``/ui`` (HTML pages, forms, the live stream).

``pages.fallback`` (a 404 page for any other path) comes last; the static files are mounted
before these routes (:func:`autopack.web.mount_dashboard`), so it never hides them.
"""

from fastapi import APIRouter

from autopack.web.routes import approvals, live, pages, session

router = APIRouter()
for _part in (session.router, pages.router, live.router, approvals.router, pages.fallback):
    router.include_router(_part, include_in_schema=False)

__all__ = ["router"]
