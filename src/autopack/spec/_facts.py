"""What the plan normaliser knows about a workspace: its files and its project markers.

:class:`WorkspaceFacts` is a plain value. :mod:`autopack.workspace.facts` gathers it (``git
ls-files``, or a bounded walk) and reads the few marker files whose *content* matters; the
parsing of that content (``package.json`` scripts, ``Makefile`` targets, pytest sections)
happens here, without I/O, so tests can build facts from literals.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

__all__ = ["CONTENT_MARKERS", "MARKER_FILES", "WorkspaceFacts"]

MARKER_FILES = (
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "pytest.ini",
    "tox.ini",
    "package.json",
    "Makefile",
    "makefile",
    "GNUmakefile",
    "Cargo.toml",
    "go.mod",
)
"""Root-level files that say what kind of project this is."""

CONTENT_MARKERS = (
    "pyproject.toml",
    "setup.cfg",
    "pytest.ini",
    "tox.ini",
    "package.json",
    "Makefile",
    "makefile",
    "GNUmakefile",
)
"""Marker files whose text the normaliser needs (the gatherer reads these, bounded)."""

_PYTEST_SECTIONS = {
    "pyproject.toml": "[tool.pytest.ini_options]",
    "setup.cfg": "[tool:pytest]",
    "tox.ini": "[pytest]",
}
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-/]*)\s*::?(?!=)", re.MULTILINE)
_NPM_PLACEHOLDER = "no test specified"


def _npm_scripts(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {str(k): str(v) for k, v in scripts.items() if isinstance(v, str)}


def _make_targets(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(dict.fromkeys(m.group(1) for m in _MAKE_TARGET.finditer(text)))


@dataclass(frozen=True)
class WorkspaceFacts:
    """The files of a workspace (relative, ``/``-separated) and its project markers.

    ``npm_scripts`` is ``None`` without a root ``package.json``; ``truncated`` says the file
    listing stopped at its bound, so "does not exist" may be wrong for some paths.
    """

    files: tuple[str, ...] = ()
    npm_scripts: Mapping[str, str] | None = None
    make_targets: tuple[str, ...] = ()
    pytest_configured: bool = False
    truncated: bool = False
    notes: tuple[str, ...] = field(default=())
    """What the gatherer could not read (shown as warnings)."""

    @classmethod
    def build(
        cls,
        files: Iterable[str],
        contents: Mapping[str, str] | None = None,
        *,
        truncated: bool = False,
        notes: Iterable[str] = (),
    ) -> WorkspaceFacts:
        """Facts from a file list and the text of root marker files (see ``CONTENT_MARKERS``)."""
        contents = contents or {}
        listed = tuple(sorted({f.strip("/") for f in files if f and f.strip("/")}))
        make_text = next(
            (contents[n] for n in ("GNUmakefile", "Makefile", "makefile") if n in contents), None
        )
        pytest_configured = "pytest.ini" in listed or any(
            section in contents.get(name, "") for name, section in _PYTEST_SECTIONS.items()
        )
        return cls(
            files=listed,
            npm_scripts=_npm_scripts(contents.get("package.json")),
            make_targets=_make_targets(make_text),
            pytest_configured=pytest_configured,
            truncated=truncated,
            notes=tuple(notes),
        )

    @cached_property
    def file_set(self) -> frozenset[str]:
        return frozenset(self.files)

    @cached_property
    def dirs(self) -> frozenset[str]:
        """Every directory holding a listed file (``""`` is the root)."""
        out = {""}
        for path in self.files:
            parent = posixpath.dirname(path)
            while parent and parent not in out:
                out.add(parent)
                parent = posixpath.dirname(parent)
        return frozenset(out)

    def is_file(self, path: str) -> bool:
        return path.rstrip("/") in self.file_set

    def is_dir(self, path: str) -> bool:
        return path.rstrip("/") in self.dirs

    def exists(self, path: str) -> bool:
        """A listed file or a directory holding one (``.`` is the root)."""
        clean = "" if path in (".", "./") else path.rstrip("/")
        return clean in self.file_set or clean in self.dirs

    def has_marker(self, name: str) -> bool:
        return name in self.file_set

    def npm_test_script(self) -> bool:
        """``package.json`` has a real ``test`` script (not npm's placeholder)."""
        script = (self.npm_scripts or {}).get("test", "")
        return bool(script.strip()) and _NPM_PLACEHOLDER not in script

    def python_test_files(self) -> bool:
        """Python tests exist: ``tests/``/``test/`` holds .py files, or ``test_*.py`` files."""
        for path in self.files:
            name = posixpath.basename(path)
            if not name.endswith(".py"):
                continue
            if path.startswith(("tests/", "test/")) or name.startswith("test_"):
                return True
        return False
