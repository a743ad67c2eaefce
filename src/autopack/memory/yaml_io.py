"""Small file helpers shared by the project's YAML files (learned rules, intention).

- :func:`read_yaml_mapping` reads a YAML mapping and turns a syntax error into a message
  with the line and column;
- :func:`describe_validation_error` names every invalid field as a path
  (``rules[2].status: ...``) so a user knows exactly what to fix;
- :func:`atomic_write_text` replaces a file in one step (temp file in the same directory,
  fsync, rename, fsync of the directory): a crash leaves the old file or the new one, never
  a torn one;
- :func:`file_lock` serialises read-modify-write cycles across threads and processes
  (``fcntl.flock`` on a sidecar ``.lock`` file; Autopack runs on POSIX).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

__all__ = ["atomic_write_text", "describe_validation_error", "file_lock", "read_yaml_mapping"]

_THREAD_LOCKS: dict[Path, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping in ``path`` (an empty file is an empty mapping).

    Raises ``ValueError`` with a message naming the line and column of a syntax error, or
    saying the document is not a mapping; ``OSError`` when the file cannot be read.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"{where}not valid YAML ({problem})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"the document must be a mapping, not {type(data).__name__}")
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """Every error as ``field.path[index]: message``, one per line."""
    lines: list[str] = []
    for err in exc.errors():
        where = ""
        for part in err["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)  # a whole-file rule
    return "\n".join(lines)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (threads of this process and other processes)."""
    key = path.resolve()
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock, open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
