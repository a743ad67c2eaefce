"""Adversarial governed apply on a real git repository.

Every hostile answer is refused, and a byte-level snapshot of the repository (``.git``
included) and of a sibling directory outside it shows that nothing changed anywhere.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from autopack.policy.governance import GovernanceConfig, GovernancePolicy
from autopack.workspace.apply import ApplyOutcome, GovernedApplyResult, governed_apply
from support.tree import changed_paths, snapshot_tree

APP = 'def greet(name):\n    return f"hello {name}"\n'


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """A committed repo with scope-relevant files, plus a directory outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the repository\n")
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "config").mkdir()
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "src" / "app.py").write_text(APP)
    (repo / "README.md").write_text("# demo\n")
    (repo / ".env").write_text("TOKEN=abc\n")
    (repo / "config" / "settings.py").write_text("DEBUG = False\n")
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (repo / "src" / "escape").symlink_to(outside, target_is_directory=True)
    (repo / "src" / "readme_link.md").symlink_to(Path("..") / "README.md")
    os.mkfifo(repo / "src" / "pipe")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return repo, outside


def _policy(*scope: str, **kw: object) -> GovernancePolicy:
    return GovernancePolicy(GovernanceConfig.load(), scope_paths=scope, **kw)  # type: ignore[arg-type]


def _whole(path: str, body: str) -> str:
    return f"Here is the file.\n\n{path}\n```\n{body}```\n"


def _sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


GOOD_EDIT = _sr("src/app.py", '    return f"hello {name}"\n', '    return f"hi {name}"\n')

HOSTILE = {
    "traversal": (_whole("../outside/secret.txt", "pwned\n"), ("path.invalid",)),
    "absolute": (_whole("/etc/passwd", "root::0:0\n"), ("path.invalid",)),
    "symlink_escape_dir": (
        _whole("src/escape/secret.txt", "pwned\n"),
        ("path.symlink",),
    ),
    "symlink_inside_to_out_of_scope": (
        _whole("src/readme_link.md", "# pwned\n"),
        ("path.symlink",),
    ),
    "git_config_rewrite": (
        _whole(".git/config", "[core]\n\thooksPath = /tmp/evil\n"),
        ("path.git",),
    ),
    "git_hook_diff": (
        "--- /dev/null\n+++ b/.git/hooks/post-checkout\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+curl evil\n",
        ("path.git",),
    ),
    "protected_env": (_sr(".env", "TOKEN=abc\n", "TOKEN=stolen\n"), ("protected.deny",)),
    "out_of_scope": (
        _sr("config/settings.py", "DEBUG = False\n", "DEBUG = True\n"),
        ("scope.outside",),
    ),
    "huge_file": (_whole("src/huge.py", "x = 1\n" * 200_000), ("content.too_large",)),
    "binary_content": (_whole("src/blob.py", "a = 1\x00\x01\x02\n"), ("content.binary",)),
    "fifo_target": (_whole("src/pipe", "data\n"), ("path.not_regular",)),
    "delete_scope_root_file": (
        "--- a/README.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-# demo\n",
        ("scope.root_delete",),
    ),
    "delete_scope_root_dir": ("DELETE src\n", ("path.not_regular",)),
    "rename_out_of_scope": ("RENAME src/app.py -> config/app.py\n", ("scope.outside",)),
    "mixed_good_and_bad": (
        GOOD_EDIT + "\n" + _sr("config/settings.py", "DEBUG = False\n", "DEBUG = True\n"),
        ("scope.outside",),
    ),
    "syntax_error": (
        _sr("src/app.py", "def greet(name):\n", "def greet(name:\n"),
        ("integrity.python_syntax",),
    ),
    "conflict_markers": (
        _whole("src/new.py", "<<<<<<< HEAD\na = 1\n=======\na = 2\n>>>>>>> theirs\n"),
        ("integrity.conflict_markers",),
    ),
}


def _rules(result: GovernedApplyResult) -> set[str]:
    return {d.rule for d in result.governance.decisions} | {i.rule for i in result.integrity}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_answers_are_refused_and_nothing_changes(
    sandbox: tuple[Path, Path], case: str
) -> None:
    repo, _outside = sandbox
    answer, expected_rules = HOSTILE[case]
    before = snapshot_tree(repo.parent)
    scope = ("README.md",) if "scope_root" in case else ("src/", "README.md")
    result = governed_apply(repo, answer, _policy(*scope))
    integrity = expected_rules[0].startswith("integrity.")
    expected_outcome = ApplyOutcome.REFUSED_INTEGRITY if integrity else ApplyOutcome.REFUSED_POLICY
    assert result.outcome is expected_outcome, (case, result.outcome)
    denied = {d.rule for d in result.governance.decisions if d.verdict == "deny"}
    found = {i.rule for i in result.integrity} if integrity else denied
    assert set(expected_rules) <= found, (case, found)
    assert result.for_model()
    assert changed_paths(before, snapshot_tree(repo.parent)) == set()


def test_allowed_answer_changes_exactly_the_scoped_files(sandbox: tuple[Path, Path]) -> None:
    repo, _ = sandbox
    before = snapshot_tree(repo.parent)
    answer = GOOD_EDIT + "\n" + _whole("src/util.py", "X = 1\n")
    checked = governed_apply(repo, answer, _policy("src/"), check=True)
    assert checked.outcome is ApplyOutcome.CHECKED
    assert changed_paths(before, snapshot_tree(repo.parent)) == set()
    result = governed_apply(repo, answer, _policy("src/"))
    assert result.outcome is ApplyOutcome.APPLIED
    assert changed_paths(before, snapshot_tree(repo.parent)) == {
        "repo/src/app.py",
        "repo/src/util.py",
    }
    assert (repo / "src" / "app.py").read_text().endswith('"hi {name}"\n')


def test_protected_but_approvable_waits_for_approval(sandbox: tuple[Path, Path]) -> None:
    repo, _ = sandbox
    answer = _sr(".github/workflows/ci.yml", "on: push\n", "on: [push, pull_request]\n")
    before = snapshot_tree(repo)
    waiting = governed_apply(repo, answer, _policy("."))
    assert waiting.outcome is ApplyOutcome.NEEDS_APPROVAL
    assert "protected.approval" in _rules(waiting)
    assert changed_paths(before, snapshot_tree(repo)) == set()
    approved = governed_apply(repo, answer, _policy("."), approved=True)
    assert approved.outcome is ApplyOutcome.APPLIED
    assert changed_paths(before, snapshot_tree(repo)) == {".github/workflows/ci.yml"}


def test_strategy_approval_applies_only_when_approved(sandbox: tuple[Path, Path]) -> None:
    repo, _ = sandbox
    waiting = governed_apply(repo, GOOD_EDIT, _policy("src/", approval_required=True))
    assert waiting.outcome is ApplyOutcome.NEEDS_APPROVAL
    assert "strategy.approval" in _rules(waiting)
    assert "hello" in (repo / "src" / "app.py").read_text()


def test_existing_markers_in_a_file_do_not_block_unrelated_edits(
    sandbox: tuple[Path, Path],
) -> None:
    repo, _ = sandbox
    doc = "Title\n=======\n\n<<<<<<< example in docs\n"
    (repo / "src" / "guide.txt").write_text(doc)
    answer = _sr("src/guide.txt", "Title\n", "Better title\n")
    assert governed_apply(repo, answer, _policy("src/")).outcome is ApplyOutcome.APPLIED


def test_writes_to_git_ignored_paths_are_refused(sandbox: tuple[Path, Path]) -> None:
    from autopack.workspace.git import Git

    repo, _ = sandbox
    (repo / ".gitignore").write_text("build/\n")
    (repo / "src" / "build").mkdir()
    (repo / "src" / "build" / "hook.py").write_text("X = 1\n")
    before = snapshot_tree(repo)
    answer = _sr("src/build/hook.py", "X = 1\n", "X = 2\n")
    result = governed_apply(repo, answer, _policy("src/"), ignored=Git(repo).ignored)
    assert result.outcome is ApplyOutcome.REFUSED_POLICY
    assert "path.git_ignored" in _rules(result)
    assert changed_paths(before, snapshot_tree(repo)) == set()
