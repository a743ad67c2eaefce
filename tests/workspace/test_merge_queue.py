"""The merge queue on real repositories: runs made with the real integration workspace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autopack.workspace import IntegrationWorkspace
from autopack.workspace.merge import MergeRefusedError
from autopack.workspace.merge_queue import ChecksVerdict, LandingStatus, MergeQueue
from support.gitrepo import checkout_state, git, worktree_paths, write

LOG = "docs/LOG.md"
APP = "src/app.py"


def make_run(repo: Path, data_dir: Path, run_id: str, *phases: tuple[str, dict[str, str]]) -> str:
    """A run branch made the way the engine makes it: one commit per phase, trailers and all.

    A value starting with ``+`` is appended to the file instead of replacing it.
    """
    ws = IntegrationWorkspace.create(repo, data_dir, run_id, base_ref="main")
    for phase_id, files in phases:
        ws.begin_attempt(phase_id, 1)
        for rel, text in files.items():
            path = ws.path / rel
            if text.startswith("+"):
                old = path.read_text() if path.exists() else ""
                text = old + text[1:]
            write(ws.path, rel, text)
        ws.commit_attempt(phase_id, 1, message=f"{run_id}: {phase_id}", model="m", tokens=1)
    head = ws.git.head()
    ws.remove()  # the branch stays; the worktree goes (as after a finished run)
    return head


def rev_list(repo: Path, ref: str) -> list[str]:
    return git(repo, "rev-list", "--reverse", ref).split()


@pytest.fixture
def target(repo: Path) -> str:
    """A target branch nobody has checked out, at main."""
    git(repo, "branch", "integration", "main")
    return "integration"


def test_two_land_in_order_and_the_third_conflict_is_reported(
    repo: Path, data_dir: Path, target: str
) -> None:
    user = checkout_state(repo)
    before = rev_list(repo, target)
    r1 = make_run(
        repo,
        data_dir,
        "r1",
        ("answer", {APP: "def answer():\n    return 43\n"}),
        ("log", {LOG: "+## r1\n"}),
    )
    r2 = make_run(
        repo,
        data_dir,
        "r2",
        ("readme", {"README.md": "# sample, documented\n", "src/helper.py": "pass\n"}),
        ("log", {LOG: "+## r2\n"}),
    )
    make_run(repo, data_dir, "r3", ("answer-too", {APP: "def answer():\n    return 44\n"}))

    queue = MergeQueue(repo, target=target, union_paths=[LOG])
    first, second, third = queue.land_all(["r1", "r2", "r3"])

    assert first.status is LandingStatus.LANDED
    assert first.new == r1 and rev_list(repo, "autonomous/r1")[len(before) :] == list(
        first.commits
    )  # the target had not moved: a fast-forward to the run's own commits
    assert second.status is LandingStatus.LANDED, second.reason
    assert second.old == r1 and len(second.commits) == 2 and second.new != r2
    assert third.status is LandingStatus.CONFLICT
    assert third.conflicts == (APP,) and third.phase == "answer-too"
    assert APP in third.reason and "integration" in third.reason
    after = rev_list(repo, target)
    assert after == before + list(first.commits) + list(second.commits)
    subjects = git(repo, "log", "--reverse", "--format=%s", f"main..{target}").splitlines()
    assert subjects == ["r1: answer", "r1: log", "r2: readme", "r2: log"]
    trailers = git(repo, "log", "-1", "--format=%(trailers:only)", second.commits[0])
    assert "Autopack-Run: r2" in trailers and "Autopack-Phase: readme" in trailers
    assert git(repo, "show", f"{target}:{LOG}") == "## r1\n## r2\n"  # union: both entries
    assert "return 43" in git(repo, "show", f"{target}:{APP}")
    assert git(repo, "show", f"{target}:README.md") == "# sample, documented\n"
    assert git(repo, "rev-parse", "autonomous/r2").strip() == r2  # run branches untouched
    assert checkout_state(repo) == user
    assert worktree_paths(repo) == [str(repo)]


class ImportCheck:
    """Real checks: every module of ``src`` imports, in the proposed tree."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def baseline(self, run_id: str, checkout: Path, commit: str) -> None:
        self.calls.append(("baseline", run_id, commit))

    def verify(self, run_id: str, checkout: Path, commit: str) -> ChecksVerdict:
        self.calls.append(("verify", run_id, commit))
        proc = subprocess.run(
            [sys.executable, "-c", "import glob; [__import__(m[:-3]) for m in glob.glob('*.py')]"],
            cwd=checkout / "src",
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stderr.strip().splitlines()
        return ChecksVerdict(ok=proc.returncode == 0, summary=lines[-1] if lines else "ok")


def test_a_run_whose_checks_fail_after_the_rebase_does_not_land(
    repo: Path, data_dir: Path, target: str
) -> None:
    make_run(repo, data_dir, "rename", ("rename", {APP: "def reply():\n    return 42\n"}))
    make_run(repo, data_dir, "user", ("use", {"src/use.py": "from app import answer\n"}))
    checks = ImportCheck()
    queue = MergeQueue(repo, target=target, checks=checks)

    assert queue.land("user").status is LandingStatus.LANDED  # alone, it imports fine
    git(repo, "update-ref", f"refs/heads/{target}", "main")  # start over
    renamed = queue.land("rename")
    assert renamed.status is LandingStatus.LANDED
    checks.calls.clear()
    failed = queue.land("user")

    assert failed.status is LandingStatus.CHECKS_FAILED
    assert "cannot import name 'answer'" in failed.reason
    assert git(repo, "rev-parse", target).strip() == renamed.new  # not moved
    assert [c[0] for c in checks.calls] == ["baseline", "verify"]
    assert checks.calls[0][2] == renamed.new and checks.calls[1][2] == failed.new
    assert worktree_paths(repo) == [str(repo)]


class MovesTheTarget:
    """Checks that pass, while somebody commits on the target in the meantime."""

    def __init__(self, repo: Path, target: str) -> None:
        self.repo, self.target, self.moved_to = repo, target, ""

    def baseline(self, run_id: str, checkout: Path, commit: str) -> None:
        return None

    def verify(self, run_id: str, checkout: Path, commit: str) -> ChecksVerdict:
        tree = git(self.repo, "rev-parse", f"{self.target}^{{tree}}").strip()
        parent = git(self.repo, "rev-parse", self.target).strip()
        self.moved_to = git(
            self.repo, "commit-tree", tree, "-p", parent, "-m", "someone else's commit"
        ).strip()
        git(self.repo, "update-ref", f"refs/heads/{self.target}", self.moved_to)
        return ChecksVerdict(ok=True, summary="passed")


def test_a_concurrent_move_of_the_target_is_detected_never_overwritten(
    repo: Path, data_dir: Path, target: str
) -> None:
    make_run(repo, data_dir, "r1", ("p", {APP: "def answer():\n    return 1\n"}))
    checks = MovesTheTarget(repo, target)

    landing = MergeQueue(repo, target=target, checks=checks).land("r1")

    assert landing.status is LandingStatus.TARGET_MOVED
    assert git(repo, "rev-parse", target).strip() == checks.moved_to
    assert "nothing overwritten" in landing.reason


def test_a_checked_out_target_moves_only_when_its_tree_is_clean(repo: Path, data_dir: Path) -> None:
    tip = make_run(repo, data_dir, "r1", ("p", {APP: "def answer():\n    return 1\n"}))
    old = git(repo, "rev-parse", "main").strip()
    (repo / "README.md").write_text("my uncommitted edit\n")
    queue = MergeQueue(repo)  # the default target: the branch checked out (main)

    refused = queue.land("r1")
    assert refused.status is LandingStatus.REFUSED and "README.md" in refused.reason
    assert git(repo, "rev-parse", "main").strip() == old
    assert (repo / "README.md").read_text() == "my uncommitted edit\n"

    git(repo, "checkout", "--", "README.md")
    (repo / "untracked.txt").write_text("mine\n")
    landed = queue.land("r1")
    assert landed.status is LandingStatus.LANDED and landed.new == tip
    assert git(repo, "rev-parse", "HEAD").strip() == tip
    assert (repo / APP).read_text() == "def answer():\n    return 1\n"
    assert (repo / "untracked.txt").read_text() == "mine\n"
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""


def test_up_to_date_unknown_and_bad_targets(repo: Path, data_dir: Path, target: str) -> None:
    make_run(repo, data_dir, "r1", ("p", {APP: "x = 1\n"}))
    queue = MergeQueue(repo, target=target)
    assert queue.land("r1").status is LandingStatus.LANDED
    again = queue.land("r1")
    assert again.status is LandingStatus.UP_TO_DATE and again.status.landed
    missing = queue.land("nope")
    assert missing.status is LandingStatus.REFUSED and not missing.status.landed
    with pytest.raises(MergeRefusedError):
        MergeQueue(repo, target="-bad")
    gone = MergeQueue(repo, target="no-such-branch").land("r1")
    assert gone.status is LandingStatus.REFUSED and "no-such-branch" in gone.reason
