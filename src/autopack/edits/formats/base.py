"""What every edit format shares: the answer cursor, path lines, fences, the protocol."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from autopack.edits.model import Edit
from autopack.edits.workspace import Workspace

__all__ = [
    "Cursor",
    "EditFormat",
    "fence_close_index",
    "fence_open",
    "path_before",
    "path_from_line",
]

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*$")
_PATH = re.compile(r"^[\w./~][\w./+@~=-]*$")
_PATH_PREFIX = re.compile(r"^(?:file|path|filename|new file)\s*:\s*", re.IGNORECASE)
_BARE_NAMES = frozenset({"Makefile", "Dockerfile", "LICENSE", "Procfile", "Gemfile", "Rakefile"})


@dataclass
class Cursor:
    """The answer being scanned, plus what blocks may inherit from earlier ones."""

    lines: list[str]
    next_block: int = 1
    last_path: str | None = None
    consumed: set[int] = field(default_factory=set)

    def take_block(self) -> int:
        block = self.next_block
        self.next_block += 1
        return block


class EditFormat(Protocol):
    """One edit format: recognises its blocks in an answer and applies its edits."""

    name: str

    def starts(self, cur: Cursor, i: int) -> bool:
        """Whether a block of this format starts at line ``i``."""
        ...

    def parse(self, cur: Cursor, i: int) -> tuple[list[Edit], int]:
        """The edits of the block starting at ``i`` and the index of the next line to scan.

        Raises :class:`~autopack.edits.errors.EditError` (``MALFORMED_BLOCK``) for a block
        that was started but cannot be read; the scanner records it and moves on.
        """
        ...

    def apply(self, edit: Edit, ws: Workspace) -> tuple[str, ...]:
        """Apply ``edit`` to the workspace; return the strategy used per hunk."""
        ...


def fence_open(line: str) -> tuple[str, str] | None:
    """``(marker, info)`` if ``line`` opens (or closes) a fenced block."""
    m = _FENCE.match(line)
    return (m.group(1), m.group(2)) if m else None


def fence_close_index(lines: list[str], start: int, marker: str) -> int | None:
    """Index of the line closing a fence opened with ``marker`` at ``start - 1``."""
    for j in range(start, len(lines)):
        m = _FENCE.match(lines[j])
        if m and m.group(2) == "" and m.group(1)[0] == marker[0] and len(m.group(1)) >= len(marker):
            return j
    return None


def path_from_line(line: str, *, strict: bool = True) -> str | None:
    """The file path a line names on its own (markdown decorations allowed), else ``None``.

    ``strict`` (used for whole files, where a false positive would overwrite a file with an
    example) also requires a ``.`` or ``/`` in the name, a dotfile name (``.gitignore``) or a
    well-known bare file name.
    """
    text = line.strip()
    text = text.lstrip("#").strip()
    text = _PATH_PREFIX.sub("", text)
    for _ in range(4):
        text = text.strip().rstrip(":").strip()
        for deco in ("**", "__", "`", "*", "_", "'", '"'):
            if text.startswith(deco) and text.endswith(deco) and len(text) > 2 * len(deco):
                text = text[len(deco) : -len(deco)]
                break
    if not text or not _PATH.match(text) or text.endswith("."):
        return None
    dotfile = len(text) > 1 and text[0] == "." and text[1] not in "./"  # .env, .gitignore
    plain = "/" not in text and "." not in text.strip(".") and not dotfile
    if strict and plain and text not in _BARE_NAMES:
        return None
    if text in ("...", "..") or "://" in text:
        return None
    return text


def path_before(cur: Cursor, i: int, *, strict: bool) -> str | None:
    """The path named on the nearest non-blank line before ``i`` (skipping a fence opener)."""
    j = i - 1
    while j >= 0 and not cur.lines[j].strip():
        j -= 1
    if j >= 0 and fence_open(cur.lines[j]):
        j -= 1
        while j >= 0 and not cur.lines[j].strip():
            j -= 1
    if j < 0:
        return None
    return path_from_line(cur.lines[j], strict=strict)
