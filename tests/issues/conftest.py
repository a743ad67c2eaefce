"""A real repository, a stored plan and a scripted model for the issue-tracking engine tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.engine import Engine, EngineOptions
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import PLAN, script
from support.sample_project import sample_repo


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path, git_env: dict[str, str]) -> Path:
    """The sample project; ``indirect`` param False leaves out its known failing test."""
    broken = getattr(request, "param", True)
    repo, _ = sample_repo(tmp_path / "project", broken=broken)
    return repo


@pytest.fixture
def make_engine(project: Path, tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    engines: list[Engine] = []

    def factory(
        answers: dict[str, Any] | None = None, plan: dict[str, Any] | None = None, **options: Any
    ) -> Engine:
        path = tmp_path / f"script-{len(engines)}.yaml"
        path.write_text(yaml.safe_dump(answers or script()))
        settings = load_settings(workspace=project)
        store = Store.open(settings)
        loaded = load_spec_data(plan or PLAN)
        engine = Engine(settings, store, EngineOptions(scripted=path, **options))
        store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.store.close()
