"""Crash safety: SIGKILL a process half-way through an attempt, then open() repairs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autopack.workspace import IntegrationWorkspace, WorkspaceError
from support.gitrepo import git, status, write

CHILD = Path(__file__).resolve().parents[1] / "support" / "crash_child.py"


def _run_and_kill(repo: Path, data_dir: Path, mode: str, tmp_path: Path) -> None:
    ready = tmp_path / f"ready-{mode}"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(repo), str(data_dir), "run", mode, str(ready)],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            if child.poll() is not None:
                _, err = child.communicate()
                pytest.fail(f"child exited early ({child.returncode}): {err.decode()}")
            if time.monotonic() > deadline:
                pytest.fail("child never reached the crash point")
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # the child, its git and the hook: all of them
        child.communicate()
    assert child.returncode == -signal.SIGKILL


def _index_lock(ws: IntegrationWorkspace) -> Path:
    return Path(ws.git.output("rev-parse", "--absolute-git-dir")) / "index.lock"


def _assert_back_at_snapshot(ws: IntegrationWorkspace, snapshot: str) -> None:
    assert ws.git.head() == snapshot
    assert status(ws.path) == ""
    assert not (ws.path / "untracked_new.py").exists()
    assert not (ws.path / "new.log").exists()
    assert (ws.path / "README.md").read_text() == "# sample\n"
    assert (ws.path / "src" / "app.py").read_text() == "def answer():\n    return 42\n"
    assert not _index_lock(ws).exists()
    assert not ws._journal.path.exists()


def _next_attempt_works(ws: IntegrationWorkspace) -> None:
    assert ws.begin_attempt("p1", 2) == ws.base_commit
    write(ws.path, "src/app.py", "def answer():\n    return 'whole'\n")
    sha = ws.commit_attempt("p1", 2, message="p1 again", model="m", tokens=9)
    [commit] = ws.phase_commits()
    assert (commit["sha"], commit["attempt"]) == (sha, 2)
    assert status(ws.path) == ""


@pytest.mark.parametrize("mode", ["hook", "lock"])
def test_kill_during_commit_then_open_repairs(
    repo: Path, data_dir: Path, tmp_path: Path, mode: str
) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "run")
    try:
        _run_and_kill(repo, data_dir, mode, tmp_path)
        lock = _index_lock(ws)
        assert lock.exists(), "the kill should have left the index lock behind"
        assert ws._journal.path.exists()
        with pytest.raises(WorkspaceError) as info:  # a fresh lock might still be live
            IntegrationWorkspace.open(repo, data_dir, "run")
        assert info.value.code == "worktree_locked"
        old = time.time() - 60
        os.utime(lock, (old, old))
        opened = IntegrationWorkspace.open(repo, data_dir, "run")
        assert any("index.lock" in note for note in opened.repairs), opened.repairs
        assert any("rolled back interrupted attempt 1 of phase p1" in n for n in opened.repairs)
        _assert_back_at_snapshot(opened, ws.base_commit)
        _next_attempt_works(opened)
    finally:
        ws.remove(delete_branch=True)


def test_kill_after_the_commit_keeps_it(repo: Path, data_dir: Path, tmp_path: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "run")
    try:
        _run_and_kill(repo, data_dir, "committed", tmp_path)
        opened = IntegrationWorkspace.open(repo, data_dir, "run", stale_lock_seconds=0)
        assert any("kept it" in note for note in opened.repairs), opened.repairs
        [commit] = opened.phase_commits()
        assert (commit["phase_id"], commit["attempt"], commit["tokens"]) == ("p1", 1, 5)
        after = git(repo, "rev-parse", "refs/autopack/run/p1/after").strip()
        assert after == commit["sha"] == opened.git.head()
        assert not opened._journal.path.exists()
        assert opened.begin_attempt("p2", 1) == commit["sha"]
        opened.rollback_attempt("p2")
    finally:
        ws.remove(delete_branch=True)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc to see processes")
def test_a_lock_held_by_a_live_git_is_not_removed(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "run")
    busy = subprocess.Popen(
        ["git", "-c", "alias.busy=!sleep 30", "busy"], cwd=ws.path, start_new_session=True
    )
    try:
        lock = _index_lock(ws)
        lock.write_bytes(b"")
        old = time.time() - 3600
        os.utime(lock, (old, old))
        with pytest.raises(WorkspaceError) as info:
            IntegrationWorkspace.open(repo, data_dir, "run", stale_lock_seconds=0)
        assert info.value.code == "worktree_locked"
        assert lock.exists()
        os.killpg(busy.pid, signal.SIGKILL)
        busy.wait()
        opened = IntegrationWorkspace.open(repo, data_dir, "run", stale_lock_seconds=0)
        assert not lock.exists()
        assert opened.repairs == ["removed stale git lock worktrees/run/index.lock"]
    finally:
        if busy.poll() is None:
            os.killpg(busy.pid, signal.SIGKILL)
            busy.wait()
        ws.remove(delete_branch=True)


def test_commits_someone_else_made_during_an_attempt_are_never_reset(
    repo: Path, data_dir: Path
) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "run1")
    ws.begin_attempt("p1", 1)
    write(ws.path, "mine.txt", "a person's work\n")
    git(ws.path, "add", "mine.txt")
    git(ws.path, "commit", "-q", "-m", "a person committed in the worktree")
    head = git(ws.path, "rev-parse", "HEAD").strip()
    with pytest.raises(WorkspaceError) as caught:
        IntegrationWorkspace.open(repo, data_dir, "run1")
    assert caught.value.code == "foreign_commits"
    assert git(ws.path, "rev-parse", "HEAD").strip() == head
    assert (ws.path / "mine.txt").read_text() == "a person's work\n"
    ws.remove(delete_branch=True)
