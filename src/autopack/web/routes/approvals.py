"""The approvals inbox and its decisions (HTML forms posting to the API's own service)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from autopack.api.auth import Permission
from autopack.api.context import ApiContext
from autopack.api.deps import ContextDep
from autopack.api.errors import ApiError
from autopack.api.services import approvals as service
from autopack.store import ApprovalStateError, NotFoundError
from autopack.web.access import UiError, Viewer, ViewerDep, check_csrf, require
from autopack.web.forms import FormDep
from autopack.web.options import Dashboard, DashboardDep
from autopack.web.routes.common import show
from autopack.web.views.approvals import inbox

router = APIRouter(prefix="/ui")

MAX_REASON = 4000
INBOX = "/ui/approvals"


def _inbox(
    dash: Dashboard, ctx: ApiContext, viewer: Viewer, *, status: int = 200, error: str = ""
) -> HTMLResponse:
    return show(
        dash,
        ctx,
        viewer,
        "approvals.html",
        nav="approvals",
        title="Approvals",
        status=status,
        items=inbox(ctx),
        error=error,
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals(ctx: ContextDep, dash: DashboardDep, viewer: ViewerDep) -> HTMLResponse:
    """Pending approvals with their diffs and check output; forms for approvers."""
    return _inbox(dash, ctx, viewer)


def _approval_id(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise UiError(404, "Not found", "no such approval")
    return int(raw)


def _decide(
    request: Request,
    ctx: ApiContext,
    dash: Dashboard,
    viewer: Viewer,
    form: dict[str, str],
    raw_id: str,
    *,
    approve: bool,
) -> Response:
    check_csrf(request, viewer, form.get("csrf_token"))
    require(viewer, Permission.APPROVE)
    approval_id = _approval_id(raw_id)
    reason = form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        return _inbox(
            dash, ctx, viewer, status=422, error=f"a reason has at most {MAX_REASON} characters"
        )
    if not approve and not reason:
        return _inbox(dash, ctx, viewer, status=422, error="a rejection needs a reason")
    try:
        if approve:
            out = service.approve(ctx, approval_id, reason=reason, by=viewer.name)
        else:
            out = service.reject(ctx, approval_id, reason=reason, by=viewer.name)
    except NotFoundError as exc:
        return _inbox(dash, ctx, viewer, status=404, error=str(exc))
    except ApprovalStateError as exc:
        return _inbox(dash, ctx, viewer, status=409, error=str(exc))
    except ApiError as exc:
        return _inbox(dash, ctx, viewer, status=exc.status, error=exc.message)
    what = f"{out.phase_id} of {out.run_id}" if out.phase_id else f"run {out.run_id}"
    if approve:
        then = "the run continues." if out.continues else "the decision is recorded."
        message = f"Approved {what}; {then}"
    else:
        message = f"Rejected {what} ({reason}); the run is now {out.run_state}."
    if viewer.session is not None:
        viewer.session.flash("ok", message)
    return RedirectResponse(INBOX, status_code=303)


@router.post("/approvals/{approval_id}/approve")
def approve(
    approval_id: str,
    request: Request,
    ctx: ContextDep,
    dash: DashboardDep,
    viewer: ViewerDep,
    form: FormDep,
) -> Response:
    """Approve (a waiting phase is applied and the run continues by itself)."""
    return _decide(request, ctx, dash, viewer, form, approval_id, approve=True)


@router.post("/approvals/{approval_id}/reject")
def reject(
    approval_id: str,
    request: Request,
    ctx: ContextDep,
    dash: DashboardDep,
    viewer: ViewerDep,
    form: FormDep,
) -> Response:
    """Reject with a reason (the phase fails and the run ends for review)."""
    return _decide(request, ctx, dash, viewer, form, approval_id, approve=False)
