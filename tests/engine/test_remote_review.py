"""Reading a run that worked on a git remote URL from a machine that never ran it.

A worker (its own data dir) carries the run out against a bare repository reached through a
``file://`` URL; then ``autopack report``/``diff``/``merge`` and the API's integration status
run with a fresh data directory and a workspace that is not a clone of the remote: they must
fetch the mirror and show the remote's branch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from autopack.api import create_app
from autopack.cli.main import build_app
from autopack.engine import Engine, EngineOptions, execute_run
from autopack.engine.history import HISTORY_PHASE
from autopack.policy.states import RunState
from autopack.settings import Settings, load_settings
from autopack.spec.loader import load_spec_data
from autopack.store import Store
from autopack.workspace import WorkspaceError
from autopack.workspace.locate_run import RemoteRunBranch, find_run_branch
from support.engine_script import PLAN, script
from support.gitrepo import git
from support.sample_project import sample_repo

RUN = "calc-run"
ADMIN_KEY = "test-admin-key-0123456789abcdef"


@pytest.fixture
def remote(tmp_path: Path, git_env: dict[str, str]) -> Path:
    project, _ = sample_repo(tmp_path / "project")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(bare))
    return bare


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared.db'}"


def _worker(tmp_path: Path, database: str, plan: dict[str, object]) -> Engine:
    home = tmp_path / "worker"
    home.mkdir()
    answers = tmp_path / "script.yaml"
    answers.write_text(yaml.safe_dump(script()))
    s = load_settings(
        workspace=home, data_dir_override=home / "data", database_url=database, skip_ci=True
    )
    engine = Engine(s, Store.open(s), EngineOptions(scripted=answers, auto_approve=True))
    loaded = load_spec_data(plan)
    engine.store.create_run(loaded.spec, engine.strategy.compile_run(loaded.spec))
    return engine


@pytest.fixture
def finished(tmp_path: Path, remote: Path, database: str) -> Iterator[Path]:
    """The run done by a worker; returns the bare remote."""
    engine = _worker(tmp_path, database, {**PLAN, "workspace": remote.as_uri()})
    try:
        outcome = execute_run(engine, RUN, notify=lambda m: None)
        assert outcome.state == RunState.DONE_SUCCESS, outcome.reason
    finally:
        engine.store.close()
    yield remote


@pytest.fixture
def reader(tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Another machine: a plain directory (no clone of the remote), a fresh data dir."""
    home = tmp_path / "reader"
    home.mkdir()
    monkeypatch.setenv("AUTOPACK_WORKSPACE", str(home))
    monkeypatch.setenv("AUTOPACK_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("COLUMNS", "200")
    return load_settings()


def _cli(*args: str):
    return CliRunner().invoke(build_app(), list(args), catch_exceptions=False)


def _remote_commits(remote: Path) -> list[str]:
    out = git(remote, "rev-list", "--reverse", f"autonomous/{RUN}", "--not", "main")
    return out.split()


def test_report_and_diff_read_the_remote_branch_from_a_fresh_data_dir(
    finished: Path, reader: Settings
) -> None:
    commits = _remote_commits(finished)
    assert len(commits) == 4  # three phases and the build-history entry
    report = _cli("report", RUN)
    assert report.exit_code == 0, report.output
    text = report.stdout
    assert f"- **Repository:** `{finished.as_uri()}`" in text
    assert f"`autonomous/{RUN}` at `{commits[-1][:12]}`" in text
    for sha in commits[:3]:
        assert f"`{sha[:10]}`" in text  # each phase's commit, read from the remote
    assert f"git fetch {finished.as_uri()} autonomous/{RUN}" in text
    assert f"autopack merge {RUN}" not in text  # refused for a remote run: not suggested
    assert (reader.data_dir / "repos").is_dir()  # the mirror was made by reading

    whole = _cli("diff", RUN)
    assert whole.exit_code == 0, whole.output
    changed = git(finished, "diff", "--name-only", "main", f"autonomous/{RUN}").split()
    assert changed == ["README.md", "calc.py", "docs/BUILD_HISTORY.md"]
    for name in changed:
        assert f"+++ b/{name}\n" in whole.stdout, name
    assert "+def div(a, b):\n" in whole.stdout
    readme = _cli("diff", RUN, "readme")
    assert readme.exit_code == 0, readme.output
    assert readme.stdout.startswith("diff --git a/README.md b/README.md\n")
    assert "calc.py" not in readme.stdout


def test_every_read_fetches_the_remote_branch_afresh(finished: Path, reader: Settings) -> None:
    spec = {"workspace": finished.as_uri()}
    before = find_run_branch(reader, spec, RUN)
    assert isinstance(before, RemoteRunBranch) and before.head == _remote_commits(finished)[-1]
    git(finished, "update-ref", f"refs/heads/autonomous/{RUN}", f"autonomous/{RUN}~2")
    after = find_run_branch(reader, spec, RUN)  # fetched again: the remote is the truth
    assert after.head == _remote_commits(finished)[-1] != before.head
    shas = before.phase_shas()
    assert after.base == before.base and {"div", HISTORY_PHASE} <= set(shas)
    assert after.phase_shas() == {k: v for k, v in shas.items() if k not in ("div", HISTORY_PHASE)}
    with pytest.raises(WorkspaceError) as missing:  # no worker of the run on this machine
        after.diff("div")
    assert missing.value.code == "no_snapshot" and "no commit on" in missing.value.message
    assert "+++ b/README.md" in after.diff("readme")
    git(finished, "branch", "-D", f"autonomous/{RUN}")
    with pytest.raises(WorkspaceError) as gone:
        find_run_branch(reader, spec, RUN)
    assert gone.value.code == "run_not_found" and finished.as_uri() in gone.value.message


def test_merge_of_a_remote_run_is_refused_with_how_to_merge_it(
    finished: Path, reader: Settings
) -> None:
    before = git(finished, "for-each-ref")
    result = _cli("merge", RUN)
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "remote_run" in said and f"git fetch {finished.as_uri()} autonomous/{RUN}" in said
    assert "git merge FETCH_HEAD" in said
    assert git(finished, "for-each-ref") == before  # nothing changed on the remote


def test_integration_status_of_a_remote_run(finished: Path, reader: Settings) -> None:
    app = create_app(load_settings(api_key=ADMIN_KEY), engine_options=EngineOptions())
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    commits = _remote_commits(finished)
    main = git(finished, "rev-parse", "main").strip()
    with TestClient(app) as client:
        response = client.get(f"/runs/{RUN}/integration_status", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["exists"] is True and body["head"] == commits[-1]
        assert body["base_commit"] == main and body["base_ref_commit"] == main
        assert (body["ahead"], body["behind"]) == (4, 0)
        assert [c["sha"] for c in body["commits"]] == commits
        assert [p["commit"] for p in body["phases"]] == commits[:3]
        named = client.get(
            f"/runs/{RUN}/integration_status", params={"base": "main"}, headers=headers
        )
        assert named.status_code == 200 and named.json()["base_ref_commit"] == main
        bad = client.get(f"/runs/{RUN}/integration_status?base=nope", headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_base_ref"
