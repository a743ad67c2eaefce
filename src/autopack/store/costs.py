"""Cost of model calls per attempt: what the views of a run need and ``LlmCallView`` lacks.

A model call records the attempt it served (``llm_calls.attempt_pk``); Doctor calls serve no
attempt and only count towards their phase. Each function takes the :class:`Store` and runs
one read-only transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from autopack.store.models import LlmCall

if TYPE_CHECKING:
    from autopack.store.service import Store

__all__ = ["attempt_costs"]


def attempt_costs(store: Store, run_id: str) -> dict[int, Decimal]:
    """Attempt id → summed cost (USD) of the model calls made for that attempt."""
    stmt = (
        select(LlmCall.attempt_pk, func.sum(LlmCall.cost_usd))
        .where(LlmCall.run_id == run_id, LlmCall.attempt_pk.is_not(None))
        .group_by(LlmCall.attempt_pk)
    )
    with store.transaction() as session:
        return {
            int(attempt): Decimal(str(total or 0))
            for attempt, total in session.execute(stmt)
            if attempt is not None
        }
