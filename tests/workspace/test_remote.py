"""RemoteRepository against a real bare repository reached through a file:// URL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from autopack.workspace import GitError, WorkspaceError
from autopack.workspace.remote import (
    RemoteMovedError,
    RemoteRepository,
    RemoteWorkspace,
    remote_for,
)
from support.gitrepo import commit_all, git, write

BRANCH = "refs/heads/autonomous/run1"


@pytest.fixture
def remote(git_repo: Callable[..., Path], tmp_path: Path) -> Path:
    """A bare repository (branch ``main``, two commits) made from a normal one."""
    source = git_repo("source")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    return bare


def _url(bare: Path) -> str:
    return bare.as_uri()


def _ref(bare: Path, ref: str) -> str | None:
    out = git(bare, "rev-parse", "--verify", "--quiet", ref, check=False).strip()
    return out or None


def _phase(ws: RemoteWorkspace, phase_id: str, name: str | None = None) -> str | None:
    ws.begin_attempt(phase_id, 1)
    write(ws.path, f"{name or phase_id}.txt", f"{phase_id}\n")
    return ws.commit_attempt(phase_id, 1, message=phase_id, model="m", tokens=1)


def _remove(ws: RemoteWorkspace) -> None:
    ws.remove(delete_branch=True)


def test_new_run_branches_from_the_default_branch_and_pushes_each_commit(
    remote: Path, tmp_path: Path
) -> None:
    main = _ref(remote, "refs/heads/main")
    repo = RemoteRepository(_url(remote), tmp_path / "data")
    ws = repo.open_run("run1")
    assert ws.path == tmp_path / "data" / "worktrees" / "run1"
    assert repo.path.parent == tmp_path / "data" / "repos"
    assert ws.base_commit == main and ws.remote_sha is None
    assert _ref(remote, BRANCH) is None  # nothing pushed before the first commit
    first = _phase(ws, "p1")
    assert _ref(remote, BRANCH) == first == ws.remote_sha
    second = _phase(ws, "p2")
    assert _ref(remote, BRANCH) == second
    assert git(remote, "rev-list", "--count", f"main..{BRANCH}").strip() == "2"
    assert _ref(remote, "refs/heads/main") == main  # the user's branch is never written
    heads = git(remote, "for-each-ref", "--format=%(refname)").split()
    assert sorted(heads) == ["refs/heads/autonomous/run1", "refs/heads/main"]
    _remove(ws)


def test_no_change_pushes_nothing(remote: Path, tmp_path: Path) -> None:
    ws = RemoteRepository(_url(remote), tmp_path / "data").open_run("run1")
    ws.begin_attempt("p1", 1)
    assert ws.commit_attempt("p1", 1, message="p1", model=None, tokens=None) is None
    assert _ref(remote, BRANCH) is None
    _remove(ws)


def test_base_ref_names_a_remote_branch(remote: Path, git_repo, tmp_path: Path) -> None:
    first = git(remote, "rev-parse", "main~1").strip()
    git(remote, "branch", "release", first)
    ws = RemoteRepository(_url(remote), tmp_path / "data").open_run("run1", base_ref="release")
    assert ws.base_commit == first
    _remove(ws)
    with pytest.raises(WorkspaceError) as caught:
        RemoteRepository(_url(remote), tmp_path / "data").open_run("run2", base_ref="nope")
    assert caught.value.code == "bad_ref"


def test_another_worker_continues_where_the_first_stopped(remote: Path, tmp_path: Path) -> None:
    one = RemoteRepository(_url(remote), tmp_path / "one").open_run("run1")
    p1 = _phase(one, "p1")
    p2 = _phase(one, "p2")
    two = RemoteRepository(_url(remote), tmp_path / "two").open_run("run1")
    assert two.git.head() == p2 and two.remote_sha == p2
    assert two.base_commit == one.base_commit  # derived from the trailers
    assert two.git.output("rev-parse", "refs/autopack/run1/base") == one.base_commit
    assert two.git.output("rev-parse", "refs/autopack/run1/p1/after") == p1
    assert two.git.output("rev-parse", "refs/autopack/run1/p2/before") == p1
    assert [c["phase_id"] for c in two.phase_commits()] == ["p1", "p2"]
    assert any("continued from the remote" in note for note in two.repairs)
    p3 = _phase(two, "p3")
    assert _ref(remote, BRANCH) == p3
    assert git(remote, "rev-parse", f"{p3}^").strip() == p2  # on top, nothing rewritten
    _remove(one)
    _remove(two)


def test_reopening_moves_a_stale_branch_to_the_remote(remote: Path, tmp_path: Path) -> None:
    one = RemoteRepository(_url(remote), tmp_path / "one").open_run("run1")
    _phase(one, "p1")
    two = RemoteRepository(_url(remote), tmp_path / "two").open_run("run1")
    p2 = _phase(two, "p2")
    again = RemoteRepository(_url(remote), tmp_path / "one").open_run("run1")
    assert again.git.head() == p2 and again.remote_sha == p2
    assert again.git.output("rev-parse", "refs/autopack/run1/p2/after") == p2
    assert again.git.is_clean()
    _remove(again)
    _remove(two)


def test_push_refused_when_someone_else_moved_the_branch(remote: Path, tmp_path: Path) -> None:
    ws = RemoteRepository(_url(remote), tmp_path / "data").open_run("run1")
    _phase(ws, "p1")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "autonomous/run1", _url(remote), str(other))
    write(other, "theirs.txt", "theirs\n")
    theirs = commit_all(other, "a person's commit")
    git(other, "push", "-q", "origin", "autonomous/run1")
    with pytest.raises(RemoteMovedError) as caught:
        _phase(ws, "p2")
    assert caught.value.code == "remote_moved"
    assert "moved" in str(caught.value) and "Nothing was overwritten" in str(caught.value)
    assert _ref(remote, BRANCH) == theirs  # untouched
    head = ws.git.head()
    with pytest.raises(RemoteMovedError):  # the workspace commits nothing more
        _phase(ws, "p3")
    assert ws.git.head() == head
    ws.rollback_attempt("p3")
    with pytest.raises(WorkspaceError) as foreign:  # and nobody resets over the person's work
        RemoteRepository(_url(remote), tmp_path / "fresh").open_run("run1")
    assert foreign.value.code == "foreign_commits"
    _remove(ws)


def test_first_push_refused_when_the_branch_appeared_meanwhile(
    remote: Path, tmp_path: Path
) -> None:
    ws = RemoteRepository(_url(remote), tmp_path / "data").open_run("run1")
    git(remote, "branch", "autonomous/run1", "main")
    with pytest.raises(RemoteMovedError):
        _phase(ws, "p1")
    assert _ref(remote, BRANCH) == _ref(remote, "refs/heads/main")
    _remove(ws)


def test_unpushed_commit_is_dropped_and_its_phase_redone(remote: Path, tmp_path: Path) -> None:
    repo = RemoteRepository(_url(remote), tmp_path / "data")
    ws = repo.open_run("run1")
    p1 = _phase(ws, "p1")
    away = remote.with_name("away.git")
    remote.rename(away)  # the network goes down between the commit and its push
    with pytest.raises(GitError):
        _phase(ws, "p2")
    local = ws.git.head()
    assert local != p1
    away.rename(remote)
    again = repo.open_run("run1")
    assert again.git.head() == p1
    assert again.git.try_rev_parse("refs/autopack/run1/p2/after") is None
    assert again.git.try_rev_parse("refs/autopack/run1/p2/before") is None
    assert any("1 local commit(s) never reached the remote" in n for n in again.repairs)
    assert _phase(again, "p2") is not None  # redone from the remote's state
    assert git(remote, "rev-list", "--count", f"main..{BRANCH}").strip() == "2"
    _remove(again)


def test_a_run_never_pushed_goes_back_to_its_base(remote: Path, tmp_path: Path) -> None:
    repo = RemoteRepository(_url(remote), tmp_path / "data")
    ws = repo.open_run("run1")
    away = remote.with_name("away.git")
    remote.rename(away)
    with pytest.raises(GitError):
        _phase(ws, "p1")
    away.rename(remote)
    again = repo.open_run("run1")
    assert again.git.head() == again.base_commit
    assert again.git.try_rev_parse("refs/autopack/run1/p1/after") is None
    _remove(again)


def test_branch_of_another_run_with_that_id_is_refused(remote: Path, tmp_path: Path) -> None:
    one = RemoteRepository(_url(remote), tmp_path / "one").open_run("run1")
    _phase(one, "p1")
    git(remote, "update-ref", "-d", BRANCH)
    git(remote, "branch", "release", "main~1")
    two = RemoteRepository(_url(remote), tmp_path / "two").open_run("run1", base_ref="release")
    theirs = _phase(two, "p1")
    with pytest.raises(WorkspaceError) as caught:  # one's mirror still has the old run
        RemoteRepository(_url(remote), tmp_path / "one").open_run("run1")
    assert caught.value.code == "remote_diverged"
    assert _ref(remote, BRANCH) == theirs
    _remove(one)
    _remove(two)


def test_the_mirror_lock_excludes_other_workers(remote: Path, tmp_path: Path) -> None:
    holder = RemoteRepository(_url(remote), tmp_path / "data")
    other = RemoteRepository(_url(remote), tmp_path / "data")  # another worker, same disk
    done = threading.Event()
    with holder.locked():
        thread = threading.Thread(target=lambda: (other.fetch(), done.set()))
        thread.start()
        assert not done.wait(0.5)  # blocked on the lock file
    thread.join(30)
    assert done.is_set()


def test_concurrent_runs_share_one_mirror(remote: Path, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    made: list[RemoteWorkspace] = []

    def work(run_id: str) -> None:
        try:
            ws = RemoteRepository(_url(remote), tmp_path / "data").open_run(run_id)
            made.append(ws)
            for n in range(2):
                _phase(ws, f"p{n}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"run{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    for i in range(4):
        assert git(remote, "rev-list", "--count", f"main..autonomous/run{i}").strip() == "2"
    git(made[0].repo, "fsck", "--no-progress")
    for ws in made:
        _remove(ws)


SECRET_URL = "https://user:s3cret@127.0.0.1:9/x.git"


def test_credentials_never_reach_errors_or_disk(tmp_path: Path, git_env) -> None:
    repo = RemoteRepository(SECRET_URL, tmp_path / "data")
    assert repo.url == "https://127.0.0.1:9/x.git"
    assert "s3cret" not in repr(repo) and "s3cret" not in str(repo.path)
    with pytest.raises(GitError) as caught:
        repo.fetch()  # nothing listens on port 9
    error = caught.value
    assert "s3cret" not in str(error) and "s3cret" not in error.stderr
    assert all("s3cret" not in arg for arg in error.argv)
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path
    config = (repo.path / ".git" / "config").read_text()
    assert "url = https://127.0.0.1:9/x.git" in config


def test_invalid_url_is_refused_with_a_code(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as caught:
        RemoteRepository("ftp://user:s3cret@example.com/x.git", tmp_path)
    assert caught.value.code == "remote_unusable" and "s3cret" not in str(caught.value)


def test_remote_for_chooses_spec_then_setting(tmp_path: Path) -> None:
    assert remote_for(".", None, tmp_path) is None
    assert remote_for(".", SECRET_URL, tmp_path).url == "https://127.0.0.1:9/x.git"
    spec_url = "https://127.0.0.1:9/x"
    chosen = remote_for(spec_url, SECRET_URL, tmp_path)  # same repository: its credentials
    assert chosen.url == "https://127.0.0.1:9/x.git" and chosen._auth is not None
    other = remote_for("https://example.com/o/r.git", SECRET_URL, tmp_path)
    assert other.url == "https://example.com/o/r.git" and other._auth is None
