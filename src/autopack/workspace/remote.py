"""A run's repository behind a git remote URL, so that any worker can carry the run on.

**Mirror.** Each worker keeps one clone per remote under its data directory,
``<data_dir>/repos/<slug>`` (:func:`autopack.workspace.location.slug`: host and path plus a
hash of the credential-free URL). It is a normal repository whose own checkout stays empty
(``git init``; nothing is ever checked out there): runs work in linked worktrees under
``<data_dir>/worktrees/<run>`` exactly as with a local repository
(:class:`~autopack.workspace.integration.IntegrationWorkspace`). ``origin`` fetches every
branch into ``refs/remotes/origin/*``.

**Locking.** Workers on one machine may share a data directory: every operation on the
mirror as a whole (creating it, fetching, opening a run's worktree, pushing) holds an
exclusive ``fcntl`` lock on ``<data_dir>/repos/<slug>.lock``. Work inside a run's worktree
needs no lock: each run has its own branch and refs, which git locks itself.

**Opening a run** (:meth:`RemoteRepository.open_run`): fetch; then the remote's
``autonomous/<run>`` is the truth. A worker that has the run locally moves its branch to
the remote's tip (or back to the run's base when the branch never reached the remote); a
worker that does not creates the worktree from the remote's tip, so a run stopped on one
machine continues on another; a new run branches from the remote's ``base_ref`` (``HEAD``:
the remote's default branch). Phase refs are rebuilt from the branch
(:mod:`autopack.workspace.remote_sync`).

**Push rule.** After every commit on the integration branch (a phase, a parallel lane's
landing, the build-history entry) the branch is pushed with
``--force-with-lease=refs/heads/autonomous/<run>:<expected>``, ``<expected>`` being what this
worker last fetched or pushed there (empty: the branch must not exist yet). A refused push
means another worker (or a person) moved the branch: :class:`RemoteMovedError`, nothing is
overwritten, and the workspace refuses further commits. Only ``autonomous/<run>`` is ever
pushed; the remote's other branches are never written.

**Crash rule.** The push happens inside :meth:`RemoteWorkspace.commit_attempt`, before the
phase is recorded ``COMPLETE``. So a phase the store calls ``COMPLETE`` has its commit on
the remote; a worker killed between its commit and its push leaves the phase mid-flight in
the store and the commit only on its own disk: the next worker's branch (the remote's) lacks
it, :func:`~autopack.workspace.remote_sync.sync_to` leaves it no ``after`` ref, and
:func:`autopack.engine.resume.recover_run` re-queues the phase, which runs again from the
remote's state.

**Credentials** never reach the disk or a message: the mirror's config holds the URL
without them; when the configured URL has some, each network command gets them through
``GIT_CONFIG_*`` environment variables (``url.<with>.insteadOf=<without>``), never through
argv; errors and notes are redacted.

Error codes (:class:`~autopack.workspace.errors.WorkspaceError`): ``remote_moved`` (the
push was refused, see above), ``remote_unusable`` (the URL is invalid), ``foreign_commits``
(the remote branch ends with a commit that is not this run's), ``remote_diverged`` (the
remote's branch does not start from the run's base), ``bad_ref`` (``base_ref`` names
nothing on the remote).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from autopack.workspace.cleanup import ensure_data_dir, run_ref
from autopack.workspace.errors import GitError, WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.integration import IntegrationWorkspace
from autopack.workspace.journal import BRANCH_PREFIX, validate_id
from autopack.workspace.location import (
    check_remote_url,
    has_credentials,
    is_remote,
    same_repository,
    slug,
    strip_credentials,
)
from autopack.workspace.remote_sync import derive_base, sync_to

__all__ = ["RemoteMovedError", "RemoteRepository", "RemoteWorkspace", "remote_for"]

REMOTE = "origin"
_TRACKING = f"refs/remotes/{REMOTE}/"
_MOVED = ("stale info", "fetch first", "non-fast-forward")


class RemoteMovedError(WorkspaceError):
    """The remote's integration branch moved under this worker: the push was refused."""

    code = "remote_moved"


def remote_for(
    spec_workspace: str, configured: str | None, data_dir: Path
) -> RemoteRepository | None:
    """The remote a run works on, or ``None`` for a local repository.

    ``spec_workspace`` is the run spec's ``workspace``; ``configured`` the worker's
    ``AUTOPACK_WORKSPACE_URL``. A URL in the spec wins (with the configured URL's
    credentials when both name the same repository); a local path in the spec (the default
    ``.``) means the configured URL when there is one. An unusable configured URL is a
    ``remote_unusable`` error naming ``AUTOPACK_WORKSPACE_URL`` (settings accept any string
    for a secret; it is checked here, where it is used).
    """
    if configured:
        try:
            check_remote_url(configured, allow_credentials=True)
        except ValueError as exc:
            raise WorkspaceError(f"AUTOPACK_WORKSPACE_URL: {exc}", code="remote_unusable") from None
    if is_remote(spec_workspace):
        url = spec_workspace
        if configured and same_repository(configured, spec_workspace):
            url = configured
        return RemoteRepository(url, data_dir)
    if configured:
        return RemoteRepository(configured, data_dir)
    return None


class RemoteWorkspace(IntegrationWorkspace):
    """An integration workspace whose every commit is pushed (see the module docstring)."""

    remote: RemoteRepository | None = None
    remote_sha: str | None = None
    """The remote branch's value this worker last fetched or pushed: the push's lease."""
    refused: RemoteMovedError | None = None

    def commit_attempt(
        self,
        phase_id: str,
        attempt: int,
        *,
        message: str,
        model: str | None,
        tokens: int | None,
    ) -> str | None:
        """Commit as :meth:`IntegrationWorkspace.commit_attempt`, then push the branch."""
        if self.refused is not None:
            raise RemoteMovedError(self.refused.message)
        sha = super().commit_attempt(phase_id, attempt, message=message, model=model, tokens=tokens)
        if sha is not None and self.remote is not None:
            self.remote.push(self)
        return sha


class RemoteRepository:
    """The worker's mirror of one remote URL (see the module docstring)."""

    def __init__(self, url: str, data_dir: Path, *, timeout: float = 300.0) -> None:
        try:
            check_remote_url(url, allow_credentials=True)
        except ValueError as exc:
            raise WorkspaceError(str(exc), code="remote_unusable") from None
        self.url = strip_credentials(url)
        """The URL without credentials: safe to show, log and store."""
        self.data_dir = Path(data_dir).resolve()
        self.path = self.data_dir / "repos" / slug(url)
        self.git = Git(self.path, timeout=timeout)
        self.timeout = timeout
        self._auth = _auth_env(url.strip(), self.url)
        self._thread_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RemoteRepository({self.url!r})"

    # --- the mirror --------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the mirror's lock (threads of this process, then other processes)."""
        lock_path = self.path.parent / f"{self.path.name}.lock"
        with self._thread_lock:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the lock

    def fetch(self) -> None:
        """Create the mirror if needed and fetch every branch of the remote (locked)."""
        with self.locked():
            self._ensure_mirror()
            self._network("fetch", "--prune", "--no-tags", "--quiet", REMOTE)

    def remote_branch(self, run_id: str) -> str | None:
        """The remote's ``autonomous/<run_id>`` as last fetched or pushed."""
        return self.git.try_rev_parse(f"{_TRACKING}{BRANCH_PREFIX}{run_id}^{{commit}}")

    def _ensure_mirror(self) -> None:
        if not (self.path / ".git").exists():
            ensure_data_dir(self.data_dir)
            self.path.mkdir(parents=True, exist_ok=True)
            self.git.run("init", "--quiet")
        self.git.run("config", f"remote.{REMOTE}.url", self.url)
        self.git.run("config", f"remote.{REMOTE}.fetch", f"+refs/heads/*:{_TRACKING}*")

    def _network(self, *args: str) -> str:
        return self.git.run(*args, env=self._auth).stdout

    # --- runs --------------------------------------------------------------------------

    def open_run(self, run_id: str, *, base_ref: str = "HEAD") -> RemoteWorkspace:
        """Fetch, then open (or create) the run's workspace at the remote's state."""
        validate_id(run_id, "run_id")
        self.fetch()
        with self.locked():
            tip = self.remote_branch(run_id)
            if self.git.try_rev_parse(run_ref(run_id, "base")) is not None:
                opened = RemoteWorkspace.open(
                    self.path, self.data_dir, run_id, timeout=self.timeout
                )
                ws = cast(RemoteWorkspace, opened)  # create/open build ``cls``
                target = ws.base_commit
                if tip is not None:
                    if derive_base(self.git, tip, run_id) != ws.base_commit:
                        raise WorkspaceError(
                            f"the remote's {ws.branch} does not start from this run's base "
                            f"{ws.base_commit[:12]}; it belongs to another run of that id",
                            code="remote_diverged",
                        )
                    target = tip
                ws.repairs += sync_to(ws, target)
            elif tip is not None:
                base = derive_base(self.git, tip, run_id)
                ws = self._create(run_id, tip, base)
                ws.repairs.append(f"continued from the remote's {ws.branch} at {tip[:12]}")
            else:
                start = self._resolve_base(base_ref)
                ws = self._create(run_id, start, start)
        ws.remote, ws.remote_sha = self, tip
        return ws

    def _create(self, run_id: str, start: str, base: str) -> RemoteWorkspace:
        made = RemoteWorkspace.create(
            self.path, self.data_dir, run_id, base_ref=start, timeout=self.timeout
        )
        ws = cast(RemoteWorkspace, made)
        if base != start:
            ws.git.run("update-ref", "-m", "autopack: run base", run_ref(run_id, "base"), base)
            ws.base_commit = base
        sync_to(ws, start)
        return ws

    def resolve(self, ref: str) -> str:
        """``ref``'s commit on the remote as last fetched (``bad_ref`` when it names none):
        ``HEAD`` the remote's default branch, a branch name, or a commit id (locked)."""
        with self.locked():
            return self._resolve_base(ref)

    def _resolve_base(self, base_ref: str) -> str:
        """``base_ref`` on the remote: ``HEAD`` its default branch, a branch name, a sha."""
        if base_ref in ("HEAD", f"{REMOTE}/HEAD"):
            self._network("remote", "set-head", REMOTE, "--auto")
            candidates = [f"{_TRACKING}HEAD"]
        else:
            name = base_ref.removeprefix("refs/heads/").removeprefix(f"{REMOTE}/")
            candidates = [f"{_TRACKING}{name}", base_ref]
        for ref in candidates:
            sha = self.git.try_rev_parse(f"{ref}^{{commit}}")
            if sha is not None:
                return sha
        raise WorkspaceError(f"{base_ref!r} names no commit on {self.url}", code="bad_ref")

    def push(self, ws: RemoteWorkspace) -> None:
        """Push ``ws``'s branch under the lease ``ws.remote_sha`` (module docstring)."""
        ref = f"refs/heads/{ws.branch}"
        sha = ws.git.rev_parse(f"{ref}^{{commit}}")
        lease = f"--force-with-lease={ref}:{ws.remote_sha or ''}"
        with self.locked():
            proc = self.git.run(
                "push", "--porcelain", lease, REMOTE, f"{sha}:{ref}", check=False, env=self._auth
            )
        if proc.returncode == 0:
            ws.remote_sha = sha
            return
        refused = [line for line in proc.stdout.splitlines() if line.startswith("!")]
        if any(reason in line for line in refused for reason in _MOVED):
            ws.refused = RemoteMovedError(
                f"the remote's {ws.branch} on {self.url} moved (expected "
                f"{(ws.remote_sha or 'no branch')[:12]}): another worker or a person pushed "
                f"there. Nothing was overwritten; commit {sha[:12]} stays local only and this "
                "worker stops. Resume the run once the branch is what it should be"
            )
            raise ws.refused
        raise GitError(["git", "push", lease, REMOTE, f"{sha}:{ref}"], proc.returncode, proc.stderr)


def _auth_env(url: str, plain: str) -> dict[str, str] | None:
    """Environment giving git the credentials of ``url`` for ``plain`` (see the module
    docstring); ``None`` when there are none."""
    if not has_credentials(url):
        return None
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": f"url.{url}.insteadOf",
        "GIT_CONFIG_VALUE_0": plain,
        # An empty helper resets the list: no configured helper (``store``…) is handed the
        # credentials to save on disk.
        "GIT_CONFIG_KEY_1": "credential.helper",
        "GIT_CONFIG_VALUE_1": "",
    }
