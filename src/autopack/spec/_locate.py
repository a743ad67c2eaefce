"""Locations: paths into documents, their text form, and the canonical → original mapping.

The loader rewrites every accepted shape into the canonical nested document before pydantic
sees it. Pydantic then reports errors at *canonical* paths (``tiers.1.phases.0.name``), which
would confuse the author of a flat plan. :class:`LocMap` remembers, for each canonical node and
each renamed field, where it came from, so every error is reported where the user wrote it.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlist = 4
_short.maxdict = 4
_short.maxlevel = 2


def short_repr(value: Any) -> str:
    """A bounded ``repr`` for messages (safe on huge or self-referencing values)."""
    return _short.repr(value)


def format_path(path: Path) -> str:
    """``('tiers', 0, 'phases', 2, 'complexity')`` → ``tiers[0].phases[2].complexity``."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _PLAIN_KEY.match(segment):
            out += f".{segment}" if out else segment
        else:
            out += f"[{segment!r}]"
    return out or "<document>"


class LocMap:
    """Maps canonical paths to original paths; unmapped suffixes are carried over as-is."""

    def __init__(self) -> None:
        self._map: dict[Path, Path] = {(): ()}

    def add(self, canonical: Path, original: Path) -> None:
        self._map[canonical] = original

    def resolve(self, canonical: Path) -> Path:
        """The original path of ``canonical``: longest mapped prefix plus the remainder."""
        for cut in range(len(canonical), -1, -1):
            hit = self._map.get(canonical[:cut])
            if hit is not None:
                return hit + canonical[cut:]
        return canonical  # pragma: no cover - () is always mapped
