"""The live run page: the server-sent event stream and the fragment it makes the page fetch."""

from __future__ import annotations

import threading
import time

from autopack.api.services import approvals
from autopack.web import DashboardOptions
from autopack.web.views.run import live_signature
from web.ui_helpers import Ui

FAST = DashboardOptions(poll_seconds=0.05, stream_seconds=0.4, linger_seconds=0.2, retry_ms=500)
RENEW = {"event": "changed", "data": "renew"}


def _events(ui: Ui, url: str, **headers: str) -> list[dict[str, str]]:
    """The stream's events until the server ends it (each as its fields)."""
    events, current = [], {}
    with ui.client.stream("GET", url, headers={"Accept": "text/event-stream", **headers}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-store"
        for line in r.iter_lines():
            if line.startswith(":"):
                continue  # a comment: keeps the connection alive, notices a closed one
            if not line:
                if current:
                    events.append(current)
                current = {}
                continue
            field, _, value = line.partition(": ")
            current[field] = value
    return events


def _token(ui: Ui) -> str:
    found = live_signature(ui.api.ctx, "calc-run")
    assert found is not None
    return found.token


def test_a_waiting_run_streams_nothing_new_until_it_changes(waiting: Ui) -> None:
    waiting.api.app.state.dashboard.options = FAST
    waiting.login("viewer")
    token = _token(waiting)
    assert token.startswith("GATE.")
    started = time.monotonic()
    quiet = _events(waiting, f"/ui/runs/calc-run/events?since={token}")
    # Nothing changed: after stream_seconds the page is asked to renew its stream (it fetches
    # a fresh fragment, which opens a new stream), and the old one ends after linger_seconds.
    assert quiet == [{"retry": "500"}, RENEW]
    assert 0.5 < time.monotonic() - started < 5
    # A browser reconnecting on its own sends the last id it saw: that wins over `since`.
    resumed = _events(waiting, "/ui/runs/calc-run/events?since=stale", **{"Last-Event-ID": token})
    assert resumed == [{"retry": "500"}, RENEW]
    behind = _events(waiting, "/ui/runs/calc-run/events?since=stale")
    assert behind == [{"retry": "500"}, {"id": token, "event": "changed", "data": "GATE"}]


def test_the_stream_follows_an_approved_run_to_its_end(waiting: Ui) -> None:
    waiting.api.app.state.dashboard.options = DashboardOptions(poll_seconds=0.05, stream_seconds=60)
    waiting.login("viewer")
    token = _token(waiting)
    ctx = waiting.api.ctx

    def approve() -> None:
        time.sleep(0.3)
        approvals.approve(ctx, 1, reason="", by="test")

    approver = threading.Thread(target=approve)
    approver.start()
    try:
        events = _events(waiting, f"/ui/runs/calc-run/events?since={token}")
    finally:
        approver.join()
    changed = [e for e in events if e.get("event") == "changed"]
    assert len(changed) >= 2  # the phase executing, committing, the run finishing...
    assert len({e["id"] for e in changed}) == len(changed)
    assert changed[-1]["data"] == "DONE_SUCCESS"
    assert events[-1] == {"event": "done", "data": "DONE_SUCCESS"}
    # An ended run: one `done` and the stream closes (sse-close stops the browser's retries).
    assert _events(waiting, f"/ui/runs/calc-run/events?since={_token(waiting)}")[1:] == [
        {"event": "done", "data": "DONE_SUCCESS"}
    ]


def test_the_fragment_is_the_dynamic_part_of_the_run_page(waiting: Ui) -> None:
    waiting.login("viewer")
    fragment = waiting.client.get("/ui/runs/calc-run/live", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.headers["content-security-policy"].startswith("default-src 'none'")
    html = fragment.text
    assert "<html" not in html and "<nav" not in html
    assert html.lstrip().startswith('<div id="run-live" hx-ext="sse" sse-connect=')
    assert 'hx-swap="outerHTML"' in html
    assert 'id="run-state" data-state="GATE"' in html and "Attempts of phase" in html
    page = waiting.page("/ui/runs/calc-run").text
    assert html.strip()[:200] in page


def test_streams_need_a_session(waiting: Ui) -> None:
    waiting.client.cookies.clear()
    response = waiting.client.get(
        "/ui/runs/calc-run/events", headers={"Accept": "text/event-stream"}
    )
    assert response.status_code == 401
