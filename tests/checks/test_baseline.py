"""Acceptance: new vs pre-existing failures on a sample project with one broken test.

The base commit is checked out with ``git worktree add --detach`` (as the workspace layer
does); the "integration worktree" is the repository itself, changed by hand.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from autopack.checks import Baseline, CheckStatus, CiRunner, compute_baseline
from autopack.spec.models import CiSpec
from support.sample_project import BROKEN_SUB, FAILING_TEST_CALC, SUB_TEST, git, sample_repo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    """(repository, base commit, checkout of the base commit); worktrees removed after."""
    root, base = sample_repo(tmp_path / "repo")
    checkout = tmp_path / "base"
    git(root, "worktree", "add", "--detach", str(checkout), base)
    yield root, base, checkout
    git(root, "worktree", "remove", "--force", str(checkout))
    git(root, "worktree", "prune")
    assert git(root, "worktree", "list").count("\n") == 0  # only the main checkout


def test_new_and_preexisting_failures(repo: tuple[Path, str, Path], runner: CiRunner):
    root, base, checkout = repo
    baseline = compute_baseline(runner, checkout, None, commit=base)
    assert baseline.failing == frozenset({FAILING_TEST_CALC})
    assert baseline.commit == base and baseline.trusted
    assert baseline.status is CheckStatus.FAILED

    # A change that breaks another test: exactly one new and one pre-existing failure.
    (root / "calc.py").write_text(BROKEN_SUB)
    report = runner.run(root, None, baseline=baseline)
    assert report.status is CheckStatus.FAILED
    assert report.new_failures == [SUB_TEST]
    assert report.preexisting_failures == [FAILING_TEST_CALC]
    assert report.baseline_commit == base
    assert "1 new, 1 pre-existing" in report.summary()
    text = report.for_model()
    assert text.index(SUB_TEST) < text.index("Pre-existing")
    assert list(report.failure_details) == [SUB_TEST]

    # A change that fixes nothing and breaks nothing passes, the old failure still listed.
    git(root, "checkout", "--", "calc.py")
    (root / "calc.py").write_text((root / "calc.py").read_text() + "\n# a comment\n")
    clean = runner.run(root, None, baseline=baseline)
    assert clean.status is CheckStatus.PASSED
    assert clean.new_failures == []
    assert clean.preexisting_failures == [FAILING_TEST_CALC]
    assert (clean.passed, clean.failed) == (3, 1)
    assert any("also fail on the base commit" in w for w in clean.warnings)
    labels = sorted(p.name for p in (runner.artifacts_dir).glob("*.log"))
    assert labels == ["baseline-1.log", "ci-1.log", "ci-2.log"]


def test_baseline_from_a_plain_copy_with_new_test_path(tmp_path: Path, runner: CiRunner):
    root, _ = sample_repo(tmp_path / "repo")
    checkout = tmp_path / "copy"
    shutil.copytree(root, checkout, ignore=shutil.ignore_patterns(".git"))
    # The phase adds a new test file and names it in ci.paths; it does not exist at the base.
    (root / "tests" / "test_new.py").write_text("def test_new():\n    assert False\n")
    ci = CiSpec(paths=["tests/test_calc.py", "tests/test_new.py"])
    baseline = compute_baseline(runner, checkout, ci)
    assert baseline.failing == frozenset({FAILING_TEST_CALC})
    report = runner.run(root, ci, baseline=baseline)
    assert report.new_failures == ["tests/test_new.py::test_new"]
    assert report.preexisting_failures == [FAILING_TEST_CALC]
    only_new = compute_baseline(runner, checkout, CiSpec(paths=["tests/test_new.py"]))
    assert only_new.status is CheckStatus.SKIPPED and only_new.failing == frozenset()


def test_untrusted_baseline_counts_everything_as_new(project: Path, runner: CiRunner):
    baseline = compute_baseline(runner, project, CiSpec(args=["--no-such-option"]))
    assert baseline.status is CheckStatus.ERROR and not baseline.trusted
    assert baseline.failing == frozenset()
    report = runner.run(project, None, baseline=baseline)
    assert report.status is CheckStatus.FAILED
    assert report.new_failures == [FAILING_TEST_CALC]
    assert any("every failure counts as new" in w for w in report.warnings)


def test_classify_keeps_order_and_dedupes():
    baseline = Baseline(failing=frozenset({"b"}))
    assert baseline.classify(["c", "b", "a", "c"]) == (["c", "a"], ["b"])
