"""Aging: when an open issue needs cleanup.

An issue's age is counted since it was (re)opened, per DISTINCT run (``age_in_runs``) and
per DISTINCT (run, tier) pair (``age_in_tiers``) that recorded it — never per occurrence:
an issue repeated by every attempt of every phase of one tier is one run and one tier old.

- A **minor** issue becomes ``needs_cleanup`` once ``age_in_runs`` reaches
  ``cleanup_after_runs`` or ``age_in_tiers`` reaches ``cleanup_after_tiers`` (the run's
  safety profile: ``normal`` 3 runs / 2 tiers, ``safety_critical`` 2 / 1; the values come
  from the compiled :class:`~autopack.policy.strategy.RunStrategy` of the run that recorded
  the issue last).
- A **major** issue is simply ``open`` until resolved: it already blocks phases through the
  Auditor's severity rule, counts against a run's ``max_major_issues``, and an aging label
  would add nothing.
- ``resolved`` issues do not age; when one occurs again it is reopened and its age restarts
  from that occurrence (see :mod:`autopack.issues.resolution`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROFILE_THRESHOLDS", "Thresholds", "status_for", "worse"]


@dataclass(frozen=True)
class Thresholds:
    """Ages at which a minor issue needs cleanup."""

    runs: int
    tiers: int


PROFILE_THRESHOLDS: dict[str, Thresholds] = {
    "normal": Thresholds(runs=3, tiers=2),
    "safety_critical": Thresholds(runs=2, tiers=1),
}
"""The packaged defaults, used for runs stored before their thresholds were recorded."""

_RANK = {"minor": 0, "major": 1}


def status_for(severity: str, age_in_runs: int, age_in_tiers: int, limits: Thresholds) -> str:
    """``open`` or ``needs_cleanup`` for an unresolved issue (see the module docstring)."""
    if severity != "minor":
        return "open"
    if age_in_runs >= limits.runs or age_in_tiers >= limits.tiers:
        return "needs_cleanup"
    return "open"


def worse(a: str, b: str) -> str:
    """The more severe of two severities."""
    return a if _RANK.get(a, 1) >= _RANK.get(b, 1) else b
