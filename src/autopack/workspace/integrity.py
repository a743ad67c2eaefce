"""Integrity checks on what an answer would write, before a byte reaches the worktree.

Pure functions over old and new file contents:

- ``integrity.python_syntax``  a touched ``.py`` file must compile;
- ``integrity.conflict_markers``  no new merge-conflict or SEARCH/REPLACE markers;

Size and binary limits are governance's (``content.*`` rules).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

# Opening and closing markers only: a lone "=======" is also an RST/Markdown underline.
_MARKER = re.compile(r"^(?:<{7}|>{7})(?: .*)?$", re.MULTILINE)


@dataclass(frozen=True)
class IntegrityIssue:
    """One reason the new content must not be written."""

    path: str
    rule: str
    reason: str
    line: int | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"path": self.path, "rule": self.rule, "reason": self.reason, "line": self.line}

    def for_model(self) -> str:
        """One line for the Builder."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"- {where}: {self.reason} ({self.rule})"


def _markers(text: str) -> list[int]:
    return [text.count("\n", 0, m.start()) + 1 for m in _MARKER.finditer(text)]


def check_integrity(
    old: Mapping[str, str | None], new: Mapping[str, str | None]
) -> list[IntegrityIssue]:
    """Issues in ``new`` (path → text, None = deleted) compared with ``old``."""
    issues: list[IntegrityIssue] = []
    for path, text in sorted(new.items()):
        if text is None:
            continue
        before = old.get(path) or ""
        new_markers = _markers(text)
        if new_markers and len(new_markers) > len(_markers(before)):
            issues.append(
                IntegrityIssue(
                    path,
                    "integrity.conflict_markers",
                    "conflict or edit markers (<<<<<<<, =======, >>>>>>>) left in the file",
                    new_markers[0],
                )
            )
        if path.endswith((".py", ".pyi")):
            issue = _python_syntax(path, text)
            if issue is not None:
                issues.append(issue)
    return issues


def _python_syntax(path: str, text: str) -> IntegrityIssue | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not an error
            compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        reason = f"Python syntax error: {exc.msg}"
        return IntegrityIssue(path, "integrity.python_syntax", reason, exc.lineno)
    except ValueError as exc:  # e.g. NUL bytes
        return IntegrityIssue(path, "integrity.python_syntax", f"not compilable: {exc}")
    return None
