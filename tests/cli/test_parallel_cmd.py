"""`autopack parallel` from the real command tree, on the sample project (scripted model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from autopack.cli.main import build_app
from support.engine_script import APPROVE, GOOD_MUL
from support.gitrepo import checkout_state, git, worktree_paths
from support.sample_project import sample_repo

SWAPPED_MUL = (
    "calc.py\n<<<<<<< SEARCH\ndef mul(a, b):\n    return a * b\n=======\n"
    "def mul(a, b):\n    return b * a\n>>>>>>> REPLACE\n"
)


def _plan(path: Path, run_id: str, phase_id: str) -> Path:
    phase = {
        "phase_id": phase_id,
        "phase_index": 0,
        "name": "change mul",
        "task_category": "feature_scaffolding",
        "complexity": "low",
        "scope": {"paths": ["calc.py"]},
    }
    tier = {"tier_id": "t", "tier_index": 0, "name": "T", "phases": [phase]}
    path.write_text(yaml.safe_dump({"run_id": run_id, "goal": "mul", "tiers": [tier]}))
    return path


def test_parallel_lands_one_and_reports_the_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_env: dict[str, str]
) -> None:
    project, _ = sample_repo(tmp_path / "project")
    git(project, "branch", "integration", "main")
    user = checkout_state(project)
    script = tmp_path / "script.yaml"
    answers = [
        {"role": "builder", "phase": "a-mul", "text": GOOD_MUL},
        {"role": "builder", "phase": "c-mul", "text": SWAPPED_MUL},
        {"text": APPROVE},
    ]
    script.write_text(yaml.safe_dump({"answers": answers}))
    plans = [
        _plan(tmp_path / "a.yaml", "cli-a", "a-mul"),
        _plan(tmp_path / "c.yaml", "cli-c", "c-mul"),
    ]
    monkeypatch.setenv("COLUMNS", "250")

    result = CliRunner().invoke(
        build_app(),
        ["parallel", *map(str, plans), "--workspace", str(project), "--target", "integration",
         "--max-concurrent", "2", "--scripted", str(script)],
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "[cli-a] landed" in out and "[cli-c] conflict" in out
    assert "1 landed" in out and "1 not landed" in out
    reports = list((project / ".autopack" / "batches").glob("*/report.json"))
    saved = json.loads(reports[0].read_text())
    assert [r["landing"] for r in saved["runs"]] == ["landed", "conflict"]
    assert saved["runs"][1]["conflicts"] == ["calc.py"]
    assert "def mul(a, b=1):" in git(project, "show", "integration:calc.py")
    assert checkout_state(project) == user
    assert worktree_paths(project) == [str(project)]


def test_parallel_refuses_two_plans_with_one_run_id(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    project, _ = sample_repo(tmp_path / "project")
    plans = [_plan(tmp_path / f"{n}.yaml", "same", f"p{n}") for n in (1, 2)]
    result = CliRunner().invoke(
        build_app(), ["parallel", *map(str, plans), "--workspace", str(project)]
    )
    assert result.exit_code == 2
    assert "same run id" in result.stderr


def test_parallel_refuses_an_unusable_target_before_running(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    project, _ = sample_repo(tmp_path / "project")
    plan = _plan(tmp_path / "a.yaml", "cli-a", "a-mul")
    result = CliRunner().invoke(
        build_app(),
        ["parallel", str(plan), "--workspace", str(project), "--target", "-x"],
    )
    assert result.exit_code == 2
    assert "not a valid branch name" in result.stderr
    assert not git(project, "branch", "--list", "autonomous/*")  # nothing ran
