"""Reading workspace files for prompts, safely.

A file is read only when its normalised path is inside the workspace, matches no governance
deny pattern (``.env*``, keys, credentials, ``.git/`` ...) — neither by its own path nor by
the path a symlink points to — is not larger than the limit, and is text (no NUL bytes,
valid UTF-8). Symlinks that resolve outside the workspace are not followed; directories are
walked without following symlinks. Every refusal is reported through a ``drop`` callback
``(item, action, reason)`` so the caller can say what was left out and why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from autopack.agents.redaction import SKIP_DIRS, Redactor
from autopack.policy.governance import is_binary, matches
from autopack.spec.models import normalize_rel_path

__all__ = ["Drop", "WorkspaceFiles"]

Drop = Callable[[str, str, str], None]
"""``drop(item, action, reason)``: record something not read or not listed."""

_OUTSIDE = "symlink resolves outside the workspace"


class WorkspaceFiles:
    """Safe, read-only access to the files of one workspace."""

    def __init__(
        self,
        root: Path,
        deny: Sequence[str],
        *,
        max_file_bytes: int = 1_000_000,
        max_dir_files: int = 200,
        redactor: Redactor | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.deny = tuple(deny)
        self.max_file_bytes = max_file_bytes
        self.max_dir_files = max_dir_files
        self.redactor = redactor

    def denied_by(self, rel: str) -> str | None:
        """The deny pattern ``rel`` matches (``.git/`` for git data), or ``None``."""
        if ".git" in rel.split("/"):
            return ".git/"
        return next((p for p in self.deny if matches(p, rel)), None)

    def read(self, raw: str, drop: Drop) -> str | None:
        """The (redacted) text of one file, or ``None``: refusals are reported to ``drop``."""
        try:
            rel = normalize_rel_path(raw).rstrip("/")
        except ValueError as exc:
            drop(raw, "not_read", f"invalid path: {exc}")
            return None
        pattern = self.denied_by(rel)
        if pattern:
            drop(rel, "not_read", f"protected by pattern {pattern!r}; never read")
            return None
        resolved = (self.root / rel).resolve()
        if not resolved.is_relative_to(self.root):
            drop(rel, "not_read", _OUTSIDE)
            return None
        pattern = self.denied_by(resolved.relative_to(self.root).as_posix())
        if pattern:
            drop(rel, "not_read", f"symlink to a file protected by {pattern!r}; never read")
            return None
        if not resolved.is_file():
            return None
        size = resolved.stat().st_size
        if size > self.max_file_bytes:
            drop(rel, "not_read", f"{size} bytes, over the limit of {self.max_file_bytes}")
            return None
        data = resolved.read_bytes()
        if is_binary(data):
            drop(rel, "not_read", "binary file")
            return None
        text = data.decode("utf-8")
        return self.redactor.redact(text) if self.redactor is not None else text

    def expand(self, entry: str, drop: Drop) -> list[str] | None:
        """Relative paths of the files an entry names (a file, a directory or a glob).

        ``None`` when nothing exists there yet. Directories are walked in sorted order, at
        most ``max_dir_files`` files (the rest is reported).
        """
        try:
            rel = normalize_rel_path(entry).rstrip("/")
        except ValueError as exc:
            drop(entry, "not_read", f"invalid path: {exc}")
            return []
        if any(c in rel for c in "*?["):
            found = sorted(
                p.relative_to(self.root).as_posix()
                for p in self.root.glob(rel)
                if p.is_file()
                and not p.is_symlink()
                and not SKIP_DIRS.intersection(p.relative_to(self.root).parts[:-1])
            )
            if len(found) > self.max_dir_files:
                drop(
                    rel,
                    "truncated",
                    f"{len(found)} files match; the first {self.max_dir_files} kept",
                )
            return found[: self.max_dir_files] if found else None
        base = self.root / rel if rel not in ("", ".") else self.root
        if base.is_symlink() and not base.resolve().is_relative_to(self.root):
            drop(rel, "not_read", _OUTSIDE)
            return []
        if not base.is_dir():
            return [rel] if base.exists() else None
        pattern = self.denied_by(rel) if rel not in ("", ".") else None
        if pattern:
            drop(rel + "/", "not_read", f"protected by pattern {pattern!r}; never read")
            return []
        files: list[str] = []
        for current, dirs, names in os.walk(base, followlinks=False):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            files.extend(
                (Path(current) / name).relative_to(self.root).as_posix() for name in sorted(names)
            )
        if len(files) > self.max_dir_files:
            extra = len(files) - self.max_dir_files
            drop(rel + "/", "omitted", f"{extra} files beyond max_dir_files not listed")
        return files[: self.max_dir_files]
