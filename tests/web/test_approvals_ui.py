"""Deciding approvals from the inbox: roles, CSRF tokens, reasons, the run going on."""

from __future__ import annotations

from web.ui_helpers import Ui, csrf_of


def _token(ui: Ui) -> str:
    return csrf_of(ui.page("/ui/approvals").text)


def _pending(ui: Ui) -> list[str]:
    return [a.status for a in ui.api.ctx.store.approvals(status="pending", run_id="calc-run")]


def test_an_approver_approves_with_a_reason_and_the_run_finishes(waiting: Ui) -> None:
    waiting.login("approver")
    response = waiting.client.post(
        "/ui/approvals/1/approve",
        data={"csrf_token": _token(waiting), "reason": "looks right"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/approvals"
    inbox = waiting.page("/ui/approvals").text
    assert "Approved div of calc-run; the run continues." in inbox
    assert "Nothing waits for a decision." in inbox
    done = waiting.api.wait_for("calc-run", {"DONE_SUCCESS"})
    assert done["phases_complete"] == 3
    [approval] = waiting.api.ctx.store.approvals(status=None, run_id="calc-run")
    assert approval.status == "approved" and approval.decided_by == "approver-key"
    page = waiting.page("/ui/runs/calc-run").text
    assert 'data-state="DONE_SUCCESS"' in page and "The run has ended" in page
    assert "sse-connect" not in page and "http-equiv" not in page  # nothing left to follow


def test_a_rejection_needs_a_reason_and_ends_the_run(waiting: Ui) -> None:
    waiting.login("approver")
    token = _token(waiting)
    empty = waiting.client.post("/ui/approvals/1/reject", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422 and "a rejection needs a reason" in empty.text
    assert _pending(waiting) == ["pending"]
    long = waiting.client.post(
        "/ui/approvals/1/reject", data={"csrf_token": token, "reason": "x" * 4001}
    )
    assert long.status_code == 422
    rejected = waiting.client.post(
        "/ui/approvals/1/reject",
        data={"csrf_token": token, "reason": "div by zero is not handled"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    inbox = waiting.page("/ui/approvals").text
    assert "Rejected div of calc-run (div by zero is not handled)" in inbox
    assert waiting.api.progress("calc-run")["state"] == "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    again = waiting.client.post("/ui/approvals/1/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "already rejected" in again.text


def test_a_viewer_cannot_approve(waiting: Ui) -> None:
    waiting.login("viewer")
    response = waiting.client.post("/ui/approvals/1/approve", data={"csrf_token": _token(waiting)})
    assert response.status_code == 403
    assert "role &#39;viewer&#39; (viewer-key) lacks the approve permission" in response.text
    assert _pending(waiting) == ["pending"]
    waiting.login("operator")
    response = waiting.client.post(
        "/ui/approvals/1/reject", data={"csrf_token": _token(waiting), "reason": "no"}
    )
    assert response.status_code == 403
    assert _pending(waiting) == ["pending"]


def test_forms_without_the_session_token_are_refused(waiting: Ui) -> None:
    waiting.login("approver")
    token = _token(waiting)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
        response = waiting.client.post("/ui/approvals/1/approve", data=data)
        assert response.status_code == 403, data
        assert "security token is missing or stale" in response.text
    cross_site = waiting.client.post(
        "/ui/approvals/1/approve",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403 and "posted from another site" in cross_site.text
    # A token belongs to its session: another login's token does not work here.
    waiting.login("approver", name="second-approver")
    stale = waiting.client.post("/ui/approvals/1/approve", data={"csrf_token": token})
    assert stale.status_code == 403
    assert _pending(waiting) == ["pending"]


def test_unknown_approvals_and_odd_bodies(waiting: Ui) -> None:
    waiting.login("approver")
    token = _token(waiting)
    for path in ("/ui/approvals/99/approve", "/ui/approvals/x/approve", "/ui/approvals/0/reject"):
        response = waiting.client.post(path, data={"csrf_token": token, "reason": "r"})
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
    as_json = waiting.client.post("/ui/approvals/1/approve", json={"csrf_token": token})
    assert as_json.status_code == 415
    huge = waiting.client.post(
        "/ui/approvals/1/approve",
        content=b"reason=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    assert _pending(waiting) == ["pending"]
