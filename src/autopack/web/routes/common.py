"""What every dashboard route uses: showing a page with the common frame, domain errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from autopack.api.context import ApiContext
from autopack.store import NotFoundError
from autopack.web import queries
from autopack.web.access import UiError, Viewer
from autopack.web.options import Dashboard

__all__ = ["not_found", "show"]


def show(
    dash: Dashboard,
    ctx: ApiContext,
    viewer: Viewer,
    template: str,
    *,
    nav: str,
    title: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A full page: the frame (navigation, who is logged in, messages) around ``template``."""
    return dash.renderer.response(
        template,
        status=status,
        viewer=viewer,
        nav=nav,
        title=title,
        flashes=viewer.session.take_flashes() if viewer.session else [],
        pending=queries.pending_approvals(ctx.store),
        **context,
    )


def not_found(exc: NotFoundError) -> UiError:
    """A missing run, phase or approval, as a 404 page."""
    return UiError(404, "Not found", str(exc))
