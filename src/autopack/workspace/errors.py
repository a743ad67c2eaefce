"""The exception tree of :mod:`autopack.workspace`.

    WorkspaceError              base; ``code`` is stable, the message is for people
    └── GitError                a git command failed or timed out (argv, returncode, stderr)

Codes raised as plain :class:`WorkspaceError` (the exception's ``code`` attribute):

``invalid_id``            a run or phase id that cannot name a branch, ref or directory
``not_a_repository``      the path is not inside a git working tree
``empty_repository``      the repository has no commit to branch from
``bad_ref``               the base ref does not name a commit
``branch_exists``         ``autonomous/<run_id>`` exists already (create refuses to reuse it)
``worktree_exists``       the worktree directory exists already
``run_not_found``         no integration branch (or no recorded base) for this run
``worktree_broken``       the worktree cannot be re-attached or is not on its branch
``worktree_locked``       a git lock in the worktree is held by a live process
``attempt_open``          an attempt is in progress; roll it back or commit it first
``attempt_mismatch``      the open attempt belongs to another phase
``not_at_snapshot``       a retry found the worktree away from the phase's snapshot
``dirty_worktree``        changes outside any attempt (somebody edited the worktree?)
``no_snapshot``           the phase never began an attempt
``journal_corrupt``       the attempt journal cannot be read

:class:`GitError` codes: ``git_failed`` (non-zero exit), ``git_timeout`` (killed after the
timeout), ``git_missing`` (no ``git`` executable).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["GitError", "WorkspaceError"]

# user:password@ in URLs git may echo (remotes); never carried into an error message.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_MAX_STDERR = 4000


def redact(text: str) -> str:
    """``text`` with URL credentials replaced by ``***``."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)


class WorkspaceError(Exception):
    """Base of the workspace's errors; ``code`` says which (see the module docstring)."""

    code: str = "workspace_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(message)


class GitError(WorkspaceError):
    """A git command failed. Carries what is needed to understand it, never a secret.

    ``argv`` is the command as run (without the ``-c`` options Autopack always adds),
    ``returncode`` is ``None`` after a timeout, ``stderr`` is trimmed and redacted.
    """

    code = "git_failed"

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int | None,
        stderr: str,
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        self.argv = tuple(redact(a) for a in argv)
        self.returncode = returncode
        clean = redact(stderr.strip())
        if len(clean) > _MAX_STDERR:
            clean = clean[:_MAX_STDERR] + " …[trimmed]"
        self.stderr = clean
        shown = " ".join(self.argv)
        if message is None:
            detail = f": {clean}" if clean else ""
            message = f"`{shown}` exited with {returncode}{detail}"
        super().__init__(message, code=code)
