"""``autopack issues``: the project backlog, one issue with its occurrences, a run's index.

See :mod:`autopack.issues` for what is recorded, how issues age and when they resolve.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from autopack.cli.common import EXIT_USAGE, console, fail, open_store
from autopack.cli.run_view import when_text
from autopack.store.issue_views import BacklogIssueView, PhaseIssueView, RunIssueView

app = typer.Typer(no_args_is_help=True, help="The issue backlog and each run's issues.")

_STATUSES = ("open", "needs_cleanup", "resolved", "all")
_STATUS_STYLE = {"open": "yellow", "needs_cleanup": "bold red", "resolved": "green"}


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=lambda v: v.isoformat()))


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _severity(severity: str) -> str:
    return f"[bold red]{severity}[/]" if severity == "major" else severity


@app.command("backlog")
def backlog(
    status: str | None = typer.Option(
        None,
        "--status",
        help="open, needs_cleanup, resolved or all (default: open and needs_cleanup).",
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The project's issue backlog, most aged first."""
    if status is not None and status not in _STATUSES:
        fail(f"--status must be one of {', '.join(_STATUSES)}", EXIT_USAGE)
    with open_store() as store:
        issues = store.issue_backlog(status=status, limit=limit)
    if as_json:
        _dump([asdict(i) for i in issues])
        return
    if not issues:
        console().print("no issues" + (f" with status {status}" if status else " open"))
        return
    console().print(_backlog_table(issues))


def _backlog_table(issues: list[BacklogIssueView]) -> Table:
    table = Table(title="Issue backlog", title_justify="left")
    for col in ("status", "severity", "key", "title", "runs", "tiers", "seen", "last run"):
        table.add_column(col, overflow="fold")
    for i in issues:
        table.add_row(
            _status(i.status),
            _severity(i.severity),
            escape(i.issue_key),
            escape(i.title),
            f"{i.age_in_runs}/{i.cleanup_after_runs}"
            if i.severity == "minor"
            else str(i.age_in_runs),
            f"{i.age_in_tiers}/{i.cleanup_after_tiers}"
            if i.severity == "minor"
            else str(i.age_in_tiers),
            str(i.occurrences),
            escape(i.last_run_id),
        )
    return table


@app.command("show")
def show(
    key: str = typer.Argument(..., help="The issue key (as `autopack issues backlog` lists it)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One backlog issue and every occurrence of it: run, tier, phase, count, evidence."""
    with open_store() as store:
        detail = store.backlog_issue(key)
    if as_json:
        _dump(asdict(detail))
        return
    i, out = detail.issue, console()
    out.print(f"[bold]{escape(i.issue_key)}[/]  {_status(i.status)}  {_severity(i.severity)}")
    out.print(escape(i.title))
    out.print(escape(f"source: {i.source}   category: {i.category}   file: {i.file or '-'}"))
    out.print(
        f"age: {i.age_in_runs} run(s), {i.age_in_tiers} tier(s) since "
        f"{when_text(i.opened_at)} (cleanup after {i.cleanup_after_runs} runs or "
        f"{i.cleanup_after_tiers} tiers for minor issues); reopened {i.reopened} time(s)"
    )
    if i.resolved_at:
        out.print(f"resolved {when_text(i.resolved_at)} by run {escape(str(i.resolved_by_run))}")
    out.print(_occurrences_table(detail.occurrences))


def _occurrences_table(rows: list[PhaseIssueView]) -> Table:
    table = Table(title="Occurrences", title_justify="left")
    for col in ("run", "tier", "phase", "severity", "count", "last seen", "evidence"):
        table.add_column(col, overflow="fold")
    for o in rows:
        evidence = " ".join(o.evidence.split())
        table.add_row(
            escape(o.run_id),
            escape(o.tier_id),
            escape(o.phase_id),
            _severity(o.severity),
            str(o.occurrences),
            when_text(o.last_seen),
            escape(evidence[:200] + ("…" if len(evidence) > 200 else "")),
        )
    return table


@app.command("index")
def index(
    run_id: str = typer.Argument(..., help="The run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A run's issues, de-duplicated by key over its phases."""
    with open_store() as store:
        entries = store.run_issue_index(run_id)
    if as_json:
        _dump([asdict(e) for e in entries])
        return
    if not entries:
        console().print(f"run {escape(run_id)} recorded no issue")
        return
    console().print(_index_table(run_id, entries))


def _index_table(run_id: str, entries: list[RunIssueView]) -> Table:
    table = Table(title=f"Issues of run {escape(run_id)}", title_justify="left")
    for col in ("severity", "key", "title", "sources", "phases", "count", "backlog"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(
            _severity(e.severity),
            escape(e.issue_key),
            escape(e.title),
            escape(", ".join(e.sources)),
            escape(", ".join(e.phases)),
            str(e.occurrences),
            _status(e.backlog_status),
        )
    return table
