"""Loading the three accepted shapes, legacy keys and filled-in fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopack.spec import (
    Complexity,
    DeliverableKind,
    LoadedSpec,
    SafetyProfile,
    SpecShape,
    load_spec,
    load_spec_data,
    load_spec_text,
)
from spec.spec_helpers import EXAMPLES, example_files

EXPECTED_SHAPES = {
    "nested-feature.yaml": (SpecShape.NESTED, "yaml"),
    "nested-api-contract.json": (SpecShape.NESTED, "json"),
    "flat-supervisor.json": (SpecShape.FLAT, "json"),
    "plan-phases-id.yaml": (SpecShape.PHASES_ONLY, "yaml"),
    "plan-phases-phase-id.json": (SpecShape.PHASES_ONLY, "json"),
}


def test_every_example_is_listed_here_and_in_the_readme() -> None:
    names = {p.name for p in example_files()}
    assert names == set(EXPECTED_SHAPES)
    readme = (EXAMPLES / "README.md").read_text()
    for name in names:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_examples_load_with_their_shape(path: Path) -> None:
    loaded = load_spec(path)
    assert isinstance(loaded, LoadedSpec)
    assert (loaded.shape, loaded.format) == EXPECTED_SHAPES[path.name]
    assert loaded.source == str(path)
    assert loaded.spec.phases()


def test_examples_cover_high_risk_and_unknown_categories() -> None:
    categories = {p.task_category for f in example_files() for p in load_spec(f).spec.phases()}
    assert "schema_contract_change" in categories
    assert {"dependency_upgrade", "config_change"} <= categories


def test_nested_legacy_keys_are_mapped() -> None:
    spec = load_spec(EXAMPLES / "nested-feature.yaml").spec
    assert [t.name for t in spec.tiers] == ["Core model and storage", "Command line and docs"]
    assert [t.tier_id for t in spec.tiers] == ["tier-0", "tier-1"]
    first = spec.tiers[0].phases[0]
    assert first.name == "Add an optional due date to Task"
    assert first.complexity is Complexity.MEDIUM  # "moderate"
    assert spec.tiers[0].phases[1].complexity is Complexity.LOW  # "simple"
    assert [(c.path, c.reason) for c in first.scope.read_only_context] == [
        ("src/tasklite/cli.py", None),
        ("tests/test_store.py", "shows how the store is exercised today"),
    ]
    tests_phase = spec.tiers[0].phases[1]
    assert [(d.target, d.kind) for d in tests_phase.scope.deliverables] == [
        ("tests/test_due_dates.py", DeliverableKind.TESTS)
    ]


def test_flat_shape_groups_phases_by_tier_id() -> None:
    loaded = load_spec(EXAMPLES / "flat-supervisor.json")
    spec = loaded.spec
    assert spec.run_id == "tasklite-export-csv"
    assert spec.run_scope == "tasklite package, its tests and README only"
    assert spec.max_duration_minutes == 60
    assert [(t.tier_id, [p.phase_id for p in t.phases]) for t in spec.tiers] == [
        ("T1", ["csv-export", "csv-import"]),
        ("T2", ["csv-roundtrip-tests", "csv-docs"]),
    ]
    assert spec.tiers[0].phases[1].complexity is Complexity.HIGH  # "complex"
    assert spec.tiers[0].phases[0].builder_mode == "edit"


def test_flat_shape_without_run_key_reads_run_fields_from_the_top() -> None:
    text = json.dumps(
        {
            "run_id": "r",
            "token_cap": 10,
            "tiers": [{"tier_id": "A", "tier_index": 0, "name": "a"}],
            "phases": [{"phase_id": "p", "name": "p"}],
        }
    )
    loaded = load_spec_text(text)
    assert loaded.shape is SpecShape.FLAT
    assert loaded.spec.token_cap == 10
    assert loaded.spec.tiers[0].phases[0].phase_index == 0  # single tier: tier_id optional


def test_phases_only_with_id_and_goal() -> None:
    loaded = load_spec(EXAMPLES / "plan-phases-id.yaml")
    spec = loaded.spec
    assert spec.goal == "Make tasklite run and test cleanly on Python 3.12."  # "description"
    (tier,) = spec.tiers
    assert (tier.tier_id, tier.tier_index) == ("main", 0)
    assert [p.phase_index for p in tier.phases] == [0, 1, 2]
    fix = tier.phases[1]
    assert fix.name == "Replace datetime.utcnow() and other APIs deprecated in 3.12."
    assert fix.description == (
        "Replace datetime.utcnow() and other APIs deprecated in 3.12.\n\n"
        "Run the tests with -W error::DeprecationWarning and fix every warning."
    )
    assert fix.scope.ci is not None
    assert fix.scope.ci.command == [
        "python",
        "-m",
        "pytest",
        "-W",
        "error::DeprecationWarning",
        "-q",
    ]
    assert tier.phases[2].scope.paths == [".github/workflows/tests.yml"]  # scope as a list


def test_phases_only_names_fall_back_to_goal_then_id() -> None:
    long_goal = "word " * 40
    spec = load_spec_data(
        {"run_id": "r", "phases": [{"id": 7}, {"id": "b", "goal": long_goal}]}
    ).spec
    first, second = spec.phases()
    assert (first.phase_id, first.name) == ("7", "7")  # YAML/JSON numbers become ids
    assert len(second.name) <= 80 and second.name.endswith("...")


def test_indices_fill_from_previous_and_order_follows_indices() -> None:
    spec = load_spec_data(
        {
            "run_id": "r",
            "tiers": [
                {
                    "tier_index": 5,
                    "phases": [{"phase_id": "x", "phase_index": 2}, {"phase_id": "y"}],
                },
                {"tier_index": 1, "phases": [{"phase_id": "z"}]},
            ],
        }
    ).spec
    assert [t.tier_index for t in spec.tiers] == [1, 5]  # sorted by tier_index
    assert [(p.phase_id, p.phase_index) for p in spec.tiers[1].phases] == [("x", 2), ("y", 3)]


def test_phase_order_inside_a_tier_follows_phase_index() -> None:
    spec = load_spec_data(
        {
            "run_id": "r",
            "phases": [{"id": "second", "phase_index": 1}, {"id": "first", "phase_index": 0}],
        }
    ).spec
    assert [p.phase_id for p in spec.phases()] == ["first", "second"]


def test_equal_values_under_two_spellings_are_accepted() -> None:
    spec = load_spec_data(
        {"run_id": "r", "phases": [{"id": "a", "phase_id": "a", "name": "n", "task_name": "n"}]}
    ).spec
    assert spec.phases()[0].name == "n"


def test_safety_profile_and_budgets_from_nested_json() -> None:
    spec = load_spec(EXAMPLES / "nested-api-contract.json").spec
    assert spec.safety_profile is SafetyProfile.SAFETY_CRITICAL
    assert (spec.token_cap, spec.max_phases, spec.max_duration_minutes) == (900_000, 5, 180)
    contract = spec.tiers[0].phases[0]
    assert contract.approval_required is True
    assert contract.scope.protected_paths == ["src/tasklite/api/v1.py", "openapi/v1.yaml"]


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"run_id": "r", "phases": [{"id": "a"}]}', None),
        ("run_id: r\nphases:\n  - id: a\n", None),
        ("{run_id: r, phases: [{id: a}]}", None),  # YAML flow mapping that looks like JSON
        ('{"run_id": "r", "phases": [{"id": "a"}]}', "yaml"),
    ],
)
def test_text_formats_are_sniffed(text: str, fmt: str | None) -> None:
    loaded = load_spec_text(text, fmt=fmt)  # type: ignore[arg-type]
    assert loaded.spec.phases()[0].phase_id == "a"


def test_file_without_known_suffix_is_sniffed(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    plan.write_text("run_id: r\nphases: [{id: a}]\n", encoding="utf-8")
    assert load_spec(plan).format == "yaml"


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_bytes('\ufeff{"run_id": "r", "phases": [{"id": "a"}]}'.encode())
    assert load_spec(plan).spec.run_id == "r"
