"""The pure plan normaliser: structure, grounding, categories, complexity, CI, confidence."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autopack.spec import load_spec_data
from autopack.spec.normalize import (
    DEFAULT_MIN_CONFIDENCE,
    WEIGHTS,
    NormalizationResult,
    WorkspaceFacts,
    normalize_plan,
    slug,
)

CALC = WorkspaceFacts.build(
    ["pyproject.toml", "src/calc.py", "src/util/strings.py", "tests/test_calc.py", "docs/guide.md"],
    {"pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"},
)


def phases(result: NormalizationResult) -> list[dict]:
    return [p for t in result.data["tiers"] for p in t["phases"]]


def codes(result: NormalizationResult, phase: str | None = None) -> list[str]:
    return [w.code for w in result.warnings if phase is None or w.phase == phase]


def test_headings_are_phases_and_the_title_names_the_run() -> None:
    text = """# Division support

Users want to divide.

## Phase 1: Add `div` to `src/calc.py`
Raise ZeroDivisionError on zero.

## Phase 2: Tests for div
Create `tests/test_div.py`.

## Notes
Do not forget `src/legacy/old.py`.
"""
    result = normalize_plan(text, CALC)
    assert result.valid and result.spec is not None
    assert result.data["run_id"] == "division-support"
    assert result.data["goal"] == "Users want to divide."
    first, second = phases(result)
    assert first["phase_id"] == "add-div-to-src-calc-py"
    assert first["name"] == "Add div to src/calc.py"
    assert first["scope"]["paths"] == ["src/calc.py"]
    assert first["task_category"] == "feature_scaffolding"
    assert second["scope"]["paths"] == ["tests/test_div.py"]
    assert second["scope"]["deliverables"] == ["tests/test_div.py"]
    assert second["task_category"] == "tests"
    # The ignored "Notes" section's path is neither a phase nor a scope nor a warning.
    assert "src/legacy/old.py" not in str(result.data) and len(phases(result)) == 2
    assert codes(result, second["phase_id"]) == ["new_file"]
    assert result.confidence >= 0.9


def test_two_heading_levels_make_tiers() -> None:
    text = """# Plan
## Tier 1: Core
### Add div
Edit `src/calc.py`.
### Add pow
Edit `src/calc.py`.
## Tier 2: Docs
### Write the guide
Update `docs/guide.md`.
"""
    result = normalize_plan(text, CALC)
    tiers = result.data["tiers"]
    assert [(t["tier_id"], t["name"], len(t["phases"])) for t in tiers] == [
        ("core", "Core", 2),
        ("docs", "Docs", 1),
    ]
    assert tiers[1]["phases"][0]["task_category"] == "docs"
    assert [p["phase_index"] for p in tiers[0]["phases"]] == [0, 1]


def test_a_numbered_list_is_phases_with_their_indented_lines() -> None:
    text = """Fix the calculator.

1. Add `div` to src/calc.py
   - Complexity: complex
2. Write tests for div in tests/test_calc.py
"""
    result = normalize_plan(text, CALC, source_name="fix-plan")
    first, second = phases(result)
    assert result.data["run_id"] == "fix-plan"  # no title: the file name
    assert result.components["structure"] == 0.95
    assert first["complexity"] == "high"  # explicit, through the alias
    assert "Complexity: complex" in first["description"]
    assert second["task_category"] == "tests"
    assert second["scope"]["paths"] == ["tests/test_calc.py"]
    assert second["scope"]["deliverables"] == ["tests for div"]


def test_a_checklist_leaves_ticked_items_out() -> None:
    text = (
        "- [x] Set up pytest\n- [ ] Add div to `src/calc.py`\n"
        "- [ ] Document div in `docs/guide.md`\n"
    )
    result = normalize_plan(text, CALC)
    assert [p["name"] for p in phases(result)] == [
        "Add div to src/calc.py",
        "Document div in docs/guide.md",
    ]
    assert "done_item" in codes(result)
    assert phases(result)[1]["task_category"] == "docs"


def test_explicit_fields_are_read() -> None:
    text = """## Harden the string helpers
- Category: debt_cleanup
- Complexity: trivial
- Files: src/util/strings.py, `src/calc.py`
- Deliverables:
  - `src/util/strings.py` keeps its API
  - a changelog line
- Context: `docs/guide.md`
- Do not touch: `tests/test_calc.py`
- CI: `pytest -q tests`
"""
    (phase,) = phases(normalize_plan(text, CALC))
    assert phase["task_category"] == "debt_cleanup" and phase["complexity"] == "low"
    scope = phase["scope"]
    assert scope["paths"] == ["src/util/strings.py", "src/calc.py"]
    assert scope["deliverables"] == ["src/util/strings.py", "a changelog line"]
    assert scope["read_only_context"] == ["docs/guide.md"]
    assert scope["protected_paths"] == ["tests/test_calc.py"]
    assert scope["ci"] == {"type": "custom", "command": ["pytest", "-q", "tests"]}


def test_roles_from_the_words_before_a_path() -> None:
    text = (
        "## Add div\nAdd it to `src/calc.py`, like `src/util/strings.py`. "
        "Never modify `docs/guide.md`."
    )
    scope = phases(normalize_plan(text, CALC))[0]["scope"]
    assert scope["paths"] == ["src/calc.py"]
    assert scope["read_only_context"] == ["src/util/strings.py"]
    assert scope["protected_paths"] == ["docs/guide.md"]


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ("Add a div function", "feature_scaffolding"),
        ("Add tests for div", "tests"),
        ("Write the README", "docs"),
        ("Require a login before any change", "security_auth_change"),
        ("Check permissions of API keys", "security_auth_change"),
        ("Add a database migration for the schema", "schema_contract_change"),
        ("Expose div in the public API", "schema_contract_change"),
        ("Refactor the helpers", "debt_cleanup"),
        ("Refactor error handling across every module", "cross_cutting_refactor"),
        ("Clean up dead code", "debt_cleanup"),
        ("Vendor the third-party parser", "external_code_intake"),
    ],
)
def test_category_from_words(title: str, category: str) -> None:
    (phase,) = phases(normalize_plan(f"## {title}\nIn `src/calc.py`.", CALC))
    assert phase["task_category"] == category


def test_a_category_nothing_suggests_is_a_warned_guess() -> None:
    result = normalize_plan("## Calc\nIn `src/calc.py`.", CALC)
    assert phases(result)[0]["task_category"] == "feature_scaffolding"
    assert "category_guessed" in codes(result)
    assert result.components["categories"] == 0.4


def test_an_unknown_explicit_category_is_kept_with_a_warning() -> None:
    result = normalize_plan("## Bump deps\nCategory: dependency_upgrade\n`pyproject.toml`", CALC)
    assert phases(result)[0]["task_category"] == "dependency_upgrade"
    assert "unknown_category" in codes(result) and result.valid


@pytest.mark.parametrize(
    ("text", "complexity"),
    [
        ("## A small fix\nIn `src/calc.py`.", "low"),
        ("## A major rewrite\nOf `src/calc.py`.", "high"),
        ("## Change things\nIn `src/calc.py` and `tests/test_calc.py`.", "low"),
        ("## Change things\nIn `src/` and `tests/test_calc.py`.", "medium"),
        ("## Change things\nIn `src/`, `docs/` and `tests/`.", "high"),
    ],
)
def test_complexity_from_words_then_size(text: str, complexity: str) -> None:
    assert phases(normalize_plan(text, CALC))[0]["complexity"] == complexity


def test_grounding_of_each_kind_of_path() -> None:
    text = """## Work
Edit `src/calc.py` and `calc.py`; create `src/new_mod.py` and `lib/extra/x.py`;
also `/etc/passwd` and `../outside.py`.
"""
    result = normalize_plan(text, CALC)
    (phase,) = phases(result)
    assert phase["scope"]["paths"] == ["src/calc.py", "src/new_mod.py"]
    assert phase["scope"]["deliverables"] == ["src/new_mod.py"]
    by_code = {w.code: w.message for w in result.warnings}
    assert (
        "`lib/extra/x.py` does not exist and neither does its directory"
        in by_code["ungrounded_path"]
    )
    assert "new_file" in by_code and "invalid_path" in by_code
    # 1.0 + 0.9 (calc.py found by name, deduplicated) + 0.8 + 0 + 0 + 0
    assert result.components["grounding"] == pytest.approx((1.0 + 0.9 + 0.8) / 6, abs=1e-3)


def test_scope_from_words_when_no_path_is_named() -> None:
    result = normalize_plan("## Make the calculator divide\nSupport division.", CALC)
    (phase,) = phases(result)
    assert phase["scope"]["paths"] == ["src/calc.py"]
    (warning,) = [w for w in result.warnings if w.code == "inferred_scope"]
    assert warning.phase == phase["phase_id"] and "calculator" in warning.message
    assert result.components["grounding"] == 0.5


def test_a_tests_phase_gets_a_companion_test_file() -> None:
    result = normalize_plan("## Tests for the string helpers\n", CALC)
    (phase,) = phases(result)
    assert phase["scope"]["paths"] == ["src/util/strings.py", "tests/test_strings.py"]
    assert "tests/test_strings.py" in phase["scope"]["deliverables"]


def test_a_vague_plan_has_low_confidence_and_says_why() -> None:
    result = normalize_plan("Make it better and faster, somehow.", CALC)
    assert result.valid
    assert result.confidence < DEFAULT_MIN_CONFIDENCE
    assert result.components["structure"] == 0.3
    (phase,) = phases(result)
    assert phase["scope"]["paths"] == []
    assert {"no_scope", "category_guessed", "no_deliverables"} <= set(
        codes(result, phase["phase_id"])
    )
    assert all(w.phase == phase["phase_id"] for w in result.warnings)


def test_confidence_is_the_weighted_sum_of_its_components() -> None:
    result = normalize_plan("## Add div\nIn `src/calc.py`.", CALC)
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    expected = sum(WEIGHTS[k] * v for k, v in result.components.items())
    assert result.confidence == pytest.approx(expected, abs=1e-3)


def test_an_empty_plan_has_no_phase_and_does_not_validate() -> None:
    result = normalize_plan("   \n", CALC)
    assert not result.valid and result.confidence == 0.0
    assert "no_phases" in codes(result)
    assert any(issue.loc == "tiers" for issue in result.issues)


def test_ids_are_safe_unique_and_an_explicit_run_id_wins() -> None:
    assert slug("Phase 1: Add `div()` — to calc!") == "phase-1-add-div-to-calc"
    assert slug("???") == "plan" and len(slug("word " * 40)) <= 40
    result = normalize_plan("## Same\n`src/calc.py`\n## Same\n`src/calc.py`", CALC, run_id="r1")
    assert result.data["run_id"] == "r1"
    assert [p["phase_id"] for p in phases(result)] == ["same", "same-2"]


def test_an_invalid_explicit_run_id_is_reported_not_raised() -> None:
    result = normalize_plan("## A\n`src/calc.py`", CALC, run_id="bad id!")
    assert not result.valid and [i.loc for i in result.issues] == ["run_id"]


def test_the_document_round_trips_through_the_loader() -> None:
    result = normalize_plan("# T\n## Add div\n`src/calc.py`\n## Docs\n`docs/guide.md`", CALC)
    assert load_spec_data(result.data).spec == result.spec
    payload = result.to_dict()
    assert payload["valid"] and payload["spec"] == result.data
    assert set(payload["components"]) == set(WEIGHTS)


LINES = [
    "# T", "## Phase", "### Sub", "- [ ] item", "- [x] done", "1. step", "  - sub",
    "`src/calc.py`", "`../x`", "`/abs`", "Deliverables:", "Category: Docs!",
    "Complexity: hgh", "```", "CI: `npm test`", "plain words", "", "`a b`",
]  # fmt: skip


def _grounded(path: str) -> bool:
    parent = path.rstrip("/").rsplit("/", 1)[0] if "/" in path.rstrip("/") else ""
    return CALC.exists(path) or CALC.is_dir(parent)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES) | st.text(max_size=40), max_size=25))
def test_any_text_normalises_without_raising(lines: list[str]) -> None:
    result = normalize_plan("\n".join(lines), CALC)
    assert 0.0 <= result.confidence <= 1.0
    if result.data["tiers"]:
        assert result.valid, result.issues
        for phase in phases(result):
            assert all(_grounded(path) for path in phase["scope"]["paths"])
