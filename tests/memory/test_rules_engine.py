"""Learned rules end to end: real failing attempts, a proposal, injection, promotion, demotion.

Phases ``alpha`` and ``beta`` each first write a test importing a module that does not exist
(a real pytest collection error), get the failure-hardening hint, and pass on the second
attempt: two distinct phases fixed the same way, so a candidate rule is proposed. ``gamma``
(matching scope and category) gets it in its Builder prompt and passes at once: promoted.
``readme`` (same category, scope outside the rule's glob) does not get it. ``delta`` gets it
but hits the same failure anyway: the rule misses and is demoted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.engine import Engine, EngineOptions, execute_run
from autopack.llm.scripted import ScriptedProvider
from autopack.memory.rules import RuleStatus, load_observations, load_rules
from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.sample_project import sample_repo

APPROVE = json.dumps({"approved": True, "issues": [], "summary": "fine"})
RUN = "rules-run"


def _phase(phase_id: str, paths: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "phase_id": phase_id,
        "phase_index": 0,
        "name": f"{phase_id} module",
        "task_category": "feature_scaffolding",
        "complexity": "low",
        "scope": {"paths": paths},
        **extra,
    }


def _module(name: str) -> list[str]:
    return [f"pkg/{name}.py", f"tests/test_{name}.py"]


PLAN: dict[str, Any] = {
    "run_id": RUN,
    "goal": "Grow pkg",
    "token_cap": 400_000,
    "tiers": [
        {"tier_id": f"t{i}", "tier_index": i, "name": f"T{i}", "phases": phases}
        for i, phases in enumerate(
            [
                [_phase("alpha", _module("alpha"))],
                [_phase("beta", _module("beta"))],
                [_phase("gamma", _module("gamma"))],
                [
                    _phase(
                        "readme",
                        ["README.md"],
                        scope={"paths": ["README.md"], "ci": {"skip": True, "reason": "docs"}},
                    )
                ],
                [_phase("delta", _module("delta"))],
            ]
        )
    ],
}


def _files(name: str, *, broken: bool) -> str:
    head = "import nothere_mod\n\n\n" if broken else ""
    return (
        f"pkg/{name}.py\n```\nVALUE = 1\n```\n\n"
        f"tests/test_{name}.py\n```\n{head}def test_{name}():\n    assert 1 + 1 == 2\n```\n"
    )


def _script() -> dict[str, Any]:
    answers: list[dict[str, Any]] = [{"role": "auditor", "text": APPROVE}]
    for name in ("alpha", "beta", "delta"):
        answers.append(
            {"role": "builder", "phase": name, "attempt": 1, "text": _files(name, broken=True)}
        )
        answers.append(
            {"role": "builder", "phase": name, "attempt": 2, "text": _files(name, broken=False)}
        )
    answers.append({"role": "builder", "phase": "gamma", "text": _files("gamma", broken=False)})
    answers.append({"role": "builder", "phase": "readme", "text": "README.md\n```\n# pkg\n```\n"})
    return {"answers": answers}


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Path:
    repo, _ = sample_repo(tmp_path / "project")
    return repo


@pytest.fixture
def run_plan(project: Path, tmp_path: Path) -> Iterator[Any]:
    stores: list[Store] = []

    def run(plan: dict[str, Any], script: dict[str, Any]) -> tuple[Engine, list[str], Any]:
        path = tmp_path / f"script-{len(stores)}.yaml"
        path.write_text(yaml.safe_dump(script))
        settings = load_settings(workspace=project)
        store = Store.open(settings)
        stores.append(store)
        engine = Engine(settings, store, EngineOptions(scripted=path))
        loaded = load_spec_data(plan)
        store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
        lines: list[str] = []
        outcome = execute_run(engine, plan["run_id"], notify=lines.append)
        return engine, lines, outcome

    yield run
    for store in stores:
        store.close()


def _prompts(engine: Engine, role: str, phase: str) -> list[str]:
    provider = engine._providers["scripted"]
    assert isinstance(provider, ScriptedProvider)
    return [
        "\n".join(m.content for m in call.messages)
        for call in provider.calls
        if call.role == role and call.phase_id == phase
    ]


@pytest.mark.slow  # eight real pytest runs
def test_a_rule_learned_from_two_phases_is_injected_promoted_and_demoted(run_plan) -> None:
    engine, lines, outcome = run_plan(PLAN, _script())
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    outcomes = {
        p: [a.outcome for a in engine.store.attempts(RUN, p)]
        for p in ("alpha", "beta", "gamma", "readme", "delta")
    }
    assert outcomes == {
        "alpha": ["ci_fail", "success"],
        "beta": ["ci_fail", "success"],
        "gamma": ["success"],
        "readme": ["success"],
        "delta": ["ci_fail", "success"],
    }
    data_dir = engine.settings.data_dir
    observations = load_observations(data_dir / "rule_observations.jsonl")
    assert [o.phase_id for o in observations] == ["alpha", "beta", "delta"]
    assert len({(o.failure, o.fix) for o in observations}) == 1
    assert "No module named 'nothere_mod'" in observations[0].failure

    (rule,) = load_rules(data_dir / "learned_rules.yaml").rules
    assert rule.phases == ["alpha", "beta"]
    assert (rule.scope, rule.category) == ("**/*.py", "feature_scaffolding")
    assert "nothere_mod" in rule.constraint
    # gamma passed with the rule (promoted), delta hit its failure anyway (demoted).
    assert (rule.status, rule.helped, rule.missed) == (RuleStatus.CANDIDATE, 1, 1)
    assert any(f"learned rule {rule.id} proposed" in line for line in lines)
    assert any(f"learned rule {rule.id}: candidate → active" in line for line in lines)
    assert any(f"learned rule {rule.id}: active → candidate" in line for line in lines)

    marker = f"[{rule.id}, "
    for phase in ("alpha", "beta", "readme"):
        assert not any(marker in p for p in _prompts(engine, "builder", phase)), phase
    (gamma,) = _prompts(engine, "builder", "gamma")
    assert f"[{rule.id}, candidate] {rule.constraint}" in gamma
    delta = _prompts(engine, "builder", "delta")
    assert len(delta) == 2 and all(f"[{rule.id}, active]" in p for p in delta)
    assert not any(marker in p for p in _prompts(engine, "auditor", "gamma"))


DOCTOR = json.dumps({"action": "retry_with_fix", "rationale": "twice", "hint": "Write it whole."})
NOTES = _phase(
    "notes",
    ["docs/notes.md"],
    scope={"paths": ["docs/notes.md"], "ci": {"skip": True, "reason": "docs"}},
)
MISSING = "docs/notes.md\n<<<<<<< SEARCH\nno such line\n=======\nnew\n>>>>>>> REPLACE\n"


def test_a_pinned_rule_reaches_the_builder_and_the_doctor_and_stays_active(
    run_plan, project: Path
) -> None:
    data_dir = project / ".autopack"
    data_dir.mkdir(exist_ok=True)
    (data_dir / "learned_rules.yaml").write_text(
        "# written by hand\n"
        "rules:\n"
        "  - id: mine\n"
        "    status: active\n"
        "    pinned: true\n"
        "    scope: 'docs/**'\n"
        "    category: feature_scaffolding\n"
        "    constraint: Send documentation files whole.\n"
    )
    script = {
        "answers": [
            {"role": "auditor", "text": APPROVE},
            {"role": "doctor", "text": DOCTOR},
            {"role": "builder", "phase": "notes", "attempt": 1, "text": MISSING},
            {"role": "builder", "phase": "notes", "attempt": 2, "text": MISSING},
            {
                "role": "builder",
                "phase": "notes",
                "attempt": 3,
                "text": "docs/notes.md\n```\nHi\n```\n",
            },
        ]
    }
    plan = {**PLAN, "tiers": [{"tier_id": "d", "tier_index": 0, "name": "D", "phases": [NOTES]}]}
    engine, _, outcome = run_plan(plan, script)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert [a.outcome for a in engine.store.attempts(RUN, "notes")] == [
        "patch_apply_error",
        "patch_apply_error",
        "success",
    ]
    builder = _prompts(engine, "builder", "notes")
    assert len(builder) == 3 and all(
        "[mine, active] Send documentation files whole." in p for p in builder
    )
    (doctor,) = _prompts(engine, "doctor", "notes")
    assert "[mine, active] Send documentation files whole." in doctor
    rule = load_rules(data_dir / "learned_rules.yaml").get("mine")
    assert rule is not None
    assert (rule.status, rule.pinned, rule.helped, rule.missed) == (RuleStatus.ACTIVE, True, 1, 0)
    # Fixed after hints, but in one phase only: observed, nothing proposed.
    assert len(load_observations(data_dir / "rule_observations.jsonl")) == 1
    assert len(load_rules(data_dir / "learned_rules.yaml").rules) == 1


def test_a_malformed_rules_file_is_reported_and_injects_nothing(run_plan, project: Path) -> None:
    data_dir = project / ".autopack"
    data_dir.mkdir(exist_ok=True)
    bad = "rules:\n  - id: r-1\n    constraint: Always do X.\n    status: perhaps\n"
    (data_dir / "learned_rules.yaml").write_text(bad)
    plan = {**PLAN, "tiers": [PLAN["tiers"][3]]}  # readme: checks skipped, passes at once
    engine, lines, outcome = run_plan(plan, _script())
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    reported = [line for line in lines if "learning (learned_rules)" in line]
    assert len(reported) == 1 and "rules[0].status" in reported[0]
    assert not any("Always do X." in p for p in _prompts(engine, "builder", "readme"))
    assert (data_dir / "learned_rules.yaml").read_text() == bad
