"""``autopack plan normalize`` through the real command tree, on the demo's sample project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.demo import make_project
from support.planner_script import VAGUE_PLAN, planner_script

ROOT = Path(__file__).resolve().parents[2]
FEATURE = ROOT / "examples" / "calc-feature-plan.md"


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, project: Path):
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(project))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    app = build_app()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_normalize_writes_a_spec_that_spec_validate_accepts(cli, tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    result = cli("plan", "normalize", str(FEATURE), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "run 'calculator-division-and-power'" in result.stdout
    assert "confidence 0.9" in result.stdout and "grounding" in result.stdout
    assert "1.0 tests-for-division-and-power  tests · low  tests/test_div_pow.py" in result.stdout
    assert "warning: tests-for-division-and-power: `tests/test_div_pow.py` does not exist" in (
        result.stdout
    )
    assert out.read_text().startswith("# Normalised from calc-feature-plan.md")
    validated = cli("spec", "validate", str(out))
    assert validated.exit_code == 0, validated.output
    assert "(nested yaml)" in validated.stdout


def test_json_out_file_and_json_report(cli, tmp_path: Path, project: Path) -> None:
    out = tmp_path / "plan.json"
    result = cli("plan", "normalize", str(FEATURE), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] and not report["refined"]
    assert report["spec"] == json.loads(out.read_text())
    assert set(report["components"]) == {
        "grounding",
        "structure",
        "categories",
        "deliverables",
        "ci",
    }
    for phase in (p for t in report["spec"]["tiers"] for p in t["phases"]):
        for path in phase["scope"]["paths"]:
            assert (project / path).exists() or (project / path).parent.is_dir()


def test_without_out_the_spec_goes_to_stdout_and_the_summary_to_stderr(cli) -> None:
    result = cli("plan", "normalize", str(FEATURE))
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["run_id"] == "calculator-division-and-power"
    assert "confidence" in result.stderr


def test_usage_errors_and_an_invalid_spec(cli, tmp_path: Path) -> None:
    assert cli("plan", "normalize", str(FEATURE), "--out", str(tmp_path / "x.txt")).exit_code == 2
    assert cli("plan", "normalize", str(tmp_path / "missing.md")).exit_code == 2
    bad = cli("plan", "normalize", str(FEATURE), "--run-id", "not an id!")
    assert bad.exit_code == 1
    assert "invalid: run_id" in bad.stderr
    empty = tmp_path / "empty.md"
    empty.write_text("\n")
    assert cli("plan", "normalize", str(empty), "--json").exit_code == 1


def test_a_vague_plan_is_refined_by_the_scripted_model(cli, tmp_path: Path) -> None:
    plan = tmp_path / "vague.md"
    plan.write_text(VAGUE_PLAN)
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(planner_script()))
    result = cli("plan", "normalize", str(plan), "--scripted", str(answers), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["refined"] and report["valid"]
    codes = [w["code"] for w in report["warnings"]]
    assert codes[0] == "refined" and "ungrounded_path" in codes
    # A threshold of 0 never asks the model.
    draft = cli("plan", "normalize", str(plan), "--min-confidence", "0", "--json")
    assert not json.loads(draft.stdout)["refined"]


def test_without_a_key_the_draft_is_kept_with_a_warning(cli, tmp_path: Path) -> None:
    plan = tmp_path / "vague.md"
    plan.write_text(VAGUE_PLAN)
    result = cli("plan", "normalize", str(plan), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert not report["refined"]
    (failed,) = [w for w in report["warnings"] if w["code"] == "refinement_failed"]
    assert "missing_api_key" in failed["message"]
