"""Memory on, through real runs: what run 1 learns reaches run 2's Builder prompt."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.engine import Engine, EngineOptions, execute_run
from autopack.engine.learn_memory import MemoryLearner
from autopack.memory.notes import open_backend
from autopack.policy.states import RunState
from autopack.settings import Settings, load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import GOOD_MUL, PLAN, script
from support.sample_project import sample_repo


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Path:
    repo, _ = sample_repo(tmp_path / "project")
    (repo / "DEBUG_LOG.md").write_text(
        "# Debug log\n\n## mul and its default argument\n\n"
        "Callers rely on mul(a) == a: keep the second argument optional.\n"
    )
    return repo


@pytest.fixture
def engines(project: Path, tmp_path: Path) -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.store.close()


def _engine(
    engines: list[Engine],
    settings: Settings,
    run_id: str,
    answers: dict[str, Any],
    *,
    checks: bool = True,
) -> Engine:
    path = settings.workspace.parent / f"script-{run_id}.yaml"
    path.write_text(yaml.safe_dump(answers))
    plan = copy.deepcopy(PLAN)
    plan["run_id"] = run_id
    tier = plan["tiers"][0]
    phase = copy.deepcopy(tier["phases"][0])  # mul-default only: quick
    if not checks:
        phase["scope"]["ci"] = {"skip": True, "reason": "only the prompt matters"}
    plan["tiers"] = [{**tier, "phases": [phase]}]
    store = Store.open(settings)
    engine = Engine(settings, store, EngineOptions(scripted=path, auto_approve=True))
    loaded = load_spec_data(plan)
    store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
    engines.append(engine)
    return engine


def _builder_prompts(engine: Engine, phase: str) -> list[str]:
    calls = engine._providers["scripted"].calls
    return [
        "\n".join(m.content for m in c.messages)
        for c in calls
        if c.role == "builder" and c.phase_id == phase
    ]


def test_a_fix_recorded_in_run_1_appears_in_run_2_builder_prompt(
    project: Path, engines: list[Engine]
) -> None:
    settings = load_settings(workspace=project, enable_memory=True, memory_index_docs=True)
    first = _engine(engines, settings, "calc-run", script())
    assert [type(x) for x in first.learning.learners].count(MemoryLearner) == 1
    outcome = execute_run(first, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    # An empty memory adds nothing to run 1's first prompt but the indexed doc.
    assert "[fix]" not in _builder_prompts(first, "mul-default")[0]

    backend = open_backend(settings)
    fix = backend.get("fix:calc-run:mul-default")
    assert fix is not None
    assert "patch_apply_error" in fix.text and "ci_fail" in fix.text  # the errors it fixed
    assert "keep sub unchanged" in fix.text  # the Doctor's hint the last attempt had
    assert "Files changed: calc.py" in fix.text and "def mul(a, b=1)" in fix.text
    assert backend.count(["error"]) == 2
    assert backend.count(["doctor_hint"]) == 1
    assert backend.get("run:calc-run").title == "Run calc-run: DONE_SUCCESS"
    assert backend.count(["doc"]) == 2  # DEBUG_LOG.md: two sections

    # Run 2 gets mul right at once: its first Builder prompt shows run 1's fix.
    good = {"answers": [a for a in script()["answers"] if a.get("phase") != "mul-default"]}
    good["answers"].append({"role": "builder", "phase": "mul-default", "text": GOOD_MUL})
    second = _engine(engines, settings, "calc-run-2", good, checks=False)
    outcome = execute_run(second, "calc-run-2", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    prompt = _builder_prompts(second, "mul-default")[0]
    assert "[fix] Fix for " in prompt
    assert "(run calc-run, phase mul-default, feature_scaffolding)" in prompt
    assert "keep sub unchanged" in prompt
    assert "[doc] DEBUG_LOG.md: mul and its default argument" in prompt
    memory = prompt[prompt.index("[fix] Fix for ") :]
    assert "[fix] Fix for " not in memory[1:]  # the fix is shown once
    assert backend.get("fix:calc-run-2:mul-default") is None  # no failure, no fix note


def test_memory_off_registers_no_learner(project: Path, engines: list[Engine]) -> None:
    settings = load_settings(workspace=project)
    engine = _engine(engines, settings, "calc-run", script())
    assert not any(isinstance(x, MemoryLearner) for x in engine.learning.learners)
    assert not (settings.data_dir / "memory.sqlite3").exists()
