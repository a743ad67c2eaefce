"""File text as lines that remember their endings, and safe relative paths.

A file is decoded strictly as UTF-8 (an optional BOM is kept) and split into lines that keep
their own ending, so untouched lines come back byte for byte, including mixed CRLF/LF files
and a missing final newline. New lines get the file's dominant ending.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from autopack.edits.errors import EditError, ErrorCode

__all__ = ["FileText", "normalize_path", "split_answer_lines"]

_BOM = "\ufeff"
_LINE_BREAK = re.compile(r"(\r\n|\n|\r)")


@dataclass(frozen=True, slots=True)
class FileText:
    """A decoded text file: ``lines`` without endings, ``endings`` one per line."""

    lines: tuple[str, ...]
    endings: tuple[str, ...]
    newline: str
    bom: bool = False

    @classmethod
    def parse(cls, data: bytes | str, path: str | None = None) -> FileText:
        """Decode ``data``; bytes that are not UTF-8 text raise ``BINARY_FILE``."""
        if isinstance(data, bytes):
            if b"\x00" in data:
                raise EditError(
                    ErrorCode.BINARY_FILE, "file is binary (contains NUL bytes)", path=path
                )
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EditError(
                    ErrorCode.BINARY_FILE,
                    f"file is not valid UTF-8 (byte {exc.start}); it cannot be edited",
                    path=path,
                ) from exc
        else:
            text = data
        bom = text.startswith(_BOM)
        if bom:
            text = text[1:]
        pieces = _LINE_BREAK.split(text)
        lines = pieces[0::2]
        endings = [*pieces[1::2], ""]
        if lines[-1] == "":  # text ended with a newline (or is empty)
            lines.pop()
            endings.pop()
        merged_lines, merged_endings = lines, endings
        crlf = sum(1 for e in merged_endings if e == "\r\n")
        lf = sum(1 for e in merged_endings if e == "\n")
        newline = "\r\n" if crlf > lf else "\n"
        return cls(tuple(merged_lines), tuple(merged_endings), newline, bom)

    @classmethod
    def new(cls, lines: list[str], *, newline: str = "\n", final_newline: bool = True) -> FileText:
        endings = [newline] * len(lines)
        if lines and not final_newline:
            endings[-1] = ""
        return cls(tuple(lines), tuple(endings), newline)

    @property
    def final_newline(self) -> bool:
        return not self.endings or self.endings[-1] != ""

    def replace(self, start: int, end: int, new_lines: list[tuple[str, str | None]]) -> FileText:
        """Replace ``lines[start:end]``; each new line comes with its ending or ``None``.

        ``None`` means "a new line": it gets the dominant ending. Whether the file ends with a
        newline is preserved whatever the edit touched.
        """
        had_final = self.final_newline
        lines = list(self.lines[:start])
        endings = list(self.endings[:start])
        for text, ending in new_lines:
            lines.append(text)
            endings.append(self.newline if ending in (None, "") else ending)
        lines.extend(self.lines[end:])
        endings.extend(self.endings[end:])
        endings = [self.newline if e == "" else e for e in endings]
        if lines and not had_final and self.lines:
            endings[-1] = ""
        return FileText(tuple(lines), tuple(endings), self.newline, self.bom)

    def with_lines(self, lines: list[str]) -> FileText:
        """Whole new content, keeping newline style, BOM and final-newline presence."""
        final = self.final_newline if self.lines else True
        new = FileText.new(lines, newline=self.newline, final_newline=final)
        return FileText(new.lines, new.endings, new.newline, self.bom)

    def render(self) -> str:
        body = "".join(line + ending for line, ending in zip(self.lines, self.endings, strict=True))
        return (_BOM if self.bom else "") + body


def split_answer_lines(text: str) -> list[str]:
    """Lines of a model answer, without endings (CR, LF and CRLF all accepted)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def normalize_path(raw: str) -> str:
    """A clean relative POSIX path, or ``UNSAFE_PATH`` (absolute, ``..``, empty, NUL)."""
    path = raw.strip().replace("\\", "/")
    if not path or "\x00" in path:
        raise EditError(ErrorCode.UNSAFE_PATH, f"invalid path {raw!r}", path=raw)
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise EditError(
            ErrorCode.UNSAFE_PATH,
            f"absolute path {raw!r} refused: paths are relative to the repository root",
            path=raw,
        )
    parts = path.split("/")
    if ".." in parts:
        raise EditError(ErrorCode.UNSAFE_PATH, f"path {raw!r} contains '..'", path=raw)
    norm = posixpath.normpath(path)
    if norm in (".", "") or norm.startswith("../"):
        raise EditError(ErrorCode.UNSAFE_PATH, f"invalid path {raw!r}", path=raw)
    if ".git" in norm.split("/"):
        raise EditError(ErrorCode.UNSAFE_PATH, f"path {raw!r} is inside .git", path=raw)
    return norm
