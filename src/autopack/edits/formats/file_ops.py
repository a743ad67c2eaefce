"""``DELETE path`` and ``RENAME old -> new`` lines."""

from __future__ import annotations

import re

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.formats.base import Cursor, path_from_line
from autopack.edits.model import DeleteFile, Edit, RenameFile
from autopack.edits.workspace import Workspace

__all__ = ["FileOpsFormat"]

_DELETE = re.compile(r"^\s*DELETE\s+(\S+)\s*$")
_RENAME = re.compile(r"^\s*RENAME\s+(\S+)\s*(?:->|=>|→)\s*(\S+)\s*$")


def _clean(token: str) -> str | None:
    return path_from_line(token, strict=False)


class FileOpsFormat:
    name = "file_ops"

    def starts(self, cur: Cursor, i: int) -> bool:
        line = cur.lines[i]
        m = _DELETE.match(line)
        if m:
            return _clean(m.group(1)) is not None
        m = _RENAME.match(line)
        return bool(m) and _clean(m.group(1)) is not None and _clean(m.group(2)) is not None

    def parse(self, cur: Cursor, i: int) -> tuple[list[Edit], int]:
        block = cur.take_block()
        line = cur.lines[i]
        m = _DELETE.match(line)
        if m:
            path = _clean(m.group(1))
            assert path is not None
            return [DeleteFile(path, block, i + 1)], i + 1
        m = _RENAME.match(line)
        assert m is not None
        old, new = _clean(m.group(1)), _clean(m.group(2))
        assert old is not None and new is not None
        return [RenameFile(old, block, i + 1, new_path=new)], i + 1

    def apply(self, edit: Edit, ws: Workspace) -> tuple[str, ...]:
        if isinstance(edit, DeleteFile):
            ws.delete(ws.check_path(edit.path))
            return ("delete",)
        assert isinstance(edit, RenameFile)
        old, new = ws.check_path(edit.path), ws.check_path(edit.new_path)
        text = ws.read(old)
        if ws.exists(new):
            raise EditError(
                ErrorCode.FILE_EXISTS, f"cannot rename {old}: {new} already exists", path=new
            )
        ws.delete(old)
        ws.write(new, text)
        return ("rename",)
