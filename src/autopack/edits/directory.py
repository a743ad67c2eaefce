"""Apply an answer to a directory: all or nothing, never outside the root.

The only part of :mod:`autopack.edits` that touches a disk. It reads just the files the
answer names, runs the pure pipeline, then writes every new content to a temporary file
next to its target and renames them into place only once all are written. If a rename
fails midway, the files already replaced are restored from their original bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.model import ApplyResult, EditStatus, RenameFile, UnifiedDiff
from autopack.edits.parse import ParsedAnswer, parse_answer
from autopack.edits.pipeline import apply_edits
from autopack.edits.text import normalize_path
from autopack.edits.workspace import PathPredicate

__all__ = ["answer_paths", "apply_to_directory", "read_files", "write_files"]


def _inside(root: Path, rel: str) -> Path:
    """``root / rel``, refusing symbolic links on the way and anything outside root.

    Writing through a link would change another file than the one the answer names (and
    that governance checked), so a link anywhere on the path is refused.
    """
    target = root / rel
    current = root
    for part in Path(rel).parts:
        current = current / part
        if current.is_symlink():
            raise EditError(ErrorCode.UNSAFE_PATH, f"{rel} goes through a symbolic link", path=rel)
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise EditError(ErrorCode.UNSAFE_PATH, f"{rel} resolves outside the root", path=rel)
    return target


def answer_paths(parsed: ParsedAnswer) -> set[str]:
    """Every path an answer names (sources, targets and a diff's alternative spellings)."""
    names: set[str] = set()
    for edit in parsed.edits:
        names.add(edit.path)
        if isinstance(edit, UnifiedDiff):
            names.update(edit.alternatives)
            if edit.new_path:
                names.add(edit.new_path)
        if isinstance(edit, RenameFile):
            names.add(edit.new_path)
    return names


def read_files(root: Path, paths: set[str]) -> tuple[dict[str, bytes], list[EditError]]:
    """Read the named regular files under ``root`` (missing ones are simply absent)."""
    files: dict[str, bytes] = {}
    errors: list[EditError] = []
    for raw in sorted(paths):
        try:
            rel = normalize_path(raw)
            target = _inside(root, rel)
            if target.is_file():
                files[rel] = target.read_bytes()
            elif target.exists():
                raise EditError(ErrorCode.IO_ERROR, "not a regular file", path=rel)
        except EditError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(EditError(ErrorCode.IO_ERROR, f"cannot read: {exc}", path=raw))
    return files, errors


def apply_to_directory(
    root: str | os.PathLike[str],
    answer: str,
    *,
    check: bool = False,
    allowed: PathPredicate | None = None,
) -> ApplyResult:
    """Parse ``answer`` and apply it under ``root`` (or only check it, with ``check``).

    ``allowed`` is the governance hook: a predicate on normalised relative paths.
    """
    root_path = Path(root).resolve()
    parsed = parse_answer(answer)
    files, read_errors = read_files(root_path, answer_paths(parsed))
    # Paths that resolve outside root (symlinks) are refused per edit, like governance does.
    escaping = {e.path for e in read_errors if e.code is ErrorCode.UNSAFE_PATH and e.path}

    def permitted(path: str) -> bool:
        return path not in escaping and (allowed is None or allowed(path))

    io_errors = [e for e in read_errors if e.code is not ErrorCode.UNSAFE_PATH]
    result = apply_edits(
        files, parsed.edits, parse_errors=[*parsed.errors, *io_errors], allowed=permitted
    )
    if not result.ok or check:
        return result
    try:
        write_files(root_path, result.files)
    except OSError as exc:
        err = EditError(ErrorCode.IO_ERROR, f"writing failed, nothing changed: {exc}")
        return ApplyResult(False, False, result.edits, (err,), {})
    edits = tuple(replace(e, status=EditStatus.APPLIED) for e in result.edits)
    return ApplyResult(True, True, edits, (), result.files)


def write_files(root: Path, changes: dict[str, str | None]) -> None:
    """Write all changes or none: temp files first, then renames, with rollback.

    ``None`` deletes a file. Raises ``OSError`` (nothing changed) or ``EditError``.
    """
    staged: list[tuple[Path, Path | None]] = []  # (target, temp file or None to delete)
    try:
        for rel, text in sorted(changes.items()):
            target = _inside(root, rel)
            if text is None:
                staged.append((target, None))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".autopack-", dir=target.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8"))
            if target.exists():
                Path(tmp).chmod(target.stat().st_mode & 0o7777)
            staged.append((target, Path(tmp)))
    except (OSError, EditError):
        _discard(staged)
        raise
    backups: list[tuple[Path, bytes | None]] = []
    try:
        for target, tmp in staged:
            backups.append((target, target.read_bytes() if target.exists() else None))
            if tmp is None:
                target.unlink()
            else:
                tmp.replace(target)
    except OSError:
        for target, data in reversed(backups):
            with contextlib.suppress(OSError):
                if data is None:
                    target.unlink(missing_ok=True)
                else:
                    target.write_bytes(data)
        _discard(staged)
        raise


def _discard(staged: list[tuple[Path, Path | None]]) -> None:
    for _, tmp in staged:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
