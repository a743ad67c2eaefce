"""Run endpoints: start (shapes, malformed plans), list, show, update_status, cancel, resume."""

from __future__ import annotations

from api.api_helpers import ADMIN, Api, plan


def test_malformed_plan_is_422_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    bad = plan("bad-run")
    bad["tiers"][0]["phases"][1]["complexity"] = "hgh"
    response = api.client.post("/runs/start", json=bad, headers=api.key("operator"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_spec" and error["id"]
    assert "tiers[0].phases[1].complexity" in error["message"]
    assert [i["loc"] for i in error["details"]["issues"]] == ["tiers[0].phases[1].complexity"]
    assert api.ctx.store.list_runs() == []
    assert api.client.get("/runs/bad-run", headers=ADMIN).status_code == 404


def test_a_body_that_is_not_an_object_is_422(api: Api) -> None:
    response = api.client.post("/runs/start", json=["not", "a", "plan"], headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["issues"][0]["loc"] == "body"


def test_flat_and_phases_only_shapes_are_accepted(api: Api) -> None:
    flat = {
        "run": {"run_id": "flat-run", "goal": "docs"},
        "tiers": [{"tier_id": "t", "tier_index": 0, "name": "T"}],
        "phases": [
            {
                "phase_id": "readme",
                "phase_index": 0,
                "tier_id": "t",
                "name": "README",
                "task_category": "docs",
                "complexity": "low",
                "scope": {"paths": ["README.md"]},
            }
        ],
    }
    phase = {k: v for k, v in flat["phases"][0].items() if k != "tier_id"}
    phases_only = {"run_id": "short-run", "goal": "docs", "phases": [phase]}
    shapes = ((flat, "flat-run", "flat"), (phases_only, "short-run", "phases_only"))
    for body, run_id, shape in shapes:
        response = api.client.post("/runs/start", json=body, headers=ADMIN)
        assert response.status_code == 202, response.text
        assert response.json()["run_id"] == run_id
        api.wait_for(run_id, {"DONE_SUCCESS"})
        shown = api.client.get(f"/runs/{run_id}", headers=ADMIN).json()
        assert shown["spec_shape"] == shape
        assert shown["lease"]["live"] is False and shown["cancel_requested"] is False


def test_a_run_id_taken_is_409_and_a_bad_base_is_422(api: Api) -> None:
    api.create_run("calc-run")
    taken = api.client.post("/runs/start", json=plan(), headers=ADMIN)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "run_exists"
    bad_base = api.client.post(
        "/runs/start", params={"base": "no-such-branch"}, json=plan("other"), headers=ADMIN
    )
    assert bad_base.status_code == 422 and bad_base.json()["error"]["code"] == "bad_base_ref"
    option = api.client.post(
        "/runs/start", params={"base": "--output=x"}, json=plan("other"), headers=ADMIN
    )
    assert option.status_code == 422
    assert [r.run_id for r in api.ctx.store.list_runs()] == ["calc-run"]


def test_runs_are_paginated_and_filtered_by_state(api: Api) -> None:
    for n in range(5):
        api.create_run(f"run-{n}")
    api.client.post("/runs/run-2/cancel", headers=ADMIN)

    first = api.client.get("/runs", params={"limit": 2}, headers=ADMIN).json()
    assert [r["run_id"] for r in first["items"]] == ["run-4", "run-3"]
    assert (first["limit"], first["offset"], first["next_offset"]) == (2, 0, 2)
    last = api.client.get("/runs", params={"limit": 2, "offset": 4}, headers=ADMIN).json()
    assert [r["run_id"] for r in last["items"]] == ["run-0"] and last["next_offset"] is None
    every = api.client.get("/runs", params={"limit": 200}, headers=ADMIN).json()["items"]
    assert len(every) == 5 and every[0]["phase_count"] == 3

    cancelled = api.client.get("/runs", params={"state": "CANCELLED"}, headers=ADMIN).json()
    assert [r["run_id"] for r in cancelled["items"]] == ["run-2"]
    bogus = api.client.get("/runs", params={"state": "NOPE"}, headers=ADMIN)
    assert bogus.status_code == 422
    assert bogus.json()["error"]["details"]["issues"][0]["loc"] == "query.state"
    assert api.client.get("/runs", params={"limit": 0}, headers=ADMIN).status_code == 422


def test_unknown_run_is_404_everywhere(api: Api) -> None:
    for method, path in (
        ("GET", "/runs/nope"),
        ("GET", "/runs/nope/progress"),
        ("GET", "/runs/nope/integration_status"),
        ("POST", "/runs/nope/cancel"),
        ("POST", "/runs/nope/resume"),
    ):
        response = api.client.request(method, path, headers=ADMIN)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"


def test_update_status_follows_the_transition_table(api: Api) -> None:
    run = api.create_run("manual")
    url = f"/runs/{run}/phases/readme/update_status"
    operator = api.key("operator")

    ok = api.client.post(url, json={"state": "EXECUTING", "reason": "by hand"}, headers=operator)
    assert ok.status_code == 200, ok.text
    assert ok.json()["from_state"] == "QUEUED" and ok.json()["to_state"] == "EXECUTING"
    [event] = [e for e in api.ctx.store.events(run, key="readme") if e.reason == "by hand"]
    assert event.actor == "operator-key"

    illegal = api.client.post(url, json={"state": "QUEUED"}, headers=operator)
    assert illegal.status_code == 409
    error = illegal.json()["error"]
    assert error["code"] == "illegal_transition"
    assert "COMPLETE" in error["details"]["allowed"] and "QUEUED" not in error["details"]["allowed"]
    assert error["details"]["allowed_explicit"] == ["QUEUED"]

    explicit = api.client.post(url, json={"state": "QUEUED", "explicit": True}, headers=operator)
    assert explicit.status_code == 200 and explicit.json()["to_state"] == "QUEUED"

    unknown_state = api.client.post(url, json={"state": "DONE"}, headers=operator)
    assert unknown_state.status_code == 422
    extra = api.client.post(url, json={"state": "EXECUTING", "typo": 1}, headers=operator)
    assert extra.status_code == 422
    missing = api.client.post(
        f"/runs/{run}/phases/nope/update_status", json={"state": "EXECUTING"}, headers=operator
    )
    assert missing.status_code == 404


def test_update_status_is_refused_while_a_worker_holds_the_run(api: Api) -> None:
    run = api.create_run("busy")
    api.ctx.store.acquire_lease(run, "other", 300)
    response = api.client.post(
        f"/runs/{run}/phases/readme/update_status", json={"state": "EXECUTING"}, headers=ADMIN
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "lease_held"
    assert api.ctx.store.get_run(run).phases[1].state == "QUEUED"


def test_cancel_ends_an_idle_run_and_asks_an_executing_one_to_stop(api: Api) -> None:
    idle = api.create_run("idle")
    response = api.client.post(f"/runs/{idle}/cancel", headers=api.key("operator"))
    assert response.status_code == 200
    assert response.json() == {
        "run_id": idle,
        "state": "CANCELLED",
        "cancel_requested": True,
        "stopping": False,
    }

    busy = api.create_run("busy")
    api.ctx.store.acquire_lease(busy, "other", 300)
    response = api.client.post(f"/runs/{busy}/cancel", headers=ADMIN)
    assert response.json()["state"] == "RUN_CREATED" and response.json()["stopping"] is True
    assert api.ctx.store.cancel_requested(busy)
    assert api.progress(busy)["cancel_requested"] is True


def test_resume_is_refused_under_a_live_lease_and_continues_a_run_otherwise(api: Api) -> None:
    run = api.create_run("calc-run")
    api.ctx.store.acquire_lease(run, "other", 300)
    refused = api.client.post(f"/runs/{run}/resume", headers=api.key("operator"))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "lease_held"
    assert refused.json()["error"]["details"]["owner"] == "other"
    assert api.progress(run)["state"] == "RUN_CREATED"

    api.ctx.store.release_lease(run, "other")
    resumed = api.client.post(f"/runs/{run}/resume", headers=api.key("operator"))
    assert resumed.status_code == 202, resumed.text
    assert api.wait_for(run, {"GATE"})["phases_complete"] == 2

    [pending] = api.client.get("/approval/pending", headers=ADMIN).json()
    no_reason = api.client.post(f"/approval/{pending['id']}/reject", json={}, headers=ADMIN)
    assert no_reason.status_code == 422
    rejected = api.client.post(
        f"/approval/{pending['id']}/reject", json={"reason": "not now"}, headers=api.key("approver")
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["run_state"] == "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    again = api.client.post(
        f"/approval/{pending['id']}/approve", json={}, headers=api.key("approver")
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "approval_decided"

    ended = api.client.post(f"/runs/{run}/resume", headers=ADMIN)
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "run_ended"


def test_integration_status_before_the_run_started(api: Api) -> None:
    run = api.create_run("not-yet")
    body = api.client.get(f"/runs/{run}/integration_status", headers=ADMIN).json()
    assert body["exists"] is False and body["branch"] == "autonomous/not-yet"
    assert body["commits"] == [] and [p["commit"] for p in body["phases"]] == [None] * 3
    bad = api.client.get(f"/runs/{run}/integration_status?base=nope", headers=ADMIN)
    assert bad.status_code == 422


def test_approvals_can_be_requested_and_recorded_for_a_whole_run(api: Api) -> None:
    run = api.create_run("gated")
    asked = api.client.post(
        "/approval/request",
        json={"run_id": run, "reason": "deploy window"},
        headers=api.key("operator"),
    )
    assert asked.status_code == 201, asked.text
    approval = asked.json()
    assert approval["status"] == "pending" and "operator-key" in approval["reason"]
    [listed] = api.client.get("/approval/pending", params={"run_id": run}, headers=ADMIN).json()
    assert listed["id"] == approval["id"] and listed["diff"] is None

    decided = api.client.post(
        f"/approval/{approval['id']}/approve", json={"reason": "go"}, headers=api.key("approver")
    )
    assert decided.status_code == 200
    assert decided.json()["continues"] is False and decided.json()["run_state"] == "RUN_CREATED"
    [stored] = api.ctx.store.approvals(status=None, run_id=run)
    assert stored.status == "approved" and stored.decision_note == "go"

    unknown = api.client.post(
        "/approval/request", json={"run_id": "nope", "reason": "x"}, headers=ADMIN
    )
    assert unknown.status_code == 404
    assert api.client.post("/approval/999/approve", headers=ADMIN).status_code == 404


def test_a_cancelled_run_at_the_gate_cannot_be_approved(api: Api) -> None:
    run = api.create_run("calc-run")
    assert api.client.post(f"/runs/{run}/resume", headers=ADMIN).status_code == 202
    api.wait_for(run, {"GATE"})
    cancelled = api.client.post(f"/runs/{run}/cancel", headers=ADMIN).json()
    assert cancelled["state"] == "CANCELLED" and cancelled["stopping"] is False
    [pending] = api.client.get("/approval/pending", headers=ADMIN).json()
    assert pending["run_state"] == "CANCELLED" and pending["phase_state"] == "PENDING_APPROVAL"
    for action, body in (("approve", {}), ("reject", {"reason": "late"})):
        response = api.client.post(f"/approval/{pending['id']}/{action}", json=body, headers=ADMIN)
        assert response.status_code == 409 and response.json()["error"]["code"] == "run_ended"
    assert api.progress(run)["state"] == "CANCELLED"
