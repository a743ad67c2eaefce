"""Normalising with refinement: the scripted model refines a vague plan, and what it says is
grounded again like the user's own text."""

from __future__ import annotations

import json

import pytest

from autopack.agents.errors import MalformedAnswerError
from autopack.agents.plan_refiner import build_refiner_messages, refine_plan
from autopack.agents.redaction import Redactor
from autopack.engine.planner import (
    PLANNER_ROLE,
    PlannerModel,
    connect_planner,
    normalize_with_refinement,
)
from autopack.llm.errors import AuthenticationError
from autopack.llm.scripted import ScriptedProvider
from autopack.policy.routing import Router
from autopack.spec.normalize import WorkspaceFacts, normalize_plan
from support.planner_script import REFINED, VAGUE_PLAN, planner_script

FACTS = WorkspaceFacts.build(
    ["calc.py", "pyproject.toml", "tests/test_calc.py"],
    {"pyproject.toml": "[tool.pytest.ini_options]\n"},
)
SECRET = "sk-ant-" + "x" * 30


def _connect(provider: ScriptedProvider, redactor: Redactor | None = None):
    def connect() -> PlannerModel:
        return connect_planner(
            Router.load(), lambda _model: provider, redactor or Redactor(), max_output_tokens=4096
        )

    return connect


def _phases(data: dict) -> list[dict]:
    return [p for t in data["tiers"] for p in t["phases"]]


def test_below_the_threshold_the_model_is_asked_once_and_its_paths_are_regrounded() -> None:
    provider = ScriptedProvider(planner_script())
    draft = normalize_plan(VAGUE_PLAN, FACTS)
    assert draft.confidence < 0.6
    result = normalize_with_refinement(VAGUE_PLAN, FACTS, connect=_connect(provider))
    assert len(provider.calls) == 1
    request = provider.calls[0]
    assert request.role == PLANNER_ROLE and request.model == "claude-haiku-4-5"
    assert result.refined and result.valid
    assert result.confidence > draft.confidence
    assert result.data["run_id"] == draft.data["run_id"]
    first, second = _phases(result.data)
    # The made-up path is a warning, never scope; the new test file is grounded by tests/.
    assert first["scope"]["paths"] == ["calc.py"]
    assert "src/validation/checks.py" not in str(first["scope"])
    ungrounded = [w for w in result.warnings if w.code == "ungrounded_path"]
    assert [w.phase for w in ungrounded] == [first["phase_id"]]
    assert "src/validation/checks.py" in ungrounded[0].message
    assert second["scope"]["paths"] == ["tests/test_validation.py"]
    assert [t["name"] for t in result.data["tiers"]] == ["Plan", "Tests"]
    assert result.warnings[0].code == "refined"
    assert result.components["structure"] == 0.9 and result.components["categories"] == 0.9


def test_above_the_threshold_no_model_is_connected() -> None:
    def connect() -> PlannerModel:
        raise AssertionError("the model must not be asked")

    result = normalize_with_refinement("## Add div\nIn `calc.py`.\n", FACTS, connect=connect)
    assert not result.refined and result.confidence >= 0.6


def test_without_a_model_the_draft_is_returned_with_a_warning() -> None:
    result = normalize_with_refinement(VAGUE_PLAN, FACTS, connect=None)
    assert not result.refined and result.valid
    assert result.warnings[-1].code == "refinement_skipped"


def test_an_unreachable_model_keeps_the_draft() -> None:
    def connect() -> PlannerModel:
        raise AuthenticationError("no API key", code="missing_api_key", provider="anthropic")

    result = normalize_with_refinement(VAGUE_PLAN, FACTS, connect=connect)
    assert not result.refined
    assert result.warnings[-1].code == "refinement_failed"
    assert "missing_api_key" in result.warnings[-1].message


def test_an_unusable_answer_gets_one_follow_up_then_the_draft_is_kept() -> None:
    provider = ScriptedProvider(planner_script("no json here", '{"phases": []}'))
    result = normalize_with_refinement(VAGUE_PLAN, FACTS, connect=_connect(provider))
    assert len(provider.calls) == 2
    assert "could not be read as JSON" in provider.calls[1].messages[-1].content
    assert not result.refined and result.warnings[-1].code == "refinement_failed"


def test_a_worse_refinement_is_discarded() -> None:
    worse = {"phases": [{"name": "Somewhere", "scope_paths": ["nowhere/x.py"]}]}
    provider = ScriptedProvider(planner_script(worse))
    result = normalize_with_refinement(
        VAGUE_PLAN, FACTS, connect=_connect(provider), min_confidence=0.99
    )
    assert not result.refined
    assert result.warnings[-1].code == "refinement_discarded"


def test_an_unknown_category_from_the_model_is_reinferred() -> None:
    answer = {"phases": [{"name": "Tests for calc", "task_category": "qa", "scope_paths": []}]}
    provider = ScriptedProvider(planner_script(answer))
    draft = normalize_plan(VAGUE_PLAN, FACTS)
    result = refine_plan(_call(provider), VAGUE_PLAN, draft, FACTS, redactor=Redactor())
    (phase,) = _phases(result.data)
    assert phase["task_category"] == "tests"
    assert "category_rejected" in [w.code for w in result.warnings]


def _call(provider: ScriptedProvider):
    planner = connect_planner(Router.load(), lambda _m: provider, Redactor(), max_output_tokens=512)
    return planner.call


def test_prompts_are_redacted_and_the_file_list_is_bounded() -> None:
    facts = WorkspaceFacts.build([f"src/m{n}.py" for n in range(50)])
    plan = f"Use key {SECRET} to call the service.\n"
    draft = normalize_plan(plan, facts)
    messages = build_refiner_messages(plan, draft, facts, redactor=Redactor(), max_files=10)
    text = "\n".join(m.content for m in messages)
    assert SECRET not in text and "[REDACTED:anthropic_key]" in text
    assert "Workspace files (10 of 50, the rest omitted)" in text
    assert "src/m17.py" in text and "src/m18.py" not in text  # the first ten, sorted
    assert "task_category" in messages[0].content and "security_auth_change" in messages[0].content


def test_the_answer_is_read_from_a_fenced_block() -> None:
    provider = ScriptedProvider(planner_script(f"Here:\n```json\n{json.dumps(REFINED)}\n```\n"))
    result = normalize_with_refinement(VAGUE_PLAN, FACTS, connect=_connect(provider))
    assert result.refined and len(_phases(result.data)) == 2


def test_malformed_twice_raises_from_the_refiner() -> None:
    provider = ScriptedProvider(planner_script("nope", "still nope"))
    draft = normalize_plan(VAGUE_PLAN, FACTS)
    with pytest.raises(MalformedAnswerError):
        refine_plan(_call(provider), VAGUE_PLAN, draft, FACTS, redactor=Redactor())
