"""Values of the edit pipeline: parsed edits (what the model asked) and results (what happened).

Edits are immutable and know nothing of files. A :class:`Hunk` is the common currency of the
matching engine: SEARCH/REPLACE blocks and diff hunks both become hunks of tagged lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from autopack.edits.errors import EditError

__all__ = [
    "ApplyResult",
    "DeleteFile",
    "Edit",
    "EditResult",
    "EditStatus",
    "Hunk",
    "RenameFile",
    "SearchReplace",
    "UnifiedDiff",
    "WholeFile",
]

Tag = Literal[" ", "-", "+"]


@dataclass(frozen=True, slots=True)
class Hunk:
    """Tagged lines: ``" "`` unchanged context, ``"-"`` removed, ``"+"`` added.

    Only ``" "`` lines may ever be matched fuzzily; ``"-"`` lines must be in the file
    (exactly, or modulo trailing whitespace and a uniform indentation shift).
    ``old_start`` is the line number the author claimed (informational only).
    """

    ops: tuple[tuple[Tag, str], ...]
    old_start: int | None = None

    @property
    def old_lines(self) -> list[str]:
        return [text for tag, text in self.ops if tag != "+"]

    @property
    def new_lines(self) -> list[str]:
        return [text for tag, text in self.ops if tag != "-"]

    @property
    def changes(self) -> bool:
        return any(tag != " " for tag, _ in self.ops)


@dataclass(frozen=True, slots=True)
class _EditBase:
    path: str
    block: int
    """1-based index of the edit in the answer."""
    line: int
    """1-based line of the answer where the edit starts."""


@dataclass(frozen=True, slots=True)
class SearchReplace(_EditBase):
    search: tuple[str, ...]
    replace: tuple[str, ...]
    kind: Literal["search_replace"] = "search_replace"


@dataclass(frozen=True, slots=True)
class UnifiedDiff(_EditBase):
    hunks: tuple[Hunk, ...]
    new_path: str | None = None
    """Target path when it differs from ``path`` (a rename)."""
    create: bool = False
    """``--- /dev/null``: the file must not exist yet."""
    delete: bool = False
    """``+++ /dev/null``: the file is removed."""
    alternatives: tuple[str, ...] = ()
    """Other readings of the path (without the ``a/`` prefix stripped) tried if missing."""
    kind: Literal["unified_diff"] = "unified_diff"


@dataclass(frozen=True, slots=True)
class WholeFile(_EditBase):
    content: tuple[str, ...]
    kind: Literal["whole_file"] = "whole_file"


@dataclass(frozen=True, slots=True)
class DeleteFile(_EditBase):
    kind: Literal["delete"] = "delete"


@dataclass(frozen=True, slots=True)
class RenameFile(_EditBase):
    new_path: str = ""
    kind: Literal["rename"] = "rename"


Edit = SearchReplace | UnifiedDiff | WholeFile | DeleteFile | RenameFile


class EditStatus(StrEnum):
    APPLIED = "applied"
    WOULD_APPLY = "would_apply"
    """Dry run (``check``), or it would apply but another edit of the answer failed."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EditResult:
    """The outcome of one edit of the answer."""

    block: int
    line: int
    kind: str
    path: str | None
    status: EditStatus
    strategies: tuple[str, ...] = ()
    """Matching strategy used per hunk (``exact``, ``whitespace``, ``indentation``...)."""
    error: EditError | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "block": self.block,
            "line": self.line,
            "kind": self.kind,
            "path": self.path,
            "status": str(self.status),
            "strategies": list(self.strategies),
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome of a whole answer. ``files`` maps each touched path to its new text
    (``None`` for a deleted file); it is empty unless ``ok``."""

    ok: bool
    applied: bool
    """True only when the changes were written (directory layer, not ``check``)."""
    edits: tuple[EditResult, ...]
    errors: tuple[EditError, ...] = ()
    files: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "applied": self.applied,
            "changed": sorted(self.files),
            "edits": [e.to_dict() for e in self.edits],
            "errors": [e.to_dict() for e in self.errors],
        }

    def for_model(self) -> str:
        """The outcome explained to the Builder: what applied, what failed and why."""
        from autopack.edits.feedback import result_for_model

        return result_for_model(self)
