"""Queued runs on PostgreSQL: phases per minute with 1, 2 and 4 worker processes, and the
dispatch latency from enqueue to start.

For each worker count N (default 1, 2, 4), on a fresh database:

1. **throughput**: ``--runs`` runs (default 16) of ``--phases`` phases (default 4), each on
   its own fresh git repository (``tests/support/queue_run.py``: one tier, each phase
   changes its own module, trivial CI ``python check.py``, one audit, scripted model), are
   stored and queued (one transaction each) before any worker exists; then N real
   ``autopack worker`` processes (``--concurrency 1``) start. The window is measured in the
   database, from the first job's ``started`` event to the last job's ``succeeded`` event
   (procrastinate's ``procrastinate_events``), so worker start-up is left out;
   phases/min = runs × phases / window. Every run must end ``DONE_SUCCESS`` with one commit
   per phase;
2. **latency**: with the same N workers idle, ``--samples`` runs of one phase (default 20)
   are queued one at a time, each after the previous one ended. *commit → start*: from the
   moment the transaction that stores the run and queues its job has committed (the
   client's clock, right after ``QueueDispatcher.create`` returns) to the job's ``started``
   event (a worker fetched it, woken by ``LISTEN/NOTIFY``; the database's clock, on the
   same machine). *begin → start*: from that transaction's start (the job's ``deferred``
   event, ``now()`` in PostgreSQL) to the start: it adds the time of storing the run.
   Median, p95 and max.

Usage::

    .venv/bin/python bench/workers/run.py [--workers 1,2,4] [--runs 16] [--phases 4]
        [--samples 20] [--postgres URL|auto]
    make bench-workers

``--postgres auto`` (the default) starts a throw-away server from the system's
initdb/pg_ctl (``tests/support/postgres.py``: fsync off, as in the tests); a URL uses an
existing empty database, which is reset (``DROP SCHEMA public, procrastinate CASCADE``)
before each worker count. Git runs with an empty global configuration. Prints figures;
asserts only that every run did its work.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import yaml
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from autopack.engine import Engine, EngineOptions
from autopack.engine.queue import QueueDispatcher
from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.gitrepo import isolated_git_env
from support.queue_run import (
    make_repo,
    phase_commits,
    plan,
    queue_runs,
    script,
    start_worker,
)

LEASE_SECONDS = 10.0
_EVENTS = text(
    "SELECT j.args->>'run_id', e.type::text, e.at FROM procrastinate.procrastinate_events e "
    "JOIN procrastinate.procrastinate_jobs j ON j.id = e.job_id ORDER BY e.id"
)


def _events(store: Store) -> dict[str, dict[str, float]]:
    """run id → first time of each job event type (epoch seconds, database clock)."""
    out: dict[str, dict[str, float]] = {}
    with store.engine.connect() as conn:
        for run_id, kind, at in conn.execute(_EVENTS):
            out.setdefault(run_id, {}).setdefault(kind, at.timestamp())
    return out


def _wait_ended(store: Store, run_ids: list[str], timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not all(RunState(store.get_run(r).state).is_terminal() for r in run_ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"runs not ended after {timeout}s")
        time.sleep(0.05)


def _reset(url: str) -> None:
    from autopack.store.db import create_db_engine

    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS procrastinate CASCADE")
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def bench(url: str, root: Path, workers: int, args: argparse.Namespace) -> dict[str, float]:
    """One worker count: throughput and latency."""
    answers = root / "answers.yaml"
    answers.write_text(yaml.safe_dump(script(args.phases)))
    repos = [
        (f"b{workers}-{i:03d}", make_repo(root / f"r{i:03d}", args.phases))
        for i in range(args.runs)
    ]
    queue_runs(url, repos, args.phases, lease_seconds=LEASE_SECONDS)
    store = Store.open(load_settings(workspace=root, database_url=url))
    logs = [(root / f"worker-{i}.log").open("wb") for i in range(workers)]
    procs = [start_worker(url, answers, lease_seconds=LEASE_SECONDS, log=log) for log in logs]
    try:
        run_ids = [r for r, _ in repos]
        _wait_ended(store, run_ids)
        for run_id, repo in repos:
            assert store.get_run(run_id).state == RunState.DONE_SUCCESS, run_id
            commits = phase_commits(repo, run_id)
            assert commits[:-1] == [f"p{i}" for i in range(1, args.phases + 1)], commits
        ev = _events(store)
        window = max(ev[r]["succeeded"] for r in run_ids) - min(ev[r]["started"] for r in run_ids)

        after_commit, from_begin = [], []
        for i in range(args.samples):
            run_id = f"l{workers}-{i:03d}"
            committed = _queue_one(store, make_repo(root / f"l{i:03d}", 1), run_id)
            _wait_ended(store, [run_id], timeout=120)
            e = _events(store)[run_id]
            after_commit.append((e["started"] - committed) * 1000)
            from_begin.append((e["started"] - e["deferred"]) * 1000)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=120)
        for log in logs:
            log.close()
        store.close()
    return {
        "window": window,
        "ppm": args.runs * args.phases / window * 60,
        **_stats("commit", after_commit),
        **_stats("begin", from_begin),
    }


def _stats(name: str, values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        f"{name}_median": statistics.median(values),
        f"{name}_p95": values[max(0, round(0.95 * len(values)) - 1)],
        f"{name}_max": values[-1],
    }


def _queue_one(store: Store, repo: Path, run_id: str) -> float:
    """Store and queue a one-phase run; the time (epoch s) its transaction committed."""
    settings = load_settings(workspace=repo, database_url=store.engine.url.render_as_string(False))
    engine = Engine(settings, store, EngineOptions(actor="bench"))
    loaded = load_spec_data(plan(run_id, 1))
    queue = QueueDispatcher(engine)
    compiled = engine.strategy.compile_run(loaded.spec)
    queue.create(loaded.spec, compiled, shape=loaded.shape)
    return time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--phases", type=int, default=4)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--postgres", metavar="URL|auto", default="auto")
    args = parser.parse_args()
    for name in list(os.environ):
        if name.startswith("AUTOPACK_") or name.startswith("DATABASE_URL"):
            del os.environ[name]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="autopack-bench-")))
        os.environ.update(isolated_git_env(tmp / "git-home"))
        url = args.postgres
        if url == "auto":
            from support.postgres import PostgresServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                raise SystemExit("no initdb/pg_ctl: install the postgresql package")
            server = PostgresServer(bindir).start()
            stack.callback(server.stop)
            url = server.create_database("bench_workers")
        print(f"{args.runs} runs x {args.phases} phases per worker count; {os.cpu_count()} CPUs")
        print(
            "| workers | window s | phases/min | commit→start median / p95 / max ms "
            "| begin→start median / p95 / max ms |"
        )
        print("|---:|---:|---:|---:|---:|")
        for n in [int(x) for x in args.workers.split(",")]:
            _reset(url)
            root = tmp / f"w{n}"
            root.mkdir()
            r = bench(url, root, n, args)
            print(
                f"| {n} | {r['window']:.1f} | {r['ppm']:.0f} "
                f"| {r['commit_median']:.1f} / {r['commit_p95']:.1f} / {r['commit_max']:.1f} "
                f"| {r['begin_median']:.1f} / {r['begin_p95']:.1f} / {r['begin_max']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
