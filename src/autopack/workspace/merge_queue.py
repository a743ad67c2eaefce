"""The merge queue: land finished runs on a target branch one at a time, never overwriting.

:class:`MergeQueue` takes run ids in order and, for each, proposes the run's commits on top
of the target branch's *current* tip and moves the target only when everything holds:

1. A throw-away detached worktree is made at the target's tip (the user's checkout and the
   run's own worktree are never used). The caller's :class:`LandingChecks`, if any, records
   its baseline there (tests that already fail on the target do not count against the run).
2. The run's commits (``refs/autopack/<run>/base..autonomous/<run>``) are replayed in order
   with ``cherry-pick``: the rebase of the run onto the target. When the target has not moved
   since the run started, the run's own commits are used as they are (a fast-forward). Each
   replayed commit keeps its message, its ``Autopack-*`` trailers and its author; the
   committer is Autopack. Paths listed in ``union_paths`` (append-only logs such as
   ``docs/BUILD_HISTORY.md``, where two runs each add an entry at the end) merge with git's
   built-in ``union`` driver, given through a private ``core.attributesFile``: the
   repository's own ``.gitattributes`` still win.
3. A conflict aborts the replay: the run is reported ``conflict`` with the conflicting files
   and the phase whose commit did not apply. Nothing was written but the scratch worktree.
4. The checks run on the replayed tree (``LandingChecks.verify``); a failure reports
   ``checks_failed`` and the target stays where it was.
5. The target moves with a compare-and-swap: ``git update-ref refs/heads/<target> <new>
   <old>``. If anything moved the target meanwhile, git refuses and the run is reported
   ``target_moved`` — detected, never overwritten (the queue does not retry: the next run is
   proposed on the moved tip). If the target is checked out in a working tree (the user's
   checkout, say), that tree must have no staged or modified tracked file, its HEAD must
   still be the old tip, and the move is ``git merge --ff-only`` there — the path
   :func:`autopack.workspace.merge.merge_run` takes; otherwise the run is ``refused`` and
   that tree is left as it is.

Runs that did not land keep their branch untouched: nothing here rewrites ``autonomous/*``.
Errors are values (:class:`Landing` with a :class:`LandingStatus`), so one run's problem
never stops the queue.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from autopack.workspace.cleanup import registered_worktrees, run_ref, toplevel
from autopack.workspace.errors import redact
from autopack.workspace.git import Git
from autopack.workspace.integration import AUTOPACK_IDENTITY
from autopack.workspace.journal import BRANCH_PREFIX, validate_id
from autopack.workspace.merge import (
    MergeRefusedError,
    _is_ancestor,
    _merge,
    _require_clean,
    _target_ref,
)
from autopack.workspace.trailers import PhaseCommit, read_phase_commits

__all__ = ["ChecksVerdict", "Landing", "LandingChecks", "LandingStatus", "MergeQueue"]

_REPLAY_CONFIG = ("-c", "rerere.enabled=false", "-c", "merge.autoStash=false")


class LandingStatus(StrEnum):
    """What happened to one run in the queue."""

    LANDED = "landed"
    """The target now ends with the run's commits."""
    UP_TO_DATE = "up_to_date"
    """The target already contained the run's branch; nothing to do."""
    CONFLICT = "conflict"
    """A commit of the run did not apply on the target's tip (``conflicts`` names files)."""
    CHECKS_FAILED = "checks_failed"
    """The run's checks failed on the target's tip with the run's commits replayed."""
    TARGET_MOVED = "target_moved"
    """Somebody moved the target between the proposal and the update; nothing overwritten."""
    REFUSED = "refused"
    """Not attempted: no such run branch, merge commits on it, a dirty checked-out target…"""

    @property
    def landed(self) -> bool:
        """The target contains the run's work."""
        return self in (LandingStatus.LANDED, LandingStatus.UP_TO_DATE)


@dataclass(frozen=True)
class ChecksVerdict:
    """The result of the run's checks on the proposed tree."""

    ok: bool
    summary: str


class LandingChecks(Protocol):
    """The run's checks, re-run by the queue (the engine supplies them; this layer has none)."""

    def baseline(self, run_id: str, checkout: Path, commit: str) -> None:
        """Record what already fails on ``commit`` (the target's tip), checked out there."""
        ...

    def verify(self, run_id: str, checkout: Path, commit: str) -> ChecksVerdict:
        """Run the checks on ``commit`` (the proposal), checked out at ``checkout``."""
        ...


@dataclass(frozen=True)
class Landing:
    """One run's passage through the queue."""

    run_id: str
    status: LandingStatus
    reason: str
    target: str
    old: str | None = None
    """The target's tip before (when it was read)."""
    new: str | None = None
    """The target's tip after landing; the proposal when the run did not land."""
    commits: tuple[str, ...] = ()
    """Commits the target gained, oldest first."""
    conflicts: tuple[str, ...] = ()
    phase: str | None = None
    """The phase whose commit conflicted."""


class MergeQueue:
    """Lands runs on ``target`` (default: the branch checked out in ``repo``) in order.

    Raises :class:`~autopack.workspace.merge.MergeRefusedError` when the target is not a
    valid branch name, or is omitted while HEAD is detached.
    """

    def __init__(
        self,
        repo: Path,
        *,
        target: str | None = None,
        checks: LandingChecks | None = None,
        union_paths: Sequence[str] = (),
        timeout: float = 120.0,
    ) -> None:
        self.repo = toplevel(repo)
        self.timeout = timeout
        self._git = Git(self.repo, timeout=timeout)
        self.target_ref = _target_ref(self._git, target)
        self.target = self.target_ref.removeprefix("refs/heads/")
        self.checks = checks
        self.union_paths = tuple(union_paths)
        self._last_error = ""

    def land_all(self, run_ids: Sequence[str]) -> list[Landing]:
        """Every run in order; one run's failure never stops the next."""
        return [self.land(run_id) for run_id in run_ids]

    def land(self, run_id: str) -> Landing:
        """Propose ``autonomous/<run_id>`` on the target's tip, check it, move the target."""
        validate_id(run_id, "run_id")
        git = self._git
        source = BRANCH_PREFIX + run_id
        src = git.try_rev_parse(f"refs/heads/{source}^{{commit}}")
        base = git.try_rev_parse(run_ref(run_id, "base"))
        if src is None or base is None:
            return self._result(run_id, LandingStatus.REFUSED, f"no branch {source} with a base")
        if git.run("rev-list", "--merges", "-n1", f"{base}..{src}").stdout.strip():
            why = f"{source} has merge commits: only a linear run is replayed"
            return self._result(run_id, LandingStatus.REFUSED, why)
        old = git.try_rev_parse(f"{self.target_ref}^{{commit}}")
        if old is None:
            return self._result(run_id, LandingStatus.REFUSED, f"no branch {self.target}")
        if _is_ancestor(git, src, old):
            why = f"{self.target} already contains {source}"
            return self._result(run_id, LandingStatus.UP_TO_DATE, why, old=old, new=old)
        here = self._checked_out()
        if here is not None:
            try:
                _require_clean(Git(here, timeout=self.timeout), here)
            except MergeRefusedError as exc:
                return self._result(run_id, LandingStatus.REFUSED, exc.message, old=old)
        with self._scratch(old) as (wt, path, attributes):
            if self.checks is not None:
                self.checks.baseline(run_id, path, old)
            if _is_ancestor(git, old, src):  # the target did not move: the run's own commits
                wt.run("checkout", "--quiet", "--detach", src)
            else:
                commits = read_phase_commits(git, f"{base}..{src}")
                failed = self._replay(wt, attributes, commits)
                if failed is not None:
                    return self._conflict(run_id, wt, old, failed)
            new = wt.head()
            if self.checks is not None:
                verdict = self.checks.verify(run_id, path, new)
                if not verdict.ok:
                    return self._result(
                        run_id, LandingStatus.CHECKS_FAILED, verdict.summary, old=old, new=new
                    )
        return self._move(run_id, here, old, new)

    # --- steps -------------------------------------------------------------------------

    def _checked_out(self) -> Path | None:
        trees = registered_worktrees(self._git)
        return next((path for path, ref in trees.items() if ref == self.target_ref), None)

    @contextlib.contextmanager
    def _scratch(self, commit: str) -> Iterator[tuple[Git, Path, Path]]:
        """A detached worktree at ``commit`` and a private attributes file; removed after."""
        root = Path(tempfile.mkdtemp(prefix="autopack-land-"))
        path, attributes = root / "tree", root / "attributes"
        attributes.write_text("".join(f"/{p.lstrip('/')} merge=union\n" for p in self.union_paths))
        try:
            self._git.run("worktree", "add", "--quiet", "--detach", str(path), commit)
            yield Git(path, timeout=self.timeout), path, attributes
        finally:
            self._git.run("worktree", "remove", "--force", "--force", str(path), check=False)
            self._git.run("worktree", "prune", check=False)
            shutil.rmtree(root, ignore_errors=True)

    def _replay(self, wt: Git, attributes: Path, commits: list[PhaseCommit]) -> PhaseCommit | None:
        """Cherry-pick ``commits`` in order; the commit that did not apply, else ``None``."""
        name, email = AUTOPACK_IDENTITY
        env = {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        config = (*_REPLAY_CONFIG, "-c", f"core.attributesFile={attributes}")
        for commit in commits:
            proc = wt.run(
                *config, "cherry-pick", "--keep-redundant-commits", "--allow-empty",
                commit["sha"], env=env, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                self._last_error = redact(proc.stderr.strip() or proc.stdout.strip())
                return commit
        return None

    def _conflict(self, run_id: str, wt: Git, old: str, failed: PhaseCommit) -> Landing:
        out = wt.run("diff", "--name-only", "--diff-filter=U", "-z").stdout
        conflicts = tuple(sorted(p for p in out.split("\0") if p))
        wt.run("cherry-pick", "--abort", check=False)
        phase = failed["phase_id"]
        what = f"phase {phase}'s commit" if phase else f"commit {failed['sha'][:12]}"
        if not conflicts:
            why = f"{what} did not apply on {self.target}: {self._last_error}"
            return self._result(run_id, LandingStatus.REFUSED, why, old=old, phase=phase)
        why = (
            f"{what} conflicts with {self.target} in {', '.join(conflicts)}; {self.target} was "
            f"left as it was. Rebase autonomous/{run_id} by hand (or re-run it) to resolve it"
        )
        return Landing(
            run_id, LandingStatus.CONFLICT, why, self.target, old=old, conflicts=conflicts,
            phase=phase,
        )  # fmt: skip

    def _move(self, run_id: str, here: Path | None, old: str, new: str) -> Landing:
        """Compare-and-swap the target from ``old`` to ``new`` (a fast-forward)."""
        moved = f"{self.target} moved while run {run_id} was being landed; nothing overwritten"
        if here is None:
            proc = self._git.run(
                "update-ref", "-m", f"autopack: land run {run_id}", self.target_ref, new, old,
                check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                return self._result(run_id, LandingStatus.TARGET_MOVED, moved, old=old, new=new)
        else:
            wt = Git(here, timeout=self.timeout)
            if wt.head() != old:
                return self._result(run_id, LandingStatus.TARGET_MOVED, moved, old=old, new=new)
            try:
                _require_clean(wt, here)
                _merge(wt, here, "--ff-only", new)
            except MergeRefusedError as exc:
                return self._result(run_id, LandingStatus.REFUSED, exc.message, old=old, new=new)
        added = self._git.run("rev-list", "--reverse", f"{old}..{new}").stdout.split()
        why = f"{len(added)} commit(s) on {self.target} ({old[:12]}..{new[:12]})"
        return Landing(
            run_id, LandingStatus.LANDED, why, self.target, old=old, new=new, commits=tuple(added)
        )

    def _result(
        self,
        run_id: str,
        status: LandingStatus,
        reason: str,
        *,
        old: str | None = None,
        new: str | None = None,
        phase: str | None = None,
    ) -> Landing:
        return Landing(run_id, status, reason, self.target, old=old, new=new, phase=phase)


def describe(landing: Landing) -> str:
    """One line for people."""
    return f"{landing.run_id}: {landing.status.value} — {landing.reason}"
