"""Messages written for the Builder when an answer does not apply (or to confirm it did)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopack.edits.model import EditStatus

if TYPE_CHECKING:
    from autopack.edits.model import ApplyResult

__all__ = ["result_for_model"]


def result_for_model(result: ApplyResult) -> str:
    """Which blocks applied (or would), which failed and why, and what to send next."""
    if result.ok:
        verb = "applied" if result.applied else "would apply"
        blocks = ", ".join(str(e.block) for e in result.edits)
        return f"All {len(result.edits)} edits {verb} (blocks {blocks})."
    good = [e for e in result.edits if e.status is not EditStatus.FAILED]
    parts = [
        f"Your answer was NOT applied: {len(result.errors)} of its edits failed, and the "
        "edits of an answer apply together or not at all. No file was changed."
    ]
    if good:
        listed = ", ".join(f"{e.block} ({e.path})" for e in good)
        parts.append(f"These blocks were fine and would apply: {listed}.")
    for err in result.errors:
        parts.append(err.for_model())
    parts.append(
        "Send the whole answer again with the failed blocks fixed: copy the lines to find "
        "exactly from the current file, with enough surrounding lines to be unique."
    )
    return "\n\n".join(parts)
