"""Unified diffs as models write them: headers optional, line numbers wrong or absent.

Accepted: ``diff --git``/``index``/mode lines (optional), ``--- a/x`` + ``+++ b/x`` (prefixes
optional, timestamps ignored), ``/dev/null`` for creation and deletion, git rename headers,
``@@ -1,3 +1,4 @@``, ``@@ @@``, ``@@ ... @@`` or a bare ``@@``; a hunk right after a path line
(no ``---``/``+++``). Blank lines inside a hunk are blank context lines (markdown often eats
the leading space). ``\\ No newline at end of file`` is ignored: the file keeps its own.
"""

from __future__ import annotations

import re

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.formats.base import Cursor, fence_open, path_before
from autopack.edits.match import apply_hunk
from autopack.edits.model import Edit, Hunk, Tag, UnifiedDiff
from autopack.edits.text import FileText
from autopack.edits.workspace import Workspace

__all__ = ["UnifiedDiffFormat"]

_GIT = re.compile(r"^diff --git (?:\"?a/)?(\S+)\"? (?:\"?b/)?(\S+?)\"?\s*$")
_EXTENDED = re.compile(
    r"^(index |old mode |new mode |deleted file mode |new file mode |similarity index |"
    r"dissimilarity index |rename from |rename to |copy from |copy to |Binary files )"
)
_HUNK = re.compile(r"^@@(?:\s*-(\d+)(?:,(\d+))?\s+\+\d+(?:,(\d+))?)?.*$")
_DEV_NULL = "/dev/null"


def _header_path(line: str) -> str:
    text = line[4:].split("\t")[0].strip()
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        text = text[1:-1]
    return text


def _is_file_header(lines: list[str], i: int) -> bool:
    return lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")


def _is_hunk_line(line: str) -> bool:
    return line[:1] in (" ", "-", "+", "\\")


class UnifiedDiffFormat:
    name = "unified_diff"

    def starts(self, cur: Cursor, i: int) -> bool:
        line = cur.lines[i]
        if line.startswith("diff --git ") or _is_file_header(cur.lines, i):
            return True
        return line.startswith("@@") and path_before(cur, i, strict=False) is not None

    def parse(self, cur: Cursor, i: int) -> tuple[list[Edit], int]:
        block = cur.take_block()
        lines = cur.lines
        start = i
        old = new = None
        extended: dict[str, str] = {}
        if lines[i].startswith("diff --git "):
            m = _GIT.match(lines[i])
            if m:
                old, new = m.group(1), m.group(2)
            i += 1
            while i < len(lines) and _EXTENDED.match(lines[i]):
                key, _, value = lines[i].partition(" ")
                if lines[i].startswith(("rename ", "deleted ", "new file")):
                    key = " ".join(lines[i].split()[:2])
                    value = lines[i][len(key) :].strip()
                extended[key] = value
                i += 1
        if i < len(lines) and _is_file_header(lines, i):
            old, new = _header_path(lines[i]), _header_path(lines[i + 1])
            i += 2
        elif lines[i].startswith("@@") and old is None:
            old = new = path_before(cur, i, strict=False)
        old = extended.get("rename from", old)
        new = extended.get("rename to", new)
        if old is None or new is None:
            raise _malformed(block, start, None, "names no file (--- and +++ lines missing)")
        hunks: list[Hunk] = []
        while i < len(lines) and lines[i].startswith("@@"):
            hunk, i = _read_hunk(lines, i, block, start, new)
            hunks.append(hunk)
        edit = _make_edit(old, new, extended, tuple(hunks), block, start)
        if not hunks and not (edit.delete or edit.new_path):
            raise _malformed(block, start, edit.path, "has no @@ hunk")
        return [edit], i

    def apply(self, edit: Edit, ws: Workspace) -> tuple[str, ...]:
        assert isinstance(edit, UnifiedDiff)
        path = _pick_path(edit, ws)
        strategies: list[str] = []
        if edit.create:
            if ws.exists(path) and any(line.strip() for line in ws.read(path).lines):
                raise EditError(
                    ErrorCode.FILE_EXISTS,
                    "the diff creates this file (--- /dev/null) but it already exists",
                    path=path,
                )
            current = ws.read(path) if ws.exists(path) else FileText.new([])
            added = [t for h in edit.hunks for t in h.new_lines]
            ws.write(path, current.with_lines(added))
            return ("create",)
        current = ws.read(path)
        prefer: int | None = None
        for index, hunk in enumerate(edit.hunks, start=1):
            if not hunk.changes:
                continue
            try:
                current, match = apply_hunk(current, hunk, prefer_from=prefer)
            except EditError as exc:
                reason = f"hunk {index} of {len(edit.hunks)}: {exc.reason}"
                raise EditError(exc.code, reason, path=path, did_you_mean=exc.did_you_mean) from exc
            prefer = match.start + len(match.lines)
            strategies.append(match.strategy)
        if edit.delete:
            if any(line.strip() for line in current.lines):
                raise EditError(
                    ErrorCode.NO_MATCH,
                    "the diff deletes this file (+++ /dev/null) but does not remove all of "
                    "its lines; use DELETE path to delete a file",
                    path=path,
                )
            ws.delete(path)
            return (*strategies, "delete")
        if edit.new_path and edit.new_path != edit.path:
            target = ws.check_path(edit.new_path)
            if ws.exists(target):
                raise EditError(ErrorCode.FILE_EXISTS, "rename target exists", path=target)
            ws.delete(path)
            ws.write(target, current)
            return (*strategies, "rename")
        ws.write(path, current)
        return tuple(strategies)


def _read_hunk(lines: list[str], i: int, block: int, start: int, path: str) -> tuple[Hunk, int]:
    m = _HUNK.match(lines[i])
    old_start = int(m.group(1)) if m and m.group(1) else None
    counts = None
    if m and m.group(1):
        counts = (int(m.group(2) or 1), int(m.group(3) or 1))
    ops: list[tuple[Tag, str]] = []
    i += 1
    while i < len(lines):
        line = lines[i]
        if line.startswith("@@") or _is_file_header(lines, i) or line.startswith("diff --git "):
            break
        if line == "" or (line.strip() == "" and not _is_hunk_line(line)):
            if counts and counts == _counts(ops):
                break  # the header's counts say the hunk is complete
            j = i
            while j < len(lines) and lines[j].strip() == "" and not _is_hunk_line(lines[j]):
                j += 1
            if j < len(lines) and _continues(lines, j):
                ops.extend((" ", "") for _ in range(i, j))
                i = j
                continue
            break
        if not _is_hunk_line(line):
            if fence_open(line) is None and i + 1 < len(lines) and _continues(lines, i + 1):
                raise _malformed(
                    block,
                    start,
                    path,
                    f"has a line without ' ', '-' or '+' prefix inside a hunk (answer line "
                    f"{i + 1}: {line[:60]!r}); context lines start with a space",
                )
            break
        if line[0] != "\\":
            tag: Tag = " " if line[0] == " " else ("-" if line[0] == "-" else "+")
            ops.append((tag, line[1:]))
        i += 1
    return Hunk(tuple(ops), old_start), i


def _counts(ops: list[tuple[Tag, str]]) -> tuple[int, int]:
    return sum(1 for t, _ in ops if t != "+"), sum(1 for t, _ in ops if t != "-")


def _continues(lines: list[str], j: int) -> bool:
    """Whether line ``j`` carries on a hunk (a prefixed line that is not a new header)."""
    line = lines[j]
    if line.startswith("--- ") and _is_file_header(lines, j):
        return False
    return line[:1] in (" ", "-", "+", "\\") and line.strip() != ""


def _strip_prefix(path: str, prefix: str) -> str:
    return path[2:] if path.startswith(prefix) else path


def _make_edit(
    old: str,
    new: str,
    extended: dict[str, str],
    hunks: tuple[Hunk, ...],
    block: int,
    start: int,
) -> UnifiedDiff:
    create = old == _DEV_NULL or "new file" in extended
    delete = new == _DEV_NULL or "deleted file" in extended
    old_p, new_p = old, new
    if create or delete or (old.startswith("a/") and new.startswith("b/")):
        old_p, new_p = _strip_prefix(old, "a/"), _strip_prefix(new, "b/")
    if create:
        path, raw = new_p, new
    else:
        path, raw = old_p, old
    alternatives = (raw,) if raw != path else ()
    new_path = None if create or delete or new_p == old_p else new_p
    return UnifiedDiff(
        path, block, start + 1, hunks, new_path, create, delete, alternatives=alternatives
    )


def _pick_path(edit: UnifiedDiff, ws: Workspace) -> str:
    """The edit's path, or its unstripped reading (``a/x`` really named ``a/x``) if only that
    one exists."""
    path = ws.check_path(edit.path)
    if edit.create or ws.exists(path):
        return path
    for alt in edit.alternatives:
        alt_path = ws.check_path(alt)
        if ws.exists(alt_path):
            return alt_path
    return path


def _malformed(block: int, start: int, path: str | None, what: str) -> EditError:
    return EditError(
        ErrorCode.MALFORMED_BLOCK,
        f"the diff starting at line {start + 1} of the answer {what}",
        path=path,
        block=block,
        line=start + 1,
    )
