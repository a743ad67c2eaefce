"""Store fixtures: every store test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autopack.policy.strategy import StrategyEngine
from autopack.store import Store
from autopack.store.db import create_db_engine
from autopack.store.migrate import ensure_schema
from support.specs import make_spec


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'autopack.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store."""
    engine = create_db_engine(db_url)
    ensure_schema(engine)
    s = Store(engine)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def strategy_engine() -> StrategyEngine:
    """The packaged strategy defaults."""
    return StrategyEngine.load()


@pytest.fixture
def created_run(store: Store, strategy_engine: StrategyEngine) -> str:
    """A stored run (RUN_CREATED) with two tiers of two phases."""
    spec = make_spec()
    store.create_run(spec, strategy_engine.compile_run(spec), shape="nested")
    return spec.run_id
