"""Checks across phases and tiers: unique ids and indices, the ``max_phases`` budget.

They work on the canonical document *or* on built models (attribute or key access), and only
compare values of the right type, so they also run on documents with other errors: a plan
with a bad complexity *and* a duplicate phase id reports both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from autopack.spec._locate import Path


@dataclass(frozen=True, slots=True)
class CrossIssue:
    """A problem at canonical ``path``; ``{other}`` in ``message`` names ``other``'s location."""

    path: Path
    message: str
    other: Path | None = None

    def render(self, where: str | None) -> str:
        return self.message.replace("{other}", where or "?")


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    if isinstance(value, list | tuple):
        yield from enumerate(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def cross_check(run: Any) -> list[CrossIssue]:
    """Duplicate tier ids/indices, duplicate phase ids (run-wide) and phase indices (per tier),
    and more phases than ``max_phases``."""
    issues: list[CrossIssue] = []
    tier_ids: dict[str, Path] = {}
    tier_indices: dict[int, Path] = {}
    phase_ids: dict[str, Path] = {}
    phase_count = 0
    for ti, tier in _items(_get(run, "tiers")):
        tier_path: Path = ("tiers", ti)
        tier_id, tier_index = _get(tier, "tier_id"), _get(tier, "tier_index")
        if isinstance(tier_id, str):
            if tier_id in tier_ids:
                msg = f"duplicate tier id {tier_id!r} (also used by {{other}})"
                issues.append(CrossIssue((*tier_path, "tier_id"), msg, tier_ids[tier_id]))
            tier_ids.setdefault(tier_id, tier_path)
        if _is_int(tier_index):
            if tier_index in tier_indices:
                msg = f"duplicate tier index {tier_index} (also used by {{other}})"
                other = tier_indices[tier_index]
                issues.append(CrossIssue((*tier_path, "tier_index"), msg, other))
            tier_indices.setdefault(tier_index, tier_path)
        phase_indices: dict[int, Path] = {}
        for pi, phase in _items(_get(tier, "phases")):
            phase_count += 1
            phase_path: Path = (*tier_path, "phases", pi)
            phase_id, phase_index = _get(phase, "phase_id"), _get(phase, "phase_index")
            if isinstance(phase_id, str):
                if phase_id in phase_ids:
                    msg = f"duplicate phase id {phase_id!r} (also used by {{other}})"
                    issues.append(CrossIssue((*phase_path, "phase_id"), msg, phase_ids[phase_id]))
                phase_ids.setdefault(phase_id, phase_path)
            if _is_int(phase_index):
                if phase_index in phase_indices:
                    label = tier_id if isinstance(tier_id, str) else ti
                    msg = (
                        f"duplicate phase index {phase_index} in tier {label!r} "
                        "(also used by {other})"
                    )
                    other = phase_indices[phase_index]
                    issues.append(CrossIssue((*phase_path, "phase_index"), msg, other))
                phase_indices.setdefault(phase_index, phase_path)
    max_phases = _get(run, "max_phases")
    if _is_int(max_phases) and max_phases > 0 and phase_count > max_phases:
        msg = f"the plan has {phase_count} phases, more than max_phases ({max_phases})"
        issues.append(CrossIssue(("max_phases",), msg))
    return issues
