"""Find every edit in a model answer, whatever prose and fences surround it.

The scanner walks the answer line by line and asks each format (in registry order) whether
one of its blocks starts there. A block that starts but cannot be read is recorded as a
``MALFORMED_BLOCK`` error (never silently dropped) and scanning resumes on the next line.
"""

from __future__ import annotations

from dataclasses import dataclass

from autopack.edits.errors import EditError
from autopack.edits.formats import FORMATS
from autopack.edits.formats.base import Cursor
from autopack.edits.model import Edit
from autopack.edits.text import split_answer_lines

__all__ = ["ParsedAnswer", "parse_answer"]


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    """The edits found in an answer, in order, and the blocks that could not be read."""

    edits: tuple[Edit, ...]
    errors: tuple[EditError, ...]


def parse_answer(answer: str) -> ParsedAnswer:
    """Read every edit of ``answer``. Pure: never raises for a bad answer."""
    cur = Cursor(split_answer_lines(answer))
    edits: list[Edit] = []
    errors: list[EditError] = []
    i = 0
    while i < len(cur.lines):
        for fmt in FORMATS:
            if not fmt.starts(cur, i):
                continue
            try:
                found, i = fmt.parse(cur, i)
            except EditError as exc:
                errors.append(exc)
                i += 1
            else:
                edits.extend(found)
            break
        else:
            i += 1
    return ParsedAnswer(tuple(edits), tuple(errors))
