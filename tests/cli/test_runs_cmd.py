"""`autopack runs`, `autopack db` and the root command, through the real command tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack import __version__
from autopack.cli.main import build_app
from autopack.store.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "nested-feature.yaml"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, workspace: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(workspace))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    app = build_app()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_version_and_help(cli) -> None:
    assert cli("--version").stdout.strip() == f"autopack {__version__}"
    out = cli("--help").stdout
    for group in ("spec", "runs", "db", "patch", "models"):
        assert group in out


def test_db_upgrade_then_current(cli, workspace: Path) -> None:
    first = cli("db", "upgrade")
    head = head_revision()
    assert first.exit_code == 0 and f"upgraded: empty -> {head}" in first.stdout
    assert (workspace / ".autopack" / "autopack.db").exists()
    assert f"already at revision {head}" in cli("db", "upgrade").stdout
    assert f"current: {head}" in cli("db", "current").stdout


def test_create_list_show_a_run(cli) -> None:
    created = cli("runs", "create", str(PLAN))
    assert created.exit_code == 0, created.stdout
    assert "tasklite-due-dates" in created.stdout and "RUN_CREATED" in created.stdout

    listed = cli("runs", "list")
    assert "tasklite-due-dates" in listed.stdout and "0/" in listed.stdout

    shown = cli("runs", "show", "tasklite-due-dates", "--events")
    assert shown.exit_code == 0
    for text in ("Tiers", "Phases", "QUEUED", "PENDING", "Events", "PLAN_BOOTSTRAP"):
        assert text in shown.stdout

    data = json.loads(cli("runs", "show", "tasklite-due-dates", "--json", "--events").stdout)
    assert data["state"] == "RUN_CREATED"
    assert all(p["strategy"]["builder_attempts"] >= 1 for p in data["phases"])
    assert data["events"][-1]["to_state"] == "RUN_CREATED"
    listing = json.loads(cli("runs", "list", "--json").stdout)
    assert [r["run_id"] for r in listing] == ["tasklite-due-dates"]


def test_creating_the_same_run_twice_fails_cleanly(cli) -> None:
    assert cli("runs", "create", str(PLAN)).exit_code == 0
    again = cli("runs", "create", str(PLAN))
    assert again.exit_code == 1
    assert "exists already" in again.stderr


def test_unknown_run_and_empty_list(cli) -> None:
    assert "no runs yet" in cli("runs", "list").stdout
    missing = cli("runs", "show", "ghost")
    assert missing.exit_code == 1 and "no run 'ghost'" in missing.stderr


def test_bad_settings_and_unreachable_database_are_one_line_errors(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOPACK_SKIP_CI", "perhaps")
    bad = cli("runs", "list")
    assert bad.exit_code == 2 and "AUTOPACK_SKIP_CI" in bad.stderr
    monkeypatch.delenv("AUTOPACK_SKIP_CI")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secretpw@127.0.0.1:1/none")
    down = cli("runs", "list")
    assert down.exit_code == 1 and "cannot use the database" in down.stderr
    assert "secretpw" not in down.stderr


def test_console_script_runs_in_a_subprocess(workspace: Path) -> None:
    exe = Path(sys.executable).with_name("autopack")
    result = subprocess.run(
        [str(exe), "runs", "list"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AUTOPACK_WORKSPACE": str(workspace)},
    )
    assert result.returncode == 0, result.stderr
    assert "no runs yet" in result.stdout


def test_show_lists_each_phase_attempts(
    tmp_path: Path, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.scripted_run import RUN_ID, make_project, run_plan, write_script

    repo = make_project(tmp_path / "project")
    answers = write_script(tmp_path / "script.yaml", auditor_rejects=True)
    assert run_plan(repo, answers, auto_approve=True).state == "DONE_SUCCESS"
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(repo))
    monkeypatch.setenv("COLUMNS", "250")
    app, runner = build_app(), CliRunner()

    shown = runner.invoke(app, ["runs", "show", RUN_ID], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    table = shown.stdout[shown.stdout.index("Attempts") :]
    rows = [line for line in table.splitlines() if "mul-default" in line]
    assert len(rows) == 3
    assert "patch_apply_error: Your answer was NOT applied" in rows[0]
    assert "auditor_reject: The Auditor rejected the change." in rows[1]
    assert "success" in rows[2] and "claude-" in rows[2] and "$0.0" in rows[2]
    assert sum("div" in line for line in table.splitlines()) == 2  # awaiting approval, success

    hidden = runner.invoke(app, ["runs", "show", RUN_ID, "--no-attempts"])
    assert "Attempts" not in hidden.stdout and "Phases" in hidden.stdout

    data = json.loads(runner.invoke(app, ["runs", "show", RUN_ID, "--json"]).stdout)
    mul = next(p for p in data["phases"] if p["phase_id"] == "mul-default")
    assert [a["outcome"] for a in mul["attempts"]] == [
        "patch_apply_error",
        "auditor_reject",
        "success",
    ]
    first = mul["attempts"][0]
    assert first["attempt_index"] == 1 and first["builder_model"].startswith("claude-")
    assert first["tokens_in"] > 0 and float(first["cost_usd"]) > 0
    assert mul["attempts"][1]["auditor_model"]
    bare = json.loads(
        runner.invoke(app, ["runs", "show", RUN_ID, "--json", "--no-attempts"]).stdout
    )
    assert "attempts" not in bare["phases"][0]
