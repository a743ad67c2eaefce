"""Store throughput: run creation and checked state transitions (each with its event).

Prints figures; asserts nothing. Backends: a SQLite file (always) and PostgreSQL, either
the server named by ``--postgres-url`` or, with ``--postgres``, a throw-away local server
started from initdb/pg_ctl like the test suite's.

    .venv/bin/python bench/store/transitions.py [--runs 50] [--postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autopack.policy.states import PhaseState, RunState
from autopack.policy.strategy import StrategyEngine
from autopack.spec.models import RunSpec
from autopack.store import Store
from autopack.store.db import create_db_engine
from autopack.store.migrate import ensure_schema

PHASE_PATH = [PhaseState.EXECUTING, PhaseState.CI_RUNNING, PhaseState.PENDING_REVIEW]


def spec(run_id: str, phases: int) -> RunSpec:
    return RunSpec.model_validate(
        {
            "run_id": run_id,
            "tiers": [
                {
                    "tier_id": "t0",
                    "tier_index": 0,
                    "name": "tier",
                    "phases": [
                        {"phase_id": f"p{i}", "phase_index": i, "name": f"phase {i}"}
                        for i in range(phases)
                    ],
                }
            ],
        }
    )


def bench(label: str, url: str, runs: int, phases: int) -> None:
    engine = create_db_engine(url)
    ensure_schema(engine)
    store = Store(engine)
    strategy = StrategyEngine.load()
    create_ms: list[float] = []
    transition_ms: list[float] = []
    started = time.perf_counter()
    for r in range(runs):
        s = spec(f"bench-{r}", phases)
        t0 = time.perf_counter()
        store.create_run(s, strategy.compile_run(s))
        create_ms.append((time.perf_counter() - t0) * 1000)
        store.transition_run(s.run_id, RunState.PHASE_QUEUEING, reason="b", actor="bench")
        for p in range(phases):
            for state in (*PHASE_PATH, PhaseState.COMPLETE):
                t0 = time.perf_counter()
                store.transition_phase(s.run_id, f"p{p}", state, reason="b", actor="bench")
                transition_ms.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    t0 = time.perf_counter()
    for _ in range(20):
        store.get_run("bench-0")
    show_ms = (time.perf_counter() - t0) * 1000 / 20
    store.close()
    tq = statistics.quantiles(transition_ms, n=100)
    print(
        f"{label:<10} create_run({phases} phases) median {statistics.median(create_ms):6.1f} ms | "
        f"transition median {statistics.median(transition_ms):5.2f} ms p95 {tq[94]:5.2f} ms "
        f"({len(transition_ms) / (sum(transition_ms) / 1000):6.0f}/s) | get_run {show_ms:5.1f} ms"
        f" | total {total:5.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--phases", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="start a local server")
    parser.add_argument("--postgres-url", help="use this PostgreSQL server instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.runs, args.phases)
    if args.postgres_url:
        bench("postgres", args.postgres_url, args.runs, args.phases)
    elif args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
        from support.postgres import PostgresServer, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("no initdb/pg_ctl found (install the postgresql package)")
        server = PostgresServer(bindir).start()
        try:
            bench("postgres", server.create_database("bench"), args.runs, args.phases)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
