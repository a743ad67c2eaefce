"""The answer a phase waiting for approval would apply, wherever the engine kept it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopack.engine.phase import PENDING_ANSWER

if TYPE_CHECKING:
    from autopack.engine.services import Engine

__all__ = ["pending_answer"]


def pending_answer(engine: Engine, run_id: str, phase_id: str, approval_id: int) -> str | None:
    """The answer waiting for ``approval_id``: stored with the approval (any worker can read
    it), else in the data directory of the worker that stopped (approvals made before the
    answer was stored in the database)."""
    answer, _diff = engine.store.approval_material(approval_id)
    if answer is not None:
        return answer
    saved = engine.artifacts_dir(run_id) / "phases" / phase_id / PENDING_ANSWER
    return saved.read_text(encoding="utf-8") if saved.is_file() else None
