"""Shared fixtures: an isolated environment, a workspace, and a real PostgreSQL server.

Under ``CI=true`` a test that needs a missing system component fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from autopack.settings import SECRET_VARIABLES, Settings, load_settings
from support.gitrepo import isolated_git_env
from support.postgres import PostgresServer, PostgresUnavailableError, find_bindir

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}

_ENV_PREFIXES = ("AUTOPACK_", "DATABASE_URL", "ANTHROPIC_", "OPENAI_", "QDRANT_", "TELEMETRY_")


def missing_component(reason: str) -> None:
    """Skip locally, fail in CI: a missing system component must not pass silently there."""
    if IN_CI:
        pytest.fail(f"required system component missing under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's Autopack or provider settings."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    for var in SECRET_VARIABLES.values():
        monkeypatch.delenv(f"{var}_FILE", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace directory."""
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Settings for the workspace with the default SQLite database."""
    return load_settings(workspace=workspace)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (databases are per test)."""
    bindir = find_bindir()
    if bindir is None:
        missing_component("PostgreSQL server binaries (initdb, pg_ctl) not found")
    try:
        server = PostgresServer(bindir).start()  # type: ignore[arg-type]
    except PostgresUnavailableError as exc:
        missing_component(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Hide the developer's global/system git configuration from the test."""
    env = isolated_git_env(tmp_path / "git-home")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
