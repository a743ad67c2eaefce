"""One phase end to end on real parts: worktree → governed apply → checks → commit or rollback.

The sample project's base commit already has one failing test; the baseline makes it
pre-existing, so only new failures decide. The user's checkout never changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.checks import ChecksConfig, CheckStatus, CiRunner, compute_baseline
from autopack.policy.governance import GovernanceConfig, GovernancePolicy
from autopack.workspace import IntegrationWorkspace
from autopack.workspace.apply import ApplyOutcome, governed_apply
from support.gitrepo import checkout_state, status, worktree_paths
from support.sample_project import sample_repo

GOOD = """I made mul handle a default.

calc.py
<<<<<<< SEARCH
def mul(a, b):
    return a * b
=======
def mul(a, b=1):
    return a * b
>>>>>>> REPLACE
"""

BREAKS_SUB = """calc.py
<<<<<<< SEARCH
def sub(a, b):
    return a - b
=======
def sub(a, b):
    return b - a
>>>>>>> REPLACE
"""


@pytest.fixture
def flow(tmp_path: Path, git_env: dict[str, str]):
    repo, base = sample_repo(tmp_path / "project")
    (repo / "notes.txt").write_text("uncommitted work of the user\n")
    before = checkout_state(repo)
    data_dir = repo / ".autopack"
    ws = IntegrationWorkspace.create(repo, data_dir, "run-1")
    runner = CiRunner(artifacts_dir=data_dir / "artifacts", config=ChecksConfig.load())
    baseline = compute_baseline(runner, ws.path, None, commit=base)
    policy = GovernancePolicy(GovernanceConfig.load(), scope_paths=("calc.py",))
    try:
        yield ws, runner, baseline, policy
    finally:
        ws.remove(delete_branch=True)
        assert checkout_state(repo) == before, "the user's checkout changed"
        assert worktree_paths(repo)[1:] == [], "a worktree was left behind"


def test_good_phase_lands_as_one_commit_with_trailers(flow) -> None:
    ws, runner, baseline, policy = flow
    assert baseline.failing == frozenset({"tests/test_calc.py::test_broken"})
    head_before = ws.git.head()
    ws.begin_attempt("p-mul", 1)
    applied = governed_apply(ws.path, GOOD, policy)
    assert applied.outcome is ApplyOutcome.APPLIED
    report = runner.run(ws.path, None, baseline=baseline)
    assert report.status is CheckStatus.PASSED
    assert report.new_failures == [] and report.preexisting_failures == [
        "tests/test_calc.py::test_broken"
    ]
    sha = ws.commit_attempt("p-mul", 1, message="mul default", model="m-small", tokens=1234)
    assert sha is not None
    commits = ws.phase_commits()
    assert len(commits) == 1 and commits[0]["sha"] == sha
    assert ws.git.run("rev-parse", f"{sha}^").stdout.strip() == head_before
    trailers = commits[0]["trailers"]
    for key in ("Autopack-Run", "Autopack-Phase", "Autopack-Attempt", "Autopack-Model"):
        assert key in trailers
    assert (commits[0]["phase_id"], commits[0]["model"], commits[0]["tokens"]) == (
        "p-mul",
        "m-small",
        1234,
    )
    assert status(ws.path) == ""


def test_failed_attempt_is_rolled_back_without_a_trace(flow) -> None:
    ws, runner, baseline, policy = flow
    head_before = ws.git.head()
    ws.begin_attempt("p-sub", 1)
    assert governed_apply(ws.path, BREAKS_SUB, policy).outcome is ApplyOutcome.APPLIED
    (ws.path / "scratch.tmp").write_text("left by the attempt\n")
    report = runner.run(ws.path, None, baseline=baseline)
    assert report.status is CheckStatus.FAILED
    assert report.new_failures == ["tests/test_calc.py::test_sub"]
    assert report.preexisting_failures == ["tests/test_calc.py::test_broken"]
    assert "test_sub" in report.for_model()
    ws.rollback_attempt("p-sub")
    assert ws.git.head() == head_before
    assert status(ws.path) == ""
    assert not (ws.path / "scratch.tmp").exists()
    assert ws.phase_commits() == []
    # The next attempt starts from the same snapshot and can succeed.
    ws.begin_attempt("p-sub", 2)
    assert governed_apply(ws.path, GOOD, policy).ok
    assert ws.commit_attempt("p-sub", 2, message="retry", model="m-large", tokens=10)


def test_out_of_scope_answer_never_reaches_the_worktree(flow) -> None:
    ws, _, _, policy = flow
    ws.begin_attempt("p-x", 1)
    hostile = (
        "tests/test_calc.py\n<<<<<<< SEARCH\ndef test_broken():\n"
        "=======\ndef _x():\n>>>>>>> REPLACE\n"
    )
    result = governed_apply(ws.path, hostile, policy)
    assert result.outcome is ApplyOutcome.REFUSED_POLICY
    assert "scope.outside" in result.for_model()
    assert status(ws.path) == ""
    ws.rollback_attempt("p-x")
