"""`autopack models list|check` on the sub-app (the lead mounts it as `autopack models`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autopack.cli.models_cmd import app


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, workspace: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(workspace))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_list_table(cli) -> None:
    result = cli("list")
    assert result.exit_code == 0, result.output
    for text in ("claude-sonnet-4-5", "anthropic", "qwen2.5-coder:14b", "scripted", "$/Mtok in"):
        assert text in result.stdout
    assert "200,000" in result.stdout and "15.00" in result.stdout


def test_list_json(cli) -> None:
    result = cli("list", "--json")
    assert result.exit_code == 0
    models = {m["name"]: m for m in json.loads(result.stdout)}
    assert models["gpt-4.1-mini"]["input_usd_per_mtok"] == "0.4"
    assert models["scripted"]["provider"] == "scripted"
    assert set(models["gpt-5"]) == {
        "name",
        "provider",
        "api_model",
        "context_window",
        "max_output_tokens",
        "input_usd_per_mtok",
        "output_usd_per_mtok",
    }


def test_check_shipped_config(cli) -> None:
    result = cli("check")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: packaged models.yaml: ")


def test_check_uses_the_project_file(cli, workspace: Path) -> None:
    data_dir = workspace / ".autopack"
    data_dir.mkdir()
    (data_dir / "models.yaml").write_text("roles:\n  judge: {low: ghost}\n")
    result = cli("check")
    assert result.exit_code == 1
    assert f"{data_dir / 'models.yaml'}: roles.judge.low: unknown model 'ghost'" in result.stdout


def test_check_broken_file_lists_every_problem(cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "models:\n"
        "  cheap: {provider: openai, api_model: c, context_window: 100, max_output_tokens: 10}\n"
        "  odd: {provider: carrier-pigeon, api_model: o, context_window: 100,\n"
        "        max_output_tokens: 10, input_usd_per_mtok: 0, output_usd_per_mtok: 0}\n"
        "roles:\n  builder: {high: ghost}\n"
        "escalation:\n  chains:\n    low: []\n"
    )
    result = cli("check", "--file", str(broken))
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    assert all(line.startswith(f"{broken}: ") for line in lines)
    joined = "\n".join(lines)
    for text in (
        "models.cheap: no price",
        "models.odd.provider: unknown provider 'carrier-pigeon'",
        "roles.builder.high: unknown model 'ghost'",
        "escalation.chains.low: missing or empty",
    ):
        assert text in joined


def test_check_malformed_file_is_located(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  x: {provider: openai\n")
    result = cli("check", "--file", str(bad))
    assert result.exit_code == 1
    assert str(bad) in result.output and "line" in result.output
    assert "not valid YAML" in result.output


def test_check_wrong_type_is_located(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_attempts_per_phase: many\n")
    result = cli("check", "--file", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: max_attempts_per_phase:" in result.output


def test_list_with_an_invalid_file_exits_2(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    result = cli("list", "--file", str(bad))
    assert result.exit_code == 2
    assert "top level must be a mapping" in result.output
