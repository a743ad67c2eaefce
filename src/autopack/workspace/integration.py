"""The integration workspace: branch ``autonomous/<run_id>`` checked out in its own worktree.

The user's checkout is never modified: no checkout, reset, stash or index change there.
Autopack only adds refs to the repository and a linked worktree under
``<data_dir>/worktrees/<run_id>``. Refs it owns:

``refs/heads/autonomous/<run>``            the integration branch (one commit per phase)
``refs/autopack/<run>/base``               the commit the run started from
``refs/autopack/<run>/<phase>/before``     the phase's snapshot, where every attempt starts
``refs/autopack/<run>/<phase>/after``      the phase's commit, once made

Decisions worth knowing:

- **Identity.** Commits are authored and committed by ``Autopack <autopack@localhost>``
  whatever the user configured: the user did not write them, and a fresh machine with no
  ``user.name`` must work. The trailers say which run, phase, attempt and model did.
- **Rollback is exact for everything git sees.** ``reset --hard`` to the snapshot, then
  ``clean -ffd`` (untracked files, nested repositories too). Ignored paths are handled
  from the list recorded when the attempt began: ignored paths the attempt created (a
  ``__pycache__``, a build directory) are removed, ignored paths that existed before (a
  virtualenv the checks set up, caches) are kept as they are. Plain ``clean -fdx`` would
  delete those too and make every retry rebuild them.
- **Crash safety.** Every step that changes the worktree is bracketed by the attempt
  journal (see :mod:`autopack.workspace.journal`); :meth:`IntegrationWorkspace.open`
  finishes or undoes whatever a crash interrupted and says what it did in ``repairs``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from autopack.workspace.cleanup import (
    cleanup_runs,
    delete_run_refs,
    ensure_data_dir,
    journal_path,
    remove_run,
    run_ref,
    toplevel,
    worktree_root,
)
from autopack.workspace.errors import GitError, WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.journal import (
    BRANCH_PREFIX,
    STALE_LOCK_SECONDS,
    AttemptRecord,
    Journal,
    validate_id,
)
from autopack.workspace.repair import reattach, remove_stale_locks
from autopack.workspace.trailers import (
    UNKNOWN,
    PhaseCommit,
    identity_env,
    parse_trailers,
    read_phase_commits,
    with_trailers,
)

__all__ = [
    "AUTOPACK_IDENTITY",
    "BRANCH_PREFIX",
    "IntegrationWorkspace",
    "PhaseCommit",
    "cleanup_runs",
]

AUTOPACK_IDENTITY = ("Autopack", "autopack@localhost")
_DIFF_OPTIONS = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_CLEAN_BATCH = 200


class IntegrationWorkspace:
    """One run's integration branch and worktree. Build it with :meth:`create` or :meth:`open`."""

    def __init__(
        self, repo: Path, data_dir: Path, run_id: str, base_commit: str, *, timeout: float
    ) -> None:
        self.repo = repo
        self.data_dir = data_dir
        self.run_id = run_id
        self.branch = BRANCH_PREFIX + run_id
        self.base_commit = base_commit
        self.path = worktree_root(data_dir) / run_id
        self.git = Git(self.path, timeout=timeout)
        self.repairs: list[str] = []
        self._main = Git(repo, timeout=timeout)
        self._journal = Journal(journal_path(data_dir, run_id))

    def __repr__(self) -> str:
        return f"IntegrationWorkspace(run_id={self.run_id!r}, path={str(self.path)!r})"

    # --- lifecycle ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        repo: Path,
        data_dir: Path,
        run_id: str,
        *,
        base_ref: str = "HEAD",
        timeout: float = 120.0,
    ) -> IntegrationWorkspace:
        """Create ``autonomous/<run_id>`` at ``base_ref`` and check it out in a new worktree."""
        validate_id(run_id, "run_id")
        top = toplevel(repo)
        main = Git(top, timeout=timeout)
        base = main.try_rev_parse(f"{base_ref}^{{commit}}")
        if base is None:
            if not main.run("rev-list", "-n1", "--all").stdout.strip():
                raise WorkspaceError(
                    f"{top} has no commits yet; commit something first, Autopack branches "
                    "from an existing commit",
                    code="empty_repository",
                )
            raise WorkspaceError(f"{base_ref!r} does not name a commit in {top}", code="bad_ref")
        branch = BRANCH_PREFIX + run_id
        if main.try_rev_parse(f"refs/heads/{branch}") is not None:
            raise WorkspaceError(
                f"branch {branch} exists already; choose another run id or remove the old run",
                code="branch_exists",
            )
        data = Path(data_dir).resolve()
        ws = cls(top, data, run_id, base, timeout=timeout)
        if ws.path.exists() and any(ws.path.iterdir()):
            raise WorkspaceError(f"{ws.path} exists already", code="worktree_exists")
        ensure_data_dir(data)
        ws.path.parent.mkdir(parents=True, exist_ok=True)
        delete_run_refs(main, run_id, branch=False)  # leftovers of a deleted run of that id
        ws._journal.clear()
        main.run("update-ref", "-m", "autopack: run base", run_ref(run_id, "base"), base)
        try:
            main.run("worktree", "add", "--quiet", "-b", branch, str(ws.path), base)
        except GitError:
            with contextlib.suppress(WorkspaceError):
                remove_run(top, data, run_id, delete_branch=True)
            raise
        return ws

    @classmethod
    def open(
        cls,
        repo: Path,
        data_dir: Path,
        run_id: str,
        *,
        timeout: float = 120.0,
        stale_lock_seconds: float = STALE_LOCK_SECONDS,
    ) -> IntegrationWorkspace:
        """Re-attach to an existing run, repairing what a crash left (see ``repairs``).

        Repairs, in order: re-add a missing worktree; remove git locks no live git process
        holds (:func:`~autopack.workspace.journal.stale_locks`); finish an attempt whose
        commit was made, or roll back an attempt that was in progress.
        """
        validate_id(run_id, "run_id")
        top = toplevel(repo)
        main = Git(top, timeout=timeout)
        branch = BRANCH_PREFIX + run_id
        base = main.try_rev_parse(run_ref(run_id, "base"))
        if main.try_rev_parse(f"refs/heads/{branch}") is None or base is None:
            raise WorkspaceError(
                f"no integration branch {branch} (with a recorded base) in {top}",
                code="run_not_found",
            )
        ws = cls(top, Path(data_dir).resolve(), run_id, base, timeout=timeout)
        removed = ws._journal.remove_leftovers()
        if removed:
            ws.repairs.append(f"removed {len(removed)} half-written journal file(s)")
        ws.repairs += reattach(ws._main, ws.path, ws.branch, ws.run_id)
        ws.repairs += remove_stale_locks(ws.git, ws.branch, ws.run_id, min_age=stale_lock_seconds)
        ws._finish_interrupted_attempt()
        return ws

    def remove(self, *, delete_branch: bool = False) -> None:
        """Remove the worktree (forced) and prune; optionally delete the branch and refs."""
        remove_run(self.repo, self.data_dir, self.run_id, delete_branch=delete_branch)

    # --- attempts ----------------------------------------------------------------------

    def begin_attempt(self, phase_id: str, attempt: int) -> str:
        """Open an attempt of ``phase_id``; return the snapshot every attempt starts from.

        The first attempt records ``refs/autopack/<run>/<phase>/before`` at HEAD; later
        ones reuse it and require the worktree to be there (a rollback puts it there).
        """
        validate_id(phase_id, "phase_id")
        open_attempt = self._journal.read()
        if open_attempt is not None:
            raise WorkspaceError(
                f"attempt {open_attempt.attempt} of phase {open_attempt.phase_id!r} is still "
                "open; roll it back or commit it first",
                code="attempt_open",
            )
        if not self.git.is_clean():
            raise WorkspaceError(
                f"{self.path} has changes made outside any attempt; commit or discard them "
                "there before continuing the run",
                code="dirty_worktree",
            )
        head = self.git.head()
        before_ref = run_ref(self.run_id, f"{phase_id}/before")
        snapshot = self.git.try_rev_parse(before_ref)
        if snapshot is None:
            self.git.run("update-ref", "-m", "autopack: phase snapshot", before_ref, head, "")
            snapshot = head
        elif snapshot != head:
            raise WorkspaceError(
                f"phase {phase_id!r} started from {snapshot[:12]} but HEAD is {head[:12]}; "
                "a phase that was already committed cannot be attempted again",
                code="not_at_snapshot",
            )
        record = AttemptRecord(
            run_id=self.run_id,
            phase_id=phase_id,
            attempt=attempt,
            snapshot=snapshot,
            ignored=tuple(self._ignored_paths()),
        )
        self._journal.write(record)
        return snapshot

    def rollback_attempt(self, phase_id: str) -> None:
        """Put the worktree back exactly at the phase's snapshot and close the attempt.

        Without an open attempt (already rolled back, or never begun after a restart) it
        only cleans the worktree back to the snapshot, and refuses (``not_at_snapshot``)
        when HEAD has moved past it: commits made outside an attempt are never dropped.
        """
        validate_id(phase_id, "phase_id")
        record = self._open_record(phase_id)
        if record is None:
            snapshot = self._snapshot(phase_id)
            if self.git.head() != snapshot:
                raise WorkspaceError(
                    f"no attempt of phase {phase_id!r} is open and HEAD is past its snapshot "
                    f"{snapshot[:12]}; refusing to drop commits",
                    code="not_at_snapshot",
                )
        self._restore(record.snapshot if record else snapshot, record.ignored if record else None)
        self._journal.clear()

    def commit_attempt(
        self,
        phase_id: str,
        attempt: int,
        *,
        message: str,
        model: str | None,
        tokens: int | None,
    ) -> str | None:
        """Commit everything the attempt changed as ONE commit with Autopack trailers.

        Returns the new commit, or ``None`` when the attempt changed nothing. Closes the
        attempt either way.
        """
        validate_id(phase_id, "phase_id")
        record = self._open_record(phase_id)
        if record is not None and self.git.head() != record.snapshot:
            raise WorkspaceError(
                f"HEAD moved during attempt {record.attempt} of phase {phase_id!r}; a phase "
                "must land as one commit on its snapshot: roll the attempt back",
                code="not_at_snapshot",
            )
        self.git.run("add", "--all", "--", ":/")
        staged = self.git.run("diff", "--cached", "--quiet", "--no-ext-diff", check=False)
        if staged.returncode not in (0, 1):
            raise GitError(["git", "diff", "--cached", "--quiet"], staged.returncode, staged.stderr)
        if staged.returncode == 0:
            self._journal.clear()
            return None
        trailers = {
            "Autopack-Run": self.run_id,
            "Autopack-Phase": phase_id,
            "Autopack-Attempt": str(attempt),
            "Autopack-Model": model or UNKNOWN,
            "Autopack-Tokens": UNKNOWN if tokens is None else str(tokens),
        }
        text = with_trailers(self.git, message.strip() or f"autopack: phase {phase_id}", trailers)
        self.git.run(
            "commit", "--quiet", "--no-verify", "--cleanup=whitespace", "-F", "-",
            input=text, env=identity_env(AUTOPACK_IDENTITY),
        )  # fmt: skip
        sha = self.git.head()
        self._mark_committed(phase_id, sha)
        return sha

    # --- reading -----------------------------------------------------------------------

    def open_attempt(self) -> AttemptRecord | None:
        """The attempt in progress (phase, attempt, snapshot), or ``None``."""
        return self._journal.read()

    def phase_diff(self, phase_id: str) -> str:
        """Unified diff of the phase: snapshot → its commit, or → the worktree while open.

        During an attempt new untracked files are included (through a throw-away index;
        the worktree's own index is not touched).
        """
        validate_id(phase_id, "phase_id")
        before = self._snapshot(phase_id)
        after = self.git.try_rev_parse(run_ref(self.run_id, f"{phase_id}/after"))
        if after is not None:
            return self.git.run("diff", *_DIFF_OPTIONS, before, after, "--").stdout
        index = Path(self.git.output("rev-parse", "--git-path", "index"))
        index = index if index.is_absolute() else self.path / index
        with tempfile.TemporaryDirectory(prefix="autopack-index-") as tmp:
            scratch = Path(tmp) / "index"
            if index.exists():
                shutil.copyfile(index, scratch)
            env = {"GIT_INDEX_FILE": str(scratch)}
            self.git.run("add", "--all", "--", ":/", env=env)
            return self.git.run("diff", "--cached", *_DIFF_OPTIONS, before, "--", env=env).stdout

    def phase_commits(self) -> list[PhaseCommit]:
        """Commits on the branch since the base, oldest first, with parsed trailers."""
        return read_phase_commits(self.git, f"{self.base_commit}..refs/heads/{self.branch}")

    # --- internals ---------------------------------------------------------------------

    def _snapshot(self, phase_id: str) -> str:
        sha = self.git.try_rev_parse(run_ref(self.run_id, f"{phase_id}/before"))
        if sha is None:
            raise WorkspaceError(
                f"phase {phase_id!r} has no snapshot (no attempt began)", code="no_snapshot"
            )
        return sha

    def _open_record(self, phase_id: str) -> AttemptRecord | None:
        record = self._journal.read()
        if record is not None and record.phase_id != phase_id:
            raise WorkspaceError(
                f"the open attempt belongs to phase {record.phase_id!r}, not {phase_id!r}",
                code="attempt_mismatch",
            )
        return record

    def _mark_committed(self, phase_id: str, sha: str) -> None:
        after = run_ref(self.run_id, f"{phase_id}/after")
        self.git.run("update-ref", "-m", "autopack: phase commit", after, sha)
        self._journal.clear()

    def _ignored_paths(self) -> list[str]:
        out = self.git.run(
            "ls-files", "--others", "--ignored", "--exclude-standard", "--directory",
            "--full-name", "-z", "--", ":/",
        ).stdout  # fmt: skip
        return sorted(p for p in out.split("\0") if p)

    def _restore(self, snapshot: str, ignored_before: tuple[str, ...] | None) -> None:
        self.git.run("reset", "--hard", "--quiet", snapshot)
        self.git.run("clean", "-ffdq", "--", ":/")
        if ignored_before is None:
            return
        keep = set(ignored_before)
        new = [p for p in self._ignored_paths() if p not in keep]
        for i in range(0, len(new), _CLEAN_BATCH):
            specs = [f":(top,literal){p}" for p in new[i : i + _CLEAN_BATCH]]
            self.git.run("clean", "-ffdxq", "--", *specs)

    def _finish_interrupted_attempt(self) -> None:
        record = self._journal.read()
        if record is None:
            return
        if record.run_id != self.run_id:
            raise WorkspaceError(
                f"journal {self._journal.path} belongs to run {record.run_id!r}",
                code="journal_corrupt",
            )
        head = self.git.head()
        if head != record.snapshot and self._is_commit_of(head, record):
            self._mark_committed(record.phase_id, head)
            self.repairs.append(
                f"attempt {record.attempt} of phase {record.phase_id} had committed "
                f"{head[:12]} before the interruption; kept it"
            )
            return
        if head != record.snapshot:
            # Commits Autopack did not make (someone committed in the worktree, or moved the
            # branch): never reset over them; a person decides.
            raise WorkspaceError(
                f"the integration branch {self.branch} moved from the interrupted attempt's "
                f"snapshot {record.snapshot[:12]} to {head[:12]}, which Autopack did not "
                f"commit; inspect {self.path} (move those commits elsewhere or reset the "
                "branch yourself), then resume",
                code="foreign_commits",
            )
        self._restore(record.snapshot, record.ignored)
        self._journal.clear()
        self.repairs.append(
            f"rolled back interrupted attempt {record.attempt} of phase {record.phase_id} "
            f"to {record.snapshot[:12]}"
        )

    def _is_commit_of(self, sha: str, record: AttemptRecord) -> bool:
        parent = self.git.try_rev_parse(f"{sha}^")
        raw = self.git.output("log", "-1", "--format=%(trailers:only,unfold)", sha)
        trailers = parse_trailers(raw)
        return (
            parent == record.snapshot
            and trailers.get("Autopack-Phase") == record.phase_id
            and trailers.get("Autopack-Attempt") == str(record.attempt)
        )
