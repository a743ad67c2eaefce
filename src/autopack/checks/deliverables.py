"""Deliverables check: listed paths exist and are non-empty; free text goes to the Auditor.

Which targets are paths (checked here) and which are free text (for the Auditor):

* A target containing whitespace or ``://`` is free text, except the form
  ``<path> (note)``, ``<path>: note`` or ``<path> - note`` where ``<path>`` contains ``/`` or
  ends in a dotted extension: then ``<path>`` is checked.
* Otherwise a target is a path when it contains ``/``, ends in a dotted extension
  (``README.md``, ``setup.cfg``) or names something that exists in the worktree (``Makefile``,
  ``tests``); ``*``, ``?`` or ``[`` make it a glob.

How a path is checked:

* ``src/x.py`` must be a file with at least one non-whitespace byte;
* ``src/x/`` (trailing ``/``), or any target that is a directory, must be a directory holding
  at least one such file (``.git`` and ``__pycache__`` are not looked into);
* a glob must match at least one such file;
* absolute paths, ``..`` and symlinks that resolve outside the worktree are refused
  (status ``outside``) and never read.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from autopack.spec.models import Deliverable, normalize_rel_path

__all__ = [
    "DeliverableCheck",
    "DeliverableStatus",
    "DeliverablesReport",
    "check_deliverables",
    "split_target",
]

_EXTENSION = re.compile(r"\.[A-Za-z0-9_]{1,10}$")
_NOTE_START = ("(", "-", "–", "—", ":")  # hyphen, en and em dashes
_GLOB_CHARS = set("*?[")
_SKIP_DIRS = {".git", "__pycache__"}
_CHUNK = 64 * 1024


class DeliverableStatus(StrEnum):
    """The result of checking one path-like deliverable."""

    PRESENT = "present"
    MISSING = "missing"
    EMPTY = "empty"
    WRONG_TYPE = "wrong_type"
    OUTSIDE = "outside"


class DeliverableCheck(BaseModel):
    """One checked path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = Field(description="The deliverable as written in the plan.")
    path: str = Field(description="The workspace-relative path that was checked.")
    kind: str | None = None
    status: DeliverableStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the deliverable is there."""
        return self.status is DeliverableStatus.PRESENT


class DeliverablesReport(BaseModel):
    """Checked paths and the free-text deliverables the Auditor must judge."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[DeliverableCheck] = Field(default_factory=list)
    for_auditor: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every path-like deliverable is present (free text is the Auditor's call)."""
        return all(item.ok for item in self.items)

    @property
    def problems(self) -> list[DeliverableCheck]:
        """The path-like deliverables that are not there."""
        return [item for item in self.items if not item.ok]

    def summary(self) -> str:
        """One line: how many paths are present, which are not, how many go to the Auditor."""
        present = sum(item.ok for item in self.items)
        parts = [f"deliverables: {present}/{len(self.items)} present"]
        parts.extend(f"{p.path} {p.status.value}" for p in self.problems)
        if self.for_auditor:
            parts.append(f"{len(self.for_auditor)} for the auditor")
        return "; ".join(parts)

    def for_model(self) -> str:
        """What the Builder still has to produce ('' when nothing is missing)."""
        if self.ok:
            return ""
        lines = ["Deliverables not produced yet:"]
        lines.extend(f"- {p.path}: {p.status.value} ({p.detail})" for p in self.problems)
        return "\n".join(lines)


def _looks_like_path(token: str) -> bool:
    return "/" in token or bool(_EXTENSION.search(token))


def split_target(target: str, worktree: Path | None = None) -> str | None:
    """The path a deliverable names, or ``None`` when it is free text (see the module doc)."""
    text = target.strip()
    if not text or "://" in text:
        return None
    if not any(ch.isspace() for ch in text):
        if _looks_like_path(text):
            return text
        if worktree is not None and _is_plain_name(text) and os.path.lexists(worktree / text):
            return text
        return None
    first, rest = text.split(None, 1)
    if first.endswith((":", ",")):
        candidate = first[:-1]
    elif rest.startswith(_NOTE_START):
        candidate = first
    else:
        return None
    return candidate if _looks_like_path(candidate) else None


def _is_plain_name(text: str) -> bool:
    return text not in (".", "..") and not text.startswith(("/", "~"))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _has_content(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if chunk.strip():
                    return True
    except OSError:
        return False
    return False


def _dir_has_content(directory: Path, root: Path) -> bool:
    for current, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            file = Path(current) / name
            resolved = file.resolve()
            if _inside(resolved, root) and resolved.is_file() and _has_content(resolved):
                return True
    return False


def _check_glob(rel: str, root: Path) -> tuple[DeliverableStatus, str]:
    matches = [p.resolve() for p in root.glob(rel)]
    files = [p for p in matches if _inside(p, root) and p.is_file()]
    if not files:
        return DeliverableStatus.MISSING, "no file matches the pattern"
    if any(_has_content(p) for p in files):
        return DeliverableStatus.PRESENT, f"{len(files)} file(s) match"
    return DeliverableStatus.EMPTY, f"{len(files)} file(s) match, all empty"


def _check_path(rel: str, root: Path) -> tuple[DeliverableStatus, str]:
    if _GLOB_CHARS & set(rel):
        return _check_glob(rel, root)
    target = root / rel
    resolved = target.resolve()
    if not _inside(resolved, root):
        return DeliverableStatus.OUTSIDE, "resolves outside the worktree (symlink)"
    if resolved.is_dir():
        if _dir_has_content(resolved, root):
            return DeliverableStatus.PRESENT, "directory with content"
        return DeliverableStatus.EMPTY, "directory holds no non-empty file"
    if rel.endswith("/"):
        if resolved.exists():
            return DeliverableStatus.WRONG_TYPE, "expected a directory, found a file"
        return DeliverableStatus.MISSING, "directory does not exist"
    if not resolved.exists():
        return DeliverableStatus.MISSING, "file does not exist"
    if not resolved.is_file():
        return DeliverableStatus.WRONG_TYPE, "not a regular file"
    if _has_content(resolved):
        return DeliverableStatus.PRESENT, "file with content"
    return DeliverableStatus.EMPTY, "file is empty"


def check_deliverables(worktree: Path, deliverables: list[Deliverable]) -> DeliverablesReport:
    """Check every path-like deliverable in ``worktree``; collect the free-text ones."""
    root = Path(worktree).resolve()
    items: list[DeliverableCheck] = []
    for_auditor: list[str] = []
    for deliverable in deliverables:
        kind = deliverable.kind.value if deliverable.kind else None
        path = split_target(deliverable.target, root)
        if path is None:
            text = deliverable.target.strip()
            for_auditor.append(f"[{kind}] {text}" if kind else text)
            continue
        try:
            rel = normalize_rel_path(path)
        except ValueError as exc:
            items.append(
                DeliverableCheck(
                    target=deliverable.target,
                    path=path,
                    kind=kind,
                    status=DeliverableStatus.OUTSIDE,
                    detail=str(exc),
                )
            )
            continue
        status, detail = _check_path(rel, root)
        items.append(
            DeliverableCheck(
                target=deliverable.target, path=rel, kind=kind, status=status, detail=detail
            )
        )
    return DeliverablesReport(items=items, for_auditor=for_auditor)
