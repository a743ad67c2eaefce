"""Three real ``autopack worker`` processes, twelve queued runs, one worker SIGKILLed mid-run.

Against a real PostgreSQL (the session's throw-away server, a fresh database): twelve runs,
each on its own git repository, are stored and queued (one transaction each); three worker
processes execute them with the scripted model. Once the first worker holds the lease of a
run that has committed at least one phase, it is killed with SIGKILL. The stalled-job
sweeper of a surviving worker puts the dead worker's job back once its heartbeats stop for a
lease; a survivor takes the run's lease once it has expired and resumes the run.

Then every run must have ended ``DONE_SUCCESS`` exactly once, with one commit per phase (no
phase applied twice) and one build-history commit, each phase completed once in the events,
no attempt left open, no tokens still reserved, the user's checkout untouched; and no job
was lost: one job per run, every one ``succeeded``, the killed one put back and started
again by a survivor. The survivors stop on SIGTERM with exit code 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.store import Store
from support.gitrepo import git
from support.queue_run import make_repo, phase_commits, queue_runs, script, start_worker

RUNS, WORKERS, PHASES = 12, 3, 3
LEASE_SECONDS = 2.0
EXPECTED_COMMITS = [f"p{i}" for i in range(1, PHASES + 1)] + ["autopack-build-history"]


def _victim_run(store: Store, run_ids: list[str], pid: int) -> str | None:
    """A run the worker ``pid`` is executing and that has committed at least one phase."""
    for run_id in run_ids:
        lease = store.lease(run_id)
        if not (lease.live() and lease.owner and f":{pid}:" in lease.owner):
            continue
        run = store.get_run(run_id)
        if not RunState(run.state).is_terminal() and any(p.state == "COMPLETE" for p in run.phases):
            return run_id
    return None


def _wait_all_ended(
    store: Store, run_ids: list[str], workers: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + 150
    while True:
        states = {r: store.get_run(r).state for r in run_ids}
        if all(RunState(s).is_terminal() for s in states.values()):
            return
        assert any(w.poll() is None for w in workers), "every worker died"
        assert time.monotonic() < deadline, f"runs still going: {states}"
        time.sleep(0.25)


def _jobs(store: Store) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT j.id, j.args->>'run_id' AS run_id, j.status::text AS status, j.attempts, "
                "array(SELECT e.type::text FROM procrastinate.procrastinate_events e "
                "      WHERE e.job_id = j.id ORDER BY e.id) AS events "
                "FROM procrastinate.procrastinate_jobs j ORDER BY j.id"
            )
        )
        return [dict(r._mapping) for r in rows]


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_sigkill_one_of_three_workers_every_run_completes_once(
    tmp_path: Path, pg_url: str, git_env: dict[str, str]
) -> None:
    repos = {f"q-{i:02d}": make_repo(tmp_path / f"repo-{i:02d}", PHASES) for i in range(RUNS)}
    run_ids = list(repos)
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(script(PHASES)))
    queue_runs(pg_url, list(repos.items()), PHASES, lease_seconds=LEASE_SECONDS)

    logs = [(tmp_path / f"worker-{i}.log").open("wb") for i in range(WORKERS)]
    workers = [start_worker(pg_url, answers, lease_seconds=LEASE_SECONDS, log=log) for log in logs]
    store = Store.open(load_settings(workspace=tmp_path, database_url=pg_url))
    try:
        victim = workers[0]
        deadline = time.monotonic() + 90
        killed_run = None
        while killed_run is None:
            assert victim.poll() is None, (tmp_path / "worker-0.log").read_text()
            assert time.monotonic() < deadline, "worker 0 never got a run mid-way"
            killed_run = _victim_run(store, run_ids, victim.pid)
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        killed_at = store.get_run(killed_run)
        assert not RunState(killed_at.state).is_terminal()

        _wait_all_ended(store, run_ids, workers)
        for survivor in workers[1:]:
            survivor.send_signal(signal.SIGTERM)
        for i, survivor in enumerate(workers[1:], start=1):
            assert survivor.wait(timeout=60) == 0, (tmp_path / f"worker-{i}.log").read_text()

        for run_id, repo in repos.items():
            run = store.get_run(run_id)
            assert run.state == RunState.DONE_SUCCESS, f"{run_id}: {run.state} {run.failure_reason}"
            assert phase_commits(repo, run_id) == EXPECTED_COMMITS, run_id
            events = store.events(run_id)
            done = [e for e in events if e.entity == "run" and e.to_state == RunState.DONE_SUCCESS]
            assert len(done) == 1, f"{run_id}: ended {len(done)} times"
            completed = Counter(
                e.entity_key for e in events if e.entity == "phase" and e.to_state == "COMPLETE"
            )
            assert completed == {f"p{i}": 1 for i in range(1, PHASES + 1)}, run_id
            open_attempts = [
                a for p in run.phases for a in store.attempts(run_id, p.phase_id)
                if a.finished_at is None
            ]  # fmt: skip
            assert open_attempts == [], run_id
            assert {b.reserved for b in store.budgets(run_id)} == {0}, run_id
            assert not store.lease(run_id).live()
            assert git(repo, "status", "--porcelain") == "", run_id

        jobs = _jobs(store)
        assert sorted(j["run_id"] for j in jobs) == sorted(run_ids), "one job per run"
        assert {j["status"] for j in jobs} == {"succeeded"}, jobs
        [killed_job] = [j for j in jobs if j["run_id"] == killed_run]
        # Put back by the sweeper (and once more per wait for the dead worker's lease).
        assert killed_job["events"].count("deferred_for_retry") >= 1, killed_job
        assert killed_job["events"].count("started") >= 2, killed_job
        resumed_by = [
            i
            for i in (1, 2)
            if f"run_id='{killed_run}'" in (tmp_path / f"worker-{i}.log").read_text()
        ]
        assert resumed_by, "no surviving worker took the killed run over"
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(timeout=30)
        for log in logs:
            log.close()
        store.close()


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_sigterm_hands_the_running_run_over_at_a_safe_point(
    tmp_path: Path, pg_url: str, git_env: dict[str, str]
) -> None:
    """A stopping worker (no grace) stops its run at the next safe point, gives the lease
    back and puts the job back at once; the next worker finishes the run, each phase once."""
    phases = 4
    repo = make_repo(tmp_path / "repo", phases)
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(script(phases)))
    queue_runs(pg_url, [("handed", repo)], phases, lease_seconds=30.0)
    store = Store.open(load_settings(workspace=tmp_path, database_url=pg_url))
    try:
        with (tmp_path / "first.log").open("wb") as log:
            first = start_worker(pg_url, answers, lease_seconds=30.0, log=log, grace=0.0)
            deadline = time.monotonic() + 90
            while _victim_run(store, ["handed"], first.pid) is None:
                assert first.poll() is None, (tmp_path / "first.log").read_text()
                assert time.monotonic() < deadline, "the first worker never got mid-run"
                time.sleep(0.02)
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0, (tmp_path / "first.log").read_text()
        run = store.get_run("handed")
        assert not RunState(run.state).is_terminal()
        assert not store.lease("handed").live()  # given back, not left to expire (30 s)
        [job] = _jobs(store)
        assert job["status"] == "todo" and "deferred_for_retry" in job["events"], job

        with (tmp_path / "second.log").open("wb") as log:
            second = start_worker(pg_url, answers, lease_seconds=30.0, log=log)
            try:
                _wait_all_ended(store, ["handed"], [second])
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0, (tmp_path / "second.log").read_text()
        assert store.get_run("handed").state == RunState.DONE_SUCCESS
        assert phase_commits(repo, "handed") == [
            *(f"p{i}" for i in range(1, phases + 1)), "autopack-build-history",
        ]  # fmt: skip
        [job] = _jobs(store)
        assert job["status"] == "succeeded" and job["events"].count("started") == 2, job
    finally:
        store.close()
