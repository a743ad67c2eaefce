"""The governed repository: an integration branch in its own worktree.

Work happens on ``autonomous/<run_id>`` checked out under ``<data_dir>/worktrees/<run_id>``;
the user's checkout is never touched. :func:`governed_apply` writes a model's answer there
under governance (all or nothing, with integrity checks). Each phase attempt starts from a
snapshot ref, is rolled back exactly on failure, and lands as one commit with ``Autopack-*``
trailers.

The repository may also be a git remote URL (:class:`RemoteRepository`): the worker keeps a
mirror under ``<data_dir>/repos/`` and pushes the integration branch after every commit, so
any worker can continue the run (see :mod:`autopack.workspace.remote`).

Exceptions: :class:`WorkspaceError` (``code`` says which) and its subclasses
:class:`GitError` (argv, returncode, stderr; see :mod:`autopack.workspace.errors`) and
:class:`RemoteMovedError` (a push refused because the remote branch moved).
"""

from autopack.workspace.apply import ApplyOutcome, GovernedApplyResult, governed_apply
from autopack.workspace.cleanup import cleanup_runs
from autopack.workspace.errors import GitError, WorkspaceError
from autopack.workspace.git import Git
from autopack.workspace.integration import AUTOPACK_IDENTITY, IntegrationWorkspace
from autopack.workspace.integrity import IntegrityIssue, check_integrity
from autopack.workspace.journal import BRANCH_PREFIX, validate_id
from autopack.workspace.location import is_remote
from autopack.workspace.remote import RemoteMovedError, RemoteRepository, RemoteWorkspace
from autopack.workspace.trailers import PhaseCommit

__all__ = [
    "AUTOPACK_IDENTITY",
    "BRANCH_PREFIX",
    "ApplyOutcome",
    "Git",
    "GitError",
    "GovernedApplyResult",
    "IntegrationWorkspace",
    "IntegrityIssue",
    "PhaseCommit",
    "RemoteMovedError",
    "RemoteRepository",
    "RemoteWorkspace",
    "WorkspaceError",
    "check_integrity",
    "cleanup_runs",
    "governed_apply",
    "is_remote",
    "validate_id",
]
