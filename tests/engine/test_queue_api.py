"""The API with ``AUTOPACK_DISPATCH=queue`` on PostgreSQL: it enqueues, ``autopack worker`` runs.

``POST /runs/start`` stores the run and its job in one transaction (the server's own run
threads stay idle); a real worker process executes the run up to its approval gate;
approving through the API records the decision and queues the continuation, which the
worker carries to ``DONE_SUCCESS``.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.api_helpers import ADMIN, ADMIN_KEY, FAST_SCRIPT, Api, plan
from autopack.api import create_app
from autopack.engine import EngineOptions
from autopack.engine.queue import QueueDispatcher
from autopack.settings import load_settings
from support.queue_run import start_worker
from support.sample_project import sample_repo


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_the_api_enqueues_and_a_worker_executes(
    tmp_path: Path, pg_url: str, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = sample_repo(tmp_path / "project")
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(FAST_SCRIPT))
    settings = load_settings(
        workspace=repo, skip_ci=True, api_key=ADMIN_KEY, database_url=pg_url, dispatch="queue"
    )
    app = create_app(settings, engine_options=EngineOptions(scripted=answers, actor="api"))
    with TestClient(app) as client:
        api = Api(app, client)
        assert isinstance(api.ctx.dispatcher, QueueDispatcher)
        started = client.post("/runs/start", json=plan("q-run"), headers=ADMIN)
        assert started.status_code == 202, started.text
        assert started.json()["state"] == "RUN_CREATED"
        assert api.ctx.workers.pending() == 0  # nothing runs in the server
        with api.ctx.store.engine.connect() as conn:
            jobs = conn.execute(
                text("SELECT args->>'run_id' FROM procrastinate.procrastinate_jobs")
            ).scalars()
            assert list(jobs) == ["q-run"]

        monkeypatch.setenv("AUTOPACK_SKIP_CI", "1")  # the worker's settings, as the server's
        with (tmp_path / "worker.log").open("wb") as log:
            worker = start_worker(pg_url, answers, lease_seconds=5.0, log=log)
            try:
                api.wait_for("q-run", {"GATE"}, timeout=90)
                [pending] = client.get("/approval/pending", headers=ADMIN).json()
                decided = client.post(
                    f"/approval/{pending['id']}/approve", json={"reason": "ok"}, headers=ADMIN
                )
                assert decided.status_code == 200, decided.text
                done = api.wait_for("q-run", {"DONE_SUCCESS"}, timeout=90)
                assert done["phases_complete"] == 3
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
