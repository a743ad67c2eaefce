"""Settings: one typed place, *_FILE for secrets, consistent booleans, a git-ignored data dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autopack.settings import SECRET_VARIABLES, SettingsError, load_settings, parse_bool


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "Yes", "on", " on "])
def test_truthy_flags(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    for var in ("AUTOPACK_SKIP_CI", "AUTOPACK_ENABLE_MEMORY", "TELEMETRY_DB_ENABLED"):
        monkeypatch.setenv(var, text)
    s = load_settings()
    assert s.skip_ci and s.enable_memory and s.telemetry_db_enabled


@pytest.mark.parametrize("text", ["0", "false", "no", "off", "OFF"])
def test_falsy_flags(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("AUTOPACK_SKIP_CI", text)
    assert load_settings().skip_ci is False


def test_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPACK_SKIP_CI", "maybe")
    with pytest.raises(SettingsError, match="AUTOPACK_SKIP_CI") as info:
        load_settings()
    assert "1/true/yes/on" in str(info.value)


def test_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPACK_SKIP_CI", "")
    monkeypatch.setenv("DATABASE_URL", "")
    s = load_settings()
    assert s.skip_ci is False and s.database_url is None


@pytest.mark.parametrize(("field", "var"), sorted(SECRET_VARIABLES.items()))
def test_secret_file_wins_over_variable_over_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, field: str, var: str
) -> None:
    assert getattr(load_settings(), field) is None
    monkeypatch.setenv(var, "from-variable")
    assert getattr(load_settings(), field).get_secret_value() == "from-variable"
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv(f"{var}_FILE", str(secret))
    assert getattr(load_settings(), field).get_secret_value() == "from-file"


def test_unreadable_secret_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUTOPACK_API_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="AUTOPACK_API_KEY_FILE: cannot read"):
        load_settings()


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@db/x")
    s = load_settings()
    assert "very-secret" not in repr(s) and "hunter2" not in repr(s)
    assert "very-secret" not in str(s.model_dump())


def test_database_url_defaults_to_sqlite_in_data_dir_and_maps_postgres(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    s = load_settings(workspace=workspace)
    assert s.data_dir == workspace / ".autopack"
    assert s.resolved_database_url() == f"sqlite:///{workspace / '.autopack' / 'autopack.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/db")
    assert load_settings().resolved_database_url() == "postgresql+psycopg://u@h:5432/db"
    monkeypatch.setenv("AUTOPACK_DATA_DIR", "state")
    assert load_settings(workspace=workspace).data_dir == workspace / "state"


def test_data_dir_is_ignored_by_git(workspace: Path) -> None:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    s = load_settings(workspace=workspace)
    data = s.ensure_data_dir()
    (data / "autopack.db").write_text("x")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=workspace,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert status == ""


def test_strategy_file_defaults_to_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, workspace: Path, tmp_path: Path
) -> None:
    s = load_settings(workspace=workspace)
    assert s.resolved_strategy_file() is None
    s.ensure_data_dir()
    (s.data_dir / "strategy.yaml").write_text("{}\n")
    assert s.resolved_strategy_file() == s.data_dir / "strategy.yaml"
    monkeypatch.setenv("AUTOPACK_STRATEGY_FILE", str(tmp_path / "other.yaml"))
    assert load_settings(workspace=workspace).resolved_strategy_file() == tmp_path / "other.yaml"


def test_parse_bool_rejects_garbage() -> None:
    assert parse_bool(True) is True
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool("2")
