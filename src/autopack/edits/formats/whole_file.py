"""Whole files: a path alone on a line, then a fenced block with the complete new content."""

from __future__ import annotations

import re

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.formats.base import Cursor, fence_close_index, fence_open, path_from_line
from autopack.edits.model import Edit, WholeFile
from autopack.edits.text import FileText
from autopack.edits.workspace import Workspace

__all__ = ["WholeFileFormat"]

_DIFF_INFO = frozenset({"diff", "patch", "udiff"})
_EDIT_MARKERS = re.compile(r"^(\s*<{5,9}\s*SEARCH\b|diff --git |@@|\+\+\+ |DELETE |RENAME )")


class WholeFileFormat:
    name = "whole_file"

    def starts(self, cur: Cursor, i: int) -> bool:
        if i + 1 >= len(cur.lines) or path_from_line(cur.lines[i], strict=True) is None:
            return False
        fence = fence_open(cur.lines[i + 1])
        if fence is None or fence[1].lower() in _DIFF_INFO:
            return False
        end = fence_close_index(cur.lines, i + 2, fence[0])
        body = cur.lines[i + 2 : len(cur.lines) if end is None else end]
        # A fence holding SEARCH/REPLACE blocks or a diff is read by those formats instead.
        return not any(_EDIT_MARKERS.match(line) for line in body)

    def parse(self, cur: Cursor, i: int) -> tuple[list[Edit], int]:
        block = cur.take_block()
        path = path_from_line(cur.lines[i], strict=True)
        assert path is not None
        fence = fence_open(cur.lines[i + 1])
        assert fence is not None
        end = fence_close_index(cur.lines, i + 2, fence[0])
        if end is None:
            raise EditError(
                ErrorCode.MALFORMED_BLOCK,
                f"the code fence opened at line {i + 2} of the answer is never closed, so the "
                "whole new content of the file is incomplete",
                path=path,
                block=block,
                line=i + 1,
            )
        return [WholeFile(path, block, i + 1, tuple(cur.lines[i + 2 : end]))], end + 1

    def apply(self, edit: Edit, ws: Workspace) -> tuple[str, ...]:
        assert isinstance(edit, WholeFile)
        path = ws.check_path(edit.path)
        if ws.exists(path):
            ws.write(path, ws.read(path).with_lines(list(edit.content)))
            return ("whole_file",)
        ws.write(path, FileText.new(list(edit.content)))
        return ("create",)
