"""``autopack runs``: list, show and create runs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from autopack.cli.common import console, get_settings, get_strategy_engine, open_store
from autopack.cli.run_view import (
    attempts_table,
    read_attempts,
    state_markup,
    tokens_text,
    when_text,
)
from autopack.store.costs import attempt_costs
from autopack.store.views import RunDetail

app = typer.Typer(no_args_is_help=True, help="List, show and create runs.")

_state = state_markup
_when = when_text
_tokens = tokens_text


@app.command("list")
def list_cmd(
    state: str | None = typer.Option(None, "--state", help="Only runs in this state."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List runs, newest first."""
    with open_store() as store:
        runs = store.list_runs(state=state.upper() if state else None, limit=limit)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in runs], indent=2))
        return
    if not runs:
        console().print("no runs yet")
        return
    table = Table(title="Runs", title_justify="left")
    for col in ("run", "state", "phases", "tokens", "profile", "created"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            r.run_id,
            _state(r.state),
            f"{r.phases_complete}/{r.phase_count}",
            _tokens(r.tokens_used, r.token_cap),
            r.safety_profile,
            _when(r.created_at),
        )
    console().print(table)


def render_run(run: RunDetail) -> None:
    """Print a run's header, tiers and phases."""
    out = console()
    out.print(f"[bold]{run.run_id}[/]  {_state(run.state)}")
    if run.goal:
        out.print(f"goal: {run.goal}")
    budget = [f"tokens {_tokens(run.tokens_used, run.token_cap)}"]
    if run.max_phases:
        budget.append(f"max phases {run.max_phases}")
    if run.max_duration_minutes:
        budget.append(f"max {run.max_duration_minutes} min")
    out.print(f"profile: {run.safety_profile}   budget: {', '.join(budget)}")
    out.print(f"created {_when(run.created_at)}   finished {_when(run.finished_at)}")
    if run.failure_reason:
        out.print(f"[red]reason:[/] {run.failure_reason}")
    tiers = Table(title="Tiers", title_justify="left")
    for col in ("#", "tier", "name", "state", "tokens"):
        tiers.add_column(col)
    for t in run.tiers:
        tiers.add_row(
            str(t.tier_index),
            t.tier_id,
            t.name,
            _state(t.state),
            _tokens(t.tokens_used, t.token_budget),
        )
    out.print(tiers)
    phases = Table(title="Phases", title_justify="left")
    for col in ("tier", "#", "phase", "category", "cx", "state", "tries", "tokens", "strategy"):
        phases.add_column(col)
    for p in run.phases:
        s = p.strategy
        approval = "approval" if s.get("approval_required") else "auto"
        phases.add_row(
            p.tier_id,
            str(p.phase_index),
            p.phase_id,
            p.task_category,
            p.complexity,
            _state(p.state),
            f"{p.attempts_used}/{s.get('builder_attempts', '?')}",
            _tokens(p.tokens_used, int(s.get("incident_token_cap", 0))),
            f"ci {s.get('ci_profile')}, {approval}, audit {s.get('auditor_profile')}"
            + (" x2" if s.get("dual_audit") else ""),
        )
    out.print(phases)


@app.command("show")
def show_cmd(
    run_id: str = typer.Argument(..., help="The run id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    events: bool = typer.Option(False, "--events", help="Also list the run's state changes."),
    attempts: bool = typer.Option(
        True, "--attempts/--no-attempts", help="List every phase's attempts (default: yes)."
    ),
) -> None:
    """Show a run: budgets, tiers, phases, their attempts (and events with --events)."""
    with open_store() as store:
        run = store.get_run(run_id)
        history = store.events(run_id) if events else []
        tries = read_attempts(store, run) if attempts else {}
        costs = attempt_costs(store, run_id) if attempts else {}
    if as_json:
        data = run.model_dump(mode="json")
        if attempts:
            for phase in data["phases"]:
                phase["attempts"] = [
                    {**a.model_dump(mode="json"), "cost_usd": str(costs.get(a.id, Decimal(0)))}
                    for a in tries.get(phase["phase_id"], [])
                ]
        if events:
            data["events"] = [e.model_dump(mode="json") for e in history]
        typer.echo(json.dumps(data, indent=2))
        return
    render_run(run)
    if attempts and tries:
        console().print(attempts_table(tries, costs, [p.phase_id for p in run.phases]))
    if events:
        table = Table(title="Events", title_justify="left")
        for col in ("time", "entity", "key", "from", "to", "actor", "reason"):
            table.add_column(col)
        for e in history:
            table.add_row(
                _when(e.created_at),
                e.entity,
                e.entity_key,
                e.from_state or "-",
                e.to_state,
                e.actor,
                e.reason,
            )
        console().print(table)


@app.command("create")
def create_cmd(
    plan: Path = typer.Argument(..., help="A plan file (JSON or YAML, any accepted shape)."),
) -> None:
    """Validate a plan, compile its strategy and store it as a new run (not started)."""
    from autopack.cli.spec_cmd import load_or_exit

    settings = get_settings()
    loaded = load_or_exit(plan)
    strategy = get_strategy_engine(settings).compile_run(loaded.spec)
    with open_store(settings) as store:
        run = store.create_run(loaded.spec, strategy, shape=loaded.shape, actor="cli")
    render_run(run)


__all__ = ["app", "render_run"]
