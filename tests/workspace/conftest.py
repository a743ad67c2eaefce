"""Fixtures for real git repositories; reusable by every test under tests/workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.gitrepo import make_repo, worktree_paths


@pytest.fixture
def git_repo(tmp_path: Path, git_env: dict[str, str]) -> Iterator[Callable[..., Path]]:
    """Factory: ``git_repo(name="repo", commits=2)`` → a real repository in tmp_path.

    At teardown every repository made must list only its main worktree: a test that leaves
    a worktree behind fails.
    """
    made: list[Path] = []

    def factory(name: str = "repo", *, commits: int = 2) -> Path:
        repo = make_repo(tmp_path / name, commits=commits)
        made.append(repo)
        return repo

    yield factory
    leftovers = {str(r): worktree_paths(r)[1:] for r in made if worktree_paths(r)[1:]}
    if leftovers:
        pytest.fail(f"worktrees left behind: {leftovers}")


@pytest.fixture
def repo(git_repo: Callable[..., Path]) -> Path:
    """One repository with two commits."""
    return git_repo()


@pytest.fixture
def data_dir(repo: Path) -> Path:
    """The default data directory: inside the repository, as in real use."""
    return repo / ".autopack"
