"""IntegrationWorkspace on real repositories: the user's checkout is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.workspace import BRANCH_PREFIX, IntegrationWorkspace, WorkspaceError
from autopack.workspace.integration import AUTOPACK_IDENTITY
from support.gitrepo import checkout_state, git, status, worktree_paths, write

TRAILERS = ("Autopack-Run", "Autopack-Phase", "Autopack-Attempt", "Autopack-Model")


@pytest.fixture
def dirty_repo(repo: Path) -> Path:
    """The user has uncommitted work: a modified tracked file and an untracked file."""
    write(repo, "README.md", "# sample\nwork in progress, not committed\n")
    write(repo, "notes.txt", "untracked user notes\n")
    git(repo, "add", "README.md")  # staged too: the index must survive as well
    write(repo, "README.md", "# sample\nwork in progress, not committed\nmore\n")
    return repo


def _work(ws: IntegrationWorkspace) -> None:
    write(ws.path, "src/app.py", "def answer():\n    return 43\n")
    write(ws.path, "src/new_module.py", "VALUE = 1\n")
    (ws.path / "README.md").unlink()


def test_create_checks_out_the_branch_in_its_own_worktree(repo: Path, data_dir: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    ws = IntegrationWorkspace.create(repo, data_dir, "run-1")
    try:
        assert ws.branch == f"{BRANCH_PREFIX}run-1" == "autonomous/run-1"
        assert ws.path == (data_dir / "worktrees" / "run-1").resolve()
        assert ws.base_commit == head
        assert git(repo, "rev-parse", "refs/autopack/run-1/base").strip() == head
        assert git(ws.path, "symbolic-ref", "HEAD").strip() == "refs/heads/autonomous/run-1"
        assert (ws.path / "src" / "app.py").read_text() == "def answer():\n    return 42\n"
        assert (data_dir / ".gitignore").read_text().endswith("*\n")
        assert status(repo) == ""  # the data directory is ignored in the main checkout
        assert str(ws.path) in worktree_paths(repo)
    finally:
        ws.remove(delete_branch=True)
    assert worktree_paths(repo) == [str(repo)]
    assert git(repo, "branch", "--list", "autonomous/*") == ""
    assert git(repo, "for-each-ref", "refs/autopack/") == ""


def test_users_checkout_survives_everything_byte_for_byte(dirty_repo: Path, data_dir: Path) -> None:
    before = checkout_state(dirty_repo)
    ws = IntegrationWorkspace.create(dirty_repo, data_dir, "run-1")
    ws.begin_attempt("p1", 1)
    _work(ws)
    ws.rollback_attempt("p1")
    ws.begin_attempt("p1", 2)
    _work(ws)
    ws.commit_attempt("p1", 2, message="phase one", model="m", tokens=10)
    ws = IntegrationWorkspace.open(dirty_repo, data_dir, "run-1")
    ws.phase_diff("p1")
    ws.phase_commits()
    ws.remove(delete_branch=True)
    assert checkout_state(dirty_repo) == before
    assert (dirty_repo / "notes.txt").read_text() == "untracked user notes\n"


def test_base_ref_other_than_head(repo: Path, data_dir: Path) -> None:
    older = git(repo, "rev-parse", "HEAD~1").strip()
    ws = IntegrationWorkspace.create(repo, data_dir, "r", base_ref="HEAD~1")
    try:
        assert ws.base_commit == older == ws.git.head()
        assert not (ws.path / "docs").exists()
    finally:
        ws.remove(delete_branch=True)


def test_create_refusals(git_repo, tmp_path: Path) -> None:
    repo = git_repo()
    data = tmp_path / "data"
    ws = IntegrationWorkspace.create(repo, data, "taken")
    try:
        with pytest.raises(WorkspaceError) as info:
            IntegrationWorkspace.create(repo, data, "taken")
        assert info.value.code == "branch_exists"
        git(repo, "branch", "autonomous/users-own")
        with pytest.raises(WorkspaceError) as info:
            IntegrationWorkspace.create(repo, data, "users-own")
        assert info.value.code == "branch_exists"
        with pytest.raises(WorkspaceError) as info:
            IntegrationWorkspace.create(repo, data, "x", base_ref="no-such-ref")
        assert info.value.code == "bad_ref"
    finally:
        ws.remove(delete_branch=True)
    empty = git_repo("empty", commits=0)
    with pytest.raises(WorkspaceError) as info:
        IntegrationWorkspace.create(empty, data, "x")
    assert info.value.code == "empty_repository"
    assert "no commits" in str(info.value)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorkspaceError) as info:
        IntegrationWorkspace.create(plain, data, "x")
    assert info.value.code == "not_a_repository"


@pytest.mark.parametrize(
    "bad",
    ["", "..", "a..b", "-x", ".x", "x.lock", "x.", "a/b", "a b", "x" * 129, "ü", "r.journal"],
)
def test_invalid_run_ids_are_refused(repo: Path, data_dir: Path, bad: str) -> None:
    with pytest.raises(WorkspaceError) as info:
        IntegrationWorkspace.create(repo, data_dir, bad)
    assert info.value.code == "invalid_id"
    assert not data_dir.exists()


@pytest.mark.parametrize("bad", ["..", "p/../q", "base", "p.lock", "-p", "p~1", "p:q"])
def test_invalid_phase_ids_are_refused(repo: Path, data_dir: Path, bad: str) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        for call in (
            lambda: ws.begin_attempt(bad, 1),
            lambda: ws.rollback_attempt(bad),
            lambda: ws.commit_attempt(bad, 1, message="m", model=None, tokens=None),
            lambda: ws.phase_diff(bad),
        ):
            with pytest.raises(WorkspaceError) as info:
                call()
            assert info.value.code == "invalid_id"
    finally:
        ws.remove(delete_branch=True)


def test_a_phase_lands_as_exactly_one_commit_with_trailers(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "run-7")
    try:
        snapshot = ws.begin_attempt("p1", 1)
        assert snapshot == ws.base_commit
        _work(ws)
        write(ws.path, "build/out.bin", "ignored build output\n")
        sha = ws.commit_attempt(
            "p1", 3, message="Add the new module\n\nBody text.", model="claude-x", tokens=1234
        )
        assert sha == ws.git.head()
        assert git(ws.path, "rev-list", "--count", f"{ws.base_commit}..HEAD").strip() == "1"
        assert git(ws.path, "rev-parse", "HEAD^").strip() == snapshot
        assert status(ws.path) == ""
        assert git(ws.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
            "{0} <{1}>|{0} <{1}>".format(*AUTOPACK_IDENTITY)
        )
        body = git(ws.path, "log", "-1", "--format=%B")
        assert body.startswith("Add the new module\n\nBody text.\n\n")
        for key in (*TRAILERS, "Autopack-Tokens"):
            assert f"\n{key}: " in body
        files = git(ws.path, "show", "--name-status", "--format=", "HEAD").split("\n")
        assert sorted(f for f in files if f) == [
            "A\tsrc/new_module.py",
            "D\tREADME.md",
            "M\tsrc/app.py",
        ]
        [commit] = ws.phase_commits()
        assert commit["sha"] == sha
        assert commit["subject"] == "Add the new module"
        assert (commit["run_id"], commit["phase_id"], commit["attempt"]) == ("run-7", "p1", 3)
        assert (commit["model"], commit["tokens"]) == ("claude-x", 1234)
        assert commit["trailers"]["Autopack-Run"] == "run-7"
        assert git(ws.path, "rev-parse", "refs/autopack/run-7/p1/after").strip() == sha
        assert "+VALUE = 1" in ws.phase_diff("p1")
        assert not ws._journal.path.exists()
    finally:
        ws.remove(delete_branch=True)


def test_unknown_model_and_tokens_and_hostile_message(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        ws.begin_attempt("p", 1)
        write(ws.path, "x.txt", "x\n")
        message = "# not a comment\n\nAutopack-Phase: forged\n"
        ws.commit_attempt("p", 1, message=message, model="a\nb", tokens=None)
        [commit] = ws.phase_commits()
        assert commit["phase_id"] == "p"
        assert commit["model"] == "a b"
        assert commit["tokens"] is None
        assert git(ws.path, "log", "-1", "--format=%s").strip() == "# not a comment"
        body = git(ws.path, "log", "-1", "--format=%B")
        assert body.count("Autopack-Phase:") == 1 and "forged" not in body
    finally:
        ws.remove(delete_branch=True)


def test_nothing_to_commit_returns_none_and_closes_the_attempt(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        ws.begin_attempt("p", 1)
        write(ws.path, "debug.log", "ignored only\n")
        assert ws.commit_attempt("p", 1, message="m", model=None, tokens=None) is None
        assert ws.git.head() == ws.base_commit
        ws.begin_attempt("p", 2)  # no attempt open any more
        ws.rollback_attempt("p")
    finally:
        ws.remove(delete_branch=True)


def test_a_failed_attempt_leaves_no_trace(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        write(ws.path, "build/venv-like/keep.txt", "existed before the attempt\n")
        write(ws.path, "old.log", "pre-existing ignored file\n")
        head = ws.git.head()
        ws.begin_attempt("p1", 1)
        _work(ws)
        write(ws.path, "brand/new/dir/file.txt", "untracked\n")
        write(ws.path, "src/__pycache__/app.cpython-311.pyc", "ignored, new\n")
        write(ws.path, "new.log", "ignored, new\n")
        git(ws.path, "add", "src/new_module.py")
        git(ws.path, "init", "-q", "nested")  # even a nested repository goes
        ws.rollback_attempt("p1")
        assert ws.git.head() == head
        assert status(ws.path) == ""
        assert not (ws.path / "brand").exists()
        assert not (ws.path / "nested").exists()
        assert not (ws.path / "src" / "__pycache__").exists()
        assert not (ws.path / "new.log").exists()
        assert (ws.path / "build/venv-like/keep.txt").exists()
        assert (ws.path / "old.log").exists()
        assert (ws.path / "README.md").read_text() == "# sample\n"
        assert ws.phase_commits() == []
        assert not ws._journal.path.exists()
    finally:
        ws.remove(delete_branch=True)


def test_two_phases_and_retries_reset_to_the_same_snapshot(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        s1 = ws.begin_attempt("p1", 1)
        write(ws.path, "a.txt", "first try\n")
        assert "+first try" in ws.phase_diff("p1")  # untracked file shown during the attempt
        assert status(ws.path) == "?? a.txt\n"  # and the worktree's index was not touched
        ws.rollback_attempt("p1")
        assert ws.begin_attempt("p1", 2) == s1
        write(ws.path, "a.txt", "second try\n")
        c1 = ws.commit_attempt("p1", 2, message="p1", model="m1", tokens=1)
        s2 = ws.begin_attempt("p2", 1)
        assert s2 == c1
        write(ws.path, "a.txt", "phase two, failed\n")
        ws.rollback_attempt("p2")
        assert (ws.path / "a.txt").read_text() == "second try\n"
        assert ws.begin_attempt("p2", 2) == s2
        write(ws.path, "b.txt", "phase two\n")
        c2 = ws.commit_attempt("p2", 2, message="p2", model="m2", tokens=2)
        commits = ws.phase_commits()
        assert [c["sha"] for c in commits] == [c1, c2]
        assert [(c["phase_id"], c["attempt"]) for c in commits] == [("p1", 2), ("p2", 2)]
        d1, d2 = ws.phase_diff("p1"), ws.phase_diff("p2")
        assert "+second try" in d1 and "b.txt" not in d1
        assert "b/b.txt" in d2 and "a.txt" not in d2
        with pytest.raises(WorkspaceError) as info:
            ws.begin_attempt("p1", 3)  # p1 was committed: its snapshot is behind HEAD
        assert info.value.code == "not_at_snapshot"
    finally:
        ws.remove(delete_branch=True)


def test_attempt_bookkeeping_errors(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        with pytest.raises(WorkspaceError) as info:
            ws.rollback_attempt("never")
        assert info.value.code == "no_snapshot"
        with pytest.raises(WorkspaceError) as info:
            ws.phase_diff("never")
        assert info.value.code == "no_snapshot"
        ws.begin_attempt("p1", 1)
        for call in (
            lambda: ws.begin_attempt("p1", 2),
            lambda: ws.begin_attempt("p2", 1),
        ):
            with pytest.raises(WorkspaceError) as info:
                call()
            assert info.value.code == "attempt_open"
        with pytest.raises(WorkspaceError) as info:
            ws.commit_attempt("p2", 1, message="m", model=None, tokens=None)
        assert info.value.code == "attempt_mismatch"
        ws.rollback_attempt("p1")
        write(ws.path, "README.md", "edited by hand\n")
        with pytest.raises(WorkspaceError) as info:
            ws.begin_attempt("p2", 1)
        assert info.value.code == "dirty_worktree"
    finally:
        ws.remove(delete_branch=True)


def test_crlf_and_binary_content_survive(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    try:
        ws.begin_attempt("p", 1)
        (ws.path / "win.txt").write_bytes(b"one\r\ntwo\r\n")
        (ws.path / "blob.bin").write_bytes(bytes(range(256)))
        diff = ws.phase_diff("p")
        assert "+one\r\n" in diff
        ws.commit_attempt("p", 1, message="m", model=None, tokens=None)
        assert ws.git.run("cat-file", "-p", "HEAD:win.txt").stdout == "one\r\ntwo\r\n"
        assert "Binary files" in ws.phase_diff("p")
    finally:
        ws.remove(delete_branch=True)


def test_open_reattaches_a_missing_worktree(repo: Path, data_dir: Path) -> None:
    import shutil

    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    ws.begin_attempt("p", 1)
    write(ws.path, "a.txt", "a\n")
    sha = ws.commit_attempt("p", 1, message="m", model=None, tokens=None)
    shutil.rmtree(ws.path)
    again = IntegrationWorkspace.open(repo, data_dir, "r")
    try:
        assert any("re-added" in note for note in again.repairs)
        assert again.git.head() == sha
        assert again.base_commit == ws.base_commit
        assert (again.path / "a.txt").read_text() == "a\n"
        assert IntegrationWorkspace.open(repo, data_dir, "r").repairs == []
    finally:
        again.remove(delete_branch=True)


def test_open_unknown_run(repo: Path, data_dir: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        IntegrationWorkspace.open(repo, data_dir, "ghost")
    assert info.value.code == "run_not_found"


def test_remove_keeps_the_branch_unless_asked(repo: Path, data_dir: Path) -> None:
    ws = IntegrationWorkspace.create(repo, data_dir, "r")
    ws.remove()
    assert not ws.path.exists()
    assert worktree_paths(repo) == [str(repo)]
    assert git(repo, "branch", "--list", "autonomous/r").strip() == "autonomous/r"
    again = IntegrationWorkspace.open(repo, data_dir, "r")  # the run can be resumed
    again.remove(delete_branch=True)
    assert git(repo, "branch", "--list", "autonomous/r") == ""
