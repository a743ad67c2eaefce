"""`merge_run` on real repositories: fast-forward, merge commit, refusals, conflicts, refs only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autopack.workspace import IntegrationWorkspace
from autopack.workspace.merge import MergeKind, MergeRefusedError, merge_run
from support.gitrepo import git, make_repo, status, tree_bytes, worktree_paths, write

RUN = "r1"
OK = "DONE_SUCCESS"


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> Iterator[Path]:
    """``main`` with two commits, and a run branch of two phase commits on top of it."""
    repo = make_repo(tmp_path / "repo")
    ws = IntegrationWorkspace.create(repo, repo / ".autopack", RUN)
    for phase, rel, text in (
        ("p1", "src/app.py", "def answer():\n    return 43\n"),
        ("p2", "docs/new.md", "new page\n"),
    ):
        ws.begin_attempt(phase, 1)
        write(ws.path, rel, text)
        ws.commit_attempt(phase, 1, message=f"phase {phase}", model="m", tokens=1)
    write(repo, "notes.txt", "the user's untracked notes\n")
    yield repo
    ws.remove()
    assert worktree_paths(repo) == [str(repo)], "a temporary worktree was left behind"


def rev(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref).strip()


def parents(repo: Path, ref: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n1", ref).split()[1:]


def commit_file(repo: Path, rel: str, text: str, message: str) -> str:
    write(repo, rel, text)
    git(repo, "add", rel)
    git(repo, "commit", "-q", "-m", message)
    return rev(repo, "HEAD")


def snapshot(repo: Path) -> tuple[dict[str, bytes], str, str]:
    return tree_bytes(repo, exclude=(".git", ".autopack")), rev(repo, "HEAD"), status(repo)


def test_fast_forward_into_the_checked_out_clean_branch(repo: Path) -> None:
    head = rev(repo, f"autonomous/{RUN}")
    result = merge_run(repo, RUN, run_state=OK)
    assert result.kind is MergeKind.FAST_FORWARD and result.target == "main"
    assert result.worktree == repo and result.new == head == rev(repo, "main")
    assert (repo / "src/app.py").read_text().endswith("return 43\n")
    assert (repo / "docs/new.md").read_text() == "new page\n"
    assert status(repo) == "?? notes.txt\n"  # untracked work untouched
    assert "fast-forwarded main" in result.describe()
    again = merge_run(repo, RUN, run_state=OK)
    assert again.kind is MergeKind.UP_TO_DATE and again.new == head


@pytest.mark.parametrize("state", ["GATE", "DONE_FAILED_REQUIRES_HUMAN_REVIEW", "CANCELLED"])
def test_refused_unless_the_run_succeeded(repo: Path, state: str) -> None:
    before = snapshot(repo)
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=state)
    assert refused.value.code == "run_not_successful" and state in refused.value.message
    assert snapshot(repo) == before


def test_refused_with_a_dirty_tracked_file_which_stays_as_it_was(repo: Path) -> None:
    write(repo, "README.md", "# my edit, not committed\n")
    git(repo, "add", "README.md")
    write(repo, "src/app.py", "def answer():\n    return 'mine'\n")
    before = snapshot(repo)
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=OK)
    assert refused.value.code == "dirty_worktree"
    assert "README.md" in refused.value.message and "src/app.py" in refused.value.message
    assert snapshot(repo) == before
    assert (repo / "src/app.py").read_text() == "def answer():\n    return 'mine'\n"


def test_untracked_file_the_merge_would_overwrite_makes_git_refuse(repo: Path) -> None:
    write(repo, "docs/new.md", "the user's own draft\n")
    before = snapshot(repo)
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=OK)
    assert refused.value.code == "merge_refused"
    assert "would be overwritten" in refused.value.message and "docs/new.md" in str(refused.value)
    assert snapshot(repo) == before
    assert (repo / "docs/new.md").read_text() == "the user's own draft\n"


def test_merge_commit_when_the_target_diverged(repo: Path) -> None:
    old = commit_file(repo, "docs/note2.md", "edited on main meanwhile\n", "user work")
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=OK, ff_only=True)
    assert refused.value.code == "not_fast_forward" and rev(repo, "main") == old
    result = merge_run(repo, RUN, run_state=OK)
    assert result.kind is MergeKind.MERGE_COMMIT and result.old == old
    assert rev(repo, "main") == result.new
    assert parents(repo, "main") == [old, rev(repo, f"autonomous/{RUN}")]
    assert (repo / "docs/note2.md").read_text() == "edited on main meanwhile\n"
    assert (repo / "src/app.py").read_text().endswith("return 43\n")
    assert status(repo) == "?? notes.txt\n"
    assert f"Autopack run {RUN}" in git(repo, "log", "-1", "--format=%s")


def test_no_ff_makes_a_merge_commit_even_when_a_fast_forward_is_possible(repo: Path) -> None:
    old = rev(repo, "main")
    result = merge_run(repo, RUN, run_state=OK, no_ff=True)
    assert result.kind is MergeKind.MERGE_COMMIT
    assert parents(repo, "main") == [old, rev(repo, f"autonomous/{RUN}")]
    with pytest.raises(ValueError):
        merge_run(repo, RUN, run_state=OK, ff_only=True, no_ff=True)


def test_conflict_is_aborted_and_the_tree_is_unchanged(repo: Path) -> None:
    commit_file(repo, "src/app.py", "def answer():\n    return 44\n", "user: same line")
    before = snapshot(repo)
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=OK)
    assert refused.value.code == "conflict" and refused.value.conflicts == ("src/app.py",)
    assert snapshot(repo) == before
    assert not (repo / ".git" / "MERGE_HEAD").exists()


def test_target_not_checked_out_moves_only_the_ref(repo: Path) -> None:
    git(repo, "branch", "release")
    before = snapshot(repo)
    result = merge_run(repo, RUN, run_state=OK, into="release")
    assert result.kind is MergeKind.FAST_FORWARD and result.worktree is None
    assert rev(repo, "release") == rev(repo, f"autonomous/{RUN}")
    assert snapshot(repo) == before  # the user's checkout (main) did not move
    assert "autopack merge r1" in git(repo, "reflog", "-1", "refs/heads/release")


def test_target_not_checked_out_and_diverged_merges_in_a_temporary_worktree(repo: Path) -> None:
    git(repo, "branch", "release")
    fix = commit_file(repo, "docs/note2.md", "release fix\n", "release fix")
    git(repo, "branch", "-f", "release", fix)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    before = snapshot(repo)
    result = merge_run(repo, RUN, run_state=OK, into="refs/heads/release")
    assert result.kind is MergeKind.MERGE_COMMIT and result.worktree is None
    assert parents(repo, "release") == [fix, rev(repo, f"autonomous/{RUN}")]
    files = git(repo, "ls-tree", "-r", "--name-only", "release").split()
    assert "docs/new.md" in files and "docs/note2.md" in files
    assert snapshot(repo) == before


def test_conflict_on_a_branch_not_checked_out_changes_nothing(repo: Path) -> None:
    git(repo, "branch", "release")
    fix = commit_file(repo, "src/app.py", "def answer():\n    return 44\n", "conflicting fix")
    git(repo, "branch", "-f", "release", fix)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=OK, into="release")
    assert refused.value.code == "conflict" and refused.value.conflicts == ("src/app.py",)
    assert rev(repo, "release") == fix


def test_detached_head_needs_an_explicit_target(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(MergeRefusedError) as refused:
        merge_run(repo, RUN, run_state=OK)
    assert refused.value.code == "detached_head"
    result = merge_run(repo, RUN, run_state=OK, into="main")
    assert result.kind is MergeKind.FAST_FORWARD and result.worktree is None
    for bad, code in (("no-such", "target_missing"), ("a..b", "bad_target")):
        with pytest.raises(MergeRefusedError) as refused:
            merge_run(repo, RUN, run_state=OK, into=bad)
        assert refused.value.code == code
