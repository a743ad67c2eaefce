"""Where to read a run's branch from: the user's repository, or the mirror of its remote.

Readers (``autopack diff``/``report``/``merge``, the API's integration status and report,
the dashboard's phase diff) call :func:`find_run_branch` with the run's stored spec. The
decision is the engine's own (:func:`autopack.workspace.remote.remote_for`, with this
process's ``AUTOPACK_WORKSPACE_URL`` and its credentials rules):

- **a local run**: the branch, its base and phase refs in ``settings.workspace``
  (:meth:`RunBranch.find`), as before;
- **a remote run**: the mirror ``<data_dir>/repos/<slug>`` is fetched first (under the
  mirror's lock; created when missing, so a fresh API server or CLI reads a run it never
  executed). The remote's ``autonomous/<run>`` is the truth, as for the workers: its base
  and phase commits are derived from the commits' trailers
  (:func:`~autopack.workspace.remote_sync.derive_base`), never from refs a worker left on
  this machine. Only the diff of a phase with no commit on the remote yet falls back to a
  worker's worktree on this machine, when that worker's branch is the remote's tip (or,
  before the first push, still at its base: it holds nothing the remote lacks).

Nothing here writes a ref, a branch or a worktree of a run: reading never disturbs a worker
sharing the data directory. ``run_not_found`` when the remote has no branch of the run yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autopack.settings import Settings
from autopack.workspace.errors import WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.journal import BRANCH_PREFIX, validate_id
from autopack.workspace.merge import MergeRefusedError
from autopack.workspace.remote import RemoteRepository, remote_for
from autopack.workspace.remote_sync import derive_base
from autopack.workspace.review import RunBranch
from autopack.workspace.trailers import read_phase_commits

__all__ = ["RemoteRunBranch", "find_run_branch", "refuse_remote_merge", "run_remote"]


def run_remote(settings: Settings, spec: Mapping[str, Any]) -> RemoteRepository | None:
    """The remote the run works on (as a worker with these settings would), else ``None``.

    ``spec`` is the run's stored specification (``Store.run_spec``).
    """
    configured = settings.workspace_url.get_secret_value() if settings.workspace_url else None
    return remote_for(str(spec.get("workspace") or "."), configured, settings.data_dir)


def refuse_remote_merge(settings: Settings, spec: Mapping[str, Any], run_id: str) -> None:
    """``MergeRefusedError(remote_run)`` when the run's branch lives on a remote.

    :func:`autopack.workspace.merge.merge_run` merges into a branch of the user's repository;
    a run on a remote is merged where the remote is cloned (the message says how), so that
    nothing Autopack does here can diverge from the remote everybody pushes to.
    """
    remote = run_remote(settings, spec)
    if remote is None:
        return
    branch = BRANCH_PREFIX + run_id
    raise MergeRefusedError(
        f"run {run_id} worked on the remote {remote.url}: its branch {branch} is there, "
        f"not in {settings.workspace}. In a clone of that remote, on the branch to merge "
        f"into: `git fetch {remote.url} {branch}`, review `git log -p ..FETCH_HEAD`, then "
        "`git merge FETCH_HEAD` and push",
        code="remote_run",
    )


def find_run_branch(
    settings: Settings,
    spec: Mapping[str, Any],
    run_id: str,
    *,
    fetch: bool = True,
    timeout: float = 120.0,
) -> RunBranch:
    """The run's branch to read (see the module docstring); fetches for a remote run
    unless the caller just did (``fetch=False``)."""
    remote = run_remote(settings, spec)
    if remote is None:
        return RunBranch.find(settings.workspace, settings.data_dir, run_id, timeout=timeout)
    validate_id(run_id, "run_id")
    if fetch:
        remote.fetch()
    tip = remote.remote_branch(run_id)
    if tip is None:
        local = _unpushed_start(remote, run_id, timeout)
        if local is not None:
            return local
        raise WorkspaceError(
            f"no branch {BRANCH_PREFIX}{run_id} on {remote.url}: the run has not pushed a "
            "commit yet, or its branch was deleted",
            code="run_not_found",
        )
    return RemoteRunBranch.at(remote, run_id, tip, timeout=timeout)


def _unpushed_start(
    remote: RemoteRepository, run_id: str, timeout: float
) -> RemoteRunBranch | None:
    """A worker's branch of the run on this machine that has no commit yet (its first
    attempt may be open): nothing on it can be missing from the remote."""
    try:
        local = RunBranch.find(remote.path, remote.data_dir, run_id, timeout=timeout)
    except WorkspaceError:
        return None
    if local.head != local.base:
        return None
    return RemoteRunBranch(
        remote.path, remote.data_dir, run_id, local.base, local.head, timeout, remote.url, {}
    )


@dataclass(frozen=True)
class RemoteRunBranch(RunBranch):
    """A run's branch as its remote has it, read in this machine's mirror."""

    url: str = ""
    """The remote, without credentials."""
    commits: Mapping[str, str] = field(default_factory=dict)
    """Phase id → its commit on the remote's branch."""

    @classmethod
    def at(
        cls, remote: RemoteRepository, run_id: str, tip: str, *, timeout: float = 120.0
    ) -> RemoteRunBranch:
        """The branch ending at ``tip`` (the remote's), base and phases from its commits."""
        git = Git(remote.path, timeout=timeout)
        base = derive_base(git, tip, run_id)
        commits = {
            c["phase_id"]: c["sha"]
            for c in read_phase_commits(git, f"{base}..{tip}")
            if c["run_id"] == run_id and c["phase_id"]
        }
        return cls(remote.path, remote.data_dir, run_id, base, tip, timeout, remote.url, commits)

    def phase_ref(self, phase_id: str, which: str) -> str | None:
        """The phase's commit (``after``) or its parent (``before``); ``None`` without one."""
        validate_id(phase_id, "phase_id")
        after = self.commits.get(phase_id)
        if after is None or which == "after":
            return after
        return self.git.rev_parse(f"{after}^")

    def phase_shas(self) -> dict[str, str]:
        """Phase id → its commit on the remote's branch."""
        return dict(self.commits)

    def diff(self, phase_id: str | None = None, *, stat: bool = False) -> str:
        """As :meth:`RunBranch.diff`; a phase with no commit on the remote shows a local
        worker's open attempt when this machine runs it at the remote's tip."""
        if phase_id is None or phase_id in self.commits:
            return super().diff(phase_id, stat=stat)
        local = self._local()
        if local is None:
            raise WorkspaceError(
                f"phase {phase_id!r} has no commit on {self.url}'s {self.branch} yet (an "
                "attempt in progress on another machine cannot be shown)",
                code="no_snapshot",
            )
        return local.diff(phase_id, stat=stat)

    def _local(self) -> RunBranch | None:
        """This machine's worker branch of the run, when it is at the remote's tip."""
        try:
            local = RunBranch.find(self.repo, self.data_dir, self.run_id, timeout=self.timeout)
        except WorkspaceError:
            return None
        return local if (local.head, local.base) == (self.head, self.base) else None

    @property
    def fetch_hint(self) -> str:
        """The command that brings the branch into a clone of the remote."""
        return f"git fetch {self.url} {self.branch}"
