"""Repairs :meth:`IntegrationWorkspace.open` makes before anything else runs in a worktree.

Each function returns a list of human-readable notes of what it repaired (empty when
nothing needed it). Rolling back an interrupted attempt is the workspace's own job; these
are the git-level repairs that come first: a missing worktree and stale lock files.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from autopack.workspace.cleanup import registered_worktrees
from autopack.workspace.errors import GitError, WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.journal import stale_locks

__all__ = ["reattach", "remove_stale_locks"]


def reattach(main: Git, path: Path, branch: str, run_id: str) -> list[str]:
    """Make sure the worktree at ``path`` exists, is registered and has ``branch`` out.

    A directory git no longer knows (its administrative files were pruned) is moved aside
    to ``<worktrees>/.broken/`` rather than deleted: it may hold somebody's work.
    """
    registered = registered_worktrees(main)
    if path in registered and (path / ".git").exists():
        if registered[path] != f"refs/heads/{branch}":
            raise WorkspaceError(
                f"{path} is not on {branch}; check it out there by hand",
                code="worktree_broken",
            )
        return []
    notes: list[str] = []
    main.run("worktree", "prune")
    if path.exists() and any(path.iterdir()):
        aside = path.parent / ".broken" / f"{run_id}-{int(time.time())}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        path.rename(aside)
        notes.append(f"moved the unregistered worktree directory aside to {aside}")
    try:
        main.run("worktree", "add", "--quiet", str(path), branch)
    except GitError as exc:
        raise WorkspaceError(
            f"cannot re-add the worktree for {branch}: {exc.stderr}", code="worktree_broken"
        ) from exc
    notes.append(f"re-added the missing worktree at {path}")
    return notes


def remove_stale_locks(git: Git, branch: str, run_id: str, *, min_age: float) -> list[str]:
    """Delete lock files a killed git left in the worktree or on the run's refs.

    Looked at: the worktree's private git directory (``index.lock``, ``HEAD.lock``…), the
    branch's ref lock and locks under ``refs/autopack/<run>/``. Never ``packed-refs.lock``
    or other locks of the shared repository, which the user's own git may hold.
    """
    git_dir = Path(git.output("rev-parse", "--absolute-git-dir"))
    common = Path(git.output("rev-parse", "--git-common-dir"))
    common = common if common.is_absolute() else (git.cwd / common).resolve()
    candidates = sorted(git_dir.glob("*.lock"))
    candidates.append(common / "refs" / "heads" / f"{branch}.lock")
    own_refs = common / "refs" / "autopack" / run_id
    if own_refs.is_dir():
        candidates += sorted(own_refs.rglob("*.lock"))
    notes: list[str] = []
    for lock in stale_locks(candidates, git.cwd, min_age=min_age):
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        where = lock.relative_to(common) if common in lock.parents else lock
        notes.append(f"removed stale git lock {where}")
    return notes
