"""The queue dispatcher on a real PostgreSQL: jobs enqueued in the run's own transaction,
one waiting job per run, the run task under the lease, the stalled-job sweeper, retries.

Everything runs against the session's throw-away PostgreSQL (a fresh database per test) and
procrastinate's real SQL schema and functions; the run task is called in-process here (the
worker processes are exercised by ``test_queue_workers.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from autopack.engine import Engine, EngineError, EngineOptions, execute_run
from autopack.engine.queue import TASK, QueueDispatcher, QueueError, enqueue_run, run_lock
from autopack.engine.queue_schema import ensure_queue_schema
from autopack.engine.queue_worker import (
    WorkerStoppingError,
    _retry_strategy,
    run_job,
    sweep_stalled_jobs,
)
from autopack.policy.states import RunState
from autopack.settings import Settings, SettingsError, load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import LeaseHeldError, NotFoundError, Store
from autopack.store.db import create_db_engine
from support import crash_run
from support.queue_run import make_repo, phase_commits, plan, script

pytestmark = pytest.mark.postgres


def _jobs(store: Store) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, args, status::text AS status, lock, queueing_lock, queue_name, "
                "task_name, attempts, worker_id FROM procrastinate.procrastinate_jobs ORDER BY id"
            )
        )
        return [dict(r._mapping) for r in rows]


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> Path:
    return make_repo(tmp_path / "repo", 2)


@pytest.fixture
def settings_pg(repo: Path, pg_url: str) -> Settings:
    return load_settings(workspace=repo, database_url=pg_url, lease_seconds=2.0)


@pytest.fixture
def store(settings_pg: Settings):
    s = Store.open(settings_pg)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(script(2)))
    return path


@pytest.fixture
def dispatcher(settings_pg: Settings, store: Store, answers: Path) -> QueueDispatcher:
    return QueueDispatcher(Engine(settings_pg, store, EngineOptions(scripted=answers)))


def _create(dispatcher: QueueDispatcher, run_id: str) -> str:
    loaded = load_spec_data(plan(run_id, 2))
    compiled = dispatcher.engine.strategy.compile_run(loaded.spec)
    dispatcher.create(loaded.spec, compiled, shape=loaded.shape, actor="test")
    return run_id


# same transaction ---------------------------------------------------------------------------
def test_a_created_run_has_its_job_committed_with_it(
    dispatcher: QueueDispatcher, store: Store, repo: Path
) -> None:
    _create(dispatcher, "r1")
    [job] = _jobs(store)
    assert job["args"] == {"run_id": "r1", "workspace": str(repo.resolve()), "base_ref": "HEAD"}
    assert (job["status"], job["task_name"], job["queue_name"]) == ("todo", TASK, "autopack")
    assert job["lock"] == job["queueing_lock"] == run_lock("r1")
    assert store.get_run("r1").state == RunState.RUN_CREATED


def test_a_failed_create_leaves_no_job(dispatcher: QueueDispatcher, store: Store) -> None:
    _create(dispatcher, "r1")
    with pytest.raises(Exception, match="r1"):
        _create(dispatcher, "r1")  # the run exists: the create fails
    assert [j["args"]["run_id"] for j in _jobs(store)] == ["r1"]  # type: ignore[index]


def test_a_failed_enqueue_leaves_no_run(dispatcher: QueueDispatcher, store: Store) -> None:
    with store.engine.begin() as conn:  # the queue refuses this one run's job
        conn.exec_driver_sql(
            "ALTER TABLE procrastinate.procrastinate_jobs ADD CONSTRAINT no_refused "
            "CHECK (args->>'run_id' <> 'refused')"
        )
    with pytest.raises(IntegrityError, match="no_refused"):
        _create(dispatcher, "refused")
    with pytest.raises(NotFoundError):
        store.get_run("refused")
    assert _jobs(store) == []


def test_a_job_enqueued_in_a_transaction_that_fails_is_gone(
    dispatcher: QueueDispatcher, store: Store
) -> None:
    _create(dispatcher, "r1")
    store.transition_run("r1", RunState.CANCELLED, reason="test", actor="test")  # job done
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE procrastinate.procrastinate_jobs SET status = 'succeeded'")
    with pytest.raises(RuntimeError, match="after the enqueue"), store.transaction() as session:
        assert enqueue_run(session, "r1", workspace="/nowhere") is not None
        raise RuntimeError("fails after the enqueue")
    assert [j["status"] for j in _jobs(store)] == ["succeeded"]


# one waiting job per run --------------------------------------------------------------------
def test_enqueueing_while_a_job_of_the_run_waits_adds_none(
    dispatcher: QueueDispatcher, store: Store
) -> None:
    _create(dispatcher, "r1")
    outcome = dispatcher.execute("r1", notify=lambda _m: None)
    assert outcome.reason == "a job of this run already waits"
    assert outcome.state == RunState.RUN_CREATED
    assert len(_jobs(store)) == 1


def test_execute_refuses_an_ended_run(dispatcher: QueueDispatcher, store: Store) -> None:
    _create(dispatcher, "r1")
    store.transition_run("r1", RunState.CANCELLED, reason="test", actor="test")
    with pytest.raises(EngineError, match="has ended"):
        dispatcher.execute("r1", notify=lambda _m: None)


def test_the_queue_needs_postgresql(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(SettingsError, match="PostgreSQL"):
        load_settings(workspace=repo, dispatch="queue")
    sqlite = Store.open(load_settings(workspace=repo))
    try:
        with pytest.raises(QueueError, match="needs PostgreSQL"):
            ensure_queue_schema(sqlite.engine)
    finally:
        sqlite.close()


def test_the_schema_is_installed_once_and_a_foreign_version_refused(pg_url: str) -> None:
    engine = create_db_engine(pg_url)
    try:
        assert ensure_queue_schema(engine) is True
        assert ensure_queue_schema(engine) is False
        with engine.connect() as conn:  # in its own schema, beside Autopack's tables
            tables = (
                conn.exec_driver_sql(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'procrastinate' ORDER BY 1"
                )
                .scalars()
                .all()
            )
        assert "procrastinate_jobs" in tables
        with engine.begin() as conn:
            conn.exec_driver_sql("COMMENT ON SCHEMA procrastinate IS 'procrastinate 2.15.0'")
        with pytest.raises(QueueError, match=r"2\.15\.0"):
            ensure_queue_schema(engine)
    finally:
        engine.dispose()


# the run task ----------------------------------------------------------------------------------
def test_run_job_executes_under_the_lease_and_ends_cleanly_when_done(
    dispatcher: QueueDispatcher, settings_pg: Settings, store: Store, repo: Path, answers: Path
) -> None:
    _create(dispatcher, "r1")
    options = EngineOptions(scripted=answers, actor="worker")
    kw = {"run_id": "r1", "workspace": str(repo)}
    store.acquire_lease("r1", "someone-else", 30)
    with pytest.raises(LeaseHeldError):  # leased elsewhere: not executed a second time
        run_job(settings_pg, store, options, **kw)
    store.release_lease("r1", "someone-else")

    with pytest.raises(WorkerStoppingError):  # a stopping worker hands the run over
        run_job(settings_pg, store, options, **kw, stopping=lambda: True)
    assert not store.lease("r1").live()
    assert not RunState(store.get_run("r1").state).is_terminal()

    assert run_job(settings_pg, store, options, **kw) == RunState.DONE_SUCCESS
    assert phase_commits(repo, "r1") == ["p1", "p2", "autopack-build-history"]
    events = len(store.events("r1"))
    assert run_job(settings_pg, store, options, **kw) == RunState.DONE_SUCCESS  # a late job
    assert len(store.events("r1")) == events


def test_retry_decisions() -> None:
    from procrastinate.jobs import Job

    retry = _retry_strategy()
    job = Job(id=1, queue="autopack", lock=None, queueing_lock=None, task_name=TASK)
    expires = datetime.now(UTC) + timedelta(seconds=40)
    held = retry.get_retry_decision(
        exception=LeaseHeldError("r1", "w", expires), job=job
    )  # fmt: skip
    assert expires < held.retry_at < expires + timedelta(seconds=1)
    now = retry.get_retry_decision(exception=WorkerStoppingError("stop"), job=job)
    assert now.retry_at <= datetime.now(UTC)
    assert retry.get_retry_decision(exception=EngineError("ended"), job=job) is None
    assert retry.get_retry_decision(exception=NotFoundError("run", "r1"), job=job) is None
    assert retry.get_retry_decision(exception=OSError("disk"), job=job) is not None
    worn = Job(id=1, queue="autopack", lock=None, queueing_lock=None, task_name=TASK, attempts=3)
    assert retry.get_retry_decision(exception=OSError("disk"), job=worn) is None


# dead workers --------------------------------------------------------------------------------
def test_the_sweeper_puts_back_the_jobs_of_dead_workers_once(
    dispatcher: QueueDispatcher, store: Store
) -> None:
    _create(dispatcher, "dead-run")
    _create(dispatcher, "live-run")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL search_path TO procrastinate")
        dead = conn.exec_driver_sql(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '1 hour') RETURNING id"
        ).scalar_one()
        live = conn.exec_driver_sql("SELECT * FROM procrastinate_register_worker_v1()").scalar()
        for worker in (dead, live):
            conn.execute(text("SELECT procrastinate_fetch_job_v2(NULL, :w)"), {"w": worker})
    before = {j["args"]["run_id"]: j for j in _jobs(store)}  # type: ignore[index]
    assert before["dead-run"]["status"] == before["live-run"]["status"] == "doing"

    assert sweep_stalled_jobs(store.engine, 2.0) == [before["dead-run"]["id"]]
    after = {j["args"]["run_id"]: j for j in _jobs(store)}  # type: ignore[index]
    assert (after["dead-run"]["status"], after["dead-run"]["attempts"]) == ("todo", 1)
    assert after["live-run"]["status"] == "doing"  # its worker beats
    assert sweep_stalled_jobs(store.engine, 2.0) == []  # never put back twice
    with store.engine.connect() as conn:
        workers = conn.exec_driver_sql("SELECT id FROM procrastinate.procrastinate_workers")
        assert [w[0] for w in workers] == [live]  # the dead one was pruned


# approval continues on a worker ------------------------------------------------------------
def test_approve_records_the_decision_and_queues_the_continuation(
    tmp_path: Path, pg_url: str, git_env: dict[str, str]
) -> None:
    repo = crash_run.make_repo(tmp_path / "gated")
    answers = tmp_path / "crash-script.yaml"
    answers.write_text(yaml.safe_dump(crash_run.script()))
    settings = load_settings(workspace=repo, database_url=pg_url, dispatch="queue")
    store = Store.open(settings)
    try:
        engine = Engine(settings, store, EngineOptions(scripted=answers))
        loaded = load_spec_data(crash_run.plan())
        queue = QueueDispatcher(engine)
        queue.create(loaded.spec, engine.strategy.compile_run(loaded.spec), shape=loaded.shape)
        with store.engine.begin() as conn:  # the first job is done (executed right here)
            conn.exec_driver_sql("UPDATE procrastinate.procrastinate_jobs SET status='succeeded'")
        gated = execute_run(engine, crash_run.RUN_ID, notify=lambda _m: None)
        assert gated.waiting

        outcome = queue.approve(crash_run.RUN_ID, by="reviewer", notify=lambda _m: None)
        assert outcome.state == RunState.GATE and "continues on a worker" in outcome.reason
        [approval] = store.approvals(status=None, run_id=crash_run.RUN_ID)
        assert (approval.status, approval.decided_by) == ("approved", "reviewer")
        assert [j["status"] for j in _jobs(store)] == ["succeeded", "todo"]

        ended = run_job(
            settings, store, EngineOptions(scripted=answers), run_id=crash_run.RUN_ID,
            workspace=str(repo),
        )  # fmt: skip
        assert ended == RunState.DONE_SUCCESS
        assert phase_commits(repo, crash_run.RUN_ID) == [
            "p1", "p2", "p3", "p4", "autopack-build-history",
        ]  # fmt: skip
    finally:
        store.close()


def test_the_worker_command_refuses_sqlite(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from autopack.cli.main import build_app

    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(repo))
    result = CliRunner().invoke(build_app(), ["worker"])
    assert result.exit_code == 2
    assert "needs a PostgreSQL DATABASE_URL" in result.output
