"""The edit formats, in the order the scanner tries them at each line of an answer.

Add a format by writing a small class following :class:`EditFormat` and listing it here.
"""

from __future__ import annotations

from autopack.edits.formats.base import EditFormat
from autopack.edits.formats.file_ops import FileOpsFormat
from autopack.edits.formats.search_replace import SearchReplaceFormat
from autopack.edits.formats.udiff import UnifiedDiffFormat
from autopack.edits.formats.whole_file import WholeFileFormat

__all__ = ["FORMATS", "EditFormat", "format_for"]

FORMATS: tuple[EditFormat, ...] = (
    SearchReplaceFormat(),
    UnifiedDiffFormat(),
    FileOpsFormat(),
    WholeFileFormat(),
)

_BY_KIND: dict[str, EditFormat] = {
    "search_replace": FORMATS[0],
    "unified_diff": FORMATS[1],
    "delete": FORMATS[2],
    "rename": FORMATS[2],
    "whole_file": FORMATS[3],
}


def format_for(kind: str) -> EditFormat:
    """The format that applies edits of ``kind`` (``Edit.kind``)."""
    return _BY_KIND[kind]
