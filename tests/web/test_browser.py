"""The dashboard in a real browser: Playwright driving Debian's Chromium against `autopack serve`.

The server runs the demo's plan (two tiers, four phases, scripted setbacks, real pytest
checks) through the API; the high-risk phase ``div`` waits for a person. In the browser an
approver logs in, watches the run page follow the run over server-sent events (the document
is never reloaded), approves from the inbox with a reason, watches the run finish, opens the
usage page, and follows the issues the run recorded (the backlog, its status filter, one
issue and back to its run). Screenshots go to the test's ``tmp_path`` and to
``.artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from autopack.demo import make_project
from web.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    autopack,
    keep_screenshots,
    require_browser,
    server_env,
    serving,
)

REPO = Path(__file__).resolve().parents[2]
ADMIN_KEY = "browser-admin-key-0123456789abcdef"
RUN = "demo-calc"
WAIT_MS = 120_000

_TRACK = """() => {
  window.__sameDocument = true;
  window.__swaps = 0;
  document.body.addEventListener("htmx:afterSwap", () => { window.__swaps += 1; });
}"""


def _asset(name: str) -> str:
    return resources.files("autopack.demo").joinpath(name).read_text(encoding="utf-8")


def _api(server: LiveServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {ADMIN_KEY}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_dashboard_follows_a_run_and_approves_it(tmp_path: Path, git_env: dict[str, str]) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    project = make_project(tmp_path)
    script = tmp_path / "script.yaml"
    script.write_text(_asset("script.yaml"), encoding="utf-8")
    plan = yaml.safe_load(_asset("plan.yaml"))
    env = server_env(project, AUTOPACK_API_KEY=ADMIN_KEY)
    approver_key = autopack(env, "keys", "create", "--name", "reviewer", "--role", "approver")
    shots_dir = tmp_path / "screenshots"
    shots: list[Path] = []
    problems: list[str] = []

    def shot(page: Any, name: str) -> None:
        path = shots_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    def watch(page: Any) -> None:
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on(
            "response",
            lambda r: problems.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None,
        )
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )

    with (
        serving(
            env, tmp_path / "server.log", "--scripted", str(script), "--workers", "2"
        ) as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            watch(page)

            # Log in with the approver's key; the form sends the browser back where it was.
            page.goto(server.url + "/ui")
            expect(page).to_have_url(server.url + "/ui/login?next=/ui")
            page.get_by_label("API key").fill(approver_key.strip())
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Runs", level=1)).to_be_visible()
            expect(page.get_by_text("Logged in as reviewer (approver).")).to_be_visible()

            status, started = _api(server, "POST", "/runs/start", plan)
            assert status == 202, started

            # The run page follows the run over server-sent events until the gate.
            page.goto(f"{server.url}/ui/runs/{RUN}")
            page.evaluate(_TRACK)
            state = page.locator("#run-state")
            first_state = state.get_attribute("data-state")
            shot(page, "1-run-started")
            expect(page.locator("#phase-div")).to_have_attribute(
                "data-state", "PENDING_APPROVAL", timeout=WAIT_MS
            )
            expect(state).to_have_attribute("data-state", "GATE", timeout=WAIT_MS)
            expect(page.locator("#run-worker")).to_have_attribute(
                "data-executing", "no", timeout=WAIT_MS
            )
            assert page.evaluate("window.__sameDocument") is True  # updated in place
            if first_state != "GATE":
                assert page.evaluate("window.__swaps") >= 1
            expect(page.get_by_text("Waiting for approval: div")).to_be_visible()
            shot(page, "2-run-waiting-for-approval")

            # Approve from the inbox (another tab of the same session), with a reason.
            inbox = context.new_page()
            watch(inbox)
            inbox.goto(server.url + "/ui/approvals")
            item = inbox.get_by_role("article")
            expect(item).to_have_count(1)
            expect(item.get_by_role("heading", level=2)).to_contain_text("div of demo-calc")
            expect(item.locator("pre.diff")).to_contain_text("+def div(a, b):")
            shot(inbox, "3-approvals-inbox")
            item.get_by_label("Reason for approving (optional)").fill("reviewed in the browser")
            item.get_by_role("button", name="Approve").click()
            expect(inbox.get_by_role("status")).to_contain_text(
                "Approved div of demo-calc; the run continues."
            )
            expect(inbox.get_by_text("Nothing waits for a decision.")).to_be_visible()

            # Back on the run page, still the same document: it reaches DONE_SUCCESS by itself.
            page.bring_to_front()
            expect(state).to_have_attribute("data-state", "DONE_SUCCESS", timeout=WAIT_MS)
            expect(page.locator("#live-note")).to_contain_text("The run has ended")
            assert page.evaluate("window.__sameDocument") is True
            assert page.evaluate("window.__swaps") >= 1
            for phase in ("mul-default", "readme", "div", "div-tests"):
                expect(page.locator(f"#phase-{phase}")).to_have_attribute("data-state", "COMPLETE")
            expect(page.locator("#run-approvals")).to_be_visible()
            expect(page.get_by_role("cell", name="reviewer at", exact=False)).to_be_visible()
            shot(page, "4-run-finished")

            # A phase with setbacks: its attempts, diff and check output.
            page.goto(f"{server.url}/ui/runs/{RUN}/phases/mul-default")
            expect(page.locator("pre.diff")).to_contain_text("+def mul(a, b=1):")
            expect(page.get_by_role("heading", name="Check output")).to_be_visible()
            assert page.locator("pre.log").count() >= 1
            shot(page, "5-phase-with-setbacks")

            page.goto(server.url + "/ui/usage")
            expect(page.get_by_role("heading", name="Usage", level=1)).to_be_visible()
            assert page.locator("svg#chart-model-tokens rect.bar").count() >= 1
            assert page.locator("svg#chart-day-cost rect.bar").count() >= 1
            shot(page, "6-usage")

            # The issues the run recorded: the demo's known-broken test fails on the base
            # commit in every tier's checks (a minor issue old enough to need cleanup); test_sub,
            # broken by one attempt and passing afterwards, is resolved.
            page.goto(server.url + "/ui/issues")
            expect(page.get_by_role("heading", name="Issues", level=1)).to_be_visible()
            rows = page.locator("#backlog tbody tr")
            known = rows.filter(has_text="tests/test_calc.py::test_known_bug")
            expect(known).to_have_count(1)
            expect(known).to_have_attribute("data-status", "needs_cleanup")
            expect(known.get_by_text("minor", exact=True)).to_be_visible()
            expect(known.get_by_text("preexisting_failure")).to_be_visible()
            expect(page.locator('#backlog tr[data-status="resolved"]')).to_have_count(0)
            unresolved = rows.count()
            shot(page, "issues")

            status = page.get_by_label("Status")
            status.select_option("needs_cleanup")
            page.get_by_role("button", name="Filter").click()
            expect(page).to_have_url(server.url + "/ui/issues?status=needs_cleanup")
            expect(status).to_have_value("needs_cleanup")
            expect(rows.filter(has_text="test_known_bug")).to_have_count(1)
            expect(
                page.locator('#backlog tbody tr:not([data-status="needs_cleanup"])')
            ).to_have_count(0)
            status.select_option("all")
            page.get_by_role("button", name="Filter").click()
            expect(page).to_have_url(server.url + "/ui/issues?status=all")
            expect(status).to_have_value("all")
            resolved = rows.filter(has_text="tests/test_calc.py::test_sub")
            expect(resolved).to_have_attribute("data-status", "resolved")
            assert (
                rows.count()
                == unresolved + page.locator('#backlog tr[data-status="resolved"]').count()
            )

            link = rows.filter(has_text="test_known_bug").get_by_role(
                "link", name="tests/test_calc.py::test_known_bug"
            )
            href = link.get_attribute("href")
            assert href and href.startswith("/ui/issues/test%3A"), href
            link.click()
            expect(page).to_have_url(server.url + href)
            expect(page.get_by_role("heading", level=1)).to_contain_text("test_known_bug")
            expect(page.locator("#issue-status")).to_have_attribute("data-status", "needs_cleanup")
            occurrences = page.locator('section[aria-labelledby="issue-occurrences"] tbody tr')
            assert occurrences.count() >= 1
            back = occurrences.first.get_by_role("link", name=RUN, exact=True)
            expect(back).to_have_attribute("href", f"/ui/runs/{RUN}")
            shot(page, "issue-detail")
            back.click()
            expect(page).to_have_url(f"{server.url}/ui/runs/{RUN}")
            expect(page.locator("#run-state")).to_have_attribute("data-state", "DONE_SUCCESS")

            # Without JavaScript: the login form and every page still work for reading.
            plain = browser.new_context(java_script_enabled=False)
            nojs = plain.new_page()
            nojs.goto(f"{server.url}/ui/runs/{RUN}")
            nojs.get_by_label("API key").fill(approver_key.strip())
            nojs.get_by_role("button", name="Log in").click()
            expect(nojs.locator("#run-state")).to_have_attribute("data-state", "DONE_SUCCESS")
            expect(nojs.get_by_role("heading", name="Attempts", exact=True)).to_be_visible()
            plain.close()
        finally:
            browser.close()  # closes the event streams before the server stops

        status, pending = _api(server, "GET", "/approval/pending")
        assert pending == []
        status, progress = _api(server, "GET", f"/runs/{RUN}/progress")
        assert progress["state"] == "DONE_SUCCESS"

    assert "Traceback" not in (tmp_path / "server.log").read_text()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    assert not problems, problems
    kept = keep_screenshots(shots, REPO)
    assert sorted(p.name for p in kept.glob("*.png")) >= sorted(p.name for p in shots)
