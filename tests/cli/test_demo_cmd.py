"""`autopack demo`: a whole governed run, from the real command tree."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from autopack.cli.main import build_app


def test_demo_runs_to_success(monkeypatch: pytest.MonkeyPatch, git_env: dict[str, str]) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(build_app(), ["demo"], catch_exceptions=False)
    out = result.stdout
    assert result.exit_code == 0, out
    for expected in (
        "attempt 1 failed: patch_apply_error",
        "failure hardening: patch_context_mismatch",
        "attempt 2 failed: ci_fail",
        "doctor (",
        "escalated 1 step",
        "approval granted automatically",
        "DONE_SUCCESS",
        "is NOT_CLEAN: all phases committed; 1 issue(s) need cleanup",
        "test:tests/test_calc.py::test_known_bug",
        "user checkout untouched: yes",
    ):
        assert expected in out, expected
    assert out.count(" mul gets a default second argument") >= 1


def test_run_waits_for_approval_then_approve_finishes(
    tmp_path, monkeypatch: pytest.MonkeyPatch, git_env: dict[str, str]
) -> None:
    from importlib import resources

    from autopack.demo import make_project

    project = make_project(tmp_path)
    demo = resources.files("autopack.demo")
    plan, script = tmp_path / "plan.yaml", tmp_path / "script.yaml"
    plan.write_text(demo.joinpath("plan.yaml").read_text())
    script.write_text(demo.joinpath("script.yaml").read_text())
    monkeypatch.setenv("COLUMNS", "200")
    app, runner = build_app(), CliRunner()
    args = ["--workspace", str(project)]
    waiting = runner.invoke(app, ["run", str(plan), *args, "--scripted", str(script)])
    assert waiting.exit_code == 3, waiting.stdout
    assert "waits for approval" in waiting.stdout and "autopack approve demo-calc" in waiting.stdout
    scripted = ["--scripted", str(script)]
    done = runner.invoke(
        app,
        ["approve", "demo-calc", "--by", "alice", "--reason", "reviewed", *args, *scripted],
    )
    assert done.exit_code == 0, done.stdout
    assert "run demo-calc succeeded" in done.stdout
    from autopack.settings import load_settings
    from autopack.store import Store

    store = Store.open(load_settings(workspace=project))
    try:
        [decision] = store.approvals(status="approved", run_id="demo-calc")
    finally:
        store.close()
    assert (decision.decided_by, decision.decision_note) == ("alice", "reviewed")
    again = runner.invoke(app, ["run", str(plan), *args, "--scripted", str(script)])
    assert again.exit_code == 1 and "has ended" in again.stderr


def test_run_with_an_external_builder_says_what_it_waits_for(
    tmp_path, monkeypatch: pytest.MonkeyPatch, git_env: dict[str, str]
) -> None:
    from importlib import resources

    import yaml

    from autopack.demo import make_project

    project = make_project(tmp_path)
    demo = resources.files("autopack.demo")
    data = yaml.safe_load(demo.joinpath("plan.yaml").read_text())
    data["tiers"][0]["phases"][0]["builder_mode"] = "external"
    plan, script = tmp_path / "plan.yaml", tmp_path / "script.yaml"
    plan.write_text(yaml.safe_dump(data))
    script.write_text(demo.joinpath("script.yaml").read_text())
    monkeypatch.setenv("COLUMNS", "200")
    args = ["--workspace", str(project), "--scripted", str(script)]
    first = data["tiers"][0]["phases"][0]["phase_id"]
    for _ in range(2):  # a second invocation finds it still waiting, not "interrupted"
        waiting = CliRunner().invoke(build_app(), ["run", str(plan), *args])
        assert waiting.exit_code == 3, waiting.stdout
        assert "waits for external work" in waiting.stdout and first in waiting.stdout
        assert "waits for approval" not in waiting.stdout
    from autopack.settings import load_settings
    from autopack.store import Store

    store = Store.open(load_settings(workspace=project))
    try:
        reasons = [e.reason for e in store.events("demo-calc", entity="phase", key=first)]
    finally:
        store.close()
    assert not any("interruption" in r for r in reasons), reasons
