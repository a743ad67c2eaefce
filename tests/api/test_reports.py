"""``/reports/budget_analysis`` and ``/reports/run_summary/{run_id}`` on SQLite and PostgreSQL,
their numbers checked against the store's rows."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from api.api_helpers import ADMIN, Api
from api.test_metrics import finish_calc_run
from api.test_metrics_queries import add_run
from support.specs import make_spec


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    if request.param == "postgres":
        return make_api(database_url=request.getfixturevalue("pg_url"))
    return make_api()


def _bare_run(api: Api, run_id: str) -> str:
    spec = make_spec(run_id, tiers=1, phases_per_tier=1)
    api.ctx.store.create_run(spec, api.ctx.engine.strategy.compile_run(spec), shape="nested")
    return run_id


def test_budget_analysis(backend_api: Api) -> None:
    api, store = backend_api, backend_api.ctx.store
    add_run(api, "small")
    _bare_run(api, "over")
    store.record_llm_call(
        provider="p",
        model="m-big",
        role="builder",
        tokens_in=1_000_000,
        tokens_out=5,
        cost_usd=Decimal("12.5"),
        run_id="over",
        phase_id="p0-0",
    )
    _bare_run(api, "exhausted")
    store.transition_run(
        "exhausted", "DONE_FAILED_BUDGET_EXHAUSTED", reason="cap reached", actor="test"
    )
    _bare_run(api, "idle")

    response = api.client.get("/reports/budget_analysis", headers=api.key("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    calls = [c for run in ("small", "over") for c in store.llm_calls(run)]
    assert body["runs"] == 4 and body["runs_hit_budget"] == 2
    assert body["token_cap"] == 4_000_000
    assert body["tokens_used"] == sum(c.tokens_in + c.tokens_out for c in calls)
    assert Decimal(body["cost_usd"]) == sum((c.cost_usd for c in calls), Decimal(0))

    items = body["items"]
    assert [i["run_id"] for i in items] == ["over", "small", "idle", "exhausted"]
    small = store.get_run("small")
    assert items[1]["tokens_used"] == small.tokens_used
    assert items[1]["used_pct"] == round(small.tokens_used * 100 / small.token_cap, 2)
    assert Decimal(items[1]["cost_usd"]) == sum(
        (c.cost_usd for c in store.llm_calls("small")), Decimal(0)
    )
    assert items[0]["used_pct"] == round(100.0005, 2) and items[0]["hit_budget"] is True
    assert Decimal(items[0]["cost_usd"]) == Decimal("12.5")
    assert [i["hit_budget"] for i in items] == [True, False, False, True]
    assert [r["run_id"] for r in body["hit_budget"]] == ["exhausted", "over"]

    models = {m["model"]: m for m in body["models"]}
    assert set(models) == {"m-a", "m-b", "m-big"}
    for model, row in models.items():
        mine = [c for c in calls if c.model == model]
        assert row["calls"] == len(mine)
        assert row["tokens_in"] == sum(c.tokens_in for c in mine)
        assert row["tokens_out"] == sum(c.tokens_out for c in mine)
        assert Decimal(row["cost_usd"]) == sum((c.cost_usd for c in mine), Decimal(0))

    page = api.client.get(
        "/reports/budget_analysis", params={"limit": 1, "offset": 1}, headers=ADMIN
    ).json()
    assert [i["run_id"] for i in page["items"]] == ["small"]
    assert (page["limit"], page["offset"], page["runs"]) == (1, 1, 4)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        assert (
            api.client.get("/reports/budget_analysis", params=bad, headers=ADMIN).status_code == 422
        )


def test_run_summary_of_a_real_run(backend_api: Api) -> None:
    api = backend_api
    run_id = finish_calc_run(api)
    response = api.client.get(f"/reports/run_summary/{run_id}", headers=api.key("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["run_id"] == run_id
    assert body["markdown"].startswith(f"# Autopack run `{run_id}`")
    assert "## Totals" in body["markdown"] and "| `div` add div |" in body["markdown"]

    totals = body["totals"]
    calls = api.ctx.store.llm_calls(run_id)
    attempts = [a for tries in api.ctx.store.run_attempts(run_id).values() for a in tries]
    assert totals["state"] == "DONE_SUCCESS" and totals["failure_reason"] is None
    assert (totals["phases_complete"], totals["phase_count"]) == (3, 3)
    assert totals["phases_by_state"] == {"COMPLETE": 3}
    assert totals["attempts"] == len(attempts) and totals["failed_attempts"] == 0
    assert totals["llm_calls"] == len(calls)
    assert totals["tokens_used"] == sum(c.tokens_in + c.tokens_out for c in calls)
    assert Decimal(totals["cost_usd"]) == sum((c.cost_usd for c in calls), Decimal(0))
    for row in totals["models"]:
        mine = [c for c in calls if (c.model, c.role) == (row["model"], row["role"])]
        assert row["calls"] == len(mine) > 0
        assert row["tokens_in"] == sum(c.tokens_in for c in mine)
        assert Decimal(row["cost_usd"]) == sum((c.cost_usd for c in mine), Decimal(0))
    assert sum(m["calls"] for m in totals["models"]) == len(calls)
    run = api.ctx.store.get_run(run_id)
    assert run.started_at is not None and run.finished_at is not None
    expected = (run.finished_at - run.started_at).total_seconds()
    assert totals["duration_seconds"] == pytest.approx(expected, abs=1e-3)

    missing = api.client.get("/reports/run_summary/nope", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.client.get(f"/reports/run_summary/{run_id}").status_code == 401
