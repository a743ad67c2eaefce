"""External builders over HTTP: claim a waiting phase, submit an answer, the run goes on.

The real app, a real git repository and SQLite; the scripted model answers the roles that
stay with Autopack (the ``readme`` phase's Builder, the Auditor). ``mul-default`` is built
outside: by whoever claims it with a ``builder`` (or operator) key.
"""

from __future__ import annotations

import copy
import time

from api.api_helpers import ADMIN, Api, plan
from api.external_helpers import (
    OUT_OF_SCOPE,
    RUN,
    claim,
    ext_plan,
    phase_of,
    start,
    submit,
    worktree,
)
from autopack.spec.loader import load_spec_data
from support.engine_script import DIV, GOOD_MUL, MALFORMED, README
from support.gitrepo import git


def test_an_external_builder_claims_submits_and_the_run_succeeds(api: Api) -> None:
    builder, other = api.key("builder", "agent-a"), api.key("builder", "agent-b")
    waiting = start(api, ext_plan())
    assert phase_of(waiting, "mul-default")["state"] == "GATE"
    assert phase_of(waiting, "mul-default")["attempts"] == []  # nothing was tried yet

    peek = api.client.get(f"/runs/{RUN}/phases/next", headers=api.key("viewer"))
    assert peek.status_code == 200, peek.text
    assert peek.json()["waiting"] == [
        {"phase_id": "mul-default", "role": "builder", "state": "GATE", "claim": None}
    ]

    got = claim(api, builder, lease_seconds=600)
    assert got["claimed"] is True, got
    work = got["work"]
    assert work["claim"]["token"].startswith("clm_") and work["claim"]["claimed_by"] == "agent-a"
    assert work["attempt"] == 1 and work["attempts_left"] >= 1
    assert work["phase"]["phase_id"] == "mul-default" and work["phase"]["scope"]["paths"] == [
        "calc.py"
    ]
    [system, task] = work["prompt"]
    assert system["role"] == "system" and "SEARCH" in system["content"]
    assert "def mul(a, b):" in task["content"]  # the file in scope, from the worktree
    assert work["feedback"] == {"previous_errors": [], "hints": [], "last_attempt": None}
    assert work["submit"] == f"/runs/{RUN}/phases/mul-default/builder_result"

    second = claim(api, other)
    assert second["claimed"] is False and second["work"] is None
    assert "agent-a holds it" in second["reason"]
    held = api.client.get(f"/runs/{RUN}/phases/next", headers=ADMIN).json()["waiting"][0]
    assert held["claim"]["claimed_by"] == "agent-a" and held["claim"]["token"] is None

    token = work["claim"]["token"]
    done = submit(api, token, GOOD_MUL, builder)
    assert done.status_code == 202, done.text
    assert done.json()["continues"] is True and done.json()["status"] == "submitted"
    again = submit(api, token, GOOD_MUL, builder)  # a token is good for one submission
    assert again.status_code == 409 and again.json()["error"]["code"] in {"claim_used", "run_busy"}

    final = api.wait_for(RUN, {"DONE_SUCCESS"})
    mul = phase_of(final, "mul-default")
    assert mul["state"] == "COMPLETE" and mul["attempts_used"] == 1
    [attempt] = mul["attempts"]
    assert attempt["builder_model"] == "external:agent-a" and attempt["outcome"] == "success"
    assert attempt["auditor_outcome"] == "approved"
    calls = [c for c in api.ctx.store.llm_calls(RUN) if c.phase_id == "mul-default"]
    assert [c.role for c in calls] == ["auditor"]  # no Builder model was asked
    readme = phase_of(final, "readme")["attempts"][0]
    assert readme["builder_model"] and not readme["builder_model"].startswith("external:")
    repo = api.ctx.settings.workspace
    body = git(repo, "log", "--format=%B", "-n1", "autonomous/ext-run~2")
    assert "Autopack-Phase: mul-default" in body and "Autopack-Model: external:agent-a" in body
    assert "def mul(a, b=1):" in git(repo, "show", "autonomous/ext-run:calc.py")
    [claimed] = api.ctx.store.claims.for_run(RUN)
    assert (claimed.status, claimed.attempt_index) == ("consumed", 1)
    assert api.client.get(f"/runs/{RUN}/phases/next", headers=ADMIN).json()["waiting"] == []
    ended = api.client.post(f"/runs/{RUN}/phases/next", headers=builder)
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "run_ended"


def test_a_malformed_answer_is_refused_and_changes_nothing(api: Api) -> None:
    builder = api.key("builder")
    start(api, ext_plan())
    head = git(worktree(api), "rev-parse", "HEAD")
    token = claim(api, builder)["work"]["claim"]["token"]

    for answer, words in [
        ("I would change mul, but I am not sure how.", "contains no edit"),
        (MALFORMED, "the lines to find are not in the file"),
        ("calc.py\n<<<<<<< SEARCH\ndef mul(a, b):\n", "[malformed_block]"),  # cut off
    ]:
        refused = submit(api, token, answer, builder)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "answer_refused" and words in error["message"], error
        assert error["details"]["outcome"] == "refused_edits"
        assert git(worktree(api), "status", "--porcelain") == ""
        assert git(worktree(api), "rev-parse", "HEAD") == head

    progress = api.progress(RUN)
    mul = phase_of(progress, "mul-default")
    assert mul["state"] == "GATE" and mul["attempts"] == [] and progress["state"] == "GATE"
    [held] = api.ctx.store.claims.for_run(RUN)
    assert held.status == "active" and held.refusals == 3
    assert "malformed_block" in (held.last_error or "")

    # The claim still holds: its owner sends a corrected answer.
    assert submit(api, token, GOOD_MUL, builder).status_code == 202
    assert phase_of(api.wait_for(RUN, {"DONE_SUCCESS"}), "mul-default")["attempts_used"] == 1


def test_an_out_of_scope_answer_is_refused_by_governance(api: Api) -> None:
    builder = api.key("operator")  # operators may do external work too
    start(api, ext_plan())
    token = claim(api, builder)["work"]["claim"]["token"]
    refused = submit(api, token, OUT_OF_SCOPE, builder)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["details"]["outcome"] == "refused_policy"
    assert "may not write" in error["message"] and "README.md" in error["message"]
    assert not (worktree(api) / "README.md").exists()  # the sample project has none
    assert git(worktree(api), "status", "--porcelain") == ""
    assert phase_of(api.progress(RUN), "mul-default")["attempts"] == []


def test_an_expired_claim_can_be_claimed_again(api: Api) -> None:
    first, second = api.key("builder", "slow"), api.key("builder", "fast")
    start(api, ext_plan())
    stale = claim(api, first, lease_seconds=1)["work"]["claim"]["token"]
    assert claim(api, second)["claimed"] is False
    time.sleep(1.2)
    fresh = claim(api, second)
    assert fresh["claimed"] is True and fresh["work"]["claim"]["claimed_by"] == "fast"
    late = submit(api, stale, GOOD_MUL, first)
    assert late.status_code == 409 and late.json()["error"]["code"] == "claim_expired"
    wrong = submit(api, "clm_" + "x" * 40, GOOD_MUL, first)
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "claim_invalid"
    statuses = [c.status for c in api.ctx.store.claims.for_run(RUN)]
    assert statuses == ["expired", "active"]

    token = fresh["work"]["claim"]["token"]
    renewed = api.client.post(
        f"/runs/{RUN}/phases/mul-default/renew_claim",
        json={"token": token, "lease_seconds": 3600},
        headers=second,
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["expires_at"] > fresh["work"]["claim"]["expires_at"]
    assert submit(api, token, GOOD_MUL, second).status_code == 202
    api.wait_for(RUN, {"DONE_SUCCESS"})


def test_a_claim_survives_the_run_being_executed_again(api: Api) -> None:
    """Resume (as after a crash) re-queues the waiting phase; it waits again, claim intact."""
    builder = api.key("builder")
    start(api, ext_plan())
    token = claim(api, builder)["work"]["claim"]["token"]
    resumed = api.client.post(f"/runs/{RUN}/resume", headers=api.key("operator"))
    assert resumed.status_code == 202, resumed.text
    waiting = api.wait_for(RUN, {"GATE"})
    assert phase_of(waiting, "mul-default")["state"] == "GATE"
    assert claim(api, api.key("builder", "other"))["claimed"] is False
    assert submit(api, token, GOOD_MUL, builder).status_code == 202
    assert api.wait_for(RUN, {"DONE_SUCCESS"})["phases_complete"] == 2


def test_run_wide_builder_mode_reaches_every_phase_without_its_own() -> None:
    data = copy.deepcopy(ext_plan(builder_mode="edit"))
    data["builder_mode"] = "external"
    spec = load_spec_data(data).spec
    assert [p.builder_mode for p in spec.phases()] == ["edit", "external"]
    flat = {
        "run": {"run_id": "flat", "builder_mode": "external", "auditor_mode": "external"},
        "tiers": [{"tier_id": "t", "name": "T"}],
        "phases": [{"phase_id": "p", "tier_id": "t", "name": "P", "auditor_mode": "model"}],
    }
    [phase] = load_spec_data(flat).spec.phases()
    assert (phase.builder_mode, phase.auditor_mode) == ("external", "model")


def test_readme_answer_is_still_the_models(api: Api) -> None:
    """Both phases external run-wide: the second waits after the first is committed."""
    data = ext_plan()
    data["builder_mode"] = "external"
    builder = api.key("builder")
    start(api, data)
    first = claim(api, builder)["work"]
    assert first["phase"]["phase_id"] == "mul-default"
    assert submit(api, first["claim"]["token"], GOOD_MUL, builder).status_code == 202
    waiting = api.wait_for(RUN, {"GATE"})
    assert phase_of(waiting, "mul-default")["state"] == "COMPLETE"
    second = claim(api, builder)["work"]
    assert second["phase"]["phase_id"] == "readme" and second["attempt"] == 1
    done = submit(api, second["claim"]["token"], README, builder, phase="readme")
    assert done.status_code == 202, done.text
    final = api.wait_for(RUN, {"DONE_SUCCESS"})
    models = {p["phase_id"]: p["attempts"][0]["builder_model"] for p in final["tiers"][0]["phases"]}
    assert models == {"mul-default": "external:builder-key", "readme": "external:builder-key"}


def test_an_external_answer_that_needs_approval_waits_for_it(api: Api) -> None:
    """High-risk phase built outside: its answer waits for a person like a model's would."""
    data = plan(RUN)
    data["tiers"][1]["phases"][0]["builder_mode"] = "external"  # div: schema_contract_change
    builder, approver = api.key("builder", "agent"), api.key("approver")
    start(api, data)
    work = claim(api, builder)["work"]
    assert work["phase"]["phase_id"] == "div" and work["phase"]["task_category"].startswith("sch")
    assert submit(api, work["claim"]["token"], DIV, builder, phase="div").status_code == 202

    waiting = api.wait_for(RUN, {"GATE"})
    assert phase_of(waiting, "div")["state"] == "PENDING_APPROVAL"
    [pending] = api.client.get("/approval/pending", headers=approver).json()
    assert "+def div(a, b):" in pending["diff"]["content"]
    decided = api.client.post(f"/approval/{pending['id']}/approve", headers=approver)
    assert decided.status_code == 200, decided.text

    final = api.wait_for(RUN, {"DONE_SUCCESS"})
    tries = [(a["outcome"], a["builder_model"]) for a in phase_of(final, "div")["attempts"]]
    assert tries == [("awaiting_approval", "external:agent"), ("success", "external:agent")]
