"""SEARCH/REPLACE blocks (Aider's "diff" format), the path on the line before the block."""

from __future__ import annotations

import difflib
import re

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.formats.base import Cursor, path_before
from autopack.edits.match import apply_hunk
from autopack.edits.model import Edit, Hunk, SearchReplace, Tag
from autopack.edits.text import FileText
from autopack.edits.workspace import Workspace

__all__ = ["SearchReplaceFormat", "search_replace_hunk"]

HEAD = re.compile(r"^\s*<{5,9}\s*SEARCH\b.*$")
DIVIDER = re.compile(r"^\s*={5,9}\s*$")
TAIL = re.compile(r"^\s*>{5,9}\s*REPLACE\b.*$")


def search_replace_hunk(search: tuple[str, ...], replace: tuple[str, ...]) -> Hunk:
    """The hunk of a block: lines kept by REPLACE become context (their text then comes from
    the file, so whitespace the model got wrong in them is not written), the rest ``-``/``+``.
    """
    ops: list[tuple[Tag, str]] = []
    matcher = difflib.SequenceMatcher(None, search, replace, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            ops.extend((" ", s) for s in search[i1:i2])
        else:
            ops.extend(("-", s) for s in search[i1:i2])
            ops.extend(("+", r) for r in replace[j1:j2])
    return Hunk(tuple(ops))


class SearchReplaceFormat:
    name = "search_replace"

    def starts(self, cur: Cursor, i: int) -> bool:
        return bool(HEAD.match(cur.lines[i]))

    def parse(self, cur: Cursor, i: int) -> tuple[list[Edit], int]:
        block = cur.take_block()
        lines = cur.lines
        path = path_before(cur, i, strict=False) or cur.last_path
        j = i + 1
        search: list[str] = []
        while j < len(lines) and not DIVIDER.match(lines[j]):
            if HEAD.match(lines[j]) or TAIL.match(lines[j]):
                raise _malformed(block, i, path, "has no ======= line between SEARCH and REPLACE")
            search.append(lines[j])
            j += 1
        if j >= len(lines):
            raise _malformed(block, i, path, "has no ======= line (the answer ends first)")
        j += 1
        replace: list[str] = []
        while j < len(lines) and not TAIL.match(lines[j]):
            if HEAD.match(lines[j]) or DIVIDER.match(lines[j]):
                raise _malformed(block, i, path, "is missing its >>>>>>> REPLACE line")
            replace.append(lines[j])
            j += 1
        if j >= len(lines):
            raise _malformed(block, i, path, "is missing its >>>>>>> REPLACE line")
        if path is None:
            raise _malformed(block, i, None, "has no file path on the line before it")
        cur.last_path = path
        edit = SearchReplace(path, block, i + 1, tuple(search), tuple(replace))
        return [edit], j + 1

    def apply(self, edit: Edit, ws: Workspace) -> tuple[str, ...]:
        assert isinstance(edit, SearchReplace)
        path = ws.check_path(edit.path)
        empty_search = not any(s.strip() for s in edit.search)
        if empty_search:
            if not ws.exists(path):
                ws.write(path, FileText.new(list(edit.replace)))
                return ("create",)
            current = ws.read(path)
            if any(line.strip() for line in current.lines):
                raise EditError(
                    ErrorCode.FILE_EXISTS,
                    "an empty SEARCH creates a new file, but this file exists and is not "
                    "empty; put the existing lines to change in SEARCH",
                    path=path,
                )
            ws.write(path, current.with_lines(list(edit.replace)))
            return ("create",)
        current = ws.read(path)
        new, match = apply_hunk(current, search_replace_hunk(edit.search, edit.replace))
        ws.write(path, new)
        return (match.strategy,)


def _malformed(block: int, i: int, path: str | None, what: str) -> EditError:
    return EditError(
        ErrorCode.MALFORMED_BLOCK,
        f"the SEARCH/REPLACE block starting at line {i + 1} of the answer {what}; "
        "a block is: the file path, <<<<<<< SEARCH, the lines to find, =======, "
        "the new lines, >>>>>>> REPLACE",
        path=path,
        block=block,
        line=i + 1,
    )
