"""Byte-level snapshots of directory trees, to prove what changed and what did not."""

from __future__ import annotations

import os
import stat
from pathlib import Path

Entry = tuple[str, int, bytes]


def snapshot_tree(root: Path) -> dict[str, Entry]:
    """Every entry under ``root`` (not following links): kind, mode, content or link target."""
    out: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                out[rel] = ("link", info.st_mode, str(path.readlink()).encode())
            elif stat.S_ISREG(info.st_mode):
                out[rel] = ("file", info.st_mode, path.read_bytes())
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = ("dir", info.st_mode, b"")
            else:
                out[rel] = ("other", info.st_mode, b"")
    return out


def changed_paths(before: dict[str, Entry], after: dict[str, Entry]) -> set[str]:
    """Paths added, removed or modified between two snapshots."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
