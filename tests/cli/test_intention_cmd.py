"""`autopack intention show|init` through the root command tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.memory.intention import TEMPLATE, load_intention


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, workspace: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(workspace))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(build_app(), ["intention", *args], catch_exceptions=False)

    return invoke


def test_init_writes_a_template_that_validates_and_refuses_to_overwrite(
    cli, workspace: Path
) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.output
    path = workspace / ".autopack" / "intention.yaml"
    assert path.read_text() == TEMPLATE
    assert load_intention(path).is_empty()
    assert (workspace / ".autopack" / ".gitignore").exists()
    path.write_text("goal: Mine.\n")
    again = cli("init")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert path.read_text() == "goal: Mine.\n"


def test_show_prints_what_the_prompts_get(cli, workspace: Path) -> None:
    assert cli("show").exit_code == 1  # no file yet
    cli("init")
    empty = cli("show")
    assert empty.exit_code == 0 and "nothing is injected" in empty.stdout
    path = workspace / ".autopack" / "intention.yaml"
    path.write_text("goal: Teach arithmetic.\nmust: [Stay small.]\nmust_not: [Use the network.]\n")
    result = cli("show")
    assert result.exit_code == 0, result.output
    builder, auditor = result.stdout.split("# Auditor")
    assert "Goal: Teach arithmetic." in builder and "- Stay small." in builder
    assert "- Use the network." in auditor and "Stay small" not in auditor


def test_show_names_the_bad_field(cli, workspace: Path) -> None:
    path = workspace / ".autopack" / "intention.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("goal: x\nmust_nt: [typo]\n")
    result = cli("show")
    assert result.exit_code == 2
    assert "must_nt: Extra inputs are not permitted" in result.stderr
