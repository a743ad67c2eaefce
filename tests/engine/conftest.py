"""A real repository, a stored plan and a scripted model for end-to-end engine tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autopack.engine import Engine
from support.engine_factory import engine_factory
from support.gitrepo import checkout_state, worktree_paths
from support.sample_project import sample_repo


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Iterator[Path]:
    repo, _ = sample_repo(tmp_path / "project")
    (repo / "notes.txt").write_text("the user's uncommitted notes\n")
    before = checkout_state(repo)
    yield repo
    assert checkout_state(repo) == before, "the user's checkout changed"
    assert len(worktree_paths(repo)) <= 2


@pytest.fixture
def make_engine(project: Path, tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    with engine_factory(project, tmp_path) as factory:
        yield factory
