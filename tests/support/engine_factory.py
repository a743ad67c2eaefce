"""Engines on a stored plan with the scripted model, for the engine-level test fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from autopack.engine import Engine, EngineOptions
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import PLAN, script


@contextmanager
def engine_factory(project: Path, tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """``factory(answers=None, plan=None, **EngineOptions)``: an engine whose store holds the
    plan (default: the e2e plan) as a new run; every store is closed on exit."""
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

    try:
        yield factory
    finally:
        for engine in engines:
            engine.store.close()
