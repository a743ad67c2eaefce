"""The baseline: tests that already fail on the base commit, so only new failures count.

:func:`compute_baseline` runs the same checks (same ``CiSpec``, same profile) on a checkout
of the base commit that the caller provides (``checks/`` knows nothing about git). Test paths
of ``ci.paths`` that do not exist there yet (a phase that adds a new test file) are left out,
so the baseline still covers the tests that do exist.

A baseline whose run did not complete (ERROR, TIMEOUT) is kept with an empty ``failing`` set:
every failure then counts as new, which is the safe side. ``trusted`` says whether it
completed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from autopack.checks.report import CheckStatus
from autopack.spec.models import CiSpec

if TYPE_CHECKING:
    from autopack.checks.ci import CiRunner
    from autopack.checks.config import ProfileName

__all__ = ["Baseline", "compute_baseline"]


class Baseline(BaseModel):
    """Failing test ids on the base commit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failing: frozenset[str] = frozenset()
    commit: str | None = None
    status: CheckStatus = CheckStatus.PASSED
    summary: str = Field(default="", description="The baseline run's one-line summary.")

    @property
    def trusted(self) -> bool:
        """Whether the baseline run completed (its failing set is meaningful)."""
        return self.status in (CheckStatus.PASSED, CheckStatus.FAILED)

    def classify(self, failing: Iterable[str]) -> tuple[list[str], list[str]]:
        """Split ``failing`` into (new, pre-existing), keeping its order."""
        new: list[str] = []
        old: list[str] = []
        for test_id in dict.fromkeys(failing):
            (old if test_id in self.failing else new).append(test_id)
        return new, old


def _existing_paths(checkout: Path, ci: CiSpec | None) -> CiSpec | None:
    if ci is None or not ci.paths:
        return ci
    base = checkout / ci.workdir if ci.workdir else checkout
    kept = [p for p in ci.paths if (base / p).exists()]
    if kept == ci.paths:
        return ci
    if not kept:
        return ci.model_copy(update={"skip": True, "reason": "no test path exists at the base"})
    return ci.model_copy(update={"paths": kept})


def compute_baseline(
    runner: CiRunner,
    checkout: Path,
    ci: CiSpec | None,
    *,
    commit: str | None = None,
    profile: ProfileName = "normal",
    label: str = "baseline",
) -> Baseline:
    """Run the checks on ``checkout`` (a checkout of the base commit) and record what fails.

    A skipped run (``ci.skip``, ``AUTOPACK_SKIP_CI``, no test path at the base) gives an empty
    baseline with status SKIPPED.
    """
    report = runner.run(
        Path(checkout), _existing_paths(Path(checkout), ci), profile=profile, label=label
    )
    trusted = report.status in (CheckStatus.PASSED, CheckStatus.FAILED)
    return Baseline(
        failing=frozenset(report.failing) if trusted else frozenset(),
        commit=commit,
        status=report.status,
        summary=report.summary(),
    )
