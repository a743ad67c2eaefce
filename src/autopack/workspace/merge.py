"""Merging a finished run's branch into the user's branch, without ever losing their work.

:func:`merge_run` brings ``autonomous/<run_id>`` into a target branch (by default the branch
checked out in the user's repository):

- **Target checked out somewhere** (the user's checkout or another worktree): that working
  tree must have no staged or modified tracked file; the merge runs there with ``git merge``
  (``--ff-only`` when the target is an ancestor, else a merge commit). Untracked files the
  merge would overwrite make git refuse, and its message is passed on. A conflict is
  aborted (``git merge --abort``) and the conflicted files are reported: the tree is left
  exactly as it was.
- **Target checked out nowhere**: a fast-forward is one ``git update-ref`` with the old value
  checked; otherwise the merge is made in a temporary detached worktree (removed afterwards)
  and the ref moved with the same old-value check, so a concurrent change is never lost.

Nothing is merged unless the caller says the run ended ``DONE_SUCCESS``. Merge commits are
made with the user's identity when git knows one, else Autopack's. Hooks do not run (the
:class:`Git` wrapper disables them), nor do rerere, autostash or signature checks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from autopack.policy.states import RunState
from autopack.workspace.cleanup import registered_worktrees, toplevel
from autopack.workspace.errors import GitError, WorkspaceError, redact
from autopack.workspace.git import Git
from autopack.workspace.integration import AUTOPACK_IDENTITY
from autopack.workspace.journal import BRANCH_PREFIX, validate_id
from autopack.workspace.trailers import identity_env

__all__ = ["MergeKind", "MergeRefusedError", "MergeResult", "merge_run"]

_IDENTITY_VARS = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)
_MERGE_CONFIG = ("-c", "rerere.enabled=false", "-c", "merge.autoStash=false")


class MergeKind(StrEnum):
    """What the merge did."""

    FAST_FORWARD = "fast-forward"
    MERGE_COMMIT = "merge-commit"
    UP_TO_DATE = "up-to-date"


@dataclass(frozen=True)
class MergeResult:
    """The target branch before and after, and how it moved."""

    run_id: str
    source: str
    target: str
    kind: MergeKind
    old: str
    new: str
    worktree: Path | None
    """Where the merge ran: the target's working tree, ``None`` when only the ref moved."""

    def describe(self) -> str:
        """One line for people."""
        if self.kind is MergeKind.UP_TO_DATE:
            return f"{self.target} already contains {self.source}; nothing to do"
        if self.kind is MergeKind.FAST_FORWARD:
            return f"fast-forwarded {self.target} {self.old[:12]}..{self.new[:12]}"
        return f"merged {self.source} into {self.target}: merge commit {self.new[:12]}"


class MergeRefusedError(WorkspaceError):
    """The merge was not made; nothing changed. ``conflicts`` lists conflicted paths."""

    def __init__(self, message: str, *, code: str, conflicts: tuple[str, ...] = ()) -> None:
        super().__init__(message, code=code)
        self.conflicts = conflicts


def merge_run(
    repo: Path,
    run_id: str,
    *,
    run_state: str,
    into: str | None = None,
    ff_only: bool = False,
    no_ff: bool = False,
    message: str | None = None,
    timeout: float = 120.0,
) -> MergeResult:
    """Merge ``autonomous/<run_id>`` into ``into`` (default: the checked-out branch).

    Raises :class:`MergeRefusedError` (nothing changed) when the run did not succeed, the
    target is unknown or detached, its working tree has changes, the merge is not a
    fast-forward under ``ff_only``, or it conflicts; ``ValueError`` for contradictory flags.
    """
    if ff_only and no_ff:
        raise ValueError("--ff-only and --no-ff contradict each other")
    validate_id(run_id, "run_id")
    if run_state != RunState.DONE_SUCCESS:
        raise MergeRefusedError(
            f"run {run_id} ended {run_state}, not DONE_SUCCESS: only a successful run is merged",
            code="run_not_successful",
        )
    top = toplevel(repo)
    git = Git(top, timeout=timeout)
    source = BRANCH_PREFIX + run_id
    src = git.try_rev_parse(f"refs/heads/{source}^{{commit}}")
    if src is None:
        raise MergeRefusedError(f"no branch {source} in {top}", code="run_not_found")
    target_ref = _target_ref(git, into)
    target = target_ref.removeprefix("refs/heads/")
    if target == source:
        raise MergeRefusedError(f"cannot merge {source} into itself", code="bad_target")
    old = git.try_rev_parse(f"{target_ref}^{{commit}}")
    if old is None:
        raise MergeRefusedError(f"no branch {target} in {top}", code="target_missing")
    checked_out = [path for path, ref in registered_worktrees(git).items() if ref == target_ref]
    here = checked_out[0] if checked_out else None

    def result(kind: MergeKind, new: str, where: Path | None) -> MergeResult:
        return MergeResult(run_id, source, target, kind, old, new, where)

    if _is_ancestor(git, src, old):
        return result(MergeKind.UP_TO_DATE, old, here)
    can_ff = _is_ancestor(git, old, src) and not no_ff
    if not can_ff and ff_only:
        raise MergeRefusedError(
            f"{target} has commits that {source} does not have: not a fast-forward "
            "(drop --ff-only to make a merge commit)",
            code="not_fast_forward",
        )
    text = message or f"Merge {source} (Autopack run {run_id}) into {target}"
    if here is not None:
        wt = Git(here, timeout=timeout)
        _require_clean(wt, here)
        if can_ff:
            _merge(wt, here, "--ff-only", src)
            return result(MergeKind.FAST_FORWARD, wt.head(), here)
        _merge(wt, here, "--no-ff", "-m", text, src)
        return result(MergeKind.MERGE_COMMIT, wt.head(), here)
    if can_ff:
        _move_ref(git, target_ref, src, old, run_id)
        return result(MergeKind.FAST_FORWARD, src, None)
    new = _merge_detached(git, old, src, text, timeout)
    _move_ref(git, target_ref, new, old, run_id)
    return result(MergeKind.MERGE_COMMIT, new, None)


def _target_ref(git: Git, into: str | None) -> str:
    if into is None:
        proc = git.run("symbolic-ref", "--quiet", "HEAD", check=False)
        ref = proc.stdout.strip()
        if proc.returncode != 0 or not ref.startswith("refs/heads/"):
            raise MergeRefusedError(
                "HEAD is detached in your repository: name the target with --into BRANCH",
                code="detached_head",
            )
        return ref
    name = into.removeprefix("refs/heads/")
    proc = git.run("check-ref-format", "--branch", name, check=False)
    if proc.returncode != 0 or name.startswith("-"):
        raise MergeRefusedError(f"{into!r} is not a valid branch name", code="bad_target")
    return f"refs/heads/{name}"


def _is_ancestor(git: Git, ancestor: str, descendant: str) -> bool:
    proc = git.run("merge-base", "--is-ancestor", ancestor, descendant, check=False)
    if proc.returncode not in (0, 1):
        raise GitError(["git", "merge-base", "--is-ancestor"], proc.returncode, proc.stderr)
    return proc.returncode == 0


def _require_clean(wt: Git, path: Path) -> None:
    if wt.try_rev_parse("MERGE_HEAD") is not None:
        raise MergeRefusedError(
            f"{path} is in the middle of a merge; finish or abort it first",
            code="merge_in_progress",
        )
    dirty = wt.run("status", "--porcelain", "--untracked-files=no").stdout
    if dirty.strip():
        files = [line[3:] for line in dirty.splitlines() if line.strip()]
        raise MergeRefusedError(
            f"{path} has uncommitted changes to tracked files ({', '.join(files[:10])}"
            f"{', …' if len(files) > 10 else ''}); commit or stash them, then merge again",
            code="dirty_worktree",
        )


def _identity(wt: Git) -> dict[str, str]:
    """The user's identity variables; Autopack's when git has no identity at all."""
    env = {k: os.environ[k] for k in _IDENTITY_VARS if os.environ.get(k)}
    known = all(
        wt.run("var", var, env=env, check=False).returncode == 0
        for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )
    return env if known else identity_env(AUTOPACK_IDENTITY)


def _merge(wt: Git, path: Path, *args: str) -> None:
    """``git merge`` in ``path``; on any failure leave the tree as it was and refuse."""
    argv = (*_MERGE_CONFIG, "merge", "--no-edit", "--no-autostash", "--no-verify-signatures")
    proc = wt.run(*argv, *args, env=_identity(wt), check=False)
    if proc.returncode == 0:
        return
    conflicts = tuple(
        p for p in wt.run("diff", "--name-only", "--diff-filter=U", "-z").stdout.split("\0") if p
    )
    if wt.try_rev_parse("MERGE_HEAD") is not None or conflicts:
        wt.run("merge", "--abort")
    if conflicts:
        raise MergeRefusedError(
            f"the merge conflicts in {', '.join(conflicts)}; it was aborted and {path} is as "
            "it was. Merge by hand, or rebase the work, to resolve it",
            code="conflict",
            conflicts=conflicts,
        )
    said = redact(proc.stderr.strip() or proc.stdout.strip()).replace("\n", " ")
    raise MergeRefusedError(f"git refused the merge in {path}: {said}", code="merge_refused")


def _merge_detached(git: Git, old: str, src: str, message: str, timeout: float) -> str:
    """Make the merge commit in a throw-away detached worktree; returns its sha."""
    path = Path(tempfile.mkdtemp(prefix="autopack-merge-"))
    path.rmdir()
    git.run("worktree", "add", "--quiet", "--detach", str(path), old)
    try:
        wt = Git(path, timeout=timeout)
        _merge(wt, path, "--no-ff", "-m", message, src)
        return wt.head()
    finally:
        git.run("worktree", "remove", "--force", "--force", str(path), check=False)
        git.run("worktree", "prune", check=False)
        shutil.rmtree(path, ignore_errors=True)


def _move_ref(git: Git, ref: str, new: str, old: str, run_id: str) -> None:
    proc = git.run("update-ref", "-m", f"autopack merge {run_id}", ref, new, old, check=False)
    if proc.returncode != 0:
        raise MergeRefusedError(
            f"{ref} moved while merging ({proc.stderr.strip()}); nothing was changed, try again",
            code="target_moved",
        )
