"""The list and the aggregates answer in a number of SQL statements that does not grow with
the data: counted with SQLAlchemy's ``before_cursor_execute`` on the store's engine, for
5 runs and again for 50 (and for a run of 2 phases against one of 40), on SQLite and on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event

from api.api_helpers import ADMIN, Api
from support.specs import make_spec

# Endpoints over every run, and endpoints of one run ({run} is filled in).
FLEET = (
    "/runs?limit=100",
    "/runs?limit=100&offset=3",
    "/runs?limit=100&state=RUN_CREATED",
    "/metrics",
    "/metrics/runs",
    "/reports/budget_analysis?limit=100",
    "/dashboard/usage?days=30",
)
PER_RUN = ("/metrics/tiers/{run}", "/dashboard/runs/{run}/status")


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent on ``engine`` inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements(api: Api, url: str) -> int:
    """How many statements one GET of ``url`` sends (admin key: authentication sends none)."""
    with counting(api.ctx.store.engine) as seen:
        response = api.client.get(url, headers=ADMIN)
    assert response.status_code == 200, (url, response.text)
    return len(seen)


def add_run(api: Api, run_id: str, *, tiers: int = 1, phases_per_tier: int = 2) -> str:
    """A stored run whose every phase has a finished attempt and two model calls."""
    store = api.ctx.store
    spec = make_spec(run_id, tiers=tiers, phases_per_tier=phases_per_tier)
    store.create_run(spec, api.ctx.engine.strategy.compile_run(spec), shape="nested")
    for n, phase in enumerate(spec.phases()):
        attempt = store.start_attempt(run_id, phase.phase_id, builder_model="m-a")
        for role, model in (("builder", "m-a"), ("auditor", "m-b")):
            store.record_llm_call(
                provider="p",
                model=model,
                role=role,
                tokens_in=100 + n,
                tokens_out=10,
                cost_usd=Decimal("0.01"),
                latency_ms=1_000 + n,
                run_id=run_id,
                phase_id=phase.phase_id,
                attempt_id=attempt.id,
            )
        store.finish_attempt(attempt.id, outcome="success" if n % 3 else "ci_failed")
    return run_id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    """The app on SQLite (the default file) or on a fresh PostgreSQL database."""
    if request.param == "postgres":
        return make_api(database_url=request.getfixturevalue("pg_url"))
    return make_api()


def test_statement_counts_do_not_grow_with_runs_or_phases(backend_api: Api) -> None:
    api = backend_api
    for n in range(5):
        add_run(api, f"r-{n:03d}")
    small = {url: statements(api, url) for url in FLEET}
    few_phases = {url: statements(api, url.format(run="r-000")) for url in PER_RUN}
    summary = statements(api, "/reports/run_summary/r-000")

    for n in range(5, 50):
        add_run(api, f"r-{n:03d}")
    add_run(api, "wide", tiers=4, phases_per_tier=10)
    assert len(api.client.get("/runs?limit=100", headers=ADMIN).json()["items"]) == 51

    assert {url: statements(api, url) for url in FLEET} == small
    assert {url: statements(api, url.format(run="wide")) for url in PER_RUN} == few_phases
    assert {url: statements(api, url.format(run="r-000")) for url in PER_RUN} == few_phases
    # The markdown report reads each phase's attempts (engine.report): bounded in the number
    # of runs, not in the run's phases; its structured totals are aggregates.
    assert statements(api, "/reports/run_summary/r-000") == summary
    assert max(small.values()) <= 8 and max(few_phases.values()) <= 8, (small, few_phases)


def test_the_runs_list_has_counts_and_cost_in_one_statement(backend_api: Api) -> None:
    api = backend_api
    for n in range(4):
        add_run(api, f"r-{n}", phases_per_tier=n + 1)
    api.create_run("bare")  # no attempts, no calls
    with counting(api.ctx.store.engine) as seen:
        listed = api.ctx.store.list_runs(limit=3, offset=1)
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [r.run_id for r in listed] == ["r-3", "r-2", "r-1"]
    for item in listed:
        calls = api.ctx.store.llm_calls(item.run_id)
        assert item.cost_usd == sum((c.cost_usd for c in calls), Decimal(0))
        assert item.tokens_used == sum(c.tokens_in + c.tokens_out for c in calls)
        assert item.phase_count == int(item.run_id[-1]) + 1
    [bare] = api.ctx.store.list_runs(limit=1)
    assert (bare.run_id, bare.phase_count, bare.cost_usd) == ("bare", 3, Decimal(0))
    page = api.client.get("/runs?limit=2&offset=4", headers=ADMIN).json()
    assert [r["run_id"] for r in page["items"]] == ["r-0"] and page["next_offset"] is None
