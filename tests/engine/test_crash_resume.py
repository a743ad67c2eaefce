"""SIGKILL the worker at random points; every run resumes to the same result.

Each of :data:`RUNS` runs gets a fresh repository and is executed by a worker process
(``tests/support/crash_run.py``) that is killed with SIGKILL at a random point: after a
random number of the worker's progress steps (drawn over the steps of an uninterrupted run)
plus a random delay of up to 50 ms, so kills land in every part of the run — model calls,
applies, checks, audits, commits, the approval, the build-history entry — not only where the
wall clock is spent (every third run is killed a second time while it resumes). Once the
dead worker's lease has expired, a new worker resumes the run to its end. Every run must
then match the uninterrupted reference exactly: same tree, the same phase commits in the
same order (each phase applied once), one build-history commit, no open attempt or
reservation, and the user's checkout untouched.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.store import Store
from support.crash_run import RUN_ID, make_repo, script
from support.gitrepo import git

RUNS = 30
LEASE_SECONDS = 1.0
CHILD = Path(__file__).resolve().parents[1] / "support" / "crash_run.py"
PHASES = ["p1", "p2", "p3", "p4", "autopack-build-history"]


def _env() -> dict[str, str]:
    tests_dir = str(CHILD.parents[1])
    path = os.pathsep.join(p for p in (tests_dir, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "AUTOPACK_LEASE_SECONDS": str(LEASE_SECONDS)}


def _start(repo: Path, answers: Path, ready: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(repo), str(answers), str(ready)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path) -> None:
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "worker never got ready"
        time.sleep(0.01)


def _steps(ready: Path) -> int:
    progress = ready.with_suffix(".progress")
    return len(progress.read_text().splitlines()) if progress.exists() else 0


def _reference_run(root: Path) -> tuple[int, Path]:
    """An uninterrupted run: how many progress steps it takes, and its repository."""
    repo, answers, ready = _fresh(root)
    proc = _start(repo, answers, ready)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    return _steps(ready), repo


def _fresh(root: Path) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True)
    repo = make_repo(root / "repo")
    answers = root / "script.yaml"
    answers.write_text(yaml.safe_dump(script()))
    return repo, answers, root / "ready"


def _wait_for_lease_expiry(repo: Path) -> str:
    """Wait until the killed worker's lease expired; say where the run was hit."""
    store = Store.open(load_settings(workspace=repo))
    try:
        deadline = time.monotonic() + 30
        while store.lease(RUN_ID).live():
            assert time.monotonic() < deadline, "the dead worker's lease never expired"
            time.sleep(0.05)
        run = store.get_run(RUN_ID)  # stored before the worker says it is ready
        busy = [f"{p.phase_id}:{p.state}" for p in run.phases if p.state != "QUEUED"]
        return f"{run.state} " + " ".join(busy)
    finally:
        store.close()


def _kill_then_resume(root: Path, points: list[tuple[int, float]]) -> dict[str, object]:
    repo, answers, ready = _fresh(root)
    killed, where = 0, []
    for step, delay in points:
        ready.unlink(missing_ok=True)
        ready.with_suffix(".progress").unlink(missing_ok=True)
        proc = _start(repo, answers, ready)
        _wait_ready(proc, ready)
        deadline = time.monotonic() + 60
        while _steps(ready) < step and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=120)
        where.append(_wait_for_lease_expiry(repo))
    if not where[-1].startswith(RunState.DONE_SUCCESS):  # the last kill may come too late
        ready.unlink(missing_ok=True)
        final = _start(repo, answers, ready)
        _, err = final.communicate(timeout=180)
        assert final.returncode == 0, f"{root}: resume failed: {err.decode()[-3000:]}"
    return {"repo": repo, "killed": killed, "where": where}


def _outcome(repo: Path) -> dict[str, object]:
    """What must be identical across interrupted and uninterrupted runs."""
    branch = f"autonomous/{RUN_ID}"
    tree = git(repo, "ls-tree", "-r", branch).splitlines()
    phases = git(
        repo, "log", "--reverse", "--format=%(trailers:key=Autopack-Phase,valueonly)", branch,
        "--not", "main",
    ).split()  # fmt: skip
    store = Store.open(load_settings(workspace=repo))
    try:
        run = store.get_run(RUN_ID)
        open_attempts = [
            a
            for p in run.phases
            for a in store.attempts(RUN_ID, p.phase_id)
            if a.finished_at is None
        ]
        reserved = [b.reserved for b in store.budgets(RUN_ID)]
        state = run.state
        phase_states = [p.state for p in run.phases]
    finally:
        store.close()
    return {
        # the history file carries token counts, which retries after a kill change
        "tree": [line for line in tree if not line.endswith("docs/BUILD_HISTORY.md")],
        "phases": phases,
        "state": state,
        "phase_states": phase_states,
        "open_attempts": len(open_attempts),
        "reserved": reserved,
        "user_status": git(repo, "status", "--porcelain"),
        "user_head": git(repo, "rev-parse", "main"),
    }


@pytest.mark.timeout(900)
def test_sigkill_at_random_points_then_resume(tmp_path: Path, git_env: dict[str, str]) -> None:
    steps, ref_repo = _reference_run(tmp_path / "reference")
    reference = _outcome(ref_repo)
    assert reference["state"] == RunState.DONE_SUCCESS
    assert reference["phases"] == PHASES
    assert reference["open_attempts"] == 0 and set(reference["reserved"]) == {0}

    rng = random.Random(20261121)
    plans = []
    for i in range(RUNS):
        kills = 2 if i % 3 == 2 else 1
        plans.append([(rng.randrange(steps), round(rng.uniform(0, 0.05), 3)) for _ in range(kills)])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda i: _kill_then_resume(tmp_path / f"run-{i:02d}", plans[i]), range(RUNS))
        )
    mid_run = 0
    for i, result in enumerate(results):
        got = _outcome(result["repo"])  # type: ignore[arg-type]
        assert got["tree"] == reference["tree"], f"run {i} (kills at {plans[i]}): tree differs"
        assert got["phases"] == PHASES, f"run {i} (kills at {plans[i]}): {got['phases']}"
        assert got["state"] == RunState.DONE_SUCCESS
        assert got["phase_states"] == reference["phase_states"]
        assert got["open_attempts"] == 0, f"run {i}: attempts left open"
        assert set(got["reserved"]) == {0}, f"run {i}: tokens still reserved"
        assert got["user_status"] == reference["user_status"] == ""
        mid_run += int(result["killed"])  # type: ignore[call-overload]
        print(f"run {i:02d}: killed at (step, delay) {plans[i]}: {result['where']}")
    # The kills must really land mid-run, not after the worker finished.
    assert mid_run >= RUNS, f"only {mid_run} kills hit a running worker"
    assert sum(len(p) for p in plans) - mid_run <= RUNS // 5
