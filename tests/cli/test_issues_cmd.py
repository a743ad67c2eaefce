"""`autopack issues backlog|show|index` through the real command tree and a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.policy.strategy import StrategyEngine
from autopack.settings import load_settings
from autopack.store import IssueInput, Store
from support.specs import make_spec

NIT = IssueInput(
    None, "minor", "auditor", "style", "names [sic] unclear", "look at f()", "src/a.py"
)
BUG = IssueInput("auditor:correctness:off-by-one", "major", "auditor", "correctness", "off by one")
NIT_KEY = "file:src/a.py#style"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, workspace: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(workspace))
    monkeypatch.setenv("COLUMNS", "240")
    runner = CliRunner()
    app = build_app()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def recorded(workspace: Path) -> None:
    """Two runs: the nit in both (two tiers: needs cleanup), the bug in the second."""
    store = Store.open(load_settings(workspace=workspace))
    engine = StrategyEngine.load()
    try:
        for run_id, issues in (("r1", [NIT]), ("r2", [NIT, NIT, BUG])):
            spec = make_spec(run_id)
            store.create_run(spec, engine.compile_run(spec))
            store.record_issues(run_id, "p0-0", issues)
        store.create_run(make_spec("r3"), engine.compile_run(make_spec("r3")))
    finally:
        store.close()


def test_backlog_table_and_json(cli, recorded) -> None:
    out = cli("issues", "backlog").stdout
    assert NIT_KEY in out and "needs_cleanup" in out and "off-by-one" in out
    assert "2/3" in out  # minor: age in runs / threshold
    data = json.loads(cli("issues", "backlog", "--json").stdout)
    assert [i["issue_key"] for i in data] == [NIT_KEY, BUG.issue_key]  # most aged first
    assert data[0]["age_in_runs"] == 2 and data[0]["occurrences"] == 3
    assert data[0]["status"] == "needs_cleanup" and data[1]["status"] == "open"
    one = json.loads(cli("issues", "backlog", "--json", "--limit", "1").stdout)
    assert len(one) == 1
    cleanup = json.loads(cli("issues", "backlog", "--status", "needs_cleanup", "--json").stdout)
    assert [i["issue_key"] for i in cleanup] == [NIT_KEY]
    assert cli("issues", "backlog", "--status", "resolved").stdout.strip() == (
        "no issues with status resolved"
    )


def test_backlog_after_resolution_and_bad_status(cli, recorded, workspace: Path) -> None:
    store = Store.open(load_settings(workspace=workspace))
    try:
        assert store.resolve_issues("r3", [BUG.issue_key]) == [BUG.issue_key]
    finally:
        store.close()
    resolved = json.loads(cli("issues", "backlog", "--status", "resolved", "--json").stdout)
    assert [(i["issue_key"], i["resolved_by_run"]) for i in resolved] == [(BUG.issue_key, "r3")]
    assert len(json.loads(cli("issues", "backlog", "--status", "all", "--json").stdout)) == 2
    bad = cli("issues", "backlog", "--status", "closed", code=2)
    assert "--status must be one of" in bad.output


def test_show_lists_every_occurrence(cli, recorded) -> None:
    out = cli("issues", "show", NIT_KEY).stdout
    assert "names [sic] unclear" in out  # user text is not read as markup
    assert "r1" in out and "r2" in out and "look at f()" in out
    data = json.loads(cli("issues", "show", NIT_KEY, "--json").stdout)
    assert data["issue"]["issue_key"] == NIT_KEY and data["issue"]["age_in_tiers"] == 2
    assert [
        (o["run_id"], o["tier_id"], o["phase_id"], o["occurrences"]) for o in data["occurrences"]
    ] == [("r1", "t0", "p0-0", 1), ("r2", "t0", "p0-0", 2)]
    missing = cli("issues", "show", "no-such-key", code=1)
    assert "no issue 'no-such-key'" in missing.output


def test_index_of_a_run(cli, recorded) -> None:
    out = cli("issues", "index", "r2").stdout
    assert "Issues of run r2" in out and NIT_KEY in out and "major" in out
    data = json.loads(cli("issues", "index", "r2", "--json").stdout)
    assert [(e["issue_key"], e["severity"], e["occurrences"]) for e in data] == [
        (BUG.issue_key, "major", 1),
        (NIT_KEY, "minor", 2),
    ]
    assert data[1]["backlog_status"] == "needs_cleanup" and data[1]["phases"] == ["p0-0"]
    assert cli("issues", "index", "r3").stdout.strip() == "run r3 recorded no issue"
    assert "no run 'nope'" in cli("issues", "index", "nope", code=1).output
