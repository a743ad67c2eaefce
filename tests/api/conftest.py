"""The real API over HTTP: the app factory, a SQLite store in tmp_path, a real git repository.

``make_api(**settings)`` builds an app with ``create_app`` and enters a ``TestClient`` (so
the lifespan opens the store and starts the workers); the scripted model answers every
call (a quick, setback-free script: tests/engine cover the engine's own behaviour).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.api_helpers import ADMIN_KEY, FAST_SCRIPT, Api
from autopack.api import create_app
from autopack.engine import EngineOptions
from autopack.settings import load_settings
from support.gitrepo import checkout_state
from support.sample_project import sample_repo


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Iterator[Path]:
    """The sample project as a git repository; its checkout must never change."""
    repo, _ = sample_repo(tmp_path / "project")
    before = checkout_state(repo)
    yield repo
    assert checkout_state(repo) == before, "the user's checkout changed"


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(FAST_SCRIPT))
    return path


def open_api(
    stack: ExitStack, project: Path, answers: Path, *, bind_host: str, **overrides: Any
) -> Api:
    """The real app for ``project`` in a ``TestClient`` entered on ``stack`` (the dashboard's
    tests build theirs the same way)."""
    values: dict[str, Any] = {
        "workspace": project,
        "skip_ci": True,
        "api_key": ADMIN_KEY,
        **overrides,
    }
    app = create_app(
        load_settings(**values),
        engine_options=EngineOptions(scripted=answers, actor="api"),
        bind_host=bind_host,
    )
    return Api(app, stack.enter_context(TestClient(app)))


@pytest.fixture
def make_api(project: Path, answers: Path) -> Iterator[Callable[..., Api]]:
    with ExitStack() as stack:

        def factory(*, bind_host: str = "127.0.0.1", **overrides: Any) -> Api:
            return open_api(stack, project, answers, bind_host=bind_host, **overrides)

        yield factory


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """The app with the default settings (admin key set, CORS closed, no anonymous read)."""
    return make_api()
