"""The exception tree of :mod:`autopack.edits` (see the package docstring).

Every failure carries an :class:`ErrorCode`, the file, the block index (1-based, in order of
appearance in the answer), a human reason, and when useful a "did you mean" excerpt of the
real file, so that the message can be sent back to the Builder as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

__all__ = ["AnswerRejectedError", "EditError", "EditsError", "ErrorCode"]


class ErrorCode(StrEnum):
    """Why an edit was refused. Stable strings: they appear in ``--json`` output."""

    MALFORMED_BLOCK = "malformed_block"
    """A block was started but not finished (e.g. a missing ``>>>>>>> REPLACE``)."""
    NO_EDITS = "no_edits"
    """The answer contains nothing recognisable as an edit."""
    UNSAFE_PATH = "unsafe_path"
    """Absolute path, ``..``, or a path outside the allowed scope."""
    FILE_NOT_FOUND = "file_not_found"
    FILE_EXISTS = "file_exists"
    """A creation or rename target already exists (and is not empty)."""
    BINARY_FILE = "binary_file"
    """The file is not UTF-8 text; Autopack never edits it."""
    NO_MATCH = "no_match"
    """The lines to find are not in the file, under any safe strategy."""
    AMBIGUOUS_MATCH = "ambiguous_match"
    """The lines to find occur at several places; adding context would disambiguate."""
    REINDENT_FAILED = "reindent_failed"
    """Matched with an indentation shift that the replacement lines cannot follow."""
    IO_ERROR = "io_error"


class EditsError(Exception):
    """Root of every exception raised by :mod:`autopack.edits`."""


class EditError(EditsError):
    """One edit (one block of the answer) that cannot be applied.

    ``block`` is the 1-based index of the edit in the answer (``None`` when the problem is
    not tied to one block), ``line`` the 1-based line of the answer where the block starts.
    ``did_you_mean`` holds the closest real lines of the file (already formatted, with line
    numbers) or the places of an ambiguous match.
    """

    def __init__(
        self,
        code: ErrorCode,
        reason: str,
        *,
        path: str | None = None,
        block: int | None = None,
        line: int | None = None,
        did_you_mean: Sequence[str] = (),
    ) -> None:
        self.code = code
        self.reason = reason
        self.path = path
        self.block = block
        self.line = line
        self.did_you_mean = tuple(did_you_mean)
        super().__init__(self._summary())

    def _summary(self) -> str:
        where = []
        if self.block is not None:
            where.append(f"block {self.block}")
        if self.path:
            where.append(self.path)
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.reason} [{self.code}]"

    def with_location(self, *, block: int | None, line: int | None) -> EditError:
        """A copy of this error tied to a block of the answer."""
        return EditError(
            self.code,
            self.reason,
            path=self.path,
            block=block if self.block is None else self.block,
            line=line if self.line is None else self.line,
            did_you_mean=self.did_you_mean,
        )

    def for_model(self) -> str:
        """This failure explained to the Builder, with the closest real lines if known."""
        text = self._summary()
        if self.did_you_mean:
            text += "\nDid you mean these lines of the real file?\n" + "\n".join(self.did_you_mean)
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "code": str(self.code),
            "reason": self.reason,
            "path": self.path,
            "block": self.block,
            "line": self.line,
            "did_you_mean": list(self.did_you_mean),
        }


class AnswerRejectedError(EditsError):
    """Raised by the ``*_or_raise`` helpers when an answer does not apply as a whole.

    ``result`` is the :class:`~autopack.edits.ApplyResult` with every per-edit outcome;
    ``for_model()`` is the message to send back to the Builder.
    """

    def __init__(self, result: object, message: str) -> None:
        self.result = result
        self._message = message
        super().__init__(message.splitlines()[0] if message else "answer rejected")

    def for_model(self) -> str:
        return self._message
