"""Queued runs for the worker tests and the worker benchmark: repositories, plan, workers.

Each run gets its own git repository (a few modules and ``check.py``) and a plan of one tier
of ``phases`` phases (``p1``…), each changing its own module, checked by ``python check.py``
(milliseconds), audited once; no approval. The scripted model answers every Builder call
with a SEARCH/REPLACE on the phase's module and every Auditor call with an approval.

Runs are stored and queued through :class:`~autopack.engine.queue.QueueDispatcher` (one
transaction each) and executed by real ``autopack worker`` processes (:func:`start_worker`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from autopack.engine import Engine, EngineOptions
from autopack.engine.queue import QueueDispatcher
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from support.gitrepo import commit_all, git

AUTOPACK = Path(sys.executable).with_name("autopack")
APPROVE = json.dumps({"approved": True, "issues": [], "summary": "fine"})


def _sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def make_repo(root: Path, phases: int) -> Path:
    """A fresh repository on ``main``: ``m1.py``… and a check importing them."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("__pycache__/\n")
    names = [f"m{i}" for i in range(1, phases + 1)]
    for name in names:
        (root / f"{name}.py").write_text("VALUE = 1\n")
    checks = "".join(f"assert {n}.VALUE >= 1\n" for n in names)
    (root / "check.py").write_text(f"import {', '.join(names)}\n{checks}")
    commit_all(root, "initial")
    return root


def plan(run_id: str, phases: int) -> dict[str, Any]:
    """One tier of ``phases`` phases, each on its own module."""
    ci = {"type": "custom", "command": ["python", "check.py"], "timeout_seconds": 60}
    return {
        "run_id": run_id,
        "goal": "Queue test run",
        "token_cap": 400_000,
        "tiers": [
            {
                "tier_id": "t1",
                "tier_index": 0,
                "name": "only",
                "phases": [
                    {
                        "phase_id": f"p{i}",
                        "phase_index": i - 1,
                        "name": f"raise m{i}",
                        "task_category": "feature_scaffolding",
                        "complexity": "low",
                        "scope": {"paths": [f"m{i}.py"], "ci": ci},
                    }
                    for i in range(1, phases + 1)
                ],
            }
        ],
    }


def script(phases: int) -> dict[str, Any]:
    """Scripted answers for :func:`plan` (any run id)."""
    builders = [
        {"role": "builder", "phase": f"p{i}", "text": _sr(f"m{i}.py", "VALUE = 1\n", "VALUE = 2\n")}
        for i in range(1, phases + 1)
    ]
    return {"answers": [*builders, {"role": "auditor", "text": APPROVE}]}


def queue_runs(
    db_url: str, runs: list[tuple[str, Path]], phases: int, *, lease_seconds: float
) -> None:
    """Store and queue each ``(run_id, repo)`` run (creation and job in one transaction)."""
    for run_id, repo in runs:
        settings = load_settings(workspace=repo, database_url=db_url, lease_seconds=lease_seconds)
        store = Store.open(settings)
        try:
            engine = Engine(settings, store, EngineOptions(actor="test"))
            loaded = load_spec_data(plan(run_id, phases))
            QueueDispatcher(engine).create(
                loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape
            )
        finally:
            store.close()


def worker_env(db_url: str, lease_seconds: float) -> dict[str, str]:
    """The environment of a worker process."""
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "AUTOPACK_LEASE_SECONDS": str(lease_seconds),
        "AUTOPACK_LOG_LEVEL": "INFO",
    }


def start_worker(
    db_url: str,
    answers: Path,
    *,
    lease_seconds: float,
    log: IO[bytes],
    concurrency: int = 1,
    grace: float = 5.0,
) -> subprocess.Popen[bytes]:
    """A real ``autopack worker`` process (its output goes to ``log``)."""
    return subprocess.Popen(
        [
            str(AUTOPACK),
            "worker",
            "--concurrency",
            str(concurrency),
            "--scripted",
            str(answers),
            "--grace",
            str(grace),
        ],
        env=worker_env(db_url, lease_seconds),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def phase_commits(repo: Path, run_id: str) -> list[str]:
    """The ``Autopack-Phase`` trailers of the run's commits, oldest first."""
    return git(
        repo, "log", "--reverse", "--format=%(trailers:key=Autopack-Phase,valueonly)",
        f"autonomous/{run_id}", "--not", "main",
    ).split()  # fmt: skip
