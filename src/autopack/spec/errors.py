"""Errors raised while loading a run specification.

Loading a plan raises exactly one exception type, :class:`SpecError`, whatever went wrong
(unreadable file, syntax error, wrong shape, invalid values). It carries every problem found,
each as a :class:`SpecIssue` whose ``loc`` names the place in the *original* document, e.g.
``tiers[0].phases[2].complexity`` or ``phases[4].tier_id`` for a flat plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SpecError", "SpecIssue"]

DOCUMENT_LOC = "<document>"
"""The ``loc`` used for problems with the document as a whole (empty, not a mapping...)."""


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem in a plan: where (``loc``) and what (``message``).

    ``code`` is a short machine-readable class (``syntax``, ``unknown_field``, ``duplicate``,
    ``invalid_value``...). ``line``/``column`` (1-based) are set when the position in the
    source text is known.
    """

    loc: str
    message: str
    code: str = "invalid"
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly view (used by ``autopack spec validate --json``)."""
        return {
            "loc": self.loc,
            "message": self.message,
            "code": self.code,
            "line": self.line,
            "column": self.column,
        }


class SpecError(Exception):
    """A plan could not be loaded; ``issues`` lists every problem found (never empty)."""

    def __init__(self, issues: Iterable[SpecIssue], source: str | None = None) -> None:
        self.issues: list[SpecIssue] = list(issues)
        if not self.issues:
            self.issues = [SpecIssue(DOCUMENT_LOC, "invalid run specification")]
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.source}: " if self.source else ""
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{head}invalid run specification ({count} {noun})"]
        lines.extend(f"  {issue}" for issue in self.issues)
        return "\n".join(lines)
