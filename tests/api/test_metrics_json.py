"""``/metrics/runs`` and ``/metrics/tiers/{run_id}`` on SQLite and PostgreSQL: a real run, a
cancelled one and an idle one, the numbers checked against the store's rows."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from api.api_helpers import ADMIN, Api
from api.test_metrics import finish_calc_run


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    if request.param == "postgres":
        return make_api(database_url=request.getfixturevalue("pg_url"))
    return make_api()


def test_runs_overview_and_tiers(backend_api: Api) -> None:
    api = backend_api
    empty = api.client.get("/metrics/runs", headers=ADMIN).json()
    assert (empty["runs"], empty["success_rate"], empty["mean_duration_seconds"]) == (0, None, None)

    run_id = finish_calc_run(api)
    api.create_run("cancelled")
    assert api.client.post("/runs/cancelled/cancel", headers=ADMIN).status_code == 200
    api.create_run("idle")

    overview = api.client.get("/metrics/runs", headers=api.key("viewer")).json()
    calls = api.ctx.store.llm_calls(run_id)
    attempts = [a for tries in api.ctx.store.run_attempts(run_id).values() for a in tries]
    assert overview["runs"] == 3
    assert overview["by_state"] == {"DONE_SUCCESS": 1, "CANCELLED": 1, "RUN_CREATED": 1}
    assert (overview["finished"], overview["succeeded"], overview["cancelled"]) == (2, 1, 1)
    assert overview["failed"] == 0 and overview["success_rate"] == 0.5
    run = api.ctx.store.get_run(run_id)
    assert run.started_at is not None and run.finished_at is not None
    duration = (run.finished_at - run.started_at).total_seconds()
    assert overview["mean_duration_seconds"] == pytest.approx(duration, abs=1e-3)
    assert overview["tokens_used"] == sum(c.tokens_in + c.tokens_out for c in calls)
    assert overview["token_cap"] == 3 * 400_000
    assert Decimal(overview["cost_usd"]) == sum((c.cost_usd for c in calls), Decimal(0))
    assert overview["llm_calls"] == len(calls) and overview["attempts"] == len(attempts)

    tiers = api.client.get(f"/metrics/tiers/{run_id}", headers=ADMIN).json()
    assert [t["tier_id"] for t in tiers["tiers"]] == ["core", "api"]
    phase_tier = {"mul-default": "core", "readme": "core", "div": "api"}
    by_phase = api.ctx.store.run_attempts(run_id)
    detail = {t.tier_id: t for t in run.tiers}
    for tier in tiers["tiers"]:
        mine = [p for p, t in phase_tier.items() if t == tier["tier_id"]]
        tier_calls = [c for c in calls if c.phase_id in mine]
        assert tier["phases"] == len(mine) and tier["phases_by_state"] == {"COMPLETE": len(mine)}
        assert tier["attempts"] == sum(len(by_phase.get(p, [])) for p in mine)
        assert tier["llm_calls"] == len(tier_calls)
        assert Decimal(tier["cost_usd"]) == sum((c.cost_usd for c in tier_calls), Decimal(0))
        assert tier["tokens_used"] == sum(c.tokens_in + c.tokens_out for c in tier_calls)
        assert tier["tokens_used"] == detail[tier["tier_id"]].tokens_used
        assert tier["token_budget"] == detail[tier["tier_id"]].token_budget
    unattributed = sum((c.cost_usd for c in calls if c.phase_id is None), Decimal(0))
    assert Decimal(tiers["unattributed_cost_usd"]) == unattributed
    assert Decimal(tiers["cost_usd"]) == sum((c.cost_usd for c in calls), Decimal(0))

    idle = api.client.get("/metrics/tiers/idle", headers=ADMIN).json()
    assert [t["attempts"] for t in idle["tiers"]] == [0, 0]
    assert idle["tiers"][0]["phases_by_state"] == {"QUEUED": 2}
    missing = api.client.get("/metrics/tiers/nope", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
