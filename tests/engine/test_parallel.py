"""Phases with disjoint scopes run at the same time in lanes and land in index order."""

from __future__ import annotations

import itertools
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from autopack.engine import approve, execute_run, parallel
from autopack.engine.history import HISTORY_PHASE
from autopack.engine.parallel import lane_id, paths_overlap, plan_batches
from autopack.engine.resume import recover_run
from autopack.policy.states import PhaseState, RunState, TierState
from autopack.spec.models import PhaseSpec
from autopack.workspace import IntegrationWorkspace, validate_id
from support.engine_script import APPROVE, DOCTOR
from support.gitrepo import git

# The check of every phase: sleeps, logs (cwd, start, end) outside the worktree, and fails
# while any <dir>/mod.py of the tree says BAD.
CHECK = """
import os, pathlib, sys, time
start = time.time()
time.sleep(float(sys.argv[1]))
with open(sys.argv[2], "a") as log:
    log.write(f"{os.getcwd()}|{start}|{time.time()}\\n")
bad = [p for p in pathlib.Path(".").glob("*/mod.py") if "BAD" in p.read_text()]
sys.exit(1 if bad else 0)
"""


# --- plans, answers, helpers ---------------------------------------------------------------


def _phase(phase_id: str, index: int, paths: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "phase_id": phase_id,
        "phase_index": index,
        "name": f"module {phase_id}",
        "description": f"Add {phase_id}/mod.py.",
        "task_category": "feature_scaffolding",
        "complexity": "low",
        "scope": {"paths": paths, **extra.pop("scope", {})},
        **extra,
    }


def _plan(run_id: str, log: Path, phases: list[dict[str, Any]], sleep: float = 0.0) -> dict:
    ci = {"type": "custom", "command": [sys.executable, "-c", CHECK, str(sleep), str(log)]}
    for phase in phases:
        phase["scope"].setdefault("ci", ci)
    tier = {"tier_id": "modules", "tier_index": 0, "name": "Modules", "phases": phases}
    return {"run_id": run_id, "goal": "Add modules", "token_cap": 400_000, "tiers": [tier]}


def _module(path: str, text: str) -> str:
    return f"{path}\n```python\n{text}\n```\n"


def _answers(builder: dict[tuple[str, int | None], str]) -> dict[str, Any]:
    answers = [
        {"role": "builder", "phase": pid, **({"attempt": n} if n else {}), "text": text}
        for (pid, n), text in builder.items()
    ]
    answers += [
        {"role": "auditor", "text": APPROVE},
        {"role": "judge", "text": APPROVE},
        {"role": "doctor", "text": DOCTOR},
    ]
    return {"answers": answers}


FOUR = ["p1", "p2", "p3", "p4"]


def _four(run_id: str, log: Path, sleep: float = 0.0) -> dict:
    phases = [_phase(pid, i, [f"{pid}/"]) for i, pid in enumerate(FOUR)]
    return _plan(run_id, log, phases, sleep)


def _good(pids: list[str]) -> dict[tuple[str, int | None], str]:
    return {(pid, None): _module(f"{pid}/mod.py", f"VALUE = {pid!r}") for pid in pids}


def _phase_commits(repo: Path, run_id: str) -> list[tuple[str, str, str]]:
    """(subject, Autopack-Phase, Autopack-Run) of the branch's commits, oldest first."""
    fmt = "%s%x1f%(trailers:key=Autopack-Phase,valueonly)%x1f%(trailers:key=Autopack-Run,valueonly)"
    out = git(repo, "log", "--reverse", f"--format={fmt}%x1e", f"autonomous/{run_id}", "^main")
    rows = [c.strip("\n").split("\x1f") for c in out.split("\x1e") if c.strip()]
    return [(s, p.strip(), r.strip()) for s, p, r in rows]


def _intervals(log: Path, marker: str = "") -> list[tuple[float, float]]:
    rows = [line.split("|") for line in log.read_text().splitlines() if marker in line]
    return sorted((float(start), float(end)) for _, start, end in rows)


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    return max(itertools.accumulate(delta for _, delta in events))


def _no_lanes_left(repo: Path) -> None:
    assert "--lane--" not in git(repo, "worktree", "list")
    assert "--lane--" not in git(repo, "branch", "--list", "autonomous/*")
    assert "--lane--" not in git(repo, "for-each-ref", "refs/autopack/")


def _states(engine, run_id: str) -> dict[str, str]:
    return {p.phase_id: p.state for p in engine.store.get_run(run_id).phases}


def _quiet(message: str) -> None:
    pass


# --- batching (pure) -----------------------------------------------------------------------


def _spec(phase_id: str, paths: list[str], **extra: Any) -> PhaseSpec:
    return PhaseSpec.model_validate(
        {
            "phase_id": phase_id,
            "phase_index": 0,
            "name": phase_id,
            "task_category": "feature_scaffolding",
            "complexity": "low",
            "scope": {"paths": paths, **extra},
        }
    )


def _ids(batches: list[tuple[PhaseSpec, ...]]) -> list[list[str]]:
    return [[p.phase_id for p in batch] for batch in batches]


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("src/a.py", "src/b.py", False),
        ("src/a.py", "src/a.py", True),
        ("src/", "src/pkg/mod.py", True),
        ("src", "src/pkg/", True),
        ("src/", "srcx/", False),
        ("src/pkg/", "src/pkg2/", False),
        ("README.md", "readme.md", True),  # one file on a case-insensitive file system
        (".", "anything.txt", True),
        ("./", "docs/", True),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/a.md", False),
        ("src/*.py", "src/pkg/a.py", False),  # '*' stays within one segment
        ("src/*", "src/pkg/a.py", True),  # matches the directory src/pkg itself
        ("src/*.py", "src/", True),
        ("src/*.py", "docs/", False),
        ("src/**/x.py", "src/deep/down/y.py", True),  # '**': cannot prove disjoint
        ("**/*.md", "src/a.py", True),
        ("src/**", "lib/a.py", False),
        ("docs/*.md", "docs/*.rst", False),
        ("docs/a*", "docs/*b", True),
        ("docs/a*", "docs/b*", False),
        ("docs/a?.md", "docs/ab.md", True),
        ("docs/a[bc].md", "docs/ad.md", True),  # a bracket: judged by its literal ends only
        ("docs/a[bc].md", "docs/x.md", False),
    ],
)
def test_paths_overlap(a: str, b: str, overlap: bool) -> None:
    assert paths_overlap(a, b) is overlap
    assert paths_overlap(b, a) is overlap


def test_disjoint_files_share_a_batch_up_to_the_bound() -> None:
    phases = [_spec(f"p{i}", [f"f{i}.py"]) for i in range(5)]
    assert _ids(plan_batches(phases, 4)) == [["p0", "p1", "p2", "p3"], ["p4"]]
    assert _ids(plan_batches(phases, 2)) == [["p0", "p1"], ["p2", "p3"], ["p4"]]
    assert _ids(plan_batches(phases, 1)) == [["p0"], ["p1"], ["p2"], ["p3"], ["p4"]]
    assert _ids(plan_batches(phases, 0)) == [["p0"], ["p1"], ["p2"], ["p3"], ["p4"]]


def test_an_overlapping_phase_closes_the_batch() -> None:
    phases = [
        _spec("a", ["pkg/"]),
        _spec("b", ["lib/"]),
        _spec("c", ["pkg/sub/mod.py"]),  # nested in a's directory
        _spec("d", ["docs/*.md"]),
        _spec("e", ["docs/guide.md"]),  # matched by d's glob
        _spec("f", ["tools/"]),
    ]
    assert _ids(plan_batches(phases, 8)) == [["a", "b"], ["c", "d"], ["e", "f"]]


def test_no_scope_overlaps_everything() -> None:
    phases = [_spec("a", ["a.py"]), _spec("b", []), _spec("c", ["c.py"])]
    assert _ids(plan_batches(phases, 4)) == [["a"], ["b"], ["c"]]


def test_reading_what_an_earlier_phase_writes_is_an_overlap() -> None:
    phases = [_spec("a", ["a/"]), _spec("b", ["b/"], read_only_context=["a/api.py"])]
    assert _ids(plan_batches(phases, 4)) == [["a"], ["b"]]
    reversed_order = [_spec("b", ["b/"], read_only_context=["a/api.py"]), _spec("a", ["a/"])]
    assert _ids(plan_batches(reversed_order, 4)) == [["b", "a"]]  # b never saw a's write


def test_solo_phases_are_batches_of_their_own() -> None:
    phases = [_spec(p, [f"{p}/"]) for p in "abcde"]
    batches = plan_batches(phases, 4, solo=lambda p: p.phase_id == "c")
    assert _ids(batches) == [["a", "b"], ["c"], ["d", "e"]]


def test_lane_ids_are_valid_and_distinct() -> None:
    assert lane_id("run", "p1") == "run--lane--p1"
    long_run, long_phase = "r" * 120, "p" * 120
    one, two = lane_id(long_run, long_phase), lane_id(long_run, long_phase[:-1] + "q")
    assert one != two and len(one) <= 128 and validate_id(one) == one


# --- end to end ----------------------------------------------------------------------------


def test_disjoint_phases_run_at_once_and_land_like_a_sequential_run(make_engine, tmp_path) -> None:
    log = tmp_path / "checks.log"
    answers = _answers(_good(FOUR))
    sequential = make_engine(answers, _four("seq-run", log, sleep=1.0))
    outcome = execute_run(sequential, "seq-run", notify=_quiet)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    repo = sequential.settings.workspace
    serial = _intervals(log, "seq-run")
    assert len(serial) == 5 and _most_at_once(serial) == 1  # the baseline and four phases
    # Only one run's worktree may stay (the fixture checks it): keep the branch, drop the tree.
    IntegrationWorkspace.open(repo, sequential.settings.data_dir, "seq-run").remove()

    log.unlink()
    parallel = make_engine(answers, _four("par-run", log, sleep=1.0), max_parallel=4)
    messages: list[str] = []
    outcome = execute_run(parallel, "par-run", notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert "4 phases in parallel lanes: p1, p2, p3, p4" in messages

    lanes = _intervals(log, "--lane--")
    assert len(lanes) == 4
    assert _most_at_once(lanes) >= 2
    assert lanes[-1][1] - lanes[0][0] < 3.0  # four 1 s checks, one after another: >= 4 s

    commits = _phase_commits(repo, "par-run")
    assert commits == [(f"module {p}", p, "par-run") for p in FOUR] + [
        ("docs: build history entry for run par-run", HISTORY_PHASE, "par-run")
    ]
    assert [c[:2] for c in commits[:4]] == [c[:2] for c in _phase_commits(repo, "seq-run")[:4]]
    same = git(repo, "diff", "--stat", "autonomous/seq-run", "autonomous/par-run", "--", ".",
               ":(exclude)docs/BUILD_HISTORY.md")  # fmt: skip
    assert same == ""
    assert git(repo, "show", "autonomous/par-run:p3/mod.py") == "VALUE = 'p3'\n"
    _no_lanes_left(repo)
    for pid in FOUR:  # resume relies on the run's own after-refs
        after = git(repo, "rev-parse", f"refs/autopack/par-run/{pid}/after").strip()
        assert git(repo, "log", "-1", "--format=%(trailers:key=Autopack-Phase,valueonly)", after)
    detail = parallel.store.get_run("par-run")
    assert [p.state for p in detail.phases] == [PhaseState.COMPLETE] * 4
    assert {t.state for t in detail.tiers} == {TierState.COMPLETE}


def test_a_retried_phase_in_a_batch_still_lands_in_order(make_engine, tmp_path) -> None:
    builder = _good(["p1", "p3", "p4"])
    builder[("p2", 1)] = _module("p2/mod.py", "VALUE = 'BAD'")
    builder[("p2", 2)] = _module("p2/mod.py", "VALUE = 'p2'")
    engine = make_engine(_answers(builder), _four("calc-run", tmp_path / "c.log"), max_parallel=4)
    outcome = execute_run(engine, "calc-run", notify=_quiet)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert [a.outcome for a in engine.store.attempts("calc-run", "p2")] == ["ci_fail", "success"]
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == [*FOUR, HISTORY_PHASE]
    attempt = git(repo, "log", "-1", "--format=%(trailers:key=Autopack-Attempt,valueonly)",
                  "refs/autopack/calc-run/p2/after")  # fmt: skip
    assert attempt.strip() == "2"
    _no_lanes_left(repo)


def test_a_failed_phase_ends_the_run_but_its_batch_mates_are_landed(make_engine, tmp_path) -> None:
    """Unlike a sequential run, phases after the failed one in its batch ran already: the
    ones that succeeded are committed on the integration branch (for the review)."""
    builder = _good(["p1", "p3", "p4"])
    builder[("p2", None)] = _module("p2/mod.py", "VALUE = 'BAD'")
    plan = _four("calc-run", tmp_path / "c.log")
    plan["tiers"][0]["phases"][1]["max_attempts"] = 2
    engine = make_engine(_answers(builder), plan, max_parallel=4)
    outcome = execute_run(engine, "calc-run", notify=_quiet)
    assert outcome.state == RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW
    assert outcome.reason.startswith("phase p2: no attempt left")
    assert _states(engine, "calc-run") == {
        "p1": PhaseState.COMPLETE,
        "p2": PhaseState.FAILED,
        "p3": PhaseState.COMPLETE,
        "p4": PhaseState.COMPLETE,
    }
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == ["p1", "p3", "p4"]
    assert "p2/mod.py" not in git(repo, "ls-tree", "-r", "--name-only", "autonomous/calc-run")
    _no_lanes_left(repo)


def test_overlapping_scopes_run_one_at_a_time(make_engine, tmp_path) -> None:
    log = tmp_path / "checks.log"
    phases = [
        _phase("p1", 0, ["p1/"]),
        _phase("p2", 1, ["p1/", "p2/"]),  # shares p1/
        _phase("p3", 2, ["p2/mod.py", "p3/"]),  # inside p2's directory
        _phase("p4", 3, ["p*/"]),  # a glob over all of them
    ]
    engine = make_engine(_answers(_good(FOUR)), _plan("calc-run", log, phases, 0.3), max_parallel=4)
    messages: list[str] = []
    outcome = execute_run(engine, "calc-run", notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert not [m for m in messages if "parallel lanes" in m]
    checks = _intervals(log)
    assert len(checks) == 5 and _most_at_once(checks) == 1
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == [*FOUR, HISTORY_PHASE]


def test_a_crash_mid_batch_leaves_lanes_that_resume_removes(make_engine, tmp_path) -> None:
    engine = make_engine(_answers(_good(FOUR)), _four("calc-run", tmp_path / "c.log"))
    s, repo = engine.settings, engine.settings.workspace
    main = IntegrationWorkspace.create(repo, s.data_dir, "calc-run")
    lane = IntegrationWorkspace.create(repo, s.data_dir, lane_id("calc-run", "p2"))
    lane.begin_attempt("p2", 1)
    (lane.path / "p2").mkdir()
    (lane.path / "p2" / "mod.py").write_text("half done\n")
    engine.store.transition_phase("calc-run", "p2", PhaseState.EXECUTING, reason="t", actor="t")
    engine.store.start_attempt("calc-run", "p2", builder_model="m")

    done = recover_run(engine, main, "calc-run", actor="test")
    assert "removed leftover parallel lane calc-run--lane--p2" in done
    assert "phase p2 re-queued (starts again from its snapshot)" in done
    _no_lanes_left(repo)
    assert not lane.path.exists()
    outcome = execute_run(engine, "calc-run", notify=_quiet)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason


def test_a_worker_error_is_raised_after_every_lane_ended(make_engine, tmp_path, monkeypatch):
    real = parallel.run_phase

    def flaky(ctx, **kwargs):
        if ctx.phase.phase_id == "p3":
            raise RuntimeError("worker lost")
        return real(ctx, **kwargs)

    monkeypatch.setattr(parallel, "run_phase", flaky)
    plan = _four("calc-run", tmp_path / "c.log")
    engine = make_engine(_answers(_good(FOUR)), plan, max_parallel=4)
    with pytest.raises(RuntimeError, match="worker lost"):
        execute_run(engine, "calc-run", notify=_quiet)
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == ["p1", "p2", "p4"]
    assert not [t for t in threading.enumerate() if t.name.startswith("autopack-lane")]
    _no_lanes_left(repo)

    monkeypatch.undo()
    outcome = execute_run(engine, "calc-run", notify=_quiet)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == [
        "p1",
        "p2",
        "p4",
        "p3",
        HISTORY_PHASE,
    ]


def test_a_run_whose_id_looks_like_a_lane_is_left_alone(make_engine, tmp_path) -> None:
    theirs = make_engine(_answers(_good(["p2"])), _four("calc-run--lane--p2", tmp_path / "a.log"))
    s, repo = theirs.settings, theirs.settings.workspace
    IntegrationWorkspace.create(repo, s.data_dir, "calc-run--lane--p2").remove()  # branch stays
    plan = _four("calc-run", tmp_path / "b.log")
    ours = make_engine(_answers(_good(FOUR)), plan, max_parallel=4)
    main = IntegrationWorkspace.create(repo, s.data_dir, "calc-run")
    assert recover_run(ours, main, "calc-run", actor="test") == []
    outcome = execute_run(ours, "calc-run", notify=_quiet)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    # p2 had no lane (the id is taken): it ran on the run's workspace after the batch.
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == [
        "p1",
        "p3",
        "p4",
        "p2",
        HISTORY_PHASE,
    ]
    assert git(repo, "branch", "--list", "autonomous/calc-run--lane--p2").strip()
    assert git(repo, "rev-parse", "refs/autopack/calc-run--lane--p2/base").strip()


def test_a_lane_that_does_not_land_runs_again_after_the_batch(
    make_engine, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(parallel, "conflicts", lambda earlier, later: False)  # force a clash
    phases = [
        _phase("p1", 0, ["shared/"]),
        _phase("p2", 1, ["shared/"]),
        _phase("p3", 2, ["p3/"]),
    ]
    builder = {
        ("p1", None): _module("shared/mod.py", "VALUE = 'p1'"),
        ("p2", None): _module("shared/mod.py", "VALUE = 'p2'"),
        ("p3", None): _module("p3/mod.py", "VALUE = 'p3'"),
    }
    plan = _plan("calc-run", tmp_path / "c.log", phases)
    engine = make_engine(_answers(builder), plan, max_parallel=4)
    messages: list[str] = []
    outcome = execute_run(engine, "calc-run", notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert "3 phases in parallel lanes: p1, p2, p3" in messages
    assert any("[p2] phase p2: its lane's commit does not apply" in m for m in messages)
    tries = engine.store.attempts("calc-run", "p2")
    assert [a.outcome for a in tries] == ["interrupted", "success"]
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == ["p1", "p3", "p2", HISTORY_PHASE]
    assert git(repo, "show", "autonomous/calc-run:shared/mod.py") == "VALUE = 'p2'\n"
    _no_lanes_left(repo)


def test_two_phases_of_a_batch_waiting_for_approval_both_get_it(make_engine, tmp_path) -> None:
    """Paths that need a person's approval (CI configuration) can stop several lanes; the
    gate holds until every waiting phase is decided, then the approved answers apply."""
    phases = [_phase("p1", 0, [".github/workflows/"]), _phase("p2", 1, [".ci/"])]
    builder = {
        ("p1", None): _module(".github/workflows/ci.yml", "on: push"),
        ("p2", None): _module(".ci/run.sh", "echo ok"),
    }
    plan = _plan("calc-run", tmp_path / "c.log", phases)
    engine = make_engine(_answers(builder), plan, max_parallel=4)
    waiting = execute_run(engine, "calc-run", notify=_quiet)
    assert waiting.state == RunState.GATE
    assert set(_states(engine, "calc-run").values()) == {PhaseState.PENDING_APPROVAL}
    held = approve(engine, "calc-run", "p1", by="alice", notify=_quiet)
    assert held.state == RunState.GATE and held.reason == "phase p2 waits for approval"
    done = approve(engine, "calc-run", "p2", by="alice", notify=_quiet)
    assert done.state == RunState.DONE_SUCCESS, done.reason
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == ["p1", "p2", HISTORY_PHASE]
    _no_lanes_left(repo)


def test_a_batch_mate_that_failed_behind_a_gate_ends_the_run_after_it(make_engine, tmp_path):
    phases = [_phase("p1", 0, [".github/workflows/"]), _phase("p2", 1, ["p2/"], max_attempts=1)]
    builder = {
        ("p1", None): _module(".github/workflows/ci.yml", "on: push"),
        ("p2", None): _module("p2/mod.py", "VALUE = 'BAD'"),
    }
    plan = _plan("calc-run", tmp_path / "c.log", phases)
    engine = make_engine(_answers(builder), plan, max_parallel=4)
    assert execute_run(engine, "calc-run", notify=_quiet).state == RunState.GATE
    assert _states(engine, "calc-run")["p2"] == PhaseState.FAILED
    outcome = approve(engine, "calc-run", "p1", by="alice", notify=_quiet)
    assert outcome.state == RunState.DONE_FAILED_REQUIRES_HUMAN_REVIEW
    assert outcome.reason == "phase p2 failed earlier (see its events)"
    repo = engine.settings.workspace
    assert [c[1] for c in _phase_commits(repo, "calc-run")] == ["p1"]
    _no_lanes_left(repo)
