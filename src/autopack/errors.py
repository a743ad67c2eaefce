"""The base of Autopack's exception trees.

Each package keeps its own tree (``ChecksError``, ``AgentError``, …) so callers can catch one
package's failures; they share this base, which carries a stable ``code`` next to the
message written for people.
"""

from __future__ import annotations


class AutopackError(Exception):
    """An error with a stable ``code``; subclasses set a default ``code`` class attribute."""

    code = "autopack_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"
