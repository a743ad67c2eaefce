"""``POST /runs/parallel`` and ``GET /runs/parallel/{batch_id}`` over HTTP (scripted model)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from api.api_helpers import ADMIN, Api
from support.engine_script import APPROVE, DIV, GOOD_MUL
from support.gitrepo import git, worktree_paths


def _plan(run_id: str, phase_id: str) -> dict[str, Any]:
    phase = {
        "phase_id": phase_id,
        "phase_index": 0,
        "name": "change calc",
        "task_category": "feature_scaffolding",
        "complexity": "low",
        "scope": {"paths": ["calc.py"]},
    }
    return {"run_id": run_id, "tiers": [{"tier_id": "t", "name": "T", "phases": [phase]}]}


def _wait(api: Api, url: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = api.client.get(url, headers=ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["finished"]:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_a_batch_runs_lands_and_reports(
    make_api: Callable[..., Api], project: Path, answers: Path
) -> None:
    answers.write_text(
        yaml.safe_dump(
            {
                "answers": [
                    {"role": "builder", "phase": "a-mul", "text": GOOD_MUL},
                    {"role": "builder", "phase": "b-div", "text": DIV},
                    {"text": APPROVE},
                ]
            }
        )
    )
    git(project, "branch", "integration", "main")
    api = make_api()
    body = {
        "plans": [_plan("api-a", "a-mul"), _plan("api-b", "b-div")],
        "max_concurrent": 2,
        "target": "integration",
    }
    viewer = api.client.post("/runs/parallel", json=body, headers=api.key("viewer"))
    assert viewer.status_code == 403

    accepted = api.client.post("/runs/parallel", json=body, headers=ADMIN)

    assert accepted.status_code == 202, accepted.text
    started = accepted.json()
    assert started["run_ids"] == ["api-a", "api-b"] and started["queued"]
    done = _wait(api, started["status"])
    assert [r["state"] for r in done["runs"]] == ["DONE_SUCCESS", "DONE_SUCCESS"]
    report = done["report"]
    assert [r["landing"] for r in report["runs"]] == ["landed", "landed"]
    assert report["totals"]["landed"] == 2 and report["target"] == "integration"
    calc = git(project, "show", "integration:calc.py")
    assert "def div(a, b):" in calc and "def mul(a, b=1):" in calc
    assert git(project, "rev-parse", "main") != git(project, "rev-parse", "integration")
    assert worktree_paths(project) == [str(project)]
    again = api.client.post("/runs/parallel", json=body, headers=ADMIN)
    assert again.status_code == 409  # those runs exist now


def test_a_batch_is_refused_before_anything_is_stored(api: Api, project: Path) -> None:
    twice = {"plans": [_plan("x", "p1"), _plan("x", "p2")]}
    refused = api.client.post("/runs/parallel", json=twice, headers=ADMIN)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "duplicate_run_id"
    bad_target = {"plans": [_plan("y", "p1")], "target": "no..branch"}
    refused = api.client.post("/runs/parallel", json=bad_target, headers=ADMIN)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_target"
    bad_plan = {"plans": [{"run_id": "z", "tiers": [{"phases": [{"complexity": "??"}]}]}]}
    refused = api.client.post("/runs/parallel", json=bad_plan, headers=ADMIN)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_spec"
    assert api.client.get("/runs", headers=ADMIN).json()["items"] == []
    unknown = api.client.get("/runs/parallel/batch-20250101-000000-abcdef", headers=ADMIN)
    assert unknown.status_code == 404
    assert api.client.get("/runs/parallel/not-a-batch", headers=ADMIN).status_code == 422
