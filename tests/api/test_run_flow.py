"""A whole run through the API: start, wait at the approval gate, approve, succeed, inspect."""

from __future__ import annotations

from api.api_helpers import Api, plan
from support.gitrepo import git


def test_start_wait_for_approval_approve_and_succeed(api: Api) -> None:
    operator, approver, viewer = api.key("operator"), api.key("approver"), api.key("viewer")

    started = api.client.post("/runs/start", json=plan(), headers=operator)
    assert started.status_code == 202, started.text
    assert started.json() == {
        "run_id": "calc-run",
        "state": "RUN_CREATED",
        "queued": True,
        "progress": "/runs/calc-run/progress",
    }

    waiting = api.wait_for("calc-run", {"GATE"})
    phases = {p["phase_id"]: p for t in waiting["tiers"] for p in t["phases"]}
    assert {k: p["state"] for k, p in phases.items()} == {
        "mul-default": "COMPLETE",
        "readme": "COMPLETE",
        "div": "PENDING_APPROVAL",
    }
    mul = phases["mul-default"]
    assert mul["attempts_used"] == 1 and mul["max_attempts"] >= 1
    assert mul["attempts"][0]["outcome"] == "success" and mul["attempts"][0]["builder_model"]
    assert phases["div"]["approval_required"] is True
    budget = waiting["budget"]
    assert budget["used"] > 0
    assert budget["left"] == budget["cap"] - budget["used"] - budget["reserved"]
    assert waiting["attempts"]["attempts"] == 3

    pending = api.client.get("/approval/pending", headers=viewer)
    assert pending.status_code == 200
    [item] = pending.json()
    assert item["run_id"] == "calc-run" and item["phase_id"] == "div"
    assert item["phase_state"] == "PENDING_APPROVAL"
    assert item["diff"]["path"] == "runs/calc-run/phases/div/pending-approval.diff"
    assert "+def div(a, b):" in item["diff"]["content"] and not item["diff"]["truncated"]
    assert item["check_logs"] == []  # AUTOPACK_SKIP_CI in these tests

    decided = api.client.post(
        f"/approval/{item['id']}/approve", json={"reason": "reviewed"}, headers=approver
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["continues"] is True and decided.json()["decided_by"] == "approver-key"

    done = api.wait_for("calc-run", {"DONE_SUCCESS"})
    assert done["phases_complete"] == 3 and done["failure_reason"] is None
    assert api.client.get("/approval/pending", headers=viewer).json() == []
    [approval] = api.ctx.store.approvals(status=None, run_id="calc-run")
    assert approval.status == "approved" and approval.decided_by == "approver-key"
    assert approval.decision_note == "reviewed"  # the reason is kept with the decision

    status = api.client.get("/runs/calc-run/integration_status", headers=viewer)
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["exists"] is True and body["branch"] == "autonomous/calc-run"
    assert [c["phase_id"] for c in body["commits"]] == [
        "mul-default",
        "readme",
        "div",
        "autopack-build-history",
    ]
    assert body["commits"][-1]["subject"] == "docs: build history entry for run calc-run"
    by_phase = {p["phase_id"]: p["commit"] for p in body["phases"]}
    assert by_phase == {c["phase_id"]: c["sha"] for c in body["commits"][:3]}
    assert body["base_commit"] == body["base_ref_commit"]
    assert (body["ahead"], body["behind"]) == (4, 0)
    repo = api.ctx.settings.workspace
    assert git(repo, "rev-parse", "autonomous/calc-run").strip() == body["head"]


def test_an_approval_stopped_on_another_machine_shows_its_stored_diff(api: Api) -> None:
    """The pending answer and diff live in the database too: a server whose data directory
    lacks the files (the run stopped on another worker) shows the diff and approves."""
    operator, approver = api.key("operator"), api.key("approver")
    assert api.client.post("/runs/start", json=plan(), headers=operator).status_code == 202
    api.wait_for("calc-run", {"GATE"})
    folder = api.ctx.settings.data_dir / "runs" / "calc-run" / "phases" / "div"
    for name in ("pending-approval.answer.md", "pending-approval.diff"):
        (folder / name).unlink()
    [item] = api.client.get("/approval/pending", headers=approver).json()
    assert "+def div(a, b):" in item["diff"]["content"] and not item["diff"]["truncated"]
    decided = api.client.post(
        f"/approval/{item['id']}/approve", json={"reason": "ok"}, headers=approver
    )
    assert decided.status_code == 200, decided.text
    assert api.wait_for("calc-run", {"DONE_SUCCESS"})["phases_complete"] == 3
