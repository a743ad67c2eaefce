"""``/dashboard/runs/{run_id}/status`` and ``/dashboard/usage`` on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from api.api_helpers import ADMIN, Api, plan
from autopack.store.models import LlmCall


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    if request.param == "postgres":
        return make_api(database_url=request.getfixturevalue("pg_url"))
    return make_api()


def _status(api: Api, run_id: str) -> dict:
    response = api.client.get(f"/dashboard/runs/{run_id}/status", headers=api.key("viewer"))
    assert response.status_code == 200, response.text
    return response.json()


def test_live_status_at_the_gate_and_at_the_end(backend_api: Api) -> None:
    api = backend_api
    api.create_run("idle")
    idle = _status(api, "idle")
    assert (idle["state"], idle["current_phase"], idle["started_at"]) == ("RUN_CREATED", None, None)
    assert (idle["phases_complete"], idle["phase_count"], idle["llm_calls"]) == (0, 3, 0)

    assert api.client.post("/runs/start", json=plan(), headers=ADMIN).status_code == 202
    api.wait_for("calc-run", {"GATE"})
    gate = _status(api, "calc-run")
    calls = api.ctx.store.llm_calls("calc-run")
    assert gate["state"] == "GATE" and gate["terminal"] is False and gate["executing"] is False
    assert (gate["phases_complete"], gate["phase_count"], gate["phases_failed"]) == (2, 3, 0)
    assert gate["current_phase"]["phase_id"] == "div"
    assert gate["current_phase"]["state"] == "PENDING_APPROVAL"
    assert gate["current_phase"]["tier_id"] == "api"
    assert gate["pending_approvals"] == 1
    assert gate["llm_calls"] == len(calls)
    assert gate["tokens_used"] == sum(c.tokens_in + c.tokens_out for c in calls)
    assert Decimal(gate["cost_usd"]) == sum((c.cost_usd for c in calls), Decimal(0))
    assert gate["token_cap"] == 400_000 and gate["elapsed_seconds"] >= 0

    [pending] = api.client.get("/approval/pending", headers=ADMIN).json()
    api.client.post(f"/approval/{pending['id']}/approve", json={}, headers=ADMIN)
    api.wait_for("calc-run", {"DONE_SUCCESS"})
    done = _status(api, "calc-run")
    assert done["terminal"] is True and done["current_phase"] is None
    assert done["pending_approvals"] == 0 and done["phases_complete"] == 3
    run = api.ctx.store.get_run("calc-run")
    assert run.finished_at is not None and run.started_at is not None
    expected = (run.finished_at - run.started_at).total_seconds()
    assert done["elapsed_seconds"] == pytest.approx(expected, abs=1e-3)

    assert api.client.get("/dashboard/runs/nope/status", headers=ADMIN).status_code == 404
    assert api.client.get("/dashboard/runs/calc-run/status").status_code == 401


def _call(api: Api, run_id: str, model: str, tokens_in: int, cost: str) -> int:
    view = api.ctx.store.record_llm_call(
        provider="p",
        model=model,
        role="builder",
        tokens_in=tokens_in,
        tokens_out=1,
        cost_usd=Decimal(cost),
        run_id=run_id,
        phase_id="readme",
    )
    return view.id


def test_usage_per_model_and_utc_day(backend_api: Api) -> None:
    api = backend_api
    run_id = api.create_run("usage")
    today = [_call(api, run_id, "m-a", 100, "0.10"), _call(api, run_id, "m-b", 200, "0.20")]
    yesterday = [_call(api, run_id, "m-a", 1_000, "1.00"), _call(api, run_id, "m-a", 10, "0.01")]
    old = [_call(api, run_id, "m-c", 5_000, "5.00")]
    now = datetime.now(UTC)
    with api.ctx.store.transaction() as session:
        for ids, days in ((yesterday, 1), (old, 5)):
            session.execute(
                update(LlmCall)
                .where(LlmCall.id.in_(ids))
                .values(created_at=now - timedelta(days=days))
            )
    del today

    body = api.client.get("/dashboard/usage", params={"days": 3}, headers=ADMIN).json()
    assert body["days"] == 3
    assert body["since"] == (now.date() - timedelta(days=2)).isoformat()
    day0, day1 = now.date().isoformat(), (now.date() - timedelta(days=1)).isoformat()
    assert [(d["day"], d["model"], d["calls"], d["tokens_in"]) for d in body["daily"]] == [
        (day1, "m-a", 2, 1_010),
        (day0, "m-a", 1, 100),
        (day0, "m-b", 1, 200),
    ]
    models = {m["model"]: m for m in body["models"]}
    assert set(models) == {"m-a", "m-b"}
    assert (models["m-a"]["calls"], models["m-a"]["tokens_in"]) == (3, 1_110)
    assert Decimal(models["m-a"]["cost_usd"]) == Decimal("1.11")
    assert (body["calls"], body["tokens_in"], body["tokens_out"]) == (4, 1_310, 4)
    assert Decimal(body["cost_usd"]) == Decimal("1.31")

    week = api.client.get("/dashboard/usage", params={"days": 7}, headers=api.key("viewer"))
    assert {m["model"] for m in week.json()["models"]} == {"m-a", "m-b", "m-c"}
    assert Decimal(week.json()["cost_usd"]) == Decimal("6.31")
    for bad in (0, 367, "x"):
        response = api.client.get("/dashboard/usage", params={"days": bad}, headers=ADMIN)
        assert response.status_code == 422
    assert api.client.get("/dashboard/usage").status_code == 401
