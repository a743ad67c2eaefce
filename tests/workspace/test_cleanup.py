"""cleanup_runs: no leftover worktrees, and a user's branch is never deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

from autopack.workspace import IntegrationWorkspace, cleanup_runs
from support.gitrepo import git, worktree_paths, write


def _branches(repo: Path) -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/autonomous/")
    return out.split()


def test_cleanup_removes_worktrees_of_runs_not_kept(repo: Path, data_dir: Path) -> None:
    runs = {r: IntegrationWorkspace.create(repo, data_dir, r) for r in ("a", "a.b", "c")}
    runs["a"].begin_attempt("p", 1)  # an open attempt and a dirty worktree
    write(runs["a"].path, "dirty.txt", "x\n")
    shutil.rmtree(runs["c"].path)  # a worktree whose directory vanished
    cleaned = cleanup_runs(repo, data_dir, keep={"a.b"})
    assert cleaned == ["a", "c"]
    assert worktree_paths(repo) == [str(repo), str(runs["a.b"].path)]
    assert not runs["a"]._journal.path.exists()
    # Branches survive without delete_branches: the user may still want to review them.
    assert _branches(repo) == [
        "autonomous/a",
        "autonomous/a.b",
        "autonomous/c",
    ]
    assert cleanup_runs(repo, data_dir, keep={"a.b"}) == []
    assert cleanup_runs(repo, data_dir) == ["a.b"]
    assert worktree_paths(repo) == [str(repo)]


def test_cleanup_with_branches_spares_a_users_own_branch(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "a")
    ws.begin_attempt("p", 1)
    keep = IntegrationWorkspace.create(repo, data_dir, "a.b")
    git(repo, "branch", "autonomous/users-own")
    cleaned = cleanup_runs(repo, data_dir, keep={"a.b"}, delete_branches=True)
    assert cleaned == ["a"]
    assert _branches(repo) == [
        "autonomous/a.b",
        "autonomous/users-own",
    ]
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/autopack/").split()
    assert refs == ["refs/autopack/a.b/base"]
    keep.remove(delete_branch=True)
    assert worktree_paths(repo) == [str(repo)]


def test_cleanup_finds_runs_that_only_left_refs(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "gone")
    ws.remove()  # worktree gone, branch and refs kept
    assert cleanup_runs(repo, data_dir) == []
    assert cleanup_runs(repo, data_dir, delete_branches=True) == ["gone"]
    assert _branches(repo) == []
    assert git(repo, "for-each-ref", "refs/autopack/") == ""


def test_cleanup_with_an_outside_data_dir(git_repo, tmp_path: Path) -> None:
    repo = git_repo()
    data = tmp_path / "elsewhere"
    IntegrationWorkspace.create(repo, data, "r")
    assert cleanup_runs(repo, data, delete_branches=True) == ["r"]
    assert worktree_paths(repo) == [str(repo)]
    assert cleanup_runs(repo, tmp_path / "never-used") == []
