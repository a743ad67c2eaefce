"""The reading pages: runs list, run, phase, usage, issue backlog, one issue."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, RedirectResponse, Response

from autopack.api.deps import ContextDep
from autopack.policy.states import RunState
from autopack.store import NotFoundError
from autopack.web.access import UiError, ViewerDep
from autopack.web.options import DashboardDep
from autopack.web.routes.common import not_found, show
from autopack.web.views.issues import (
    STATUS_FILTERS,
    issue_detail_page,
    issues_page,
    run_issue_rows,
)
from autopack.web.views.phase import phase_page
from autopack.web.views.run import run_page
from autopack.web.views.runs import runs_page
from autopack.web.views.usage import usage_page

router = APIRouter(prefix="/ui")

MAX_PAGE = 10_000


def _page_number(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise UiError(400, "Bad page number", f"page must be a number from 1 to {MAX_PAGE}")
    return int(raw)


def _state(raw: str | None) -> str | None:
    if not raw:
        return None
    if raw not in RunState.__members__:
        raise UiError(400, "Unknown state", f"{raw[:60]!r} is not a run state")
    return raw


def _issue_status(raw: str | None) -> str:
    if not raw:
        return ""
    if raw not in {value for value, _ in STATUS_FILTERS}:
        raise UiError(400, "Unknown status", f"{raw[:60]!r} is not a backlog status")
    return raw


@router.get("", response_class=HTMLResponse)
def runs(
    ctx: ContextDep,
    dash: DashboardDep,
    viewer: ViewerDep,
    state: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """Runs, newest first; ``?state=`` filters, ``?page=`` pages."""
    view = runs_page(ctx, state=_state(state), page=_page_number(page), size=dash.options.page_size)
    return show(dash, ctx, viewer, "runs.html", nav="runs", title="Runs", page=view)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(run_id: str, ctx: ContextDep, dash: DashboardDep, viewer: ViewerDep) -> HTMLResponse:
    """One run; live while it is not over."""
    try:
        view = run_page(ctx, run_id)
    except NotFoundError as exc:
        raise not_found(exc) from None
    return show(
        dash,
        ctx,
        viewer,
        "run.html",
        nav="runs",
        title=f"Run {run_id}",
        run=view,
        issue_index=run_issue_rows(ctx, run_id),
        refresh=dash.options.refresh_seconds,
    )


@router.get("/runs/{run_id}/phases/{phase_id}", response_class=HTMLResponse)
def phase(
    run_id: str, phase_id: str, ctx: ContextDep, dash: DashboardDep, viewer: ViewerDep
) -> HTMLResponse:
    """One phase: attempts, diff, check output, issues."""
    try:
        view = phase_page(ctx, run_id, phase_id)
    except NotFoundError as exc:
        raise not_found(exc) from None
    title = f"Phase {phase_id} of {run_id}"
    return show(dash, ctx, viewer, "phase.html", nav="runs", title=title, phase=view)


@router.get("/usage", response_class=HTMLResponse)
def usage(ctx: ContextDep, dash: DashboardDep, viewer: ViewerDep) -> HTMLResponse:
    """Tokens and cost per model and per day."""
    view = usage_page(ctx)
    return show(dash, ctx, viewer, "usage.html", nav="usage", title="Usage", usage=view)


@router.get("/issues", response_class=HTMLResponse)
def issues(
    ctx: ContextDep,
    dash: DashboardDep,
    viewer: ViewerDep,
    status: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """The project backlog (``?status=`` filters, ``?page=`` pages), then the failures
    reported by attempts, grouped across runs."""
    view = issues_page(
        ctx, status=_issue_status(status), page=_page_number(page), size=dash.options.page_size
    )
    return show(dash, ctx, viewer, "issues.html", nav="issues", title="Issues", issues=view)


@router.get("/issues/{issue_key:path}", response_class=HTMLResponse)
def issue(issue_key: str, ctx: ContextDep, dash: DashboardDep, viewer: ViewerDep) -> HTMLResponse:
    """One backlog issue and every phase it was recorded in (the key may hold ``/``)."""
    try:
        view = issue_detail_page(ctx, issue_key)
    except NotFoundError as exc:
        raise not_found(exc) from None
    title = f"Issue {issue_key}"
    return show(dash, ctx, viewer, "issue.html", nav="issues", title=title, issue=view)


fallback = APIRouter(prefix="/ui")


@fallback.get("/{rest:path}", response_class=HTMLResponse)
def unknown(rest: str, _viewer: ViewerDep) -> Response:
    """Any other path under ``/ui``: a 404 page (after the login, like every page)."""
    if rest == "":
        return RedirectResponse("/ui", status_code=307)
    raise UiError(404, "Not found", f"there is no dashboard page /ui/{rest[:100]}")
