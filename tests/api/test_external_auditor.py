"""External auditors over HTTP, and who may do external work.

A phase whose ``auditor_mode`` is ``external`` stops after its checks pass, in
``PENDING_REVIEW`` with the change saved and the worktree rolled back; a claimed review's
verdict (the Auditor's JSON shape, severity rule applied) commits the change or sends the
phase back to its builder with the issues as feedback.
"""

from __future__ import annotations

from typing import Any

from api.api_helpers import ADMIN, Api
from api.external_helpers import RUN, claim, ext_plan, phase_of, start, submit, worktree
from support.engine_script import GOOD_MUL
from support.gitrepo import git

HIGH = {"severity": "high", "category": "tests", "description": "mul's default has no test"}


def request_review(api: Api, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.client.post(
        f"/runs/{RUN}/phases/mul-default/auditor_request", json=body or None, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def verdict(api: Api, token: str, headers: dict[str, str], **body: Any):
    return api.client.post(
        f"/runs/{RUN}/phases/mul-default/auditor_result",
        json={"token": token, **body},
        headers=headers,
    )


def outcomes(api: Api) -> list[tuple[str | None, str | None, str | None]]:
    mul = phase_of(api.progress(RUN), "mul-default")
    return [(a["outcome"], a["builder_model"], a["auditor_model"]) for a in mul["attempts"]]


def test_external_builder_and_auditor_reject_then_approve(api: Api) -> None:
    builder, reviewer = api.key("builder", "agent"), api.key("builder", "reviewer")
    start(api, ext_plan(builder_mode="external", auditor_mode="external"))
    work = claim(api, builder)["work"]
    assert submit(api, work["claim"]["token"], GOOD_MUL, builder).status_code == 202

    parked = api.wait_for(RUN, {"GATE"})
    assert phase_of(parked, "mul-default")["state"] == "PENDING_REVIEW"
    assert outcomes(api) == [("awaiting_review", "external:agent", None)]
    assert git(worktree(api), "status", "--porcelain") == ""  # rolled back while it waits
    peek = api.client.get(f"/runs/{RUN}/phases/next", headers=ADMIN).json()["waiting"]
    assert [(w["phase_id"], w["role"]) for w in peek] == [("mul-default", "auditor")]
    assert claim(api, builder)["claimed"] is False  # no build waits

    got = request_review(api, reviewer, lease_seconds=300)
    assert got["claimed"] is True, got
    review = got["work"]
    assert "+def mul(a, b=1):" in review["diff"] and review["builder"] == "external:agent"
    assert review["checks"]["status"] == "skipped"  # AUTOPACK_SKIP_CI in these tests
    assert review["prompt"][0]["role"] == "system" and "approved" in review["prompt"][0]["content"]
    assert "approved" in review["answer_schema"]["properties"]
    assert review["submit"] == f"/runs/{RUN}/phases/mul-default/auditor_result"
    assert request_review(api, builder)["claimed"] is False

    token = review["claim"]["token"]
    bad = verdict(api, token, reviewer, approved=True, issues=[{**HIGH, "severity": "purple"}])
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_verdict"
    bad = verdict(api, token, reviewer, approved="maybe")
    assert bad.status_code == 422
    # The model flag says approved, a major issue says no: the severity rule wins.
    sent = verdict(api, token, reviewer, approved=True, issues=[HIGH], summary="needs a test")
    assert sent.status_code == 202, sent.text
    assert sent.json()["verdict"]["approved"] is False and sent.json()["verdict"]["overridden"]

    again = api.wait_for(RUN, {"GATE"})
    assert phase_of(again, "mul-default")["state"] == "GATE"  # back to its builder
    assert outcomes(api) == [
        ("awaiting_review", "external:agent", None),
        ("auditor_reject", "external:agent", "external:reviewer"),
    ]
    retry = claim(api, builder)["work"]
    assert retry["attempt"] == 3
    [error] = retry["feedback"]["previous_errors"]
    assert "The Auditor rejected the change" in error and "mul's default has no test" in error
    assert retry["feedback"]["last_attempt"]["outcome"] == "auditor_reject"
    assert "mul's default has no test" in retry["prompt"][1]["content"]
    assert submit(api, retry["claim"]["token"], GOOD_MUL, builder).status_code == 202

    api.wait_for(RUN, {"GATE"})
    second = request_review(api, reviewer)["work"]["claim"]["token"]
    minor = {**HIGH, "severity": "minor"}
    sent = verdict(api, second, reviewer, approved=True, issues=[minor], summary="fine")
    assert sent.status_code == 202 and sent.json()["verdict"]["approved"] is True

    final = api.wait_for(RUN, {"DONE_SUCCESS"})
    assert phase_of(final, "mul-default")["state"] == "COMPLETE"
    assert outcomes(api)[-1] == ("success", "external:agent", "external:reviewer")
    assert [o for o, _, _ in outcomes(api)].count("auditor_reject") == 1
    assert "def mul(a, b=1):" in git(
        api.ctx.settings.workspace, "show", "autonomous/ext-run:calc.py"
    )


def test_model_builder_with_an_external_auditor(api: Api) -> None:
    reviewer = api.key("operator")
    start(api, ext_plan(auditor_mode="external"))
    [(outcome, model, _)] = outcomes(api)
    assert outcome == "awaiting_review" and model and not model.startswith("external:")
    token = request_review(api, reviewer)["work"]["claim"]["token"]
    early = api.client.post(
        f"/runs/{RUN}/phases/mul-default/builder_result",
        json={"token": token, "answer": GOOD_MUL},
        headers=reviewer,
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_waiting"
    assert verdict(api, token, reviewer, approved=True).status_code == 202
    api.wait_for(RUN, {"DONE_SUCCESS"})
    assert outcomes(api)[-1] == ("success", model, "external:operator-key")


def test_roles_of_external_work(api: Api) -> None:
    start(api, ext_plan())
    viewer, approver, builder = api.key("viewer"), api.key("approver"), api.key("builder")
    assert api.client.get(f"/runs/{RUN}/phases/next", headers=viewer).status_code == 200
    for headers in (viewer, approver):
        for url, body in [
            (f"/runs/{RUN}/phases/next", None),
            (f"/runs/{RUN}/phases/mul-default/builder_result", {"token": "x" * 8, "answer": "a"}),
            (f"/runs/{RUN}/phases/mul-default/auditor_request", None),
            (f"/runs/{RUN}/phases/mul-default/auditor_result", {"token": "x" * 8, "approved": 1}),
            (f"/runs/{RUN}/phases/mul-default/renew_claim", {"token": "x" * 8}),
        ]:
            response = api.client.post(url, json=body, headers=headers)
            assert response.status_code == 403, (url, response.text)
            assert response.json()["error"]["details"]["needs"] == ["external_work"]
    # A builder key does external work and reads, nothing else.
    assert claim(api, builder)["claimed"] is True
    assert api.client.get(f"/runs/{RUN}/progress", headers=builder).status_code == 200
    for url in (f"/runs/{RUN}/cancel", f"/runs/{RUN}/resume", "/approval/1/approve"):
        assert api.client.post(url, headers=builder).status_code == 403, url
    assert api.client.post("/runs/start", json={}, headers=builder).status_code == 403
    assert api.client.post(f"/runs/{RUN}/phases/next").status_code == 401


def test_rejections_use_up_the_phase_attempts(api: Api) -> None:
    data = ext_plan(builder_mode="external", auditor_mode="external")
    data["tiers"][0]["phases"][0]["max_attempts"] = 1
    builder = api.key("builder")
    start(api, data)
    work = claim(api, builder)["work"]
    assert work["attempts_left"] == 1
    assert submit(api, work["claim"]["token"], GOOD_MUL, builder).status_code == 202
    api.wait_for(RUN, {"GATE"})
    token = request_review(api, builder)["work"]["claim"]["token"]
    sent = verdict(api, token, builder, approved=False, summary="no")
    assert sent.status_code == 202 and sent.json()["verdict"]["approved"] is False
    ended = api.wait_for(RUN, {"DONE_FAILED_REQUIRES_HUMAN_REVIEW"})
    assert phase_of(ended, "mul-default")["state"] == "FAILED"
    assert "no attempt left" in (ended["failure_reason"] or "")
