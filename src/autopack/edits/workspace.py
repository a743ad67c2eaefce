"""The in-memory set of files an answer edits: read lazily, changed only in memory.

Formats read and write through a :class:`Workspace`; nothing touches a disk. The
``allowed`` predicate is the hook where governance (allowed scopes) plugs in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.text import FileText, normalize_path

__all__ = ["PathPredicate", "Workspace"]

PathPredicate = Callable[[str], bool]
"""``allowed(path) -> bool`` for a normalised relative path."""

_DELETED = None


class Workspace:
    """Original contents (``Mapping[path, bytes | str]``; absent key = no such file) plus
    the changes made so far. Paths are normalised and checked on every access."""

    def __init__(
        self, files: Mapping[str, bytes | str], allowed: PathPredicate | None = None
    ) -> None:
        self._files = files
        self._allowed = allowed
        self._changes: dict[str, FileText | None] = {}
        self._parsed: dict[str, FileText] = {}

    def check_path(self, raw: str) -> str:
        path = normalize_path(raw)
        if self._allowed is not None and not self._allowed(path):
            raise EditError(
                ErrorCode.UNSAFE_PATH,
                f"{path} is outside the allowed scope (or resolves outside the root)",
                path=path,
            )
        return path

    def exists(self, path: str) -> bool:
        if path in self._changes:
            return self._changes[path] is not None
        return path in self._files

    def read(self, path: str) -> FileText:
        if path in self._changes:
            current = self._changes[path]
            if current is None:
                raise EditError(ErrorCode.FILE_NOT_FOUND, "file was deleted", path=path)
            return current
        if path not in self._files:
            raise EditError(ErrorCode.FILE_NOT_FOUND, "file does not exist", path=path)
        if path not in self._parsed:
            self._parsed[path] = FileText.parse(self._files[path], path)
        return self._parsed[path]

    def write(self, path: str, text: FileText) -> None:
        self._changes[path] = text

    def delete(self, path: str) -> None:
        self.read(path)
        self._changes[path] = _DELETED

    def snapshot(self) -> dict[str, FileText | None]:
        return dict(self._changes)

    def restore(self, snapshot: dict[str, FileText | None]) -> None:
        self._changes = dict(snapshot)

    def changed(self) -> dict[str, str | None]:
        """Every path whose content differs from the original: new text, or ``None``."""
        out: dict[str, str | None] = {}
        for path, text in self._changes.items():
            if text is None:
                if path in self._files:
                    out[path] = None
                continue
            rendered = text.render()
            original = self._files.get(path)
            if isinstance(original, bytes):
                same = original == rendered.encode("utf-8")
            else:
                same = original == rendered
            if not same:
                out[path] = rendered
        return out
