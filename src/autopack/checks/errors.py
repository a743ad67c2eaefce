"""The exception tree of :mod:`autopack.checks` (see the package docstring).

Test outcomes are never exceptions: a failing, erroring or timed-out check is a
:class:`~autopack.checks.report.CheckReport` value. Exceptions are kept for what the caller
must fix (a malformed ``checks.yaml``, a working directory outside the worktree) and for the
low-level helpers (a JUnit file that cannot be read, a command that cannot be started), which
the runner turns into report values.
"""

from __future__ import annotations

from autopack.errors import AutopackError

__all__ = [
    "ChecksConfigError",
    "ChecksError",
    "JUnitError",
    "ProcessStartError",
    "UnsafePathError",
]


class ChecksError(AutopackError):
    """Root of every exception raised by :mod:`autopack.checks`; ``code`` is a stable string."""

    code = "checks_error"


class ChecksConfigError(ChecksError):
    """``checks.yaml`` (packaged or the project's override) is unreadable or malformed."""

    code = "checks_config_invalid"


class UnsafePathError(ChecksError):
    """A working directory or path leaves the worktree (``..``, absolute, symlink)."""

    code = "unsafe_path"


class JUnitError(ChecksError):
    """A JUnit XML report is unreadable, malformed, too large or uses DOCTYPE/ENTITY."""

    code = "junit_invalid"


class ProcessStartError(ChecksError):
    """A check command could not be started (not found, not executable, bad cwd)."""

    code = "process_start_failed"
