"""Reading a run's branch for review: its refs, diffs and phase commits. Changes nothing.

Unlike :meth:`IntegrationWorkspace.open`, nothing here repairs or rolls back anything, so
it is safe while the run executes in another process. Committed phases and the whole run
are read from the user's repository (the refs are shared); only the diff of a phase whose
attempt is still open is read from the run's worktree (through a throw-away index).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autopack.workspace.cleanup import run_ref, toplevel, worktree_root
from autopack.workspace.errors import WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.integration import IntegrationWorkspace
from autopack.workspace.journal import BRANCH_PREFIX, validate_id
from autopack.workspace.trailers import PhaseCommit, read_phase_commits

__all__ = ["RunBranch"]

_DIFF_OPTIONS = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


@dataclass(frozen=True)
class RunBranch:
    """A run's integration branch as recorded in the repository."""

    repo: Path
    data_dir: Path
    run_id: str
    base: str
    head: str
    timeout: float = 120.0

    @property
    def branch(self) -> str:
        """``autonomous/<run_id>``."""
        return BRANCH_PREFIX + self.run_id

    @classmethod
    def find(cls, repo: Path, data_dir: Path, run_id: str, *, timeout: float = 120.0) -> RunBranch:
        """The run's base and branch head; ``WorkspaceError(run_not_found)`` without them."""
        validate_id(run_id, "run_id")
        top = toplevel(repo)
        git = Git(top, timeout=timeout)
        base = git.try_rev_parse(run_ref(run_id, "base"))
        head = git.try_rev_parse(f"refs/heads/{BRANCH_PREFIX}{run_id}^{{commit}}")
        if base is None or head is None:
            raise WorkspaceError(
                f"no integration branch {BRANCH_PREFIX}{run_id} (with a recorded base) in {top}: "
                "the run has not started yet, or its branch was deleted",
                code="run_not_found",
            )
        return cls(top, Path(data_dir).resolve(), run_id, base, head, timeout)

    @property
    def git(self) -> Git:
        """Git in the user's repository (read-only use)."""
        return Git(self.repo, timeout=self.timeout)

    def phase_ref(self, phase_id: str, which: str) -> str | None:
        """The phase's ``before`` or ``after`` commit, ``None`` when not recorded."""
        validate_id(phase_id, "phase_id")
        return self.git.try_rev_parse(run_ref(self.run_id, f"{phase_id}/{which}"))

    def phase_commits(self) -> list[PhaseCommit]:
        """Commits on the branch since the base, oldest first, with parsed trailers."""
        return read_phase_commits(self.git, f"{self.base}..{self.head}")

    def phase_shas(self) -> dict[str, str]:
        """Phase id → its commit (the ``after`` ref, else the commit's trailer)."""
        shas = {c["phase_id"]: c["sha"] for c in self.phase_commits() if c["phase_id"]}
        out = self.git.run(
            "for-each-ref", "--format=%(refname) %(objectname)", run_ref(self.run_id, "")
        ).stdout
        for line in out.splitlines():
            ref, _, sha = line.partition(" ")
            name = ref.removeprefix(run_ref(self.run_id, ""))
            if name.endswith("/after"):
                shas[name.removesuffix("/after")] = sha
        return shas

    def diff(self, phase_id: str | None = None, *, stat: bool = False) -> str:
        """Unified diff (or diffstat) of one phase, or of the whole run (base → head).

        A phase whose attempt is still open shows what the attempt changed so far.
        """
        if phase_id is None:
            return self._diff(self.base, self.head, stat=stat)
        before = self.phase_ref(phase_id, "before")
        if before is None:
            raise WorkspaceError(
                f"phase {phase_id!r} has no snapshot: no attempt of it began", code="no_snapshot"
            )
        after = self.phase_ref(phase_id, "after")
        if after is not None:
            return self._diff(before, after, stat=stat)
        if not (worktree_root(self.data_dir) / self.run_id).is_dir():
            raise WorkspaceError(
                f"phase {phase_id!r} has no commit and the run's worktree is gone",
                code="worktree_missing",
            )
        ws = IntegrationWorkspace(
            self.repo, self.data_dir, self.run_id, self.base, timeout=self.timeout
        )
        text = ws.phase_diff(phase_id)
        if not stat:
            return text
        return (
            Git(ws.path, timeout=self.timeout)
            .run("apply", "--stat", "--allow-empty", "-", input=text)
            .stdout
        )

    def _diff(self, old: str, new: str, *, stat: bool) -> str:
        mode = ("--stat",) if stat else ()
        return self.git.run("diff", *_DIFF_OPTIONS, *mode, old, new, "--").stdout
