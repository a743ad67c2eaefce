"""Live updates of the run page: a server-sent event stream and the fragment it points to.

``GET /ui/runs/{id}/events`` streams ``changed`` whenever the run's signature (state, last
event, attempts, tokens, lease, a job in this server: ``views.run.live_signature``) differs
from the one the page shows, reading it every ``poll_seconds``, and ``done`` once the run
has ended. Each ``changed`` carries the signature as its event id (a browser reconnecting on
its own sends it back as ``Last-Event-ID``); the page puts the signature it was built from
into the stream's URL (``since``).

On the page, htmx's SSE extension listens (``sse-connect``); on ``changed`` the live part
fetches ``GET /ui/runs/{id}/live`` and replaces itself with it (``outerHTML``). The fresh
copy opens a new stream from the state it shows and htmx closes the old one, which ends a
moment later (``linger_seconds``). After ``stream_seconds`` without a change a stream asks
for the same renewal (``changed`` with ``renew``), so every connection re-checks the session
and none outlives a server shutdown for long, without the browser logging a broken stream.
An ended run's copy has no stream at all; ``sse-close="done"`` covers a stream that learns
of the end first. Without JavaScript the page reloads itself (``<noscript>`` refresh).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, StreamingResponse

from autopack.api.context import ApiContext
from autopack.api.deps import ContextDep
from autopack.store import NotFoundError
from autopack.web.access import UiError, ViewerDep
from autopack.web.options import DashboardDep, DashboardOptions
from autopack.web.render import PAGE_HEADERS
from autopack.web.routes.common import not_found
from autopack.web.views.run import live_signature, run_page

router = APIRouter(prefix="/ui")

KEEPALIVE_SECONDS = 10.0
MAX_EVENT_ID = 200


@router.get("/runs/{run_id}/live", response_class=HTMLResponse)
def live(run_id: str, ctx: ContextDep, dash: DashboardDep, viewer: ViewerDep) -> HTMLResponse:
    """The run page's dynamic part (with its stream attributes), for the live update."""
    try:
        view = run_page(ctx, run_id)
    except NotFoundError as exc:
        raise not_found(exc) from None
    return dash.renderer.response("_run_live.html", run=view, viewer=viewer)


async def _stream(
    ctx: ApiContext, run_id: str, last: str, opts: DashboardOptions
) -> AsyncIterator[str]:
    yield f"retry: {opts.retry_ms}\n\n"
    deadline = time.monotonic() + opts.stream_seconds
    closing = False  # the page was told to renew: it replaces its fragment, closing this stream
    quiet_since = time.monotonic()
    while True:
        signature = await anyio.to_thread.run_sync(live_signature, ctx, run_id)
        if signature is None:
            yield "event: done\ndata: gone\n\n"
            return
        now = time.monotonic()
        if signature.token != last:
            last = signature.token
            yield f"id: {signature.token}\nevent: changed\ndata: {signature.state}\n\n"
            if not closing:
                closing, deadline = True, now + opts.linger_seconds
        elif signature.terminal:
            yield f"event: done\ndata: {signature.state}\n\n"
            return
        elif now >= deadline:
            if closing:
                return
            yield "event: changed\ndata: renew\n\n"
            closing, deadline = True, now + opts.linger_seconds
        elif closing or now - quiet_since >= KEEPALIVE_SECONDS:
            quiet_since = now
            yield ": waiting\n\n"  # a write: how a closed connection is noticed
        await anyio.sleep(opts.poll_seconds)


@router.get("/runs/{run_id}/events")
async def events(
    run_id: str,
    request: Request,
    ctx: ContextDep,
    dash: DashboardDep,
    _viewer: ViewerDep,
    since: str = "",
) -> StreamingResponse:
    """Server-sent events: ``changed`` (id = the run's signature), then ``done``."""
    if await anyio.to_thread.run_sync(live_signature, ctx, run_id) is None:
        raise UiError(404, "Not found", f"no run {run_id[:128]!r}")
    last = (request.headers.get("last-event-id") or since)[:MAX_EVENT_ID]
    return StreamingResponse(
        _stream(ctx, run_id, last, dash.options),
        media_type="text/event-stream",
        headers={**PAGE_HEADERS, "X-Accel-Buffering": "no"},
    )
