"""The issue endpoints answer in a number of SQL statements that does not grow with the data:
the backlog, the backlog summary, a run's index and one backlog issue, counted for 5 runs and
again for 40 (with issues shared across runs, and a run of 40 phases each with issues), on
SQLite and on PostgreSQL (the counting of tests/api/test_metrics_queries.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.api_helpers import Api
from api.test_metrics_queries import statements
from autopack.store import IssueInput
from support.specs import make_spec

SHARED = "lint:unused-import:src/mod.py"  # seen in every run: its detail grows with the runs
FLEET = (
    "/project/issues/backlog?limit=500",
    "/project/issues/backlog?limit=500&status=all",
    "/project/issues/backlog?limit=500&status=needs_cleanup",
    "/project/issues/backlog?limit=2&offset=3",
    "/reports/issue_backlog_summary",
    f"/project/issues/{SHARED}",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    """The app on SQLite (the default file) or on a fresh PostgreSQL database."""
    if request.param == "postgres":
        return make_api(database_url=request.getfixturevalue("pg_url"))
    return make_api()


def add_run(api: Api, run_id: str, *, tiers: int = 1, phases_per_tier: int = 2) -> str:
    """A stored run whose every phase records the shared issue and one of its own."""
    store = api.ctx.store
    spec = make_spec(run_id, tiers=tiers, phases_per_tier=phases_per_tier)
    store.create_run(spec, api.ctx.engine.strategy.compile_run(spec), shape="nested")
    for n, phase in enumerate(spec.phases()):
        found = [
            IssueInput(
                issue_key=SHARED,
                severity="minor",
                source="ci",
                category="lint",
                title="unused import",
                evidence="F401",
                file="src/mod.py",
            ),
            IssueInput(
                issue_key=f"test:{run_id}:{phase.phase_id}",
                severity="major" if n % 2 else "minor",
                source="auditor",
                category="tests",
                title=f"missing test in {phase.phase_id}",
            ),
        ]
        store.record_issues(run_id, phase.phase_id, found)
    return run_id


def test_statement_counts_do_not_grow_with_runs_or_issues(backend_api: Api) -> None:
    api = backend_api
    for n in range(5):
        add_run(api, f"r-{n:03d}")
    small = {url: statements(api, url) for url in FLEET}
    index = statements(api, "/runs/r-000/issues/index")

    for n in range(5, 40):
        add_run(api, f"r-{n:03d}")
    add_run(api, "wide", tiers=4, phases_per_tier=10)
    listed = api.client.get(
        "/project/issues/backlog?limit=500&status=all", headers=api.key("viewer")
    )
    assert len(listed.json()["items"]) == 40 * 2 + 40 + 1  # two own per run, 40 wide, shared

    assert {url: statements(api, url) for url in FLEET} == small
    assert statements(api, "/runs/wide/issues/index") == index
    assert statements(api, "/runs/r-000/issues/index") == index
    assert max(*small.values(), index) <= 8, (small, index)
