"""Several plans at once on the sample project, then the merge queue (scripted model, real git)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.engine import Engine, EngineOptions
from autopack.engine.parallel_runs import BatchOptions, run_batch
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.engine_script import APPROVE, DIV, GOOD_MUL
from support.gitrepo import git, worktree_paths

SWAPPED_MUL = (
    "calc.py\n<<<<<<< SEARCH\ndef mul(a, b):\n    return a * b\n=======\n"
    "def mul(a, b):\n    return b * a\n>>>>>>> REPLACE\n"
)
REQUIRES_B = (
    "tests/test_mul_required.py\n```\nimport pytest\n\nfrom calc import mul\n\n\n"
    "def test_mul_needs_two_arguments():\n    with pytest.raises(TypeError):\n        mul(2)\n```\n"
)
ANSWERS = {"a-mul": GOOD_MUL, "b-div": DIV, "c-mul": SWAPPED_MUL, "e-test": REQUIRES_B}
HISTORY = "docs/BUILD_HISTORY.md"


def plan(run_id: str, phase_id: str, path: str = "calc.py") -> dict[str, Any]:
    phase = {
        "phase_id": phase_id,
        "phase_index": 0,
        "name": f"change {path}",
        "task_category": "feature_scaffolding",
        "complexity": "low",
        "scope": {"paths": [path]},
    }
    tier = {"tier_id": "t", "tier_index": 0, "name": "T", "phases": [phase]}
    return {"run_id": run_id, "goal": f"{phase_id}", "token_cap": 200_000, "tiers": [tier]}


@pytest.fixture
def batch_engine(project: Path, tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """An engine on the sample project with the given plans stored, and a target branch."""
    stores: list[Store] = []
    git(project, "branch", "integration", "main")

    def factory(*plans: dict[str, Any]) -> Engine:
        answers = [{"role": "builder", "phase": p, "text": t} for p, t in ANSWERS.items()]
        script = tmp_path / "script.yaml"
        script.write_text(yaml.safe_dump({"answers": [*answers, {"text": APPROVE}]}))
        settings = load_settings(workspace=project)
        store = Store.open(settings)
        stores.append(store)
        engine = Engine(settings, store, EngineOptions(scripted=script))
        for data in plans:
            loaded = load_spec_data(data)
            compiled = engine.strategy.compile_run(loaded.spec)
            store.create_run(loaded.spec, compiled, shape=loaded.shape)
        return engine

    yield factory
    for store in stores:
        store.close()


def rev_list(repo: Path, ref: str) -> list[str]:
    return git(repo, "rev-list", "--reverse", ref).split()


def test_three_overlapping_plans_two_land_and_the_conflict_is_reported(
    batch_engine: Callable[..., Engine], project: Path
) -> None:
    engine = batch_engine(
        plan("par-a", "a-mul"), plan("par-b", "b-div"), plan("par-c", "c-mul")
    )  # all three change calc.py; a and c change the same lines
    before = rev_list(project, "integration")
    messages: list[str] = []

    report = run_batch(
        engine,
        ["par-a", "par-b", "par-c"],
        BatchOptions(max_concurrent=3, target="integration"),
        notify=messages.append,
    )

    lines = {r.run_id: r for r in report.runs}
    assert [r.state for r in report.runs] == ["DONE_SUCCESS"] * 3
    assert [lines[r].landing for r in ("par-a", "par-b", "par-c")] == [
        "landed",
        "landed",
        "conflict",
    ]
    assert lines["par-c"].conflicts == ["calc.py"]
    assert "calc.py" in lines["par-c"].landing_reason
    assert "c-mul" in lines["par-c"].landing_reason  # the phase whose commit conflicted
    # The target: its previous commits, then a's two commits as they are, then b's rebased.
    a_commits = git(project, "rev-list", "--reverse", "main..autonomous/par-a").split()
    assert lines["par-a"].commits == a_commits
    after = rev_list(project, "integration")
    assert after == before + lines["par-a"].commits + lines["par-b"].commits
    assert len(lines["par-b"].commits) == 2
    subjects = git(project, "log", "--reverse", "--format=%s", "main..integration").splitlines()
    assert subjects[1::2] == [f"docs: build history entry for run par-{x}" for x in "ab"]
    calc = git(project, "show", "integration:calc.py")
    assert "def div(a, b):" in calc and "def mul(a, b=1):" in calc and "b * a" not in calc
    history = git(project, "show", f"integration:{HISTORY}")
    assert "run `par-a`" in history and "run `par-b`" in history and "par-c" not in history
    assert git(project, "rev-parse", "main").strip() == before[-1]  # the user's branch
    # Finished runs' worktrees are gone; their branches stay for review.
    assert worktree_paths(project) == [str(project)]
    assert set(report.removed_worktrees) == {"par-a", "par-b", "par-c"}
    assert git(project, "rev-parse", "--verify", "autonomous/par-c").strip()
    # Totals add up to the store's numbers.
    runs = [engine.store.get_run(r) for r in ("par-a", "par-b", "par-c")]
    assert report.totals.tokens_used == sum(r.tokens_used for r in runs) > 0
    cost = sum((engine.store.total_cost(r.run_id) for r in runs), Decimal(0))
    assert report.totals.cost_usd == cost
    assert (report.totals.runs, report.totals.succeeded) == (3, 3)
    assert (report.totals.landed, report.totals.not_landed) == (2, 1)
    assert report.totals.phases_complete == 3 == report.totals.phase_count
    assert report.totals.run_seconds == pytest.approx(
        sum(r.duration_seconds for r in lines.values())
    )
    assert not report.ok
    folder = engine.settings.data_dir / "batches" / report.batch_id
    saved = json.loads((folder / "report.json").read_text())
    assert [r["landing"] for r in saved["runs"]] == ["landed", "landed", "conflict"]
    assert saved["totals"]["tokens_used"] == report.totals.tokens_used
    markdown = (folder / "report.md").read_text()
    assert "| `par-c` | DONE_SUCCESS | 1/1 |" in markdown and "`calc.py`" in markdown
    assert any(m.startswith("[par-c] conflict") for m in messages)


def test_a_run_whose_checks_fail_after_the_rebase_does_not_land(
    batch_engine: Callable[..., Engine], project: Path
) -> None:
    # e adds a test that mul needs two arguments: true on the base, false once a lands.
    engine = batch_engine(
        plan("par-a", "a-mul"), plan("par-e", "e-test", "tests/test_mul_required.py")
    )

    report = run_batch(
        engine,
        ["par-a", "par-e"],
        BatchOptions(max_concurrent=1, target="integration"),
        notify=lambda m: None,
    )

    a, e = report.runs
    assert (a.state, e.state) == ("DONE_SUCCESS", "DONE_SUCCESS")
    assert (a.landing, e.landing) == ("landed", "checks_failed")
    assert "tests/test_mul_required.py::test_mul_needs_two_arguments" in e.landing_reason
    assert git(project, "rev-parse", "integration").strip() == a.commits[-1]
    show = git(project, "ls-tree", "-r", "--name-only", "integration")
    assert "tests/test_mul_required.py" not in show
    assert worktree_paths(project) == [str(project)]


def test_no_merge_runs_only_and_a_second_batch_lands_what_ended(
    batch_engine: Callable[..., Engine], project: Path
) -> None:
    engine = batch_engine(plan("par-b", "b-div"))
    before = git(project, "rev-parse", "integration")
    report = run_batch(
        engine, ["par-b"], BatchOptions(merge=False, target="integration"), notify=lambda m: None
    )
    assert report.ok and report.runs[0].landing == "not_merged" and report.target is None
    assert git(project, "rev-parse", "integration") == before
    messages: list[str] = []

    again = run_batch(engine, ["par-b"], BatchOptions(target="integration"), notify=messages.append)

    assert again.ok and again.runs[0].landing == "landed"
    assert "[par-b] ended already (DONE_SUCCESS)" in messages  # not executed twice
    assert git(project, "rev-parse", "integration") == git(project, "rev-parse", "autonomous/par-b")
