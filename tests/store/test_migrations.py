"""Alembic migrations: from empty to head, idempotent, and refusing unknown revisions."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from autopack.store.db import create_db_engine
from autopack.store.migrate import (
    SchemaError,
    current_revision,
    ensure_schema,
    head_revision,
    upgrade,
)
from autopack.store.models import Base

TABLES = {
    "runs",
    "tiers",
    "phases",
    "attempts",
    "events",
    "llm_calls",
    "approvals",
    "budget_reservations",
}


def test_upgrade_creates_every_table_and_index(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        insp = inspect(engine)
        assert set(insp.get_table_names()) >= TABLES
        phase_indexes = {i["name"] for i in insp.get_indexes("phases")}
        assert "ix_phases_run_id_state" in phase_indexes
        event_indexes = {i["name"] for i in insp.get_indexes("events")}
        assert {"ix_events_run_id_id", "ix_events_entity_entity_key"} <= event_indexes
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    """The migration and the ORM must not drift apart."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_db_engine(db_url)
    try:
        ensure_schema(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_ensure_schema_is_idempotent_and_refuses_unknown_revisions(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        ensure_schema(engine)
        ensure_schema(engine)
        assert current_revision(engine) == head_revision()
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(SchemaError, match="9999_future"):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'a.db'}", sqlite_busy_timeout_ms=4321)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
