"""Every page renders on the server for a viewer: content in the HTML, no JavaScript needed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from web.a11y import problems
from web.ui_helpers import Ui

PAGES = [
    "/ui",
    "/ui?state=GATE",
    "/ui/runs/calc-run",
    "/ui/runs/calc-run/phases/mul-default",
    "/ui/runs/calc-run/phases/readme",
    "/ui/runs/calc-run/phases/div",
    "/ui/approvals",
    "/ui/usage",
    "/ui/issues",
]


def test_every_page_renders_for_a_viewer(waiting: Ui) -> None:
    waiting.login("viewer")
    for path in PAGES:
        response = waiting.page(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-store"
        assert problems(response.text) == [], path
        assert "viewer-key" in response.text and "(viewer)" in response.text


def test_run_page_shows_tiers_phases_attempts_and_the_gate(waiting: Ui) -> None:
    waiting.login("viewer")
    html = waiting.page("/ui/runs/calc-run").text
    assert 'id="run-state" data-state="GATE"' in html
    assert re.search(r'id="phase-div" data-state="PENDING_APPROVAL"', html)
    assert 'id="phase-mul-default" data-state="COMPLETE"' in html
    for text in ("Tier Core", "Tier API", "feature_scaffolding", "schema_contract_change"):
        assert text in html
    assert "Attempts of phase" in html and "awaiting_approval" in html
    assert "claude-" in html  # the routed builder model of each attempt
    assert "Waiting for approval: div" in html and 'href="/ui/approvals"' in html
    assert "2 / 3" in html  # phases done of total
    # Live while the run is not over: server-sent events with htmx, a reload without JS.
    assert 'sse-connect="/ui/runs/calc-run/events?since=GATE.' in html
    assert 'hx-trigger="sse:changed"' in html and 'sse-close="done"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html


def test_phase_page_shows_diff_and_saved_approval_diff(waiting: Ui) -> None:
    waiting.login("viewer")
    committed = waiting.page("/ui/runs/calc-run/phases/mul-default").text
    assert 'Diff <span class="sub">(committed)</span>' in committed
    assert '<span class="d-add" title="added">+def mul(a, b=1):' in committed
    assert '<span class="d-del" title="removed">-def mul(a, b):' in committed
    assert "No check has run for this phase" in committed  # AUTOPACK_SKIP_CI here
    waiting_diff = waiting.page("/ui/runs/calc-run/phases/div").text
    assert "(waiting for approval)" in waiting_diff and "+def div(a, b):" in waiting_diff


def test_phase_page_before_the_run_started(ui: Ui) -> None:
    ui.api.create_run("idle-run")
    ui.login("viewer")
    html = ui.page("/ui/runs/idle-run/phases/div").text
    assert "The run has not started yet" in html
    assert "No attempt has started yet." in html


def test_approvals_inbox_shows_the_diff_without_forms_for_a_viewer(waiting: Ui) -> None:
    waiting.login("viewer")
    html = waiting.page("/ui/approvals").text
    assert "Approval 1: div of calc-run" in html and "+def div(a, b):" in html
    assert 'action="/ui/approvals/1/approve"' not in html
    assert "Your role (viewer) can read approvals but not decide them" in html
    waiting.login("approver")
    html = waiting.page("/ui/approvals").text
    assert 'action="/ui/approvals/1/approve"' in html and 'action="/ui/approvals/1/reject"' in html
    assert '<label for="reject-reason-1">' in html


def test_usage_page_draws_svg_charts_from_the_ledger(waiting: Ui) -> None:
    waiting.login("viewer")
    html = waiting.page("/ui/usage").text
    for chart in ("chart-model-tokens", "chart-model-cost", "chart-day-tokens", "chart-day-cost"):
        assert f'<svg role="img" aria-labelledby="{chart}-title {chart}-desc"' in html
    assert html.count('<rect class="bar"') >= 4
    calls = waiting.api.ctx.store.llm_calls("calc-run")
    for model in {c.model for c in calls}:
        assert f'<th scope="row">{model}</th>' in html
    assert f"{len(calls)} model calls" in html


def test_issue_backlog_is_honest_about_what_is_recorded(waiting: Ui) -> None:
    waiting.login("viewer")
    html = waiting.page("/ui/issues").text
    assert "No issue open." in html  # nothing was recorded (tests/web/test_issues_pages.py)
    assert html.count("None recorded.") == 2  # the fast script has no failed attempt


def test_runs_list_filters_by_state_and_pages(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    for n in range(27):
        ui.api.create_run(f"run-{n:02d}")
    ui.login("viewer")
    first = ui.page("/ui").text
    assert first.count('<th scope="row"><a href="/ui/runs/run-') == 25
    assert 'href="/ui?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert "run-26" in first and "run-01" not in first  # newest first
    second = ui.page("/ui?page=2").text
    assert second.count('<th scope="row"><a href="/ui/runs/run-') == 2
    assert 'href="/ui" rel="prev"' in second and 'rel="next"' not in second
    created = ui.page("/ui?state=RUN_CREATED").text
    assert 'option value="RUN_CREATED" selected' in created
    assert "run-26" in created
    done = ui.page("/ui?state=DONE_SUCCESS").text
    assert "No runs in state DONE_SUCCESS" in done


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/ui/runs/nope", 404, "no run &#39;nope&#39;"),
        ("/ui/runs/calc-run/phases/nope", 404, "no phase &#39;nope&#39;"),
        ("/ui/runs/nope/live", 404, "no run"),
        ("/ui/runs/nope/events", 404, "no run"),
        ("/ui?state=BOGUS", 400, "is not a run state"),
        ("/ui?page=0", 400, "page must be a number"),
        ("/ui?page=x", 400, "page must be a number"),
        ("/ui/runs/" + "x" * 300, 404, "Not found"),
        ("/ui/no/such/page", 404, "there is no dashboard page /ui/no/such/page"),
    ],
)
def test_errors_are_pages_not_json(ui: Ui, path: str, status: int, text: str) -> None:
    ui.api.create_run("calc-run")
    ui.login("viewer")
    response = ui.page(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text
    assert problems(response.text, nav=False) == []


def test_the_dashboard_root_with_a_slash(ui: Ui) -> None:
    ui.login("viewer")
    response = ui.page("/ui/")
    assert response.status_code == 307 and response.headers["location"] == "/ui"
