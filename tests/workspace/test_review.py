"""`RunBranch`: reading a run's refs and diffs without repairing or changing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.workspace import IntegrationWorkspace, WorkspaceError
from autopack.workspace.review import RunBranch
from support.gitrepo import git, make_repo, write


def test_diffs_of_committed_and_open_phases_change_nothing(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    repo = make_repo(tmp_path / "repo")
    data = repo / ".autopack"
    with pytest.raises(WorkspaceError) as missing:
        RunBranch.find(repo, data, "r1")
    assert missing.value.code == "run_not_found"
    ws = IntegrationWorkspace.create(repo, data, "r1")
    try:
        ws.begin_attempt("p1", 1)
        write(ws.path, "src/app.py", "def answer():\n    return 43\n")
        sha = ws.commit_attempt("p1", 1, message="p1", model="m", tokens=3)
        ws.begin_attempt("p2", 1)
        write(ws.path, "docs/draft.md", "draft\n")  # untracked, attempt still open

        branch = RunBranch.find(repo, data, "r1")
        assert branch.head == sha and branch.branch == "autonomous/r1"
        assert branch.phase_shas() == {"p1": sha}
        assert [c["phase_id"] for c in branch.phase_commits()] == ["p1"]
        p1 = branch.diff("p1")
        assert p1.startswith("diff --git a/src/app.py b/src/app.py") and "+    return 43" in p1
        assert branch.diff() == p1  # the whole run is one phase so far
        assert "src/app.py | 2 +-" in branch.diff(stat=True)
        open_diff = branch.diff("p2")
        assert "+++ b/docs/draft.md" in open_diff and "+draft" in open_diff
        assert "docs/draft.md" in branch.diff("p2", stat=True)
        with pytest.raises(WorkspaceError) as never:
            branch.diff("p3")
        assert never.value.code == "no_snapshot"

        assert ws.open_attempt() is not None  # reading repaired or closed nothing
        assert git(ws.path, "status", "--porcelain") == "?? docs/draft.md\n"
    finally:
        ws.remove()
