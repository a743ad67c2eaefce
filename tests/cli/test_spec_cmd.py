"""``autopack spec validate`` and ``autopack spec schema``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from autopack.cli.spec_cmd import app, load_or_exit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "spec" / "fixtures"
runner = CliRunner()


def _examples() -> list[str]:
    return sorted(str(p) for p in EXAMPLES.iterdir())


def test_validate_examples_prints_a_summary_per_file() -> None:
    result = runner.invoke(app, ["validate", *_examples()], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "examples/README.md: skipped (documentation, not a plan)" in out
    assert "✓ " + str(EXAMPLES / "flat-supervisor.json") in out
    assert "run 'tasklite-export-csv'" in out and "(flat json)" in out
    assert "(phases-only yaml)" in out and "(nested json)" in out
    assert "budgets: tokens 400k · 4 phases (max 4) · 60 min · safety normal" in out
    assert "tier 1 Hardening (T2)" in out
    assert "1.1 csv-docs  docs · low" in out
    # the strategy column comes from the strategy engine
    assert "HIGH-RISK" in out and "ci strict, approval, audit strict x2" in out
    assert "note: unknown category 'dependency_upgrade': defaults apply" in out
    assert "5 of 5 plans valid" in result.output


def test_validate_reports_every_error_one_per_line() -> None:
    bad = FIXTURES / "bad-flat.json"
    good = EXAMPLES / "nested-feature.yaml"
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    error_lines = [ln for ln in result.stdout.splitlines() if ln.startswith(str(bad))]
    assert error_lines == [
        f"{bad}: tiers[1].tier_id: duplicate tier id 'T1' (also used by tiers[0]) "
        "(line 5, column 6)",
        f"{bad}: phases[3].tier_id: 'T9' names no tier; known tiers: T1 (line 11, column 42)",
        f"{bad}: phases[4].complexity: 'hgh' is not one of low, medium, high "
        "(did you mean 'high'?) (line 12, column 73)",
    ]
    assert "run 'tasklite-due-dates'" in result.stdout  # the valid file is still summarised
    assert "1 of 2 plans valid" in result.output


def test_validate_each_malformed_fixture_fails_with_a_location() -> None:
    for path in sorted(FIXTURES.iterdir()):
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code == 1, path
        first = result.stdout.splitlines()[0]
        assert first.startswith(f"{path}: "), first
        loc = first.removeprefix(f"{path}: ").split(": ", 1)[0]
        assert loc, first


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["validate", str(missing)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{missing}: <file>: cannot read: No such file or directory" in result.stdout


def test_validate_json_output() -> None:
    bad = FIXTURES / "bad-complexity-nested.yaml"
    good = EXAMPLES / "plan-phases-phase-id.json"
    result = runner.invoke(app, ["validate", "--json", str(good), str(bad)])
    assert result.exit_code == 1
    reports = json.loads(result.stdout)
    assert [r["valid"] for r in reports] == [True, False]
    assert reports[0]["shape"] == "phases_only"
    assert reports[0]["spec"]["run_id"] == "tasklite-search"
    assert set(reports[0]["strategy"]["phases"]) == {
        "search-index",
        "search-command",
        "search-docs",
    }
    assert reports[1]["issues"] == [
        {
            "loc": "tiers[0].phases[2].complexity",
            "message": "'hgh' is not one of low, medium, high (did you mean 'high'?)",
            "code": "invalid_value",
            "line": 8,
            "column": 53,
        }
    ]


def test_strategy_override_file(tmp_path: Path) -> None:
    override = tmp_path / "strategy.yaml"
    override.write_text("defaults:\n  low:\n    builder_attempts: 9\n", encoding="utf-8")
    plan = EXAMPLES / "plan-phases-id.yaml"
    result = runner.invoke(app, ["validate", "--strategy", str(override), str(plan)])
    assert result.exit_code == 0, result.output
    assert "9 tries" in result.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("defaults: [", encoding="utf-8")
    result = runner.invoke(app, ["validate", "--strategy", str(broken), str(plan)])
    assert result.exit_code == 2
    assert "invalid strategy configuration" in result.output


def test_load_or_exit_prints_every_problem_and_exits_1() -> None:
    import typer

    bad = FIXTURES / "duplicates.yaml"
    helper = typer.Typer()
    helper.command()(lambda plan: print(load_or_exit(plan).spec.run_id))
    ok = runner.invoke(helper, [str(EXAMPLES / "nested-feature.yaml")])
    assert (ok.exit_code, ok.stdout.strip()) == (0, "tasklite-due-dates")
    result = runner.invoke(helper, [str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}: phases[2].id: duplicate phase id 'setup' (also used by phases[0]) "
        "(line 5, column 6)",
        f"{bad}: phases[2].phase_index: duplicate phase index 1 in tier 'main' "
        "(also used by phases[1]) (line 5, column 17)",
        f"{bad}: phases[3].id: duplicate phase id 'build' (also used by phases[1]) "
        "(line 6, column 6)",
    ]


def test_schema_command_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Autopack run specification"
    assert result.stdout.startswith('{\n  "$schema"')  # indent 2


def test_real_console_script_validates_the_examples() -> None:
    script = Path(sys.executable).parent / "autopack"
    proc = subprocess.run(
        [str(script), "spec", "validate", *_examples()],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "run 'tasklite-api-v2'" in proc.stdout
    bad = subprocess.run(
        [str(script), "spec", "validate", str(FIXTURES / "duplicates.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert "phases[2].id: duplicate phase id 'setup' (also used by phases[0])" in bad.stdout
