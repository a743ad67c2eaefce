"""Putting the dashboard into an app: routes, static files, its error pages, its state."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from autopack.web.access import LoginRequiredError, UiError, login_url
from autopack.web.options import Dashboard, DashboardOptions, get_dashboard
from autopack.web.render import PAGE_HEADERS
from autopack.web.routes import router

__all__ = ["STATIC_PATH", "mount_dashboard"]

STATIC_PATH = "/ui/static"


def _background(request: Request) -> bool:
    """A request made by a script (htmx, the event stream), not a page the person opened."""
    accept = request.headers.get("accept", "")
    return "HX-Request" in request.headers or "text/event-stream" in accept


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    if _background(request):
        return PlainTextResponse("login required", status_code=401, headers=PAGE_HEADERS)
    url = login_url(exc.next_url) + ("&expired=1" if exc.reason else "")
    return RedirectResponse(url, status_code=303)


async def _ui_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UiError)
    if _background(request):
        return PlainTextResponse(exc.message, status_code=exc.status, headers=PAGE_HEADERS)
    return get_dashboard(request).renderer.response(
        "error.html",
        status=exc.status,
        viewer=None,
        nav="",
        title=exc.title,
        flashes=[],
        pending=0,
        error=exc,
    )


def mount_dashboard(app: FastAPI, options: DashboardOptions | None = None) -> None:
    """Serve the dashboard at ``/ui`` in ``app`` (its static files at ``/ui/static``)."""
    app.state.dashboard = Dashboard.create(options)
    app.mount(STATIC_PATH, StaticFiles(packages=[("autopack.web", "static")]), name="ui-static")
    app.include_router(router)  # after the static files: its last route catches /ui/*
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(UiError, _ui_error)
