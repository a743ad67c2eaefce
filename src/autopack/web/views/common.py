"""Pieces several pages show: diff lines, artifact files, failure sources."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from autopack.api.context import ApiContext
from autopack.workspace import WorkspaceError, validate_id

__all__ = [
    "MAX_DIFF_BYTES",
    "Artifact",
    "DiffLine",
    "diff_lines",
    "failure_source",
    "phase_dir",
    "read_artifact",
]

log = logging.getLogger("autopack.web")

MAX_DIFF_BYTES = 256 * 1024
MAX_DIFF_LINES = 5000

_SOURCES = {
    "auditor_reject": "auditor",
    "auditor_malformed": "auditor",
    "ci_fail": "checks",
    "patch_apply_error": "edit apply",
    "policy_violation": "governance",
    "deliverables_missing": "deliverables",
    "truncated_answer": "model",
    "provider_error": "model",
}


def failure_source(error_class: str | None) -> str:
    """Who reported a failure: auditor, checks, edit apply, governance, model, budget…"""
    if not error_class:
        return "-"
    if error_class in _SOURCES:
        return _SOURCES[error_class]
    return "budget" if "budget" in error_class else "engine"


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff and what it is (add, del, hunk, file, meta, ctx)."""

    kind: str
    text: str

    @property
    def sign(self) -> str:
        """How the line reads without colour (screen readers, printouts)."""
        return {"add": "added", "del": "removed"}.get(self.kind, "")


def diff_lines(text: str, *, limit: int = MAX_DIFF_LINES) -> tuple[list[DiffLine], bool]:
    """The diff's lines, classified; and whether it was cut at ``limit`` lines."""
    out: list[DiffLine] = []
    lines = text.splitlines()
    for line in lines[:limit]:
        if line.startswith(("+++ ", "--- ", "diff --git ")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith(" ") or not line:
            kind = "ctx"
        else:
            kind = "meta"  # index …, new file mode …, \ No newline at end of file
        out.append(DiffLine(kind, line))
    return out, len(lines) > limit


@dataclass(frozen=True)
class Artifact:
    """A file the engine wrote for a phase (path relative to the data directory)."""

    name: str
    path: str
    size: int
    content: str
    truncated: bool


def phase_dir(ctx: ApiContext, run_id: str, phase_id: str) -> Path | None:
    """``<data_dir>/runs/<run>/phases/<phase>/`` when both ids are valid names, else None."""
    try:
        validate_id(run_id, "run_id")
        validate_id(phase_id, "phase_id")
    except WorkspaceError:
        return None
    return ctx.settings.data_dir / "runs" / run_id / "phases" / phase_id


def read_artifact(ctx: ApiContext, path: Path, limit: int, *, tail: bool) -> Artifact | None:
    """At most ``limit`` bytes of ``path`` (its end when ``tail``), or None when unreadable."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            if tail and size > limit:
                handle.seek(size - limit)
            data = handle.read(limit)
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    return Artifact(
        name=path.name,
        path=path.relative_to(ctx.settings.data_dir).as_posix(),
        size=size,
        content=data.decode("utf-8", errors="replace"),
        truncated=size > limit,
    )
