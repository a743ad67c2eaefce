"""`autopack rules list|approve|drop` through the root command tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.memory.rules import LearnedRule, RuleSet, RuleStatus, load_rules, save_rules


@pytest.fixture
def rules_file(workspace: Path) -> Path:
    path = workspace / ".autopack" / "learned_rules.yaml"
    save_rules(
        path,
        RuleSet(
            rules=(
                LearnedRule(id="r-cand", constraint="Declare the dependency.", scope="pkg/**"),
                LearnedRule(id="r-act", constraint="Keep sub.", status=RuleStatus.ACTIVE),
                LearnedRule(id="r-old", constraint="Old advice.", status=RuleStatus.RETIRED),
            )
        ),
    )
    return path


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, workspace: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(workspace))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(build_app(), ["rules", *args], catch_exceptions=False)

    return invoke


def test_list_shows_rules_in_use(cli, rules_file: Path) -> None:
    result = cli("list")
    assert result.exit_code == 0, result.output
    assert "r-cand" in result.stdout and "r-act" in result.stdout
    assert "Declare the dependency." in result.stdout and "pkg/**" in result.stdout
    assert "r-old" not in result.stdout


def test_list_all_as_json(cli, rules_file: Path) -> None:
    result = cli("list", "--all", "--json")
    assert result.exit_code == 0, result.output
    got = {r["id"]: r["status"] for r in json.loads(result.stdout)}
    assert got == {"r-cand": "candidate", "r-act": "active", "r-old": "retired"}


def test_list_without_a_file(cli) -> None:
    result = cli("list")
    assert result.exit_code == 0
    assert "No learned rules" in result.stdout
    assert json.loads(cli("list", "--json").stdout) == []


def test_approve_makes_a_rule_active_and_pinned(cli, rules_file: Path) -> None:
    result = cli("approve", "r-cand")
    assert result.exit_code == 0, result.output
    assert "approved" in result.stdout
    rule = load_rules(rules_file).get("r-cand")
    assert rule is not None and (rule.status, rule.pinned) == (RuleStatus.ACTIVE, True)
    assert "(pinned)" in cli("list").stdout


def test_drop_keeps_the_rule_as_dropped(cli, rules_file: Path) -> None:
    assert cli("drop", "r-act").exit_code == 0
    rule = load_rules(rules_file).get("r-act")
    assert rule is not None and rule.status is RuleStatus.DROPPED
    assert "r-act" not in cli("list").stdout
    assert "r-act" in cli("list", "--all").stdout


def test_an_unknown_id_fails_and_changes_nothing(cli, rules_file: Path) -> None:
    before = rules_file.read_text()
    result = cli("approve", "r-nope")
    assert result.exit_code == 1
    assert "no rule 'r-nope'" in result.stderr
    assert rules_file.read_text() == before


def test_a_malformed_file_is_reported_with_the_field(cli, workspace: Path) -> None:
    path = workspace / ".autopack" / "learned_rules.yaml"
    path.parent.mkdir(parents=True)
    text = "rules:\n  - id: r-1\n    constraint: x\n    status: sometimes\n"
    path.write_text(text)
    for args in (("list",), ("approve", "r-1"), ("drop", "r-1")):
        result = cli(*args)
        assert result.exit_code == 2, args
        assert "rules[0].status" in result.stderr
    assert path.read_text() == text
