"""Gathering :class:`~autopack.spec.normalize.WorkspaceFacts`: the files and project markers.

Files come from ``git ls-files --cached --others --exclude-standard`` (tracked and untracked,
not ignored) run with an argument list, never a shell; outside a git repository a walk
bounded to :data:`MAX_FILES` files that skips VCS data, environments and caches
(:data:`SKIP_DIRS`). Only root marker files are read (``package.json``, ``Makefile``,
pytest configuration), each at most :data:`MAX_MARKER_BYTES`; their parsing is pure
(:meth:`WorkspaceFacts.build`).
"""

from __future__ import annotations

import os
from pathlib import Path

from autopack.spec._facts import CONTENT_MARKERS, WorkspaceFacts
from autopack.workspace.errors import GitError
from autopack.workspace.git import Git

__all__ = ["MAX_FILES", "MAX_MARKER_BYTES", "SKIP_DIRS", "gather_facts"]

MAX_FILES = 20_000
MAX_MARKER_BYTES = 256 * 1024
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".autopack", "node_modules", "__pycache__", ".venv", "venv",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "target",
})  # fmt: skip
"""Directories never listed (VCS data, environments, caches, build output)."""


def _skipped(rel: str) -> bool:
    return any(part in SKIP_DIRS for part in rel.split("/")[:-1])


def _git_files(root: Path, limit: int) -> tuple[list[str], bool] | None:
    """Listed files (existing ones only) and whether the bound cut the list; ``None`` outside
    a git work tree or without git."""
    git = Git(root, timeout=60.0)
    try:
        inside = git.run("rev-parse", "--is-inside-work-tree", check=False)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        out = git.run("ls-files", "--cached", "--others", "--exclude-standard", "-z").stdout
    except GitError:
        return None
    files: list[str] = []
    for rel in dict.fromkeys(p for p in out.split("\0") if p):
        if _skipped(rel) or not os.path.lexists(root / rel):
            continue  # deleted in the worktree, or inside an environment someone committed
        if len(files) >= limit:
            return files, True
        files.append(rel)
    return files, False


def _walk_files(root: Path, limit: int) -> tuple[list[str], bool]:
    files: list[str] = []
    for current, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            if len(files) >= limit:
                return files, True
            files.append((Path(current) / name).relative_to(root).as_posix())
    return files, False


def _read_marker(path: Path) -> str | None:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_MARKER_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def gather_facts(root: Path, *, max_files: int = MAX_FILES) -> WorkspaceFacts:
    """The facts of the workspace at ``root`` (see the module docstring)."""
    root = Path(root)
    if not root.is_dir():
        return WorkspaceFacts.build([], notes=[f"workspace {str(root)!r} is not a directory"])
    listed = _git_files(root, max_files)
    files, truncated = listed if listed is not None else _walk_files(root, max_files)
    contents: dict[str, str] = {}
    notes: list[str] = []
    for name in CONTENT_MARKERS:
        if name not in files:
            continue
        text = _read_marker(root / name)
        if text is None:
            notes.append(f"{name} could not be read (or is over {MAX_MARKER_BYTES} bytes)")
        else:
            contents[name] = text
    return WorkspaceFacts.build(files, contents, truncated=truncated, notes=notes)
