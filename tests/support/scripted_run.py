"""A real run for CLI tests: the sample project, the engine plan, the scripted model, no CI.

``AUTOPACK_SKIP_CI`` keeps a run around a second; attempts still fail on purpose (an edit
that does not match; optionally an Auditor rejection), so views have failures to show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from autopack.engine import Engine, EngineOptions, RunOutcome, execute_run
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import APPROVE, PLAN, REJECT, script
from support.sample_project import sample_repo

RUN_ID = PLAN["run_id"]


def scripted_answers(*, auditor_rejects: bool = False) -> dict[str, Any]:
    """The engine script; with ``auditor_rejects`` the Auditor rejects mul-default's 2nd try."""
    if not auditor_rejects:
        return script()
    return script(
        auditor=[
            {"role": "auditor", "phase": "mul-default", "attempt": 2, "text": REJECT},
            {"role": "auditor", "text": APPROVE},
        ]
    )


def make_project(root: Path) -> Path:
    """The sample project as a git repository on ``main`` (one commit)."""
    repo, _ = sample_repo(root)
    return repo


def write_script(path: Path, **kwargs: bool) -> Path:
    path.write_text(yaml.safe_dump(scripted_answers(**kwargs)))
    return path


def run_plan(
    repo: Path, answers: Path, *, auto_approve: bool, plan: dict[str, Any] | None = None
) -> RunOutcome:
    """Create the run in ``repo``'s default store and drive it as far as it goes."""
    settings = load_settings(workspace=repo, skip_ci=True)
    store = Store.open(settings)
    try:
        loaded = load_spec_data(plan or PLAN)
        engine = Engine(settings, store, EngineOptions(scripted=answers, auto_approve=auto_approve))
        store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
        return execute_run(engine, loaded.spec.run_id, notify=lambda message: None)
    finally:
        store.close()
