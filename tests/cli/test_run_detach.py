"""``autopack run PLAN --detach``: the run and its job stored together, on a real PostgreSQL;
refused without the queue dispatcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from autopack.cli.main import build_app
from autopack.engine.queue import TASK, run_lock
from autopack.policy.states import RunState
from autopack.settings import load_settings
from autopack.store import NotFoundError, Store
from support.queue_run import make_repo, plan


def _cli(*args: str):
    return CliRunner().invoke(build_app(), list(args), catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_repo(tmp_path / "repo", 2)
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(path))
    monkeypatch.setenv("COLUMNS", "200")
    return path


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan("d1", 2)))
    return path


def _jobs(store: Store) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT args, status::text AS status, lock, task_name "
                "FROM procrastinate.procrastinate_jobs ORDER BY id"
            )
        )
        return [dict(r._mapping) for r in rows]


@pytest.mark.postgres
def test_detach_stores_the_run_with_its_job_and_returns(
    repo: Path, plan_file: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("AUTOPACK_DISPATCH", "queue")
    result = _cli("run", str(plan_file), "--detach")
    assert result.exit_code == 0, result.output
    assert "run d1 queued" in result.stdout
    assert "autopack status d1 --watch" in result.stdout
    store = Store.open(load_settings())
    try:
        assert store.get_run("d1").state == RunState.RUN_CREATED  # nobody executed it here
        [job] = _jobs(store)
        assert job["args"] == {"run_id": "d1", "workspace": str(repo.resolve()), "base_ref": "HEAD"}
        assert (job["status"], job["task_name"], job["lock"]) == ("todo", TASK, run_lock("d1"))

        again = _cli("run", str(plan_file), "--detach", "--base", "main")
        assert again.exit_code == 0, again.output
        assert "run d1 exists; resume a job of this run already waits" in again.stdout
        assert len(_jobs(store)) == 1  # the waiting job does the work

        local = _cli("run", str(plan_file), "--detach", "--auto-approve", "--max-parallel", "2")
        assert local.exit_code == 2
        said = " ".join(local.stderr.split())
        assert "--auto-approve, --max-parallel only apply to a run executed here" in said
    finally:
        store.close()


def test_detach_without_the_queue_dispatcher_is_refused(repo: Path, plan_file: Path) -> None:
    result = _cli("run", str(plan_file), "--detach")
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "--detach needs AUTOPACK_DISPATCH=queue" in said
    store = Store.open(load_settings())
    try:
        with pytest.raises(NotFoundError):
            store.get_run("d1")  # nothing stored, nothing executed
    finally:
        store.close()
    assert not (repo / ".git" / "refs" / "heads" / "autonomous").exists()
