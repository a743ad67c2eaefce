"""Runs whose workspace is a git remote URL: several workers, one remote, nothing lost.

The remote is a bare repository reached through a ``file://`` URL; each "worker" is an
:class:`Engine` with its own data directory (its own mirror and worktrees) sharing one
database, as workers on different machines share PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.engine import Engine, EngineError, EngineOptions, execute_run
from autopack.engine.history import HISTORY_PHASE
from autopack.policy.states import PhaseState, RunState
from autopack.settings import load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from autopack.workspace import WorkspaceError
from support.engine_script import PLAN, script
from support.gitrepo import commit_all, git, write
from support.sample_project import sample_repo

RUN = "calc-run"
BRANCH = f"refs/heads/autonomous/{RUN}"
PHASES = ["mul-default", "readme", "div"]


class WorkerDiedError(Exception):
    """Raised from a worker's notify: the process stops there, as if killed."""


@pytest.fixture
def remote(tmp_path: Path, git_env: dict[str, str]) -> Path:
    project, _ = sample_repo(tmp_path / "project")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(bare))
    return bare


@pytest.fixture
def worker(tmp_path: Path, remote: Path) -> Iterator[Callable[..., Engine]]:
    """Factory: ``worker(name)`` → an engine with its own data dir; the first stores the run."""
    engines: list[Engine] = []
    database = f"sqlite:///{tmp_path / 'shared.db'}"

    def factory(
        name: str, plan: dict[str, Any] | None = None, max_parallel: int = 1, **settings: Any
    ) -> Engine:
        home = tmp_path / name
        home.mkdir(exist_ok=True)
        answers = tmp_path / f"script-{name}.yaml"
        answers.write_text(yaml.safe_dump(script()))
        s = load_settings(
            workspace=home, data_dir_override=home / "data", database_url=database, **settings
        )
        options = EngineOptions(scripted=answers, auto_approve=True, max_parallel=max_parallel)
        engine = Engine(s, Store.open(s), options)
        if not engines:
            loaded = load_spec_data(plan or {**PLAN, "workspace": remote.as_uri()})
            compiled = engine.strategy.compile_run(loaded.spec)
            engine.store.create_run(loaded.spec, compiled, shape=loaded.shape)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.store.close()


def _phase_commits(remote: Path) -> list[tuple[str, str]]:
    """(sha, Autopack-Phase) of the remote branch's commits since main, oldest first."""
    fmt = "%H %(trailers:key=Autopack-Phase,valueonly,unfold)"
    out = git(remote, "log", "--reverse", f"--format={fmt}", BRANCH, "--not", "main")
    return [tuple(line.split()) for line in out.splitlines() if line.strip()]  # type: ignore[misc]


def _heads(remote: Path) -> dict[str, str]:
    out = git(remote, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/")
    return dict(line.split() for line in out.strip().splitlines())


def _die_at(marker: str, action: Callable[[], None] | None = None) -> Callable[[str], None]:
    def notify(message: str) -> None:
        if message.startswith(marker):
            if action is None:
                raise WorkerDiedError(message)
            action()

    return notify


def _phase_states(engine: Engine) -> dict[str, str]:
    return {p.phase_id: p.state for p in engine.store.get_run(RUN).phases}


def test_run_against_a_url_pushes_one_commit_per_phase(worker, remote: Path) -> None:
    main = _heads(remote)["refs/heads/main"]
    one = worker("one")
    outcome = execute_run(one, RUN, notify=lambda m: None)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert [phase for _, phase in _phase_commits(remote)] == [*PHASES, HISTORY_PHASE]
    heads = _heads(remote)
    assert heads == {"refs/heads/main": main, BRANCH: heads[BRANCH]}  # main never written
    mirrors = list((one.settings.data_dir / "repos").iterdir())
    assert [p.name.endswith(".lock") for p in sorted(mirrors)] == [False, True]
    assert (one.settings.data_dir / "worktrees" / RUN / "calc.py").is_file()


def test_parallel_lanes_push_after_landing(worker, remote: Path) -> None:
    one = worker("one", max_parallel=2, skip_ci=True)
    messages: list[str] = []
    outcome = execute_run(one, RUN, notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert any("parallel lanes" in m for m in messages)
    assert [phase for _, phase in _phase_commits(remote)] == [*PHASES, HISTORY_PHASE]
    lanes = [ref for ref in _heads(remote) if "--lane--" in ref]
    assert lanes == []  # lanes stay local; only their landings travel


def test_another_worker_continues_the_run_and_pushes_on_top(worker, remote: Path) -> None:
    one = worker("one", skip_ci=True)
    with pytest.raises(WorkerDiedError):
        execute_run(one, RUN, notify=_die_at("phase readme:"))
    tries = len(one.store.attempts(RUN, "mul-default"))
    first = _phase_commits(remote)
    assert [phase for _, phase in first] == ["mul-default"]
    assert _phase_states(one)["readme"] == PhaseState.QUEUED

    two = worker("two", skip_ci=True)  # another machine: own data dir, nothing local
    messages: list[str] = []
    outcome = execute_run(two, RUN, notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    commits = _phase_commits(remote)
    assert commits[0] == first[0]  # worker one's commit kept as it was
    assert [phase for _, phase in commits] == [*PHASES, HISTORY_PHASE]
    assert any("continued from the remote" in m for m in messages)
    assert len(two.store.attempts(RUN, "mul-default")) == tries  # not redone
    assert (two.settings.data_dir / "worktrees" / RUN).is_dir()
    history = git(remote, "show", f"{BRANCH}:docs/BUILD_HISTORY.md")
    assert first[0][0][:12] in history


def test_a_commit_that_never_reached_the_remote_is_redone(worker, remote: Path) -> None:
    away = remote.with_name("away.git")
    one = worker("one", skip_ci=True)
    with pytest.raises(WorkspaceError):  # the push after readme's commit fails
        execute_run(one, RUN, notify=_die_at("phase readme:", lambda: remote.rename(away)))
    away.rename(remote)
    assert [phase for _, phase in _phase_commits(remote)] == ["mul-default"]
    assert _phase_states(one)["readme"] not in (PhaseState.COMPLETE, PhaseState.QUEUED)
    local = git(one.settings.data_dir / "worktrees" / RUN, "log", "-1", "--format=%s")
    assert local.strip() == "README"  # the commit exists, on the dead worker's disk only

    two = worker("two", skip_ci=True)
    messages: list[str] = []
    outcome = execute_run(two, RUN, notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert any("readme re-queued" in m for m in messages)
    assert [a.outcome for a in two.store.attempts(RUN, "readme")] == ["interrupted", "success"]
    assert [phase for _, phase in _phase_commits(remote)] == [*PHASES, HISTORY_PHASE]


def test_the_same_worker_resuming_drops_its_unpushed_commit(worker, remote: Path) -> None:
    away = remote.with_name("away.git")
    one = worker("one", skip_ci=True)
    with pytest.raises(WorkspaceError):
        execute_run(one, RUN, notify=_die_at("phase readme:", lambda: remote.rename(away)))
    away.rename(remote)
    messages: list[str] = []
    outcome = execute_run(one, RUN, notify=messages.append)
    assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    assert any("never reached the remote" in m for m in messages)
    assert [phase for _, phase in _phase_commits(remote)] == [*PHASES, HISTORY_PHASE]


def test_a_concurrent_push_stops_the_run_and_the_branch_is_untouched(
    worker, remote: Path, tmp_path: Path
) -> None:
    main = _heads(remote)["refs/heads/main"]
    pushed: list[str] = []

    def someone_pushes() -> None:
        other = tmp_path / "someone"
        git(tmp_path, "clone", "-q", "-b", f"autonomous/{RUN}", remote.as_uri(), str(other))
        write(other, "theirs.txt", "theirs\n")
        pushed.append(commit_all(other, "a person's commit"))
        git(other, "push", "-q", "origin", f"autonomous/{RUN}")

    one = worker("one", skip_ci=True)
    with pytest.raises(EngineError) as caught:
        execute_run(one, RUN, notify=_die_at("phase readme:", someone_pushes))
    assert caught.value.code == "remote_moved"
    assert "moved" in str(caught.value) and "Nothing was overwritten" in str(caught.value)
    assert _heads(remote) == {"refs/heads/main": main, BRANCH: pushed[0]}
    run = one.store.get_run(RUN)
    assert not RunState(run.state).is_terminal()  # whoever moved the branch decides
    assert _phase_states(one)["readme"] != PhaseState.COMPLETE
    with pytest.raises(WorkspaceError) as again:  # resuming never resets over their commit
        execute_run(worker("two", skip_ci=True), RUN, notify=lambda m: None)
    assert again.value.code == "foreign_commits"
    assert _heads(remote)[BRANCH] == pushed[0]


SECRET_URL = "https://user:s3cret@127.0.0.1:9/x.git"


def test_credentials_in_the_configured_url_never_show(worker, tmp_path: Path) -> None:
    one = worker("one", plan=PLAN, workspace_url=SECRET_URL)  # spec says ".": the setting
    messages: list[str] = []
    with pytest.raises(WorkspaceError) as caught:  # nothing listens on port 9
        execute_run(one, RUN, notify=messages.append)
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value)
    assert "127.0.0.1:9" in str(caught.value)
    assert not any("s3cret" in m for m in messages)
    assert not any("s3cret" in e.reason for e in one.store.events(RUN))
    for path in tmp_path.rglob("*"):  # data dirs, mirror config, the database
        if path.is_file() and not path.name.startswith("script-"):
            assert b"s3cret" not in path.read_bytes(), path
