"""Readable copies of the issue records under a run's artifacts (the database is the truth).

``<data_dir>/runs/<run_id>/issues/``:

- ``<phase_id>.json`` — the phase's issues (level 1), rewritten whenever it records one;
- ``index.json`` and ``index.md`` — the run's issues de-duplicated by key (level 2);
- ``backlog.md`` — a snapshot of the project backlog when the run ended (level 3).

Files are written whole to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from autopack.store.issue_views import (
    BacklogIssueView,
    IssueBacklogSummary,
    PhaseIssueView,
    RunIssueView,
)

__all__ = [
    "issues_dir",
    "phase_file_name",
    "render_backlog_md",
    "render_index_md",
    "write_backlog",
    "write_index",
    "write_phase_file",
]

SCHEMA_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def issues_dir(run_artifacts: Path) -> Path:
    """``<run artifacts>/issues``, created."""
    path = run_artifacts / "issues"
    path.mkdir(parents=True, exist_ok=True)
    return path


def phase_file_name(phase_id: str) -> str:
    """``<phase_id>.json``; ids that are not plain file names are made safe."""
    safe = _UNSAFE.sub("_", phase_id).strip(".") or "phase"
    if safe in ("index", "backlog"):
        safe = f"phase-{safe}"
    return f"{safe}.json"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=_default) + "\n"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or "-"


def write_phase_file(
    run_artifacts: Path, run_id: str, phase_id: str, issues: Sequence[PhaseIssueView]
) -> Path:
    """The phase's issue file (every issue it recorded, with occurrence counts)."""
    path = issues_dir(run_artifacts) / phase_file_name(phase_id)
    data = {
        "version": SCHEMA_VERSION,
        "run_id": run_id,
        "phase_id": phase_id,
        "tier_id": issues[0].tier_id if issues else None,
        "issues": [asdict(i) for i in issues],
    }
    _write(path, _json(data))
    return path


def render_index_md(run_id: str, index: Sequence[RunIssueView]) -> str:
    """The run index as a markdown table."""
    majors = sum(1 for i in index if i.severity == "major")
    lines = [
        f"# Issues of run `{run_id}`",
        "",
        f"{len(index)} issue(s): {majors} major, {len(index) - majors} minor.",
        "",
    ]
    if not index:
        return "\n".join([*lines, "No issue was recorded."]) + "\n"
    lines += [
        "| severity | key | title | sources | phases | occurrences | backlog |",
        "|---|---|---|---|---|---|---|",
    ]
    for i in index:
        lines.append(
            f"| {i.severity} | `{_cell(i.issue_key)}` | {_cell(i.title)} | "
            f"{_cell(', '.join(i.sources))} | {_cell(', '.join(i.phases))} | {i.occurrences} | "
            f"{i.backlog_status} |"
        )
    return "\n".join(lines) + "\n"


def write_index(run_artifacts: Path, run_id: str, index: Sequence[RunIssueView]) -> Path:
    """``index.json`` and ``index.md``; returns the JSON file."""
    folder = issues_dir(run_artifacts)
    data = {"version": SCHEMA_VERSION, "run_id": run_id, "issues": [asdict(i) for i in index]}
    _write(folder / "index.json", _json(data))
    _write(folder / "index.md", render_index_md(run_id, index))
    return folder / "index.json"


def render_backlog_md(
    run_id: str,
    backlog: Sequence[BacklogIssueView],
    summary: IssueBacklogSummary,
    resolved: Sequence[str] = (),
) -> str:
    """The backlog snapshot: unresolved issues, most aged first, and what this run resolved."""
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items())) or "empty"
    lines = [
        f"# Issue backlog when run `{run_id}` ended",
        "",
        f"{summary.total} issue(s) in the project backlog ({by_status}); "
        f"{summary.needs_cleanup} need cleanup.",
        "",
        "## Unresolved",
        "",
    ]
    if backlog:
        lines += [
            "| status | severity | key | title | runs | tiers | occurrences | last run |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {i.status} | {i.severity} | `{_cell(i.issue_key)}` | {_cell(i.title)} | "
            f"{i.age_in_runs} | {i.age_in_tiers} | {i.occurrences} | {_cell(i.last_run_id)} |"
            for i in backlog
        ]
    else:
        lines.append("Nothing is unresolved.")
    lines += ["", "## Resolved by this run", ""]
    lines += [f"- `{k}`" for k in resolved] or ["None."]
    return "\n".join(lines) + "\n"


def write_backlog(
    run_artifacts: Path,
    run_id: str,
    backlog: Sequence[BacklogIssueView],
    summary: IssueBacklogSummary,
    resolved: Sequence[str] = (),
) -> Path:
    """``backlog.md``."""
    path = issues_dir(run_artifacts) / "backlog.md"
    _write(path, render_backlog_md(run_id, backlog, summary, resolved))
    return path
