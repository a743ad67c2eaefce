"""``autopack parallel PLAN...``: several plans at once, then a merge queue lands them.

Each plan becomes a run on its own branch and worktree (an existing run of the same id is
resumed); at most ``--max-concurrent`` execute at a time. The runs that succeed are landed
one at a time, in the order the plans were given, on ``--target`` (default: the branch
checked out here) — rebased on its tip, their checks re-run, moved with a compare-and-swap;
a conflict or failing checks leave the target as it was and are reported. See
:mod:`autopack.engine.parallel_runs` and :mod:`autopack.workspace.merge_queue`.

Exit codes: 0 every run succeeded and landed (or ``--no-merge``), 1 a run failed or did not
land, 2 usage or configuration errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autopack.cli.common import EXIT_USAGE, fail, open_store
from autopack.cli.live import plain_notify
from autopack.cli.run_cmd import _engine, _settings

_STYLE = {"landed": "green", "up_to_date": "green", "not_merged": "cyan"}


def parallel(
    plans: Annotated[
        list[Path], typer.Argument(metavar="PLAN...", help="The plans (JSON or YAML, any shape).")
    ],
    max_concurrent: Annotated[
        int, typer.Option("--max-concurrent", min=1, max=32, help="Runs executing at once.")
    ] = 2,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", metavar="BRANCH", help="Branch to land on (default: checked out)."
        ),
    ] = None,
    no_merge: Annotated[bool, typer.Option("--no-merge", help="Run only; land nothing.")] = False,
    base: Annotated[str, typer.Option("--base", help="Base ref of every run's branch.")] = "HEAD",
    scripted: Annotated[
        Path | None,
        typer.Option("--scripted", metavar="ANSWERS", help="Answer every model call from a file."),
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Grant approvals automatically (demos only).")
    ] = False,
    workspace: Annotated[
        Path | None, typer.Option("--workspace", help="The git repository (default: here).")
    ] = None,
) -> None:
    """Run several plans at once, each on its own branch; land the successes one by one."""
    from autopack.cli.spec_cmd import load_or_exit
    from autopack.engine import EngineError
    from autopack.engine.parallel_runs import BatchOptions, run_batch
    from autopack.store import NotFoundError

    settings = _settings(workspace, None)
    loaded = [load_or_exit(p) for p in plans]
    run_ids = [item.spec.run_id for item in loaded]
    if len(set(run_ids)) != len(run_ids):
        fail(escape(f"two plans have the same run id ({', '.join(run_ids)})"), EXIT_USAGE)
    console = Console(highlight=False)
    with open_store(settings) as store:
        engine = _engine(settings, store, scripted, auto_approve)
        for item in loaded:
            try:
                store.get_run(item.spec.run_id)
                console.print(f"resuming run {item.spec.run_id}", markup=False)
            except NotFoundError:
                compiled = engine.strategy.compile_run(item.spec)
                store.create_run(item.spec, compiled, shape=item.shape, actor="cli")
        options = BatchOptions(
            max_concurrent=max_concurrent, base_ref=base, target=target, merge=not no_merge
        )
        try:
            report = run_batch(engine, run_ids, options, notify=plain_notify(console))
        except EngineError as exc:
            fail(escape(str(exc)), EXIT_USAGE)
    console.print(render_batch(report))
    folder = settings.data_dir / "batches" / report.batch_id
    console.print(f"report: {folder / 'report.md'} and report.json", markup=False)
    raise typer.Exit(0 if report.ok else 1)


def render_batch(report: object) -> Table:
    """The consolidated report as a rich table (per run, then the totals row)."""
    from autopack.engine.batch_report import BatchReport, money, seconds

    assert isinstance(report, BatchReport)
    into = report.target or "nothing (--no-merge)"
    table = Table(title=f"batch {report.batch_id} → {into}", title_justify="left")
    for column in ("run", "state", "phases", "tokens", "cost", "duration", "landing", "reason"):
        justify = "right" if column in ("phases", "tokens", "cost", "duration") else "left"
        table.add_column(column, justify=justify, overflow="fold")
    for r in report.runs:
        ok = r.state == "DONE_SUCCESS"
        reason = r.landing_reason if ok else r.reason
        style = _STYLE.get(r.landing, "red")
        table.add_row(
            escape(r.run_id),
            f"[{'green' if ok else 'red'}]{r.state}[/]",
            f"{r.phases_complete}/{r.phase_count}",
            f"{r.tokens_used:,}",
            money(r.cost_usd),
            seconds(r.duration_seconds),
            f"[{style}]{r.landing}[/]",
            escape(reason),
        )
    t = report.totals
    table.add_section()
    table.add_row(
        f"[bold]{t.runs} runs[/]",
        f"{t.succeeded} succeeded",
        f"{t.phases_complete}/{t.phase_count}",
        f"{t.tokens_used:,}",
        money(t.cost_usd),
        seconds(t.wall_seconds),
        f"{t.landed} landed",
        f"{t.not_landed} not landed",
    )
    return table
