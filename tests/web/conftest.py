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

from api.api_helpers import plan
from api.conftest import answers, open_api, project
from web.ui_helpers import Ui

# The API tests' repository and script, shared (re-exported fixtures).
__all__ = ["answers", "project"]


@pytest.fixture
def make_ui(project: Path, answers: Path) -> Iterator[Callable[..., Ui]]:
    with ExitStack() as stack:

        def factory(*, bind_host: str = "127.0.0.1", **overrides: Any) -> Ui:
            return Ui(open_api(stack, project, answers, bind_host=bind_host, **overrides))

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
