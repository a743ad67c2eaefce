"""``autopack status``, ``diff``, ``report`` and ``merge``: look at a run, then take it home.

Exit codes: ``status`` follows the run (0 succeeded or still going, 1 failed or cancelled,
3 waits for an approval; 130 after Ctrl-C under ``--watch``); ``diff`` and ``report`` 0,
or 1 when there is nothing to show; ``merge`` 0 merged (or already merged), 1 refused or
conflicted (nothing changed), 2 usage errors.

A run whose workspace is a git remote URL is read from this machine's mirror of the remote,
fetched first (:mod:`autopack.workspace.locate_run`): ``diff`` and ``report`` show what the
remote's ``autonomous/<run>`` holds. ``merge`` refuses such a run (``remote_run``, exit 1):
its branch is merged in a clone of the remote (``git fetch <url> autonomous/<run>``, then
``git merge FETCH_HEAD`` and push), never into a repository that may not be that remote.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from autopack.cli.common import EXIT_USAGE, err_console, fail, get_settings, open_store
from autopack.cli.run_view import read_snapshot, render_snapshot
from autopack.settings import Settings, SettingsError, load_settings
from autopack.store import Store

EXIT_INTERRUPTED = 130

WorkspaceOption = Annotated[
    Path | None, typer.Option("--workspace", help="The git repository (default: here).")
]
RunArgument = Annotated[str, typer.Argument(help="The run id.")]


def _settings(workspace: Path | None) -> Settings:
    if workspace is None:
        return get_settings()
    try:
        return load_settings(workspace=workspace.resolve())
    except SettingsError as exc:
        fail(f"invalid settings: {exc}", EXIT_USAGE)


def _watch(out: Console, store: Store, run_id: str, interval: float) -> int:
    """Re-render until the run ends or waits; returns its exit code (130 on Ctrl-C)."""
    try:
        if out.is_terminal:
            with Live(console=out, auto_refresh=False, transient=False) as live:
                while True:
                    snap = read_snapshot(store, run_id)
                    live.update(render_snapshot(snap), refresh=True)
                    if snap.exit_code is not None:
                        return snap.exit_code
                    time.sleep(interval)
        shown: object = None
        while True:  # not a terminal: print the view again only when something changed
            snap = read_snapshot(store, run_id)
            key = (snap.run.state, [(p.phase_id, p.state, p.attempts) for p in snap.phases])
            if key != shown:
                out.print(render_snapshot(snap))
                shown = key
            if snap.exit_code is not None:
                return snap.exit_code
            time.sleep(interval)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def status(
    run_id: RunArgument,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep refreshing until the run ends or waits.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, metavar="S", help="Seconds between refreshes.")
    ] = 2.0,
    workspace: WorkspaceOption = None,
) -> None:
    """A compact view of a run: state, tokens, cost, tiers and phases (models, attempts)."""
    settings = _settings(workspace)
    out = Console(highlight=False)
    with open_store(settings) as store:
        if watch:
            code = _watch(out, store, run_id, interval)
        else:
            snap = read_snapshot(store, run_id)
            out.print(render_snapshot(snap))
            code = snap.exit_code or 0
    raise typer.Exit(code)


def diff(
    run_id: RunArgument,
    phase_id: Annotated[
        str | None, typer.Argument(help="One phase (default: the whole run).")
    ] = None,
    stat: Annotated[bool, typer.Option("--stat", help="A diffstat instead of the diff.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Print the unified diff of one phase, or of the whole run (base → branch head)."""
    from autopack.workspace import WorkspaceError
    from autopack.workspace.locate_run import find_run_branch

    settings = _settings(workspace)
    with open_store(settings) as store:
        phases = [p.phase_id for p in store.get_run(run_id).phases]
        spec = store.run_spec(run_id)
    if phase_id is not None and phase_id not in phases:
        fail(escape(f"run {run_id} has no phase {phase_id!r} ({', '.join(phases)})"), EXIT_USAGE)
    try:
        text = find_run_branch(settings, spec, run_id).diff(phase_id, stat=stat)
    except WorkspaceError as exc:
        fail(escape(exc.message))
    typer.echo(text, nl=False)


def report(
    run_id: RunArgument,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the report to this file.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """A markdown report of the run: totals, phases, failures, approvals, how to merge.

    It is always saved as ``.autopack/runs/<run>/report.md`` as well.
    """
    from autopack.engine.report import build_report

    settings = _settings(workspace)
    with open_store(settings) as store:
        text = build_report(store, run_id, settings)
    saved = settings.data_dir / "runs" / run_id / "report.md"
    try:
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(text, encoding="utf-8")
        if output is not None:
            output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(escape(f"cannot write the report: {exc}"))
    if output is None:
        typer.echo(text, nl=False)
        err_console().print(f"saved as {saved}", markup=False)
    else:
        typer.echo(f"report written to {output} (and {saved})")


def merge(
    run_id: RunArgument,
    into: Annotated[
        str | None,
        typer.Option("--into", metavar="BRANCH", help="Target branch (default: checked out)."),
    ] = None,
    ff_only: Annotated[
        bool, typer.Option("--ff-only", help="Refuse unless it is a fast-forward.")
    ] = False,
    no_ff: Annotated[bool, typer.Option("--no-ff", help="Always make a merge commit.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Merge a successful run's branch into your branch, never touching uncommitted work.

    A run on a git remote is refused: merge it in a clone of the remote (the message says how).
    """
    from autopack.workspace import WorkspaceError
    from autopack.workspace.locate_run import refuse_remote_merge
    from autopack.workspace.merge import MergeRefusedError, merge_run

    if ff_only and no_ff:
        fail("--ff-only and --no-ff contradict each other", EXIT_USAGE)
    settings = _settings(workspace)
    with open_store(settings) as store:
        state = store.get_run(run_id).state
        spec = store.run_spec(run_id)
    try:
        refuse_remote_merge(settings, spec, run_id)
        result = merge_run(
            settings.workspace, run_id, run_state=state, into=into, ff_only=ff_only, no_ff=no_ff
        )
    except MergeRefusedError as exc:
        if exc.conflicts:
            err_console().print(
                "conflicted files:\n" + "\n".join(f"  {p}" for p in exc.conflicts), markup=False
            )
        fail(escape(f"merge refused ({exc.code}): {exc.message}"))
    except WorkspaceError as exc:
        fail(escape(f"merge failed: {exc.message}"))
    Console(highlight=False).print(result.describe(), markup=False)


__all__ = ["diff", "merge", "report", "status"]
