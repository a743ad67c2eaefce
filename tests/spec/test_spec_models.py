"""The models on their own: direct construction, paths, aliases, CI settings, schema, API."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

import autopack.spec as spec_pkg
from autopack.spec import (
    CiSpec,
    Complexity,
    PhaseSpec,
    RunSpec,
    Scope,
    normalize_rel_path,
    run_spec_schema,
    run_spec_schema_json,
)


def _run(*phases: dict[str, object]) -> dict[str, object]:
    return {
        "run_id": "r",
        "tiers": [{"tier_id": "t", "tier_index": 0, "name": "t", "phases": list(phases)}],
    }


def test_direct_construction_still_rejects_duplicates_with_every_location() -> None:
    with pytest.raises(ValidationError) as info:
        RunSpec.model_validate(
            _run(
                {"phase_id": "a", "phase_index": 0, "name": "a"},
                {"phase_id": "a", "phase_index": 0, "name": "b"},
            )
        )
    text = str(info.value)
    assert (
        "tiers[0].phases[1].phase_id: duplicate phase id 'a' (also used by tiers[0].phases[0])"
        in text
    )
    assert "tiers[0].phases[1].phase_index: duplicate phase index 0 in tier 't'" in text


def test_phases_are_in_execution_order() -> None:
    spec = RunSpec.model_validate(
        {
            "run_id": "r",
            "tiers": [
                {
                    "tier_id": "a",
                    "tier_index": 0,
                    "name": "a",
                    "phases": [{"phase_id": "1", "phase_index": 0, "name": "x"}],
                },
                {
                    "tier_id": "b",
                    "tier_index": 1,
                    "name": "b",
                    "phases": [{"phase_id": "2", "phase_index": 0, "name": "y"}],
                },
            ],
        }
    )
    assert [p.phase_id for p in spec.phases()] == ["1", "2"]


@pytest.mark.parametrize(
    ("alias", "expected"),
    [("Trivial", Complexity.LOW), ("normal", Complexity.MEDIUM), (" hard ", Complexity.HIGH)],
)
def test_complexity_aliases(alias: str, expected: Complexity) -> None:
    phase = PhaseSpec(phase_id="p", phase_index=0, name="n", complexity=alias)  # type: ignore[arg-type]
    assert phase.complexity is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("src/", "src/"), ("./src//pkg/./mod.py", "src/pkg/mod.py"), ("a\\b", "a/b"), (".", ".")],
)
def test_paths_are_normalised(raw: str, expected: str) -> None:
    assert normalize_rel_path(raw) == expected


@pytest.mark.parametrize(
    "raw", ["/abs", "../up", "a/../../b", "C:/x", "~/x", "a\\..\\b", " ", "a\x00b"]
)
def test_escaping_paths_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="path"):
        normalize_rel_path(raw)


def test_ci_rules() -> None:
    assert CiSpec(type="custom", command="make check 'A B'").command == ["make", "check", "A B"]  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs a 'command'"):
        CiSpec(type="custom")
    with pytest.raises(ValidationError, match="needs a 'reason'"):
        CiSpec(skip=True)
    with pytest.raises(ValidationError, match="cannot split command"):
        CiSpec(type="custom", command="echo 'unbalanced")  # type: ignore[arg-type]


def test_scope_accepts_short_forms_directly() -> None:
    scope = Scope.model_validate(
        {"read_only_context": ["a.py"], "deliverables": {"docs": "README.md"}}
    )
    assert scope.read_only_context[0].path == "a.py"
    assert scope.deliverables[0].kind == "docs"


def test_models_are_frozen() -> None:
    phase = PhaseSpec(phase_id="p", phase_index=0, name="n")
    with pytest.raises(ValidationError):
        phase.name = "other"  # type: ignore[misc]


def test_schema_documents_the_legacy_keys() -> None:
    schema = run_spec_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["title"] == "Autopack run specification"
    assert "tiers" in schema["required"] and "run_id" in schema["required"]
    phase = schema["$defs"]["PhaseSpec"]["properties"]
    assert "task_name" in phase["name"]["description"]
    assert "'id'" in phase["phase_id"]["description"]
    assert "goal" in phase["description"]["description"]
    assert "tier_name" in schema["$defs"]["TierSpec"]["properties"]["name"]["description"]
    assert "description" in schema["properties"]["goal"]["description"]
    assert "simple/trivial/easy" in phase["complexity"]["description"]
    assert "flat shape" in schema["$comment"]
    assert json.loads(run_spec_schema_json()) == schema


def test_public_api_is_curated() -> None:
    assert sorted(spec_pkg.__all__) == spec_pkg.__all__
    for name in spec_pkg.__all__:
        assert getattr(spec_pkg, name) is not None
    assert {"load_spec", "SpecError", "SpecIssue", "RunSpec", "SpecShape", "LoadedSpec"} <= set(
        spec_pkg.__all__
    )
