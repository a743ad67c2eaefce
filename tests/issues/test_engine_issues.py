"""Issue tracking in real runs (scripted model, real git, real pytest): what an attempt
records, the files under the run's artifacts, resolution at the run's end, tiers that end
NOT_CLEAN, and the major-issue cap."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from autopack.engine import execute_run
from autopack.policy.states import PhaseState, RunState, TierState
from support.engine_script import APPROVE, GOOD_MUL, PLAN, script
from support.sample_project import FAILING_TEST_CALC, SUB_TEST

STYLE_KEY = "file:calc.py#style"
MINOR_STYLE = json.dumps(
    {
        "approved": True,
        "issues": [
            {
                "severity": "minor",
                "category": "style",
                "description": "mul has no docstring",
                "file": "calc.py",
            }
        ],
        "summary": "fine, one nit",
    }
)


def _answers(**auditor_by_phase: str) -> dict[str, Any]:
    answers = script()
    per_phase = [
        {"role": "auditor", "phase": phase, "text": text}
        for phase, text in auditor_by_phase.items()
    ]
    answers["answers"] = per_phase + answers["answers"]
    return answers


def _straight(answers: dict[str, Any]) -> dict[str, Any]:
    """mul-default right the first time (safety_critical gives fewer attempts)."""
    kept = [
        a for a in answers["answers"] if a.get("phase") != "mul-default" or a["role"] != "builder"
    ]
    kept.append({"role": "builder", "phase": "mul-default", "text": GOOD_MUL})
    return {"answers": kept}


def _plan(**changes: Any) -> dict[str, Any]:
    plan = copy.deepcopy(PLAN)
    plan.update(changes)
    return plan


def _issues_dir(engine):
    return engine.settings.data_dir / "runs" / "calc-run" / "issues"


def test_a_run_records_mirrors_resolves_and_leaves_a_tier_not_clean(make_engine) -> None:
    engine = make_engine(_answers(**{"mul-default": MINOR_STYLE}), auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    store = engine.store

    # Level 1: the phase's file, with the check failures of attempts 2 and 3 and the nit.
    phase_file = json.loads((_issues_dir(engine) / "mul-default.json").read_text())
    found = {i["issue_key"]: i for i in phase_file["issues"]}
    assert phase_file["tier_id"] == "core"
    assert set(found) == {f"test:{SUB_TEST}", f"test:{FAILING_TEST_CALC}", STYLE_KEY}
    assert found[f"test:{SUB_TEST}"]["severity"] == "major"  # the change broke it
    assert found[f"test:{FAILING_TEST_CALC}"]["severity"] == "minor"  # fails on base too
    assert found[f"test:{FAILING_TEST_CALC}"]["occurrences"] == 2  # attempts 2 and 3
    assert found[STYLE_KEY]["source"] == "auditor" and "docstring" in found[STYLE_KEY]["title"]
    assert not (_issues_dir(engine) / "readme.json").exists()  # no checks, clean review

    # Level 2: the run index, de-duplicated over mul-default and div.
    index = json.loads((_issues_dir(engine) / "index.json").read_text())
    entries = {i["issue_key"]: i for i in index["issues"]}
    assert entries[f"test:{FAILING_TEST_CALC}"]["phases"] == ["mul-default", "div"]
    assert entries[f"test:{FAILING_TEST_CALC}"]["tiers"] == ["core", "api"]
    markdown = (_issues_dir(engine) / "index.md").read_text()
    assert "3 issue(s): 1 major, 2 minor." in markdown and f"`test:{SUB_TEST}`" in markdown

    # Resolution at the run's end: test_sub passed after it broke; div committed calc.py
    # with passing checks and no style finding. The known failure still fails.
    backlog = {i.issue_key: i for i in store.issue_backlog(status="all")}
    assert backlog[f"test:{SUB_TEST}"].status == "resolved"
    assert backlog[f"test:{SUB_TEST}"].resolved_by_run == "calc-run"
    assert backlog[STYLE_KEY].status == "resolved"
    assert entries[f"test:{SUB_TEST}"]["backlog_status"] == "resolved"

    # Level 3 and tier cleanliness: the known failure, seen in two tiers, needs cleanup
    # (normal: 2 tiers); the api tier recorded it, so it ends NOT_CLEAN; core was clean then.
    known = backlog[f"test:{FAILING_TEST_CALC}"]
    assert (known.status, known.age_in_runs, known.age_in_tiers) == ("needs_cleanup", 1, 2)
    tiers = {t.tier_id: t.state for t in store.get_run("calc-run").tiers}
    assert tiers == {"core": TierState.COMPLETE, "api": TierState.NOT_CLEAN}
    tier_events = store.events("calc-run", entity="tier", key="api")
    assert "1 issue(s) need cleanup" in tier_events[-1].reason
    snapshot = (_issues_dir(engine) / "backlog.md").read_text()
    assert f"`test:{FAILING_TEST_CALC}`" in snapshot and "## Resolved by this run" in snapshot
    assert f"- `test:{SUB_TEST}`" in snapshot


@pytest.mark.parametrize("project", [False], indirect=True)
def test_safety_critical_minor_issue_makes_its_tier_not_clean(make_engine) -> None:
    plan = _plan(safety_profile="safety_critical")
    answers = _straight(_answers(**{"mul-default": MINOR_STYLE, "div": MINOR_STYLE}))
    engine = make_engine(answers, plan=plan, auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    issue = engine.store.backlog_issue(STYLE_KEY).issue
    assert (issue.status, issue.age_in_runs, issue.age_in_tiers) == ("needs_cleanup", 1, 2)
    tiers = {t.tier_id: t.state for t in engine.store.get_run("calc-run").tiers}
    assert tiers == {"core": TierState.NOT_CLEAN, "api": TierState.NOT_CLEAN}


@pytest.mark.parametrize("project", [False], indirect=True)
def test_a_clean_run_keeps_its_tiers_complete(make_engine) -> None:
    engine = make_engine(_answers(readme=APPROVE), auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    tiers = {t.tier_id: t.state for t in engine.store.get_run("calc-run").tiers}
    assert tiers == {"core": TierState.COMPLETE, "api": TierState.COMPLETE}
    # test_sub broke in attempt 2 and passed in attempt 3: recorded, then resolved.
    assert engine.store.run_issue_counts("calc-run") == {"major": 1, "minor": 0}
    assert engine.store.issue_backlog() == []
    index = json.loads((_issues_dir(engine) / "index.json").read_text())
    assert [i["backlog_status"] for i in index["issues"]] == ["resolved"]


def test_major_issue_cap_stops_the_run_for_review(make_engine) -> None:
    engine = make_engine(plan=_plan(max_major_issues=1), auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW
    assert "major-issue cap reached (1 of 1)" in outcome.reason
    tries = engine.store.attempts("calc-run", "mul-default")
    assert [a.outcome for a in tries] == ["patch_apply_error", "ci_fail"]  # no 3rd attempt
    run = engine.store.get_run("calc-run")
    assert next(p for p in run.phases if p.phase_id == "mul-default").state == PhaseState.FAILED
    assert run.tiers[0].state == TierState.BLOCKED
    assert engine.store.backlog_issue(f"test:{SUB_TEST}").issue.status == "open"
    assert (_issues_dir(engine) / "backlog.md").is_file()


def test_without_a_cap_the_same_run_goes_on(make_engine) -> None:
    engine = make_engine(plan=_plan(max_major_issues=2), auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
