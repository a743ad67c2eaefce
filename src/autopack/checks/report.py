"""What a check run found: :class:`CheckStatus` and the immutable :class:`CheckReport`."""

from __future__ import annotations

import shlex
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CheckReport", "CheckStatus"]

_MODEL_LIST_LIMIT = 30
_MODEL_DETAILS_LIMIT = 8


class CheckStatus(StrEnum):
    """The verdict of a check run."""

    PASSED = "passed"
    """Exit status success, or every failing test also fails on the base commit."""
    FAILED = "failed"
    """At least one new failure (or a failing exit status without a test report)."""
    ERROR = "error"
    """The check could not run properly: usage/internal error, crash, missing command."""
    TIMEOUT = "timeout"
    """The time limit was reached; the whole process group was killed."""
    SKIPPED = "skipped"
    """Not run: ``ci.skip`` or ``AUTOPACK_SKIP_CI``; ``skip_reason`` says which."""

    def is_ok(self) -> bool:
        """Whether the phase may proceed (PASSED or SKIPPED)."""
        return self in (CheckStatus.PASSED, CheckStatus.SKIPPED)


class CheckReport(BaseModel):
    """One check run, as stored with the attempt and shown to people and models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: CheckStatus
    profile: str = "normal"
    kind: str = Field(default="pytest", description="pytest or custom")
    command: list[str] = Field(default_factory=list)
    cwd: str | None = None
    returncode: int | None = None
    duration_s: float = 0.0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    failing: list[str] = Field(default_factory=list, description="Failed + errored test ids.")
    new_failures: list[str] = Field(default_factory=list)
    preexisting_failures: list[str] = Field(default_factory=list)
    failure_details: dict[str, str] = Field(
        default_factory=dict, description="Trimmed message + traceback per new failure."
    )
    output_tail: str = Field(default="", description="Trimmed head + tail of the output.")
    log_path: str | None = None
    junit_path: str | None = None
    skip_reason: str | None = None
    baseline_commit: str | None = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the phase may proceed (PASSED or SKIPPED)."""
        return self.status.is_ok()

    def summary(self) -> str:
        """One line: status, profile, counts, new vs pre-existing, time, skip reason."""
        head = f"{self.status.value.upper()} [{self.kind}, {self.profile}]"
        if self.status is CheckStatus.SKIPPED:
            return f"{head}: skipped: {self.skip_reason or 'no reason given'}"
        counts = (
            f"{self.passed} passed, {self.failed} failed, {self.errored} errors, "
            f"{self.skipped} skipped"
        )
        parts = [counts]
        if self.failing:
            parts.append(
                f"{len(self.new_failures)} new, {len(self.preexisting_failures)} pre-existing"
            )
        if self.status is CheckStatus.TIMEOUT:
            parts.append("timed out, process group killed")
        elif self.returncode is not None and self.status is not CheckStatus.PASSED:
            parts.append(f"exit {self.returncode}")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s)")
        return f"{head}: {'; '.join(parts)} in {self.duration_s:.1f}s"

    def for_model(self) -> str:
        """What the Builder needs to fix: new failures, their details, the trimmed output.

        Secrets never appear: the child ran without them and their values were redacted from
        the output before it was stored.
        """
        lines = [f"Checks: {self.summary()}"]
        if self.command:
            lines.append(f"Command: {shlex.join(self.command)}")
        if self.status is CheckStatus.SKIPPED:
            return "\n".join(lines)
        if self.new_failures:
            lines.append("New failures (caused by this change; fix these):")
            lines.extend(f"- {t}" for t in self.new_failures[:_MODEL_LIST_LIMIT])
            if len(self.new_failures) > _MODEL_LIST_LIMIT:
                lines.append(f"- ... and {len(self.new_failures) - _MODEL_LIST_LIMIT} more")
        if self.preexisting_failures:
            lines.append("Pre-existing failures (also fail on the base commit; not yours to fix):")
            lines.extend(f"- {t}" for t in self.preexisting_failures[:_MODEL_LIST_LIMIT])
            if len(self.preexisting_failures) > _MODEL_LIST_LIMIT:
                extra = len(self.preexisting_failures) - _MODEL_LIST_LIMIT
                lines.append(f"- ... and {extra} more")
        lines.extend(f"Warning: {w}" for w in self.warnings)
        for test_id, detail in list(self.failure_details.items())[:_MODEL_DETAILS_LIMIT]:
            lines.append(f"--- {test_id} ---")
            lines.append(detail)
        # The output adds nothing when every new failure has its own traceback above, and
        # it would show the pre-existing failures' tracebacks too.
        covered = bool(self.new_failures) and all(
            t in self.failure_details for t in self.new_failures
        )
        if self.output_tail and not self.status.is_ok() and not covered:
            lines.append("--- output (trimmed) ---")
            lines.append(self.output_tail.rstrip())
        return "\n".join(lines)
