"""The dashboard served by the real app: SQLite in tmp_path, a real git repository.

Mirrors ``tests/api/conftest.py`` (the app factory in a ``TestClient``, the scripted model)
and adds :class:`~web.ui_helpers.Ui` for logging in through the form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.api_helpers import ADMIN_KEY, FAST_SCRIPT, Api, plan
from autopack.api import create_app
from autopack.engine import EngineOptions
from autopack.settings import load_settings
from support.gitrepo import checkout_state
from support.sample_project import sample_repo
from web.ui_helpers import Ui


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


@pytest.fixture
def make_ui(project: Path, answers: Path) -> Iterator[Callable[..., Ui]]:
    with ExitStack() as stack:

        def factory(*, bind_host: str = "127.0.0.1", **overrides: Any) -> Ui:
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
            client = stack.enter_context(TestClient(app))
            return Ui(Api(app, client))

        yield factory


@pytest.fixture
def ui(make_ui: Callable[..., Ui]) -> Ui:
    """The app with the default settings (admin key set, no anonymous read)."""
    return make_ui()


@pytest.fixture
def waiting(ui: Ui) -> Ui:
    """``calc-run`` started through the API and waiting at its approval gate (phase ``div``)."""
    started = ui.client.post("/runs/start", json=plan(), headers=ui.api.key("operator"))
    assert started.status_code == 202, started.text
    ui.api.wait_for("calc-run", {"GATE"})
    return ui
