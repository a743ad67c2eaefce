"""The shipped markdown plans normalise, against the demo's sample project, into valid specs
whose every scope path is grounded; the category table matches the packaged strategy."""

from __future__ import annotations

import posixpath
from importlib import resources
from pathlib import Path

import pytest
import yaml

from autopack.demo import make_project
from autopack.spec import load_spec_text
from autopack.spec.normalize import KNOWN_CATEGORIES, normalize_plan
from autopack.workspace.facts import gather_facts
from spec.spec_helpers import EXAMPLES

MARKDOWN_PLANS = sorted(p for p in EXAMPLES.glob("*.md") if p.name != "README.md")


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("demo"))


def test_at_least_three_markdown_plans_are_shipped_and_documented() -> None:
    assert len(MARKDOWN_PLANS) >= 3
    readme = (EXAMPLES / "README.md").read_text()
    for plan in MARKDOWN_PLANS:
        assert f"`{plan.name}`" in readme


@pytest.mark.parametrize("plan", MARKDOWN_PLANS, ids=lambda p: p.name)
def test_each_markdown_plan_gives_a_valid_grounded_spec(plan: Path, sample_project: Path) -> None:
    result = normalize_plan(plan.read_text(), gather_facts(sample_project), source_name=plan.stem)
    assert result.valid, result.issues
    assert result.confidence >= 0.8, result.components
    spec = result.spec
    assert spec is not None and len(spec.phases()) >= 3
    for phase in spec.phases():
        assert phase.scope.paths, phase.phase_id
        for path in phase.scope.paths:
            target = sample_project / path
            assert target.exists() or target.parent.is_dir(), (phase.phase_id, path)
        assert phase.scope.ci is not None and phase.scope.ci.type == "pytest"
    for warning in result.warnings:
        assert warning.code in {"new_file", "no_deliverables", "done_item"}, str(warning)
    # The YAML the CLI writes loads back to the same spec.
    reloaded = load_spec_text(yaml.safe_dump(result.data, sort_keys=False), fmt="yaml").spec
    assert reloaded == spec


def test_known_categories_are_the_strategy_categories() -> None:
    packaged = resources.files("autopack.config").joinpath("strategy.yaml").read_text()
    assert set(KNOWN_CATEGORIES) == set(yaml.safe_load(packaged)["categories"])


def test_feature_plan_reads_tiers_protected_paths_and_categories(sample_project: Path) -> None:
    text = (EXAMPLES / "calc-feature-plan.md").read_text()
    spec = normalize_plan(text, gather_facts(sample_project)).spec
    assert spec is not None
    assert [t.name for t in spec.tiers] == ["Core", "Tests and docs"]
    by_id = {p.phase_id: p for p in spec.phases()}
    tests = by_id["tests-for-division-and-power"]
    assert tests.task_category == "tests" and tests.scope.protected_paths == ["tests/test_calc.py"]
    assert by_id["document-the-calculator"].task_category == "docs"
    assert [posixpath.basename(d.target) for d in tests.scope.deliverables] == ["test_div_pow.py"]
