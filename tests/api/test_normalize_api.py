"""``POST /runs/normalize`` over HTTP: roles, validation, the draft and the refinement."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import yaml

from api.api_helpers import ADMIN, Api
from api.conftest import open_api
from support.planner_script import VAGUE_PLAN, planner_script

PLAN = """# Division

## Phase 1: Add `div` to `calc.py`
Raise ZeroDivisionError on zero.

## Phase 2: Tests for div
Create `tests/test_div.py`.
"""


def _phases(spec: dict) -> list[dict]:
    return [p for t in spec["tiers"] for p in t["phases"]]


def test_an_operator_gets_a_grounded_spec_that_runs_start_accepts(api: Api) -> None:
    headers = api.key("operator")
    response = api.client.post("/runs/normalize", json={"plan": PLAN}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] and not body["refined"] and body["confidence"] >= 0.9
    assert body["issues"] == []
    first, second = _phases(body["spec"])
    assert first["scope"]["paths"] == ["calc.py"] and first["scope"]["ci"] == {"type": "pytest"}
    assert second["scope"]["paths"] == ["tests/test_div.py"]
    assert [(w["phase"], w["code"]) for w in body["warnings"]] == [
        (first["phase_id"], "no_deliverables"),
        (second["phase_id"], "new_file"),
    ]
    assert api.ctx.store.list_runs() == []  # nothing is stored
    # The spec is a plan /runs/start validates (422 would mean it is not).
    validate = api.client.post("/runs/start", json={**body["spec"], "run_id": ""}, headers=ADMIN)
    assert validate.status_code == 422  # only the blanked run id is wrong
    issues = validate.json()["error"]["details"]["issues"]
    assert [i["loc"] for i in issues] == ["run_id"]


def test_roles_and_keys(api: Api) -> None:
    payload = {"plan": PLAN}
    assert api.client.post("/runs/normalize", json=payload).status_code == 401
    for role in ("viewer", "approver", "builder"):
        denied = api.client.post("/runs/normalize", json=payload, headers=api.key(role))
        assert denied.status_code == 403, role
        assert denied.json()["error"]["code"] == "forbidden"
    assert api.client.post("/runs/normalize", json=payload, headers=ADMIN).status_code == 200


def test_an_empty_plan_and_bad_fields_are_422(api: Api) -> None:
    for body in (
        {"plan": ""},
        {"plan": "  \n\t"},
        {},
        {"plan": PLAN, "run_id": "not an id"},
        {"plan": PLAN, "min_confidence": 1.5},
        {"plan": PLAN, "extra": 1},
    ):
        response = api.client.post("/runs/normalize", json=body, headers=ADMIN)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_request"


def test_run_id_and_threshold_options(api: Api) -> None:
    body = {"plan": VAGUE_PLAN, "run_id": "calc-vague", "min_confidence": 0.0}
    response = api.client.post("/runs/normalize", json=body, headers=ADMIN)
    data = response.json()
    assert data["spec"]["run_id"] == "calc-vague"
    assert data["confidence"] < 0.6 and not data["refined"]
    assert not [w for w in data["warnings"] if w["code"].startswith("refinement")]


def test_a_model_without_an_answer_leaves_the_draft_with_a_warning(api: Api) -> None:
    # The server's script has no planner answer: the refinement fails, the draft is returned.
    response = api.client.post("/runs/normalize", json={"plan": VAGUE_PLAN}, headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] and not body["refined"]
    assert body["warnings"][-1]["code"] == "refinement_failed"


def test_the_servers_model_refines_a_vague_plan(project: Path, tmp_path: Path) -> None:
    answers = tmp_path / "planner.yaml"
    answers.write_text(yaml.safe_dump(planner_script()))
    with ExitStack() as stack:
        api = open_api(stack, project, answers, bind_host="127.0.0.1")
        response = api.client.post("/runs/normalize", json={"plan": VAGUE_PLAN}, headers=ADMIN)
    body = response.json()
    assert response.status_code == 200 and body["refined"] and body["valid"]
    first, second = _phases(body["spec"])
    assert first["scope"]["paths"] == ["calc.py"]
    assert second["scope"]["paths"] == ["tests/test_validation.py"]
    made_up = [w for w in body["warnings"] if w["code"] == "ungrounded_path"]
    assert made_up and "src/validation/checks.py" in made_up[0]["message"]
