"""The intention anchor end to end: in the Builder's, Doctor's and Auditor's prompts, and an
``intention_drift`` issue from the Auditor rejects the attempt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.engine import Engine, EngineOptions, execute_run
from autopack.llm.scripted import ScriptedProvider
from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import GOOD_MUL, MALFORMED, README
from support.sample_project import sample_repo

RUN = "intent-run"
APPROVE = json.dumps({"approved": True, "issues": [], "summary": "fine"})
DRIFT = json.dumps(
    {
        "approved": True,  # the severity rule wins: a major issue rejects anyway
        "issues": [
            {
                "severity": "major",
                "category": "intention_drift",
                "description": "the README promises a network feature (must not: network)",
            }
        ],
        "summary": "drifts from the intention",
    }
)
DOCTOR = json.dumps({"action": "retry_with_fix", "rationale": "twice", "hint": "Re-read calc.py."})
INTENTION = {
    "goal": "A tiny calculator for teaching arithmetic.",
    "success_criteria": ["Every function has a test."],
    "must": ["Keep every function pure."],
    "must_not": ["Never touch the network."],
    "preferences": ["Short docstrings."],
}
SKIP = {"skip": True, "reason": "no checks needed here"}
PLAN: dict[str, Any] = {
    "run_id": RUN,
    "goal": "Improve calc",
    "token_cap": 400_000,
    "tiers": [
        {
            "tier_id": "t0",
            "tier_index": 0,
            "name": "T0",
            "phases": [
                {
                    "phase_id": "mul",
                    "phase_index": 0,
                    "name": "mul default",
                    "task_category": "feature_scaffolding",
                    "complexity": "low",
                    "scope": {"paths": ["calc.py"], "ci": SKIP},
                },
                {
                    "phase_id": "readme",
                    "phase_index": 1,
                    "name": "README",
                    "task_category": "docs",
                    "complexity": "low",
                    "scope": {"paths": ["README.md"], "ci": SKIP},
                },
            ],
        }
    ],
}
SCRIPT = {
    "answers": [
        {"role": "builder", "phase": "mul", "attempt": 1, "text": MALFORMED},
        {"role": "builder", "phase": "mul", "attempt": 2, "text": MALFORMED},
        {"role": "builder", "phase": "mul", "attempt": 3, "text": GOOD_MUL},
        {"role": "builder", "phase": "readme", "text": README},
        {"role": "doctor", "text": DOCTOR},
        {"role": "auditor", "phase": "readme", "attempt": 1, "text": DRIFT},
        {"role": "auditor", "text": APPROVE},
    ]
}


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Path:
    repo, _ = sample_repo(tmp_path / "project")
    return repo


@pytest.fixture
def run_with(project: Path, tmp_path: Path) -> Iterator[Any]:
    stores: list[Store] = []

    def run(intention_text: str | None) -> tuple[Engine, list[str], Any]:
        if intention_text is not None:
            (project / ".autopack").mkdir(exist_ok=True)
            (project / ".autopack" / "intention.yaml").write_text(intention_text)
        path = tmp_path / "script.yaml"
        path.write_text(yaml.safe_dump(SCRIPT))
        settings = load_settings(workspace=project)
        store = Store.open(settings)
        stores.append(store)
        engine = Engine(settings, store, EngineOptions(scripted=path))
        loaded = load_spec_data(PLAN)
        store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
        lines: list[str] = []
        return engine, lines, execute_run(engine, RUN, notify=lines.append)

    yield run
    for store in stores:
        store.close()


def _prompts(engine: Engine, role: str) -> list[str]:
    provider = engine._providers["scripted"]
    assert isinstance(provider, ScriptedProvider)
    return ["\n".join(m.content for m in c.messages) for c in provider.calls if c.role == role]


def test_the_intention_reaches_every_prompt_and_drift_rejects(run_with) -> None:
    engine, _, outcome = run_with(yaml.safe_dump(INTENTION))
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert "intention" in [learner.name for learner in engine.learning.learners]

    builders, doctors, auditors = (_prompts(engine, r) for r in ("builder", "doctor", "auditor"))
    assert len(builders) == 5 and len(doctors) == 1 and len(auditors) == 3
    for prompt in [*builders, *doctors]:
        for text in ("Goal: A tiny calculator", "- Never touch the network.", "- Keep every"):
            assert text in prompt
        assert "- Every function has a test." in prompt and "- Short docstrings." in prompt
    for prompt in auditors:
        assert "Goal: A tiny calculator for teaching arithmetic." in prompt
        assert "- Never touch the network." in prompt
        assert 'category "intention_drift"' in prompt
        assert "Keep every function pure" not in prompt and "Short docstrings" not in prompt

    readme = engine.store.attempts(RUN, "readme")
    assert [a.outcome for a in readme] == ["auditor_reject", "success"]
    assert "intention_drift" in (readme[0].error_message or "")
    second = [p for p in builders if "README" in p][-1]
    assert "intention_drift" in second  # the Builder's retry is told why


def test_a_malformed_intention_is_reported_once_and_injects_nothing(run_with) -> None:
    engine, lines, outcome = run_with("goal: Teach.\nmust_nott: [typo]\n")
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    reported = [line for line in lines if "learning (intention)" in line]
    assert len(reported) == 1 and "must_nott: Extra inputs are not permitted" in reported[0]
    assert not any("Teach." in p for p in _prompts(engine, "builder"))


def test_no_intention_file_no_intention_learner(project: Path) -> None:
    settings = load_settings(workspace=project)
    store = Store.open(settings)
    try:
        names = [learner.name for learner in Engine(settings, store).learning.learners]
    finally:
        store.close()
    assert "intention" not in names and "learned_rules" in names
