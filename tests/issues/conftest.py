"""A real repository, a stored plan and a scripted model for the issue-tracking engine tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autopack.engine import Engine
from support.engine_factory import engine_factory
from support.sample_project import sample_repo


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path, git_env: dict[str, str]) -> Path:
    """The sample project; ``indirect`` param False leaves out its known failing test."""
    broken = getattr(request, "param", True)
    repo, _ = sample_repo(tmp_path / "project", broken=broken)
    return repo


@pytest.fixture
def make_engine(project: Path, tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    with engine_factory(project, tmp_path) as factory:
        yield factory
