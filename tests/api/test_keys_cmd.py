"""`autopack keys create/list/revoke` through the real command tree and a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.settings import load_settings
from autopack.store import Store


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, workspace: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(workspace))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    app = build_app()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_create_prints_the_key_once_list_hides_it_revoke_disables_it(cli, workspace: Path) -> None:
    created = cli("keys", "create", "--name", "ci", "--role", "Operator")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("apk_") and "shown once" in created.stderr

    store = Store.open(load_settings(workspace=workspace))
    try:
        view = store.authenticate_api_key(key)
        assert view is not None and (view.name, view.role) == ("ci", "operator")

        listed = cli("keys", "list")
        assert (
            "ci" in listed.stdout and "operator" in listed.stdout and view.prefix in listed.stdout
        )
        assert key not in listed.stdout and key.split("_", 2)[2] not in listed.stdout

        revoked = cli("keys", "revoke", view.prefix)
        assert revoked.exit_code == 0 and "revoked key" in revoked.stdout
        assert store.authenticate_api_key(key) is None
        assert "no API keys" in cli("keys", "list").stdout
        assert view.prefix in cli("keys", "list", "--all").stdout
    finally:
        store.close()


def test_bad_role_and_unknown_key_are_clear_errors(cli) -> None:
    bad = cli("keys", "create", "--name", "x", "--role", "root")
    assert bad.exit_code == 2 and "unknown role" in bad.stderr
    missing = cli("keys", "revoke", "nope")
    assert missing.exit_code == 1 and "no api key 'nope'" in missing.stderr


def test_revoking_by_an_ambiguous_name_asks_for_the_id(cli) -> None:
    for _ in range(2):
        assert cli("keys", "create", "--name", "twin", "--role", "viewer").exit_code == 0
    ambiguous = cli("keys", "revoke", "twin")
    assert ambiguous.exit_code == 1 and "give the id" in ambiguous.stderr
    assert cli("keys", "revoke", "1").exit_code == 0
    assert cli("keys", "revoke", "twin").exit_code == 0  # one active key left by that name


def test_a_secret_with_underscores_splits_after_the_prefix() -> None:
    """token_urlsafe secrets may start with or contain '_' (a test once split on every '_')."""
    from autopack.store.keys import split_key

    secret = "_" + "a_b" * 11  # 34 characters, starting with '_'
    assert split_key(f"apk_0123456789ab_{secret}") == ("0123456789ab", secret)
    assert split_key("apk_0123456789ab_short") is None
