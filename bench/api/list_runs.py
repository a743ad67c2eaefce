"""Latency and SQL statement count of ``GET /runs?limit=100`` on 1,000 runs × 20 phases.

1. A database is filled (:mod:`fill`): ``--runs`` runs (default 1,000) of ``--phases``
   phases (default 20, over four tiers), created through the store's own ``create_run`` in
   batches, with state transitions and events, one attempt and two model calls for every
   phase that started (about 16,000 attempts and 32,000 calls with the defaults).
2. The real app (``create_app``, admin key) is served by uvicorn on 127.0.0.1 in this
   process; requests go over HTTP on one keep-alive connection (``http.client``), or
   through FastAPI's ``TestClient`` with ``--client testclient``.
3. For each request variant (first page, the last page: offset 900, a state filter), after
   ``--warmup`` requests, ``--requests`` requests are timed one after the other; the table
   gives the median, p95 and max latency in ms, and the SQL statements one request sent
   (SQLAlchemy's ``before_cursor_execute`` on the app's engine; on SQLite each read
   transaction also sends a ``BEGIN IMMEDIATE``). The admin key needs no query to check.

Backends: a SQLite file in a temporary directory (always), and PostgreSQL with
``--postgres URL`` (an empty database: the schema is created in it) or ``--postgres auto``
(a throw-away local server started from initdb/pg_ctl, as the tests do).

Usage::

    .venv/bin/python bench/api/list_runs.py [--runs 1000] [--phases 20] [--requests 200]
        [--postgres URL|auto] [--client http|testclient]
    make bench-api

Prints figures; asserts only that every answer is a 200 with ``limit`` runs.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fill import fill

from autopack.api import create_app
from autopack.settings import load_settings
from autopack.store import Store

KEY = "bench-admin-key-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {KEY}"}


def variants(runs: int) -> tuple[str, ...]:
    """The first page, the last full page, and a state filter (70 % of runs succeeded)."""
    return (
        "/runs?limit=100",
        f"/runs?limit=100&offset={max(0, runs - 100)}",
        "/runs?limit=100&state=DONE_SUCCESS",
    )


Get = Callable[[str], bytes]


@contextmanager
def served(app: FastAPI) -> Iterator[Get]:
    """uvicorn on a free loopback port in a thread; yields a GET over one connection."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(path: str) -> bytes:
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
        return body

    try:
        yield get
    finally:
        conn.close()
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def test_client(app: FastAPI) -> Iterator[Get]:
    """FastAPI's TestClient (in-process ASGI, no socket)."""
    from fastapi.testclient import TestClient

    with TestClient(app) as client:

        def get(path: str) -> bytes:
            response = client.get(path, headers=HEADERS)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
            return response.content

        yield get


def statements_of(app: FastAPI, get: Get, path: str) -> int:
    engine = app.state.context.store.engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def measure(get: Get, path: str, *, warmup: int, requests: int) -> list[float]:
    for _ in range(warmup):
        get(path)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        body = get(path)
        times.append((time.perf_counter() - start) * 1000)
        if not 0 < body.count(b'"run_id"') <= 100:
            raise RuntimeError(f"{path}: expected a page of runs")
    return times


def bench(name: str, workspace: Path, url: str | None, args: argparse.Namespace) -> None:
    settings = load_settings(
        workspace=workspace, api_key=KEY, skip_ci=True, **({"database_url": url} if url else {})
    )
    store = Store.open(settings)
    started = time.perf_counter()
    try:
        fill(store, runs=args.runs, phases=args.phases)
    finally:
        store.close()
    filled = time.perf_counter() - started
    print(f"\n{name}: {args.runs} runs × {args.phases} phases filled in {filled:.1f} s")
    print(f"{'request':<40} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'SQL':>4}")
    app = create_app(settings)
    with (served if args.client == "http" else test_client)(app) as get:
        for path in variants(args.runs):
            times = measure(get, path, warmup=args.warmup, requests=args.requests)
            p95 = statistics.quantiles(times, n=20)[-1]
            count = statements_of(app, get, path)
            print(
                f"{'GET ' + path:<40} {statistics.median(times):>10.2f} {p95:>8.2f} "
                f"{max(times):>8.2f} {count:>4}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--phases", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--client", choices=("http", "testclient"), default="http")
    parser.add_argument("--postgres", metavar="URL|auto", help="also on PostgreSQL")
    args = parser.parse_args()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="autopack-bench-")))
        (tmp / "sqlite").mkdir()
        bench("sqlite", tmp / "sqlite", None, args)
        if args.postgres:
            url = args.postgres
            if url == "auto":
                sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
                from support.postgres import PostgresServer, find_bindir

                bindir = find_bindir()
                if bindir is None:
                    print(
                        "\npostgresql: skipped (no initdb/pg_ctl; install the postgresql package)"
                    )
                    return
                server = PostgresServer(bindir).start()
                stack.callback(server.stop)
                url = server.create_database("bench_api")
            (tmp / "pg").mkdir()
            bench("postgresql", tmp / "pg", url, args)


if __name__ == "__main__":
    main()
