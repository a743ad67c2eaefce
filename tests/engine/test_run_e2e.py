"""`execute_run` end to end on a real repository with the scripted model."""

from __future__ import annotations

import copy

from autopack.engine import approve, execute_run, reject
from autopack.policy.states import PhaseState, RunState
from support.engine_script import PLAN, REJECT, script
from support.gitrepo import git


def _attempts(engine, phase_id: str):
    return engine.store.attempts("calc-run", phase_id)


HISTORY = "docs: build history entry for run calc-run"


def _branch_log(engine) -> list[str]:
    """Phase commits of the integration branch (the build-history entry left out)."""
    repo = engine.settings.workspace
    out = git(repo, "log", "--format=%s", "autonomous/calc-run", "--not", "main")
    return [line for line in out.strip().splitlines() if line != HISTORY]


def _history(engine) -> str:
    repo = engine.settings.workspace
    return git(repo, "show", "autonomous/calc-run:docs/BUILD_HISTORY.md")


def test_setbacks_then_success_in_demo_mode(make_engine) -> None:
    engine = make_engine(auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    run = engine.store.get_run("calc-run")
    assert [p.state for p in run.phases] == ["COMPLETE"] * 3
    tries = _attempts(engine, "mul-default")
    assert [a.outcome for a in tries] == ["patch_apply_error", "ci_fail", "success"]
    assert tries[0].builder_model != tries[2].builder_model  # escalated after two failures
    assert len(_branch_log(engine)) == 3  # one commit per phase
    head = git(engine.settings.workspace, "log", "-1", "--format=%s", "autonomous/calc-run")
    assert head.strip() == HISTORY  # the dated entry is the run's last commit
    entry = _history(engine)
    assert "run `calc-run`" in entry and "| `mul-default` |" in entry
    div = _attempts(engine, "div")
    assert [a.outcome for a in div] == ["awaiting_approval", "success"]
    assert engine.store.approvals(status="approved", run_id="calc-run")[0].decided_by == (
        "demo-auto-approve"
    )
    assert run.tokens_used > 0 and run.tokens_used == sum(
        c.tokens_in + c.tokens_out for c in engine.store.llm_calls("calc-run")
    )


def test_high_risk_phase_waits_then_approve_continues(make_engine) -> None:
    engine = make_engine()
    waiting = execute_run(engine, "calc-run", notify=lambda m: None)
    assert waiting.state == RunState.GATE
    run = engine.store.get_run("calc-run")
    assert {p.phase_id: p.state for p in run.phases}["div"] == PhaseState.PENDING_APPROVAL
    pending = engine.artifacts_dir("calc-run") / "phases" / "div" / "pending-approval.diff"
    assert "+def div(a, b):" in pending.read_text()
    assert len(_branch_log(engine)) == 2
    done = approve(engine, "calc-run", "div", by="alice", notify=lambda m: None)
    assert done.state == RunState.DONE_SUCCESS, done.reason
    assert len(_branch_log(engine)) == 3


def test_an_approval_is_applied_by_a_worker_without_the_saved_files(make_engine) -> None:
    """The waiting answer and its diff are stored with the approval: a worker on another
    machine (here: the files removed from the data directory) applies the approval."""
    engine = make_engine()
    assert execute_run(engine, "calc-run", notify=lambda m: None).state == RunState.GATE
    [approval] = engine.store.approvals(status="pending", run_id="calc-run")
    answer, diff = engine.store.approval_material(approval.id)
    assert answer is not None and "def div(a, b):" in answer
    assert diff is not None and "+def div(a, b):" in diff
    folder = engine.artifacts_dir("calc-run") / "phases" / "div"
    for name in ("pending-approval.answer.md", "pending-approval.diff"):
        (folder / name).unlink()
    done = approve(engine, "calc-run", "div", by="alice", notify=lambda m: None, reason="ok")
    assert done.state == RunState.DONE_SUCCESS, done.reason
    assert len(_branch_log(engine)) == 3
    assert "def div(a, b):" in git(engine.settings.workspace, "show", "autonomous/calc-run:calc.py")
    [decided] = engine.store.approvals(status="approved", run_id="calc-run")
    assert (decided.decided_by, decided.decision_note) == ("alice", "ok")


def test_reject_ends_the_run_for_review(make_engine) -> None:
    engine = make_engine()
    execute_run(engine, "calc-run", notify=lambda m: None)
    outcome = reject(engine, "calc-run", by="bob", reason="division needs a zero check")
    assert outcome.state == RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW
    run = engine.store.get_run("calc-run")
    assert "zero check" in (run.failure_reason or "")
    assert len(_branch_log(engine)) == 2


def test_auditor_rejection_then_success(make_engine) -> None:
    answers = script(
        auditor=[
            {"role": "auditor", "phase": "mul-default", "attempt": 3, "text": REJECT},
            {"role": "auditor", "text": '{"approved": true, "summary": "ok"}'},
        ]
    )
    answers["answers"].append(
        {
            "role": "builder",
            "phase": "mul-default",
            "attempt": 4,
            "text": "calc.py\n"
            "<<<<<<< SEARCH\ndef mul(a, b):\n    return a * b\n=======\n"
            "def mul(a, b=1):\n    return a * b\n>>>>>>> REPLACE\n",
        }
    )
    plan = copy.deepcopy(PLAN)
    plan["tiers"][0]["phases"][0]["max_attempts"] = 4
    engine = make_engine(answers, plan=plan, auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    outcomes = [a.outcome for a in _attempts(engine, "mul-default")]
    assert outcomes == ["patch_apply_error", "ci_fail", "auditor_reject", "success"]


def test_budget_exhausted_mid_run_is_clean(make_engine) -> None:
    plan = copy.deepcopy(PLAN)
    plan["token_cap"] = 12_000  # one call fits (reserves ~10k, uses ~2k); the next cannot
    engine = make_engine(plan=plan, auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_FAILED_BUDGET_EXHAUSTED, outcome.reason
    run = engine.store.get_run("calc-run")
    assert 0 < run.tokens_used <= 12_000
    assert all(b.reserved == 0 for b in engine.store.budgets("calc-run"))
    assert git(engine.settings.workspace, "status", "--porcelain").strip() == "?? notes.txt"


def test_cancel_stops_at_the_next_safe_point(make_engine) -> None:
    engine = make_engine(auto_approve=True)
    engine.store.request_cancel("calc-run")
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.CANCELLED
    assert _branch_log(engine) == []


def test_files_written_by_the_checks_outside_the_scope_are_never_committed(make_engine) -> None:
    sneaky = (
        "calc.py\n<<<<<<< SEARCH\ndef mul(a, b):\n    return a * b\n=======\n"
        'open("stray.txt", "w").write("written while the tests imported calc")\n\n\n'
        "def mul(a, b=1):\n    return a * b\n>>>>>>> REPLACE\n"
    )
    answers = script()
    for entry in answers["answers"]:
        if entry.get("phase") == "mul-default" and entry.get("attempt") == 1:
            entry["text"] = sneaky
    engine = make_engine(answers, auto_approve=True)
    outcome = execute_run(engine, "calc-run", notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    tries = _attempts(engine, "mul-default")
    assert tries[0].outcome == "policy_violation"
    assert "stray.txt" in (tries[0].error_message or "")
    files = git(engine.settings.workspace, "ls-tree", "-r", "--name-only", "autonomous/calc-run")
    assert "stray.txt" not in files.split()
